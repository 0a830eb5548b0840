"""Decisions: a name and a reason, exactly once, even when several real processes decide at the same moment."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from gov_helpers import make_report, release_together

from app.errors import ConflictError, InputError, NotFoundError
from app.governance import approve, audit, list_recommendations, on_report, reject

WORKER = r"""
import json, os, sys, time
from app.config import Settings
from app.errors import MlfiError
from app.storage import Store
from app.governance import approve, reject, execute
home, rec, who, go, what = sys.argv[1:6]
s = Settings(home=home, _env_file=None, command_hook=sys.argv[6] if len(sys.argv) > 6 else None)
st = Store.from_settings(s)
print("ready", flush=True)
while not os.path.exists(go):      # everybody starts at the same instant
    time.sleep(0.0002)
try:
    if what == "approve":
        approve(st, s, rec, by=who, reason="go ahead", execute_now=False)
    elif what == "reject":
        reject(st, s, rec, by=who, reason="no")
    else:
        execute(st, s, rec, actor=who)
    print(json.dumps({"who": who, "ok": True}))
except MlfiError as e:
    print(json.dumps({"who": who, "ok": False, "type": type(e).__name__, "msg": str(e)}))
"""


@pytest.fixture
def recs(store, settings):
    rep = on_report(store, make_report("accuracy_drop"), settings)
    return [r.id for r in rep.recommendations]


def _race(settings, rec_id, actions, tmp_path, hook=None):
    """Start one real process per action; release them together once all are ready; collect results."""
    script, go = tmp_path / "worker.py", tmp_path / "go"
    script.write_text(WORKER)
    procs = []
    for i, what in enumerate(actions):
        argv = [sys.executable, str(script), str(settings.home), rec_id, f"user{i}", str(go), what]
        if hook:
            argv.append(hook)
        procs.append(subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                      cwd=str(Path(__file__).parents[1])))
    return release_together(procs, go)


def test_approve_records_name_reason_and_audit_entry(store, settings, recs):
    d = approve(store, settings, recs[0], by="  ana ", reason=" rollback ", execute_now=False)
    assert d.recommendation.status == "approved" and d.recommendation.decided_by == "ana"
    assert d.recommendation.reason == "rollback" and d.recommendation.decided_at is not None
    entry = audit.entries(store)[d.audit_seq - 1]
    assert entry.event == "approved" and entry.actor == "ana"
    assert entry.payload["recommendation_id"] == recs[0] and entry.payload["reason"] == "rollback"
    assert entry.payload["rule_id"] and entry.payload["rule_ids"]          # the fired rules are recorded
    assert d.executions == []                                              # --no-execute: nothing ran


@pytest.mark.parametrize("by,reason,msg", [("ana", "", "--reason"), ("ana", "   ", "--reason"),
                                           ("", "ok", "--by"), ("a\nb", "ok", "one line")])
def test_bad_name_or_reason_is_rejected_and_nothing_changes(store, settings, recs, by, reason, msg):
    n = audit.count(store)
    with pytest.raises(InputError, match=msg):
        approve(store, settings, recs[0], by=by, reason=reason)
    assert audit.count(store) == n
    assert list_recommendations(store, status="pending")[0].status == "pending"


def test_unknown_id(store, settings, recs):
    with pytest.raises(NotFoundError, match="unknown recommendation id: nope"):
        reject(store, settings, "nope", by="ana", reason="x")


def test_second_decision_is_a_conflict_naming_the_first(store, settings, recs):
    approve(store, settings, recs[0], by="ana", reason="go", execute_now=False)
    n = audit.count(store)
    for fn in (approve, reject):
        with pytest.raises(ConflictError, match=r"already approved by ana at \d{4}-\d\d-\d\dT"):
            fn(store, settings, recs[0], by="bob", reason="me too")
    assert audit.count(store) == n


def test_resolved_incident_supersedes_pending_recommendations(store, settings, recs):
    approve(store, settings, recs[0], by="ana", reason="go", execute_now=False)
    on_report(store, make_report("none"), settings)
    statuses = {r.id: r.status for r in list_recommendations(store)}
    assert statuses[recs[0]] == "approved" and {statuses[x] for x in recs[1:]} == {"superseded"}
    with pytest.raises(ConflictError, match="superseded"):
        approve(store, settings, recs[1], by="bob", reason="late")


def test_reason_text_never_makes_a_false_alarm(store, settings, recs):
    d = reject(store, settings, recs[0], by="carol", reason="this is not a false alarm; we prefer a rollback")
    assert not d.false_alarm and d.sensitivity_changes == []
    entry = audit.entries(store)[-1]
    assert entry.event == "rejected" and entry.payload["false_alarm"] is False


def test_two_processes_approving_one_id_leave_one_decision(store, settings, recs, tmp_path):
    results = _race(settings, recs[0], ["approve", "approve"], tmp_path)
    winners = [r for r in results if r["ok"]]
    losers = [r for r in results if not r["ok"]]
    assert len(winners) == 1 and len(losers) == 1
    assert losers[0]["type"] == "ConflictError"
    assert f"already approved by {winners[0]['who']} at" in losers[0]["msg"]
    rec = next(r for r in list_recommendations(store) if r.id == recs[0])
    assert rec.status == "approved" and rec.decided_by == winners[0]["who"]
    approvals = [e for e in audit.entries(store) if e.event == "approved"]
    assert len(approvals) == 1 and approvals[0].actor == winners[0]["who"]
    assert audit.verify(store, settings).ok


@pytest.mark.slow
def test_many_processes_mixed_decisions_exactly_one_wins(store, settings, recs, tmp_path):
    results = _race(settings, recs[1], ["approve", "reject"] * 3, tmp_path)
    assert sum(r["ok"] for r in results) == 1
    assert all(r["type"] == "ConflictError" for r in results if not r["ok"])
    decisions = [e for e in audit.entries(store) if e.event in ("approved", "rejected")]
    assert len(decisions) == 1
    assert audit.verify(store, settings).ok


def test_concurrent_execute_runs_the_command_hook_once(store, settings, recs, tmp_path):
    marker = tmp_path / "runs.txt"
    hook_py = tmp_path / "hook.py"
    hook_py.write_text("import sys, json\nd = json.load(sys.stdin)\n"
                       f"open({str(marker)!r}, 'a').write(d['recommendation']['id'] + '\\n')\n")
    approve(store, settings, recs[0], by="ana", reason="go", execute_now=False)
    hook = f"{sys.executable} {hook_py}"
    results = _race(settings, recs[0], ["execute", "execute"], tmp_path, hook=hook)
    assert sum(r["ok"] for r in results) == 1
    assert marker.read_text().splitlines() == [recs[0]]
    events = [e.event for e in audit.entries(store)]
    assert events.count("execution_started") == 1 and events.count("executed") == 1
    assert audit.verify(store, settings).ok


def test_pending_recommendation_follows_the_escalating_incident(store, settings):
    first = on_report(store, make_report("accuracy_drop", "medium", accuracy=0.90), settings)
    decided = first.recommendations[0].id
    approve(store, settings, decided, by="ana", reason="go", execute_now=False)
    before = {r.id: r for r in list_recommendations(store)}
    later = on_report(store, make_report("accuracy_drop", "critical", accuracy=0.253), settings)
    assert later.incident_id == first.incident_id
    after = {r.id: r for r in list_recommendations(store)}
    common = [i for i in before if i in {r.id for r in later.recommendations} and i != decided]
    assert common, "the escalated report proposes some of the same actions"
    new_rats = {r.id: r.rationale for r in later.recommendations}
    for rid in common:   # pending: now shows the latest evidence and priority, same id, same creation time
        assert after[rid].status == "pending" and after[rid].rationale == new_rats[rid]
        assert after[rid].report_id == later.report_id and after[rid].created_at == before[rid].created_at
        assert after[rid].priority == next(r.priority for r in later.recommendations if r.id == rid)
    assert any(after[rid].rationale != before[rid].rationale for rid in common)
    assert any(after[rid].priority != before[rid].priority for rid in common)   # MEDIUM -> HIGH etc.
    # decided: never rewritten
    assert after[decided].model_dump() == before[decided].model_dump()
    assert audit.verify(store, settings).ok
