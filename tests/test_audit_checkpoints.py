"""Audit checkpoints and MLFI_AUDIT_KEY: every tamper kind on BOTH copies (a writer who recomputes plain
SHA-256 hashes but has no key), with and without the key, against a checkpoint kept outside the state dir."""

from __future__ import annotations

import json

import pytest
from pydantic import SecretStr
from sqlalchemy import text

from app.errors import AuditIntegrityError
from app.governance import audit
from app.governance import checkpoints as cps
from app.governance.audit import GENESIS, KEY_EVENT, AuditEntry, canonical, mirror_path, verify

KEY = "k3y-outside-the-db"


def _keyed(settings, key):
    return settings.model_copy(update={"audit_key": SecretStr(key) if key else None})


@pytest.fixture(params=[None, KEY], ids=["unkeyed", "keyed"])
def setup(request, store, settings):
    s = _keyed(settings, request.param)
    for i in range(6):
        audit.record(store, s, "note", "ops", {"i": i})
    cp = audit.checkpoint(store, s)           # also stored beside the mirror
    external = [cp]                           # the copy on write-once storage
    assert verify(store, s, external).ok
    return s, external


def _entries(store):
    return audit.entries(store)


def _rewrite_both(store, settings, dicts, rehash=True):
    """What a writer without the key can do: rewrite both copies with a valid plain SHA-256 chain
    (or keep the entries as they are when ``rehash`` is False), and delete the checkpoints stored in
    the state dir."""
    prev, out = GENESIS, []
    for i, d in enumerate(dicts, start=1):
        if not rehash:
            out.append(AuditEntry(**d))
            continue
        e = AuditEntry(seq=i, ts=d["ts"], event=d["event"], actor=d["actor"], payload=d["payload"], prev_hash=prev,
                       hash="")
        e = e.model_copy(update={"hash": e.recomputed(None)})
        out.append(e)
        prev = e.hash
    with store.engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_log"))
        for e in out:
            conn.execute(text("INSERT INTO audit_log (seq, ts, event, actor, payload_json, prev_hash, hash) "
                              "VALUES (:seq, :ts, :event, :actor, :p, :prev_hash, :hash)"),
                         {**e.model_dump(exclude={"payload"}), "p": canonical(e.payload)})
    mirror_path(settings).write_text("".join(canonical(e.model_dump()) + "\n" for e in out), encoding="utf-8")
    audit.checkpoint_path(settings).unlink(missing_ok=True)


def _dicts(store):
    return [e.model_dump() for e in _entries(store)]


def _edit(d):
    d[2]["payload"] = {"i": 999}
    return d


def _delete_middle(d):
    return d[:2] + d[3:]


def _truncate_tail(d):
    return d[:-1]


def _reorder(d):
    d[2], d[3] = d[3], d[2]
    return d


def _append_forged(d):
    return [*d, {"ts": d[-1]["ts"] + 1, "event": "approved", "actor": "mallory", "payload": {"id": "x"}}]


def _strip_key(d):
    return [x for x in d if x["event"] != KEY_EVENT]


TAMPERS = {"edit": _edit, "delete_middle": _delete_middle, "truncate_tail": _truncate_tail, "reorder": _reorder,
           "append_forged": _append_forged, "strip_key_marker": _strip_key}


@pytest.mark.parametrize("kind", list(TAMPERS))
def test_every_tamper_of_both_copies_is_detected(store, setup, kind):
    s, external = setup
    keyed = s.audit_key is not None
    _rewrite_both(store, s, TAMPERS[kind](_dicts(store)), rehash=kind != "truncate_tail")
    res = verify(store, s, external)
    if kind == "append_forged" and not keyed:
        # the documented limit: without a key an appended entry with a valid chain looks like a real one
        assert res.ok, res.message
        return
    if kind == "strip_key_marker" and not keyed:
        assert res.ok or res.where == "checkpoint"     # nothing to strip in an unkeyed log
        return
    assert not res.ok, (kind, res.message)
    assert "\n" not in res.message
    if kind == "truncate_tail":
        assert "cut" in res.message and "tail truncated" in res.message
    if keyed and kind in ("edit", "delete_middle", "reorder", "append_forged"):
        # the key alone finds these, even with no checkpoint at all
        assert not verify(store, s).ok


def test_tail_cut_without_a_checkpoint_is_invisible_and_with_one_is_seen(store, settings):
    for i in range(3):
        audit.record(store, settings, "note", "ops", {"i": i})
    cp = audit.checkpoint(store, settings)
    _rewrite_both(store, settings, _dicts(store)[:-1])
    assert verify(store, settings).ok                   # the stored checkpoint was deleted with the tail
    res = verify(store, settings, [cp])
    assert not res.ok and res.where == "checkpoint" and "only 2" in res.message


def test_stored_checkpoint_catches_a_cut_tail_when_it_is_kept(store, settings):
    for i in range(3):
        audit.record(store, settings, "note", "ops", {"i": i})
    audit.checkpoint(store, settings)
    with store.engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_log WHERE seq = 3"))
    lines = mirror_path(settings).read_text(encoding="utf-8").splitlines(keepends=True)
    mirror_path(settings).write_text("".join(lines[:-1]), encoding="utf-8")
    res = verify(store, settings)
    assert not res.ok and res.where == "checkpoint"


def test_forged_or_edited_checkpoint_signature_is_refused(store, settings):
    s = _keyed(settings, KEY)
    audit.record(store, s, "note", "ops", {})
    cp = audit.checkpoint(store, s)
    assert cp.signature and verify(store, s, [cp]).ok
    forged = cp.model_copy(update={"entries": 1, "head": _entries(store)[0].hash})
    res = verify(store, s, [forged])
    assert not res.ok and "bad signature" in res.message
    other = cps.make([e.hash for e in _entries(store)], b"another key", cp.ts, GENESIS)
    assert not verify(store, s, [other]).ok


def test_unkeyed_log_keeps_verifying_when_a_key_is_set_and_later_entries_are_keyed(store, settings):
    for i in range(3):
        audit.record(store, settings, "note", "ops", {"i": i})
    s = _keyed(settings, KEY)
    assert verify(store, s).ok                          # legacy plain entries verify under the key
    audit.record(store, s, "approved", "ana", {"id": "r1"})
    ev = [e.event for e in _entries(store)]
    assert ev == ["note", "note", "note", KEY_EVENT, "approved"]
    assert verify(store, s).ok
    res = verify(store, settings)                        # keyed entries cannot be checked without the key
    assert not res.ok and res.where == "key" and "MLFI_AUDIT_KEY" in res.message
    with pytest.raises(AuditIntegrityError):
        audit.record(store, settings, "note", "ops", {})  # nor written
    assert not verify(store, _keyed(settings, "wrong key")).ok


def _run(capsys, args):
    from app.cli import main

    capsys.readouterr()
    try:
        main(args)
        code = 0
    except SystemExit as exc:
        code = exc.code
    out = capsys.readouterr()
    return code, out.out, out.err


def test_cli_checkpoint_out_and_verify_with_checkpoint(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("MLFI_HOME", str(tmp_path / "st"))
    monkeypatch.setenv("MLFI_AUDIT_KEY", KEY)
    monkeypatch.delenv("MLFI_ALERT_WEBHOOK_URL", raising=False)
    out = tmp_path / "worm" / "cp.jsonl"
    code, stdout, _ = _run(capsys, ["audit", "checkpoint", "--out", str(out), "--json"])
    assert code == 0, stdout
    cp = json.loads(stdout)
    assert cp["entries"] == 0 and cp["signature"]
    assert cps.load(out)[0].signature == cp["signature"]
    code, stdout, _ = _run(capsys, ["audit", "--verify", "--checkpoint", str(out)])
    assert code == 0 and "2 checkpoint(s) hold" in stdout
    out.write_text(out.read_text().replace('"entries":0', '"entries":5'))
    code, _, err = _run(capsys, ["audit", "--verify", "--checkpoint", str(out)])
    assert code == 1 and "bad signature" in err
    code, _, err = _run(capsys, ["audit", "--verify", "--checkpoint", str(tmp_path / "missing")])
    assert code == 2 and len(err.strip().splitlines()) == 1


def test_full_disk_on_the_mirror_is_one_line_disk_full_and_rolls_back(store, settings, monkeypatch):
    import errno
    import os

    audit.record(store, settings, "note", "ops", {"i": 0})
    before = mirror_path(settings).read_bytes()

    def full(fd):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", full)
    from app.errors import InputError

    with pytest.raises(InputError, match="disk full"):
        audit.record(store, settings, "note", "ops", {"i": 1})
    monkeypatch.undo()
    assert mirror_path(settings).read_bytes() == before and audit.count(store) == 1 and verify(store, settings).ok
