"""An analysis's writes (incident change, report, links, recommendations, audit) are one transaction (issue 16).

A claim lost part-way (the analysis job taken over by another worker) or any failure part-way leaves
nothing half-written: the incident change never stands without its report and audit entries.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from gov_helpers import EP, make_report

from app.governance import audit, list_incidents, list_recommendations, on_report
from app.storage.errors import StaleClaimError


def _state(store: Any) -> tuple[list[tuple[int, str, str]], int, int, int]:
    incs = [(i.id, i.status, i.root_cause) for i in list_incidents(store, endpoint=EP)]
    return incs, len(store.list_reports(EP)), len(audit.entries(store)), len(list_recommendations(store))


def _guard_lost_after(store: Any, monkeypatch: pytest.MonkeyPatch, checks_passed: int) -> list[str]:
    """The analysis claim holds for the first ``checks_passed`` guard checks, then is lost (taken over)."""
    seen: list[str] = []

    def check_guard(conn: Any, what: str) -> None:
        seen.append(what)
        if len(seen) > checks_passed:
            raise StaleClaimError(f"{what} refused: its analysis job was claimed again by another worker")

    monkeypatch.setattr(store, "check_guard", check_guard)
    return seen


def test_a_claim_lost_between_the_incident_and_the_report_stores_none_of_the_three(store, settings, monkeypatch):
    seen = _guard_lost_after(store, monkeypatch, 1)         # the incident update passes, the report's check fails
    with pytest.raises(StaleClaimError, match="report of"):
        on_report(store, make_report("accuracy_drop"), settings)
    assert seen[0].startswith("incident update") and _state(store) == ([], 0, 0, 0)
    monkeypatch.undo()
    opened = on_report(store, make_report("accuracy_drop"), settings)     # the current claim then writes all
    incs, reports, entries, recs = _state(store)
    assert [(i, s) for i, s, _ in incs] == [(opened.incident_id, "open")] and reports == 1 and entries > 0 and recs > 0


def test_a_failure_after_the_report_rolls_back_the_incident_change_and_the_report(store, settings, monkeypatch):
    from app.governance import pipeline

    on_report(store, make_report("accuracy_drop"), settings)
    before = _state(store)
    assert before[0][0][1] == "open"

    def broken(*_a: Any, **_k: Any) -> None:
        raise RuntimeError("connection lost")

    monkeypatch.setattr(pipeline, "link_report", broken)     # after the resolve and the report insert
    with pytest.raises(RuntimeError):
        on_report(store, make_report("none"), settings)
    assert _state(store) == before                           # still open, no new report, no audit entry
    monkeypatch.undo()
    on_report(store, make_report("none"), settings)
    assert _state(store)[0][0][1] == "resolved" and _state(store)[1] == before[1] + 1
