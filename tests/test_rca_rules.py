"""RCA rules as data: the table validates strictly, fires in priority order, grades and explains."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.errors import InputError
from app.rca.rules import RULES_PATH, firings, load_rules
from app.rules import render
from app.schemas import ROOT_CAUSES


def test_shipped_rules_validate_and_cover_every_root_cause() -> None:
    rules = load_rules()
    causes = {r.root_cause for r in rules.rules}
    assert causes == set(ROOT_CAUSES) - {"none"}
    assert len({r.id for r in rules.rules}) == len(rules.rules)


def test_a_misspelt_field_fails_loudly(tmp_path: Path) -> None:
    bad = RULES_PATH.read_text().replace('root_cause = "silent_failure"', 'root_cuase = "silent_failure"', 1)
    p = tmp_path / "rules.toml"
    p.write_text(bad)
    with pytest.raises(InputError, match="invalid RCA rules rules.toml: rules.0"):
        load_rules(p)
    p.write_text(RULES_PATH.read_text().replace('level = "critical"', 'level = "apocalyptic"', 1))
    with pytest.raises(InputError, match="invalid RCA rules"):
        load_rules(p)


def ids(signals: dict) -> list[str]:  # type: ignore[type-arg]
    return [f.rule_id for f in firings(signals)]


def test_priority_follows_causality() -> None:
    everything = {"silent_flagged": True, "silent_effect": 1.0, "err_flagged": True, "err_after": 0.3,
                  "dq_flagged": True, "feat_flagged": True, "acc_flagged": True, "acc_drop": 0.2,
                  "pred_flagged": True, "pred_tv": 0.02, "pred_explains_acc": False, "conf_flagged": True,
                  "conf_delta": -0.2, "lat_flagged": True}
    assert ids(everything)[:4] == ["silent-failure", "error-spike", "data-quality", "feature-drift"]
    assert ids({**everything, "silent_flagged": False, "err_flagged": False, "dq_flagged": False,
                "feat_flagged": False})[0] == "accuracy-drop"


def test_a_class_shift_that_accounts_for_the_accuracy_loss_is_prediction_drift() -> None:
    biased = {"acc_flagged": True, "acc_drop": 0.2, "pred_flagged": True, "pred_tv": 0.22, "pred_explains_acc": True}
    random_errors = {**biased, "pred_tv": 0.03, "pred_explains_acc": False}
    assert firings(biased)[0].root_cause == "prediction_drift"
    assert firings(random_errors)[0].root_cause == "accuracy_drop"


def test_confidence_up_is_not_a_confidence_drop() -> None:
    assert firings({"conf_flagged": True, "conf_delta": -0.3, "conf_drop": 0.3})[0].root_cause == "confidence_drop"
    up = firings({"conf_flagged": True, "conf_delta": 0.1})
    assert up[0].root_cause == "prediction_drift" and up[0].severity == "low"


def test_severity_tiers_and_escalation() -> None:
    assert firings({"err_flagged": True, "err_after": 0.6})[0].severity == "critical"
    assert firings({"err_flagged": True, "err_after": 0.03})[0].severity == "low"
    plain = firings({"feat_flagged": True, "feat_top_strength": 4.0})[0]
    worse = firings({"feat_flagged": True, "feat_top_strength": 4.0, "acc_flagged": True})[0]
    assert (plain.severity, worse.severity) == ("medium", "high")


def test_nothing_fires_on_no_signal_and_missing_signals_satisfy_nothing() -> None:
    assert firings({}) == []
    assert firings({"acc_flagged": None, "conf_flagged": True}) and firings({"acc_flagged": None}) == []


def test_reasons_are_rendered_plain_english() -> None:
    f = firings({"err_flagged": True, "err_after": 0.5, "err_before": 0.0, "err_kind_text": "timeouts"})[0]
    assert f.reason == "50% of requests failed (baseline 0%); most failures were timeouts."
    assert render("{x:.2f} and {missing}", {"x": "text"}) == "text and ?"
