"""Chart data builders of the Endpoint page (pure functions): what is drawn is what the detectors test."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from app.rca.segments import drift_segments, outcome_segments
from app.schemas import Metrics, Sample
from app.views import live
from app.views.drift_map import grid_from_reports
from app.views.incidents import alert_groups
from app.views.kpis import kpi_of_cause, kpis
from app.views.wording import decision_line, words


def _stream(n_good: int, n_bad: int, *, acc_bad: float = 0.5, seed: int = 0) -> list[Sample]:
    """Labelled samples one second apart: ``n_good`` always right, then ``n_bad`` right with ``acc_bad``."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n_good + n_bad):
        right = i < n_good or rng.random() < acc_bad
        out.append(Sample(endpoint="e", ts=1000.0 + i, prediction="a" if right else "b", label="a",
                          confidence=0.9, latency_ms=10.0 + (i % 5)))
    return out


def test_rolling_view_is_the_window_the_verdict_tests():
    frame = live.samples_frame(_stream(200, 100))
    view = live.rolling_view(frame, 60, max_points=10_000)
    # the newest point is exactly the accuracy of the newest 60 samples
    last60 = frame.tail(60)
    assert view["accuracy"].iloc[-1] == pytest.approx(last60["correct"].mean())
    assert view["n"].iloc[-1] == 60 and view["labelled"].iloc[-1] == 60
    # the Wilson band holds the point and is narrower with more samples
    assert (view["acc_low"] <= view["accuracy"] + 1e-12).all() and (view["accuracy"] <= view["acc_high"] + 1e-12).all()
    assert view["accuracy"].iloc[199] == 1.0 and view["accuracy"].iloc[-1] < 0.7
    # downsampling keeps the newest point (the value the latest verdict saw)
    small = live.rolling_view(frame, 60, max_points=20)
    assert len(small) <= 20 and small["ts"].iloc[-1] == frame["ts"].iloc[-1]
    assert small["accuracy"].iloc[-1] == view["accuracy"].iloc[-1]


def test_errors_count_in_the_error_rate_and_not_in_accuracy():
    samples = _stream(10, 0)
    samples += [Sample(endpoint="e", ts=2000.0 + i, error_kind="http_error", label="a") for i in range(10)]
    view = live.rolling_view(live.samples_frame(samples), 20, max_points=100)
    assert view["error_rate"].iloc[-1] == pytest.approx(0.5)
    assert view["accuracy"].iloc[-1] == 1.0 and view["labelled"].iloc[-1] == 10


def test_thresholds_follow_the_detectors_floors():
    t = live.thresholds(Metrics(accuracy=0.99, error_rate=0.01, latency_p95_ms=100.0, avg_confidence=0.9,
                                confidence_std=0.05))
    assert t["accuracy"].value == pytest.approx(0.96) and t["accuracy"].below
    assert t["error_rate"].value == pytest.approx(0.03) and not t["error_rate"].below
    assert t["latency_p95_ms"].value == pytest.approx(150.0)
    assert t["confidence"].value == pytest.approx(0.8)


def test_markers_only_on_the_metric_that_fired():
    m = pd.DataFrame({"ts": [1.0, 2.0, 3.0], "root_cause": ["accuracy_drop", "error_spike", "silent_failure"],
                      "severity": ["high"] * 3, "message": [""] * 3})
    assert live.markers_for(m, "accuracy")["root_cause"].tolist() == ["accuracy_drop"]
    assert live.markers_for(m, "error_rate")["root_cause"].tolist() == ["error_spike"]
    assert live.markers_for(m, "class_mix")["root_cause"].tolist() == ["silent_failure"]
    assert live.markers_for(m, "confidence").empty


def test_incident_spans_use_the_change_point_and_fall_back_to_opened_at():
    inc = pd.DataFrame({"id": [1, 2], "root_cause": ["accuracy_drop", "error_spike"], "severity": ["high", "low"],
                        "opened_at": [100.0, 300.0], "change_point_at": [80.0, None], "resolved_at": [200.0, None]})
    spans = live.incident_spans(inc, now=500.0)
    assert spans[["start", "end", "open"]].values.tolist() == [[80.0, 200.0, False], [300.0, 500.0, True]]
    assert spans["metric"].tolist() == ["accuracy", "error_rate"]
    clipped = live.incident_spans(inc, now=500.0, since=250.0)      # the resolved one ended before the range
    assert clipped["id"].tolist() == [2]


def test_class_mix_shows_a_collapse_to_one_class():
    healthy = [Sample(endpoint="e", ts=float(i), prediction="ab"[i % 2], confidence=0.9) for i in range(100)]
    silent = [Sample(endpoint="e", ts=100.0 + i, prediction="a", confidence=0.9) for i in range(100)]
    mix = live.class_mix(live.samples_frame(healthy + silent), buckets=4)
    share_a = mix[mix["cls"] == "a"].set_index("ts")["share"]
    assert share_a.iloc[0] == pytest.approx(0.5) and share_a.iloc[-1] == pytest.approx(1.0)


def test_volume_and_incomplete_last_bucket():
    df = pd.DataFrame({"ts": [0.0, 60.0, 120.0], "n": [120, 120, 30]})
    assert live.volume(df)["per_min"].tolist() == [120.0, 120.0, 30.0]
    assert live.last_bucket_incomplete(df, now=150.0) and not live.last_bucket_incomplete(df, now=181.0)


def test_alerts_are_grouped_by_incident():
    m = pd.DataFrame({"ts": [90.0, 150.0, 160.0, 400.0, 900.0],
                      "root_cause": ["accuracy_drop", "accuracy_drop", "error_spike", "error_spike", "latency_degradation"],
                      "severity": ["high"] * 5, "message": [""] * 5, "report_id": [1, 2, 3, 4, 5]})
    inc = pd.DataFrame({"id": [1, 2], "root_cause": ["accuracy_drop", "error_spike"], "severity": ["high", "medium"],
                        "status": ["resolved", "open"], "opened_at": [100.0, 390.0], "change_point_at": [85.0, None],
                        "resolved_at": [200.0, None]})
    groups = alert_groups(m, inc, now=1000.0)
    assert [(g["id"], r["report_id"].tolist()) for g, r in groups] == [(2, [5, 4]), (1, [3, 2, 1])]


def test_the_tile_behind_the_verdict():
    tiles = kpis(Metrics(accuracy=0.5, error_rate=0.0), Metrics(accuracy=0.99, error_rate=0.0))
    assert kpi_of_cause("accuracy_drop", tiles) == "accuracy"
    assert kpi_of_cause("error_spike", tiles) == "error_rate"
    assert kpi_of_cause("feature_drift", tiles) is None
    reg = kpis(Metrics(task="regression", mae=5.0), Metrics(task="regression", mae=1.0))
    assert kpi_of_cause("accuracy_drop", reg) == "mae"


def test_drift_rows_sorted_detected_first():
    g = grid_from_reports([(1, 1.0, {"features": {"big_but_not_detected": {"effect_size": 0.9},
                                                  "small_detected": {"effect_size": 0.1, "drift_detected": True},
                                                  "old_detection": {"effect_size": 0.2}}}),
                           (2, 2.0, {"features": {"big_but_not_detected": {"effect_size": 0.9},
                                                  "small_detected": {"effect_size": 0.1, "drift_detected": True},
                                                  "old_detection": {"effect_size": 0.2}}})])
    assert g.variables[0] == "small_detected"


def test_words_not_constants():
    assert words("BLOCKED_PENDING_HUMAN_REVIEW") == "Blocked until a person reviews it"
    assert words(True) == "yes" and words("roc_auc") == "ROC AUC"
    line = decision_line("superseded", None, None)
    assert "never" not in line and "—" not in line


def test_segments_of_a_healthy_window_are_not_reported():
    rng = np.random.default_rng(3)
    ref, cur = rng.normal(size=(300, 3)), rng.normal(size=(150, 3))
    assert drift_segments(ref, cur, ["a", "b", "c"]) == []
    x = rng.normal(size=(150, 3))
    noise = (rng.random(150) < 0.1).astype(float)
    assert outcome_segments(x, noise, ["a", "b", "c"], what="error rate", higher_is_worse=True, binary=True) == []
    # a real region still shows: errors wherever a > 1
    real = (x[:, 0] > 1.0).astype(float)
    segs = outcome_segments(x, real, ["a", "b", "c"], what="error rate", higher_is_worse=True, binary=True)
    assert segs and "a >" in segs[0].description
