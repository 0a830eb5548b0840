"""CLI of governance: JSON documents on stdout, one-line errors with exit 2, `audit --verify` exit 1 when broken."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from gov_helpers import EP, make_report

from app.cli import main
from app.config import Settings
from app.governance import on_report
from app.governance.audit import mirror_path
from app.storage import Store

ROOT = Path(__file__).parents[1]


@pytest.fixture
def seeded(mlfi_env):
    s = Settings(_env_file=None)  # type: ignore[call-arg]
    assert s.home == mlfi_env
    st = Store.from_settings(s)
    rep = on_report(st, make_report("accuracy_drop"), s)
    st.dispose()
    return {"settings": s, "ids": [r.id for r in rep.recommendations]}


def run(capsys, *argv):
    with pytest.raises(SystemExit) as ei:
        main(list(argv))
    out, err = capsys.readouterr()
    return ei.value.code, out, err


def _err_line(err):
    lines = [x for x in err.splitlines() if x.startswith("Error:")]
    assert len(lines) == 1, err
    return lines[0]


def test_recommendations_json(capsys, seeded):
    code, out, _ = run(capsys, "recommendations", "--status", "pending", "--json")
    recs = json.loads(out)
    assert code == 0 and [r["id"] for r in recs] and {r["id"] for r in recs} == set(seeded["ids"])
    for key in ("id", "action", "priority", "rationale", "status", "action_type", "rule_id", "knowledge_id",
                "endpoint", "incident_id"):
        assert key in recs[0]
    code, out, _ = run(capsys, "recommendations", "--endpoint", "http://other", "--json")
    assert code == 0 and json.loads(out) == []


def test_approve_then_conflict(capsys, seeded):
    rid = seeded["ids"][0]
    code, out, _ = run(capsys, "approve", rid, "--by", "ana", "--reason", "roll back", "--no-execute", "--json")
    d = json.loads(out)
    assert code == 0 and d["recommendation"]["status"] == "approved" and d["recommendation"]["decided_by"] == "ana"
    before = mirror_path(seeded["settings"]).read_bytes()
    code, out, err = run(capsys, "approve", rid, "--by", "bob", "--reason", "me too")
    assert code == 2 and out == ""
    assert mirror_path(seeded["settings"]).read_bytes() == before            # the log stays as it was
    assert "already approved by ana at" in _err_line(err) and "Traceback" not in err


@pytest.mark.parametrize("argv,msg", [
    (["approve", "nope", "--by", "ana", "--reason", "x"], "unknown recommendation id: nope"),
    (["reject", "nope", "--by", "ana", "--reason", "x"], "unknown recommendation id: nope"),
    (["approve", "{id}", "--by", "ana", "--reason", ""], "--reason TEXT must not be empty"),
    (["approve", "{id}", "--by", "ana"], "Missing option '--reason'"),
    (["approve", "{id}", "--reason", "ok"], "--by NAME is required"),
    (["recommendations", "--status", "maybe"], "Invalid value"),
])
def test_bad_input_exit_2_one_line_and_log_intact(capsys, seeded, argv, msg):
    before = mirror_path(seeded["settings"]).read_bytes()
    argv = [a.replace("{id}", seeded["ids"][0]) for a in argv]
    code, out, err = run(capsys, *argv)
    assert code == 2 and msg in _err_line(err) and "Traceback" not in err
    assert mirror_path(seeded["settings"]).read_bytes() == before
    code, out, _ = run(capsys, "audit", "--verify", "--json")
    assert code == 0 and json.loads(out)["ok"]


def test_reject_without_the_flag_is_not_a_false_alarm_whatever_the_reason(capsys, seeded):
    code, out, _ = run(capsys, "reject", seeded["ids"][1], "--by", "carol", "--reason",
                       "this is not a false alarm; we prefer a rollback", "--json")
    d = json.loads(out)
    assert code == 0 and not d["false_alarm"] and d["sensitivity_changes"] == []
    code, out, _ = run(capsys, "sensitivity", "--json")
    assert code == 0 and json.loads(out) == []


def test_reject_false_alarm_and_sensitivity_commands(capsys, seeded):
    code, out, _ = run(capsys, "reject", seeded["ids"][1], "--by", "ana", "--reason", "seasonal", "--false-alarm",
                       "--json")
    d = json.loads(out)
    assert code == 0 and d["false_alarm"] and d["sensitivity_changes"]
    code, out, _ = run(capsys, "sensitivity", "--json")
    rows = json.loads(out)
    assert code == 0 and {r["detector"] for r in rows} == {"ks"} and rows[0]["multiplier"] == 1.5
    code, out, _ = run(capsys, "sensitivity", "--reset", "--endpoint", EP, "--by", "carol", "--json")
    assert code == 0 and json.loads(out)["reset"][0]["after"] == 1.0
    code, out, _ = run(capsys, "sensitivity", "--json")
    assert json.loads(out) == []
    code, _, err = run(capsys, "sensitivity", "--reset", "--by", "carol")
    assert code == 2 and "--reset needs --endpoint" in _err_line(err)


def test_audit_listing_and_verify(capsys, seeded):
    run(capsys, "approve", seeded["ids"][0], "--by", "ana", "--reason", "go", "--no-execute")
    code, out, _ = run(capsys, "audit", "--json")
    doc = json.loads(out)
    assert code == 0 and doc["count"] == len(doc["entries"]) == 2
    assert [e["event"] for e in doc["entries"]] == ["recommended", "approved"]
    assert doc["entries"][1]["prev_hash"] == doc["entries"][0]["hash"]
    code, out, _ = run(capsys, "audit", "--verify", "--json")
    assert code == 0 and json.loads(out)["ok"] is True


def test_incidents_json_with_similar(capsys, seeded):
    code, out, _ = run(capsys, "incidents", "--similar", "--json")
    rows = json.loads(out)
    assert code == 0 and rows[0]["root_cause"] == "accuracy_drop" and rows[0]["similar"] == []


def _cli(home, *argv):
    env = {**os.environ, "MLFI_HOME": str(home)}
    env.pop("MLFI_DATABASE_URL", None)
    return subprocess.run([sys.executable, "-m", "app", *argv], check=False, capture_output=True, text=True, env=env,
                          cwd=str(ROOT), timeout=120)


def test_real_process_verify_exit_1_names_the_first_bad_entry(seeded, mlfi_env):
    lines = mirror_path(seeded["settings"]).read_text().splitlines(keepends=True)
    obj = json.loads(lines[0])
    obj["payload"]["root_cause"] = "none"
    lines[0] = json.dumps(obj) + "\n"
    mirror_path(seeded["settings"]).write_text("".join(lines))
    p = _cli(mlfi_env, "audit", "--verify")
    assert p.returncode == 1
    assert p.stderr.strip().splitlines()[-1] == "Error: audit log broken (mirror): entry 1 was edited " \
                                                "(its hash does not match its content)"
    p = _cli(mlfi_env, "approve", seeded["ids"][0], "--by", "ana", "--reason", "go")
    assert p.returncode == 2 and "refusing to write" in p.stderr and "Traceback" not in p.stderr
    assert mirror_path(seeded["settings"]).read_text() == "".join(lines)


def test_execute_command_after_no_execute(capsys, seeded, tmp_path, monkeypatch):
    rid = seeded["ids"][0]
    run(capsys, "approve", rid, "--by", "ana", "--reason", "go", "--no-execute")
    code, out, _ = run(capsys, "execute", rid, "--by", "ana", "--json")
    assert code == 0 and json.loads(out)["executions"] == []           # nothing configured: nothing ran
    marker = tmp_path / "ran"
    monkeypatch.setenv("MLFI_COMMAND_HOOK", f"{sys.executable} -c \"open({str(marker)!r}, 'w').write('x')\"")
    code, out, _ = run(capsys, "execute", rid, "--by", "ana", "--json")
    assert code == 0 and json.loads(out)["executions"][0]["ok"] and marker.read_text() == "x"
    code, _, err = run(capsys, "execute", rid, "--by", "ana")
    assert code == 2 and "was already executed" in _err_line(err)
    code, _, err = run(capsys, "execute", seeded["ids"][1], "--by", "ana")
    assert code == 2 and "is pending; only approved recommendations are executed" in _err_line(err)
