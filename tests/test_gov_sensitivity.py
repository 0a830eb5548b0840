"""Adaptive sensitivity: a false alarm makes the detectors that fired less sensitive on that endpoint only;
bounded, reversible, audited, and actually used by the detection verdicts."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from gov_helpers import EP, make_report

from app.detection.base import TestResult, decide
from app.errors import InputError, NotFoundError
from app.governance import approve, audit, list_sensitivity, on_report, reject, reset_sensitivity, sensitivity_for
from app.governance.sensitivity import MAX_MULTIPLIER, STEP

OTHER = "http://other/predict"


def _new_incident(store, settings, endpoint=EP, anomalies=("isolation_forest",)):
    on_report(store, make_report("none", endpoint=endpoint), settings)      # close any open incident
    return on_report(store, make_report("feature_drift", "medium", endpoint=endpoint, accuracy=0.95,
                                        confidence=0.93, anomalies=anomalies), settings).recommendations


def test_false_alarm_flag_steps_the_fired_detectors_on_that_endpoint_only(store, settings):
    recs = _new_incident(store, settings)
    _new_incident(store, settings, endpoint=OTHER)
    d = reject(store, settings, recs[0].id, by="ana", reason="expected promo traffic", false_alarm=True)
    assert d.false_alarm and {c.detector for c in d.sensitivity_changes} == {"ks", "isolation_forest"}
    assert sensitivity_for(store, EP) == {"ks": STEP, "isolation_forest": STEP}
    assert sensitivity_for(store, OTHER) == {}
    entry = audit.entries(store)[-1]
    assert entry.event == "sensitivity_changed" and entry.actor == "ana"
    assert entry.payload["cause"] == "false_alarm" and entry.payload["recommendation_id"] == recs[0].id
    assert {c["detector"]: (c["before"], c["after"]) for c in entry.payload["changes"]} == {
        "ks": (1.0, STEP), "isolation_forest": (1.0, STEP)}


def test_reason_text_alone_does_not_adapt(store, settings):
    recs = _new_incident(store, settings)
    d = reject(store, settings, recs[0].id, by="carol", reason="this is not a false alarm; we prefer a rollback")
    assert not d.false_alarm and d.sensitivity_changes == [] and sensitivity_for(store, EP) == {}


def test_plain_rejection_does_not_adapt(store, settings):
    recs = _new_incident(store, settings)
    d = reject(store, settings, recs[0].id, by="ana", reason="we will retrain next week instead")
    assert not d.false_alarm and d.sensitivity_changes == [] and sensitivity_for(store, EP) == {}


def test_bounded(store, settings):
    for _ in range(6):
        recs = _new_incident(store, settings)
        reject(store, settings, recs[0].id, by="ana", reason="noise", false_alarm=True)
    assert sensitivity_for(store, EP)["ks"] == MAX_MULTIPLIER
    n = audit.count(store)
    recs = _new_incident(store, settings)
    d = reject(store, settings, recs[0].id, by="ana", reason="noise", false_alarm=True)
    assert d.sensitivity_changes == []                               # at the cap: nothing to change or audit
    assert [e.event for e in audit.entries(store)[n:]].count("sensitivity_changed") == 0


def test_confirmed_alert_relaxes_back_toward_default(store, settings):
    recs = _new_incident(store, settings)
    reject(store, settings, recs[0].id, by="ana", reason="noise", false_alarm=True)
    recs = _new_incident(store, settings)
    d = approve(store, settings, recs[0].id, by="bob", reason="real this time", execute_now=False)
    assert {c.after for c in d.sensitivity_changes} == {1.0}
    assert sensitivity_for(store, EP) == {"ks": 1.0, "isolation_forest": 1.0}
    assert audit.entries(store)[-1].payload["cause"] == "confirmed_alert"


def test_reset_is_reversible_and_audited(store, settings):
    for _ in range(2):
        recs = _new_incident(store, settings)
        reject(store, settings, recs[0].id, by="ana", reason="noise", false_alarm=True)
    changes = reset_sensitivity(store, settings, EP, by="carol", detector="ks")
    assert [(c.detector, c.before, c.after) for c in changes] == [("ks", STEP * STEP, 1.0)]
    assert sensitivity_for(store, EP) == {"isolation_forest": STEP * STEP}
    reset_sensitivity(store, settings, EP, by="carol")
    assert sensitivity_for(store, EP) == {} and list_sensitivity(store) == []
    last = audit.entries(store)[-1]
    assert last.event == "sensitivity_reset" and last.actor == "carol"
    assert audit.verify(store, settings).ok


def test_reset_bad_input(store, settings):
    with pytest.raises(NotFoundError):
        reset_sensitivity(store, settings, "http://nope", by="carol")
    with pytest.raises(InputError):
        reset_sensitivity(store, settings, EP, by=" ")


def test_multiplier_really_changes_the_detection_verdict(store, settings):
    """The adapted multiplier goes into app.detection's decide(): a marginal shift stops alerting there."""
    marginal = [TestResult("mean radius", "ks", 0.1, 1e-6, 0.1, 0.05)]
    assert decide(marginal, 0.05, sensitivity_for(store, EP))[0].drift_detected
    for _ in range(2):
        recs = _new_incident(store, settings)
        reject(store, settings, recs[0].id, by="ana", reason="noise", false_alarm=True)
    assert sensitivity_for(store, EP)["ks"] == pytest.approx(2.25)
    assert not decide(marginal, 0.05, sensitivity_for(store, EP))[0].drift_detected
    strong = [TestResult("mean radius", "ks", 0.5, 1e-12, 0.5, 0.05)]
    assert decide(strong, 0.05, sensitivity_for(store, EP))[0].drift_detected      # a real shift still alerts
