"""Audit log: hash chain in the database + jsonl mirror; every tampering (edit, delete, insert, reorder) in
either copy is detected, and a damaged log refuses new decisions without changing anything."""

from __future__ import annotations

import itertools
import json
import sys
from pathlib import Path

import pytest
from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).parent))
from gov_helpers import make_report

from app.errors import AuditIntegrityError
from app.governance import approve, audit, on_report, reject
from app.governance.audit import GENESIS, entry_hash, mirror_path, verify


@pytest.fixture
def log(store, settings):
    """A real log: recommendations, an approval, a false-alarm rejection (+ sensitivity change), more."""
    rep = on_report(store, make_report("accuracy_drop"), settings)
    ids = [r.id for r in rep.recommendations]
    approve(store, settings, ids[0], by="ana", reason="roll back now", execute_now=False)
    reject(store, settings, ids[1], by="bob", reason="planned change", false_alarm=True)
    for i in range(3):
        audit.record(store, settings, "note", "ops", {"i": i})
    n = audit.count(store)
    assert n >= 7 and verify(store, settings).ok
    return {"ids": ids, "n": n}


def _rows(store):
    with store.engine.connect() as conn:
        return [dict(r) for r in conn.execute(text("SELECT * FROM audit_log ORDER BY seq")).mappings()]


def _exec(store, sql, **params):
    with store.engine.begin() as conn:
        conn.execute(text(sql), params)


def _lines(settings):
    return mirror_path(settings).read_text(encoding="utf-8").splitlines(keepends=True)


def _write_lines(settings, lines):
    mirror_path(settings).write_text("".join(lines), encoding="utf-8")


def _broken(store, settings, where, seq=None):
    res = verify(store, settings)
    assert not res.ok, res
    assert res.where == where, res.message
    if seq is not None:
        assert res.first_bad_seq == seq, res.message
    assert "\n" not in res.message and f"entry {res.first_bad_seq}" in res.message
    return res


def test_intact_log_verifies_and_mirror_equals_database(store, settings, log):
    res = verify(store, settings)
    assert res.ok and res.entries == res.mirror_entries == log["n"]
    db = [r["hash"] for r in _rows(store)]
    mirror = [json.loads(x)["hash"] for x in _lines(settings)]
    assert db == mirror
    rows = _rows(store)
    assert rows[0]["prev_hash"] == GENESIS
    assert all(b["prev_hash"] == a["hash"] for a, b in itertools.pairwise(rows))   # each carries the previous SHA-256


# ---- database tampering --------------------------------------------------------------------------------
def test_db_edit_detected(store, settings, log):
    _exec(store, "UPDATE audit_log SET payload_json = replace(payload_json, 'roll back now', 'roll back later') "
                 "WHERE event = 'approved'")
    seq = next(r["seq"] for r in _rows(store) if r["event"] == "approved")
    res = _broken(store, settings, "database", seq)
    assert "edited" in res.message


def test_db_edit_of_actor_detected(store, settings, log):
    _exec(store, "UPDATE audit_log SET actor = 'mallory' WHERE seq = 2")
    _broken(store, settings, "database", 2)


def test_db_whitespace_only_edit_detected(store, settings, log):
    _exec(store, "UPDATE audit_log SET payload_json = replace(payload_json, ':', ': ') WHERE seq = 3")
    _broken(store, settings, "database", 3)


def test_db_delete_detected(store, settings, log):
    _exec(store, "DELETE FROM audit_log WHERE seq = 3")
    res = _broken(store, settings, "database", 3)
    assert "missing" in res.message


def test_db_delete_of_last_entry_detected_by_mirror(store, settings, log):
    _exec(store, "DELETE FROM audit_log WHERE seq = :n", n=log["n"])
    res = _broken(store, settings, "database", log["n"])   # the chain left is valid; the mirror still has it
    assert "missing from the database" in res.message


def test_db_insert_in_the_middle_detected(store, settings, log):
    rows = _rows(store)
    # shift entries >= 3 up by one, then forge a self-consistent entry 3 that follows entry 2
    _exec(store, "UPDATE audit_log SET seq = seq + 1000 WHERE seq >= 3")
    _exec(store, "UPDATE audit_log SET seq = seq - 999 WHERE seq >= 1000")
    forged = {"recommendation_id": log["ids"][2], "reason": "nobody said so"}
    h = entry_hash(3, 1.0, "approved", "mallory", forged, rows[1]["hash"])
    _exec(store, "INSERT INTO audit_log (seq, ts, event, actor, payload_json, prev_hash, hash) "
                 "VALUES (3, 1.0, 'approved', 'mallory', :p, :prev, :h)",
          p=audit.canonical(forged), prev=rows[1]["hash"], h=h)
    _broken(store, settings, "database", 4)   # the forged entry links, the next one cannot


def test_db_insert_at_the_end_with_valid_hash_detected_by_mirror(store, settings, log):
    last = _rows(store)[-1]
    forged = {"recommendation_id": log["ids"][2], "reason": "forged"}
    seq = last["seq"] + 1
    h = entry_hash(seq, 2.0, "approved", "mallory", forged, last["hash"])
    _exec(store, "INSERT INTO audit_log (seq, ts, event, actor, payload_json, prev_hash, hash) "
                 "VALUES (:s, 2.0, 'approved', 'mallory', :p, :prev, :h)",
          s=seq, p=audit.canonical(forged), prev=last["hash"], h=h)
    res = _broken(store, settings, "mirror", seq)
    assert "missing from the mirror" in res.message


def test_db_reorder_detected(store, settings, log):
    a, b = _rows(store)[2:4]
    cols = ("ts", "event", "actor", "payload_json", "prev_hash", "hash")
    _exec(store, "UPDATE audit_log SET hash = 'x' || hash WHERE seq IN (3, 4)")   # free the unique index
    for src, dst in ((a, b["seq"]), (b, a["seq"])):
        _exec(store, "UPDATE audit_log SET " + ", ".join(f"{c} = :{c}" for c in cols) + " WHERE seq = :s",
              s=dst, **{c: src[c] for c in cols})
    _broken(store, settings, "database", 3)


# ---- mirror tampering ----------------------------------------------------------------------------------
def test_mirror_edit_detected(store, settings, log):
    lines = _lines(settings)
    obj = json.loads(lines[2])
    obj["actor"] = "mallory"
    lines[2] = json.dumps(obj) + "\n"
    _write_lines(settings, lines)
    res = _broken(store, settings, "mirror", 3)
    assert "edited" in res.message


def test_mirror_edit_with_recomputed_chain_detected_against_database(store, settings, log):
    """An attacker who rewrites the whole mirror consistently still disagrees with the database."""
    entries, _ = audit.read_mirror(settings)
    prev = GENESIS
    out = []
    for e in entries:
        payload = dict(e.payload, reason="rewritten") if e.seq == 2 else e.payload
        h = entry_hash(e.seq, e.ts, e.event, e.actor, payload, prev)
        out.append(audit.canonical({**e.model_dump(), "payload": payload, "prev_hash": prev, "hash": h}) + "\n")
        prev = h
    _write_lines(settings, out)
    res = _broken(store, settings, "both", 2)
    assert "differs between the database" in res.message


def test_mirror_delete_detected(store, settings, log):
    lines = _lines(settings)
    del lines[3]
    _write_lines(settings, lines)
    res = _broken(store, settings, "mirror", 4)
    assert "missing" in res.message


def test_mirror_truncated_detected(store, settings, log):
    _write_lines(settings, _lines(settings)[:-2])
    res = _broken(store, settings, "mirror", log["n"] - 1)
    assert "missing from the mirror" in res.message


def test_mirror_deleted_file_detected(store, settings, log):
    mirror_path(settings).unlink()
    _broken(store, settings, "mirror", 1)


def test_mirror_insert_detected(store, settings, log):
    lines = _lines(settings)
    lines.insert(2, lines[1])            # a duplicated (replayed) entry
    _write_lines(settings, lines)
    res = _broken(store, settings, "mirror", 2)
    assert "inserted or reordered" in res.message


def test_mirror_reorder_detected(store, settings, log):
    lines = _lines(settings)
    lines[2], lines[3] = lines[3], lines[2]
    _write_lines(settings, lines)
    res = _broken(store, settings, "mirror", 4)
    assert "out of place" in res.message


# ---- a damaged log refuses writes and stays as it is ---------------------------------------------------
@pytest.mark.parametrize("damage", ["garbage_line", "torn_last_line", "edited_middle"])
def test_damaged_log_refuses_decisions_and_is_left_intact(store, settings, log, damage):
    lines = _lines(settings)
    if damage == "garbage_line":
        lines.append("{not json\n")
    elif damage == "torn_last_line":
        lines[-1] = lines[-1][:40]
    else:
        obj = json.loads(lines[1])
        obj["actor"] = "mallory"
        lines[1] = json.dumps(obj) + "\n"
    _write_lines(settings, lines)
    before_file = mirror_path(settings).read_bytes()
    before_db = _rows(store)
    with pytest.raises(AuditIntegrityError) as ei:
        approve(store, settings, log["ids"][2], by="carol", reason="fix it", execute_now=False)
    assert "\n" not in str(ei.value) and "refusing to write" in str(ei.value)
    assert mirror_path(settings).read_bytes() == before_file
    assert _rows(store) == before_db
    from app.governance import list_recommendations
    assert next(r for r in list_recommendations(store) if r.id == log["ids"][2]).status == "pending"


def test_monitoring_continues_when_the_log_is_damaged(store, settings, log):
    """on_report still saves reports and recommendations; only the audit entry is skipped (warned)."""
    mirror_path(settings).write_text("garbage\n", encoding="utf-8")
    rep = on_report(store, make_report("latency_degradation", features=(), latency_p95=80.0), settings)
    assert rep.report_id is not None and rep.recommendations
    assert mirror_path(settings).read_text(encoding="utf-8") == "garbage\n"
