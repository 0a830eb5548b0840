"""Decision analysis: the chosen threshold is the true minimiser of expected cost (brute-force grid)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.errors import InputError
from app.evaluation.compare import RATIO_GRID, min_cost_by_ratio
from app.evaluation.decision import decide, expected_cost, optimal_threshold
from app.evaluation.loader import prepare


def _brute(y: np.ndarray, s: np.ndarray, cfp: float, cfn: float, grid: np.ndarray) -> np.ndarray:
    """Expected cost at every grid threshold, computed the slow obvious way."""
    out = []
    for t in grid:
        pred = s >= t
        out.append((cfp * np.sum(pred & (y == 0)) + cfn * np.sum(~pred & (y == 1))) / len(y))
    return np.array(out)


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize(("cfp", "cfn"), [(1, 1), (1, 5), (5, 1), (0.3, 7.5), (0, 1), (1, 0)])
def test_threshold_is_the_minimiser_on_a_fine_grid(seed: int, cfp: float, cfn: float) -> None:
    rng = np.random.default_rng(seed)
    n = 400
    y = rng.integers(0, 2, n)
    s = np.round(np.clip(rng.normal(0.35 + 0.3 * y, 0.2), 0, 1), 3)  # 3 decimals: the 0.0005 grid hits every cut
    grid = np.r_[np.linspace(0, 1, 2001), 1.0001]
    brute = _brute(y, s, cfp, cfn, grid)
    t, cost, fp, fn, k = optimal_threshold(y, s, cfp, cfn)
    assert cost == pytest.approx(brute.min(), abs=1e-12)
    assert expected_cost(y, s, t, cfp, cfn) == pytest.approx(cost, abs=1e-12)
    assert (cfp * fp + cfn * fn) / n == pytest.approx(cost, abs=1e-12)
    assert k == len(np.unique(s)) + 1


@settings(max_examples=80, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 1), st.floats(0, 1, allow_nan=False)), min_size=1, max_size=40),
    st.floats(0.01, 20),
    st.floats(0.01, 20),
)
def test_threshold_beats_every_threshold_on_arbitrary_data(rows, cfp, cfn) -> None:  # type: ignore[no-untyped-def]
    y = np.array([r[0] for r in rows])
    s = np.array([r[1] for r in rows])
    t, cost, _, _, _ = optimal_threshold(y, s, cfp, cfn)
    candidates = np.r_[0.0, s, np.nextafter(s, 2.0), 1.0, np.nextafter(1.0, 2.0)]
    assert cost <= _brute(y, s, cfp, cfn, candidates).min() + 1e-12
    assert expected_cost(y, s, t, cfp, cfn) == pytest.approx(cost, abs=1e-12)


def test_ties_go_to_the_cut_nearest_the_bayes_threshold() -> None:
    # separable data: every cut in (0.2, 0.8] costs 0; Bayes threshold 1/(1+1) = 0.5 -> the nearest cut is 0.8
    y = np.array([0, 0, 1, 1])
    s = np.array([0.1, 0.2, 0.8, 0.9])
    assert optimal_threshold(y, s, 1.0, 1.0)[:2] == (0.8, 0.0)


def test_nobody_positive_when_false_positives_cost_everything() -> None:
    y = np.array([0, 1, 0, 1])
    s = np.array([0.9, 0.8, 0.7, 0.1])
    t, cost, fp, fn, _ = optimal_threshold(y, s, 100.0, 0.0)
    assert cost == 0.0 and fp == 0 and t > 0.9


def _frame(seed: int = 0, n: int = 300) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    return pd.DataFrame(
        {
            "y": y,
            "p": np.round(np.clip(rng.normal(0.3 + 0.4 * y, 0.2), 0, 1), 3),
            "region": rng.choice(["north", "south", "east"], n),
        }
    )


def test_decide_reports_curve_reference_and_per_slice_costs() -> None:
    data = prepare(_frame(), label="y", score="p", slices=["region"])
    d = decide(data, 1.0, 5.0, reference_threshold=0.5)
    assert d.threshold == optimal_threshold(data.y, data.proba, 1.0, 5.0)[0]
    assert min(p.expected_cost for p in d.cost_curve) >= d.expected_cost - 1e-12
    assert d.expected_cost <= d.expected_cost_at_reference and d.expected_cost <= d.expected_cost_at_bayes
    assert d.bayes_threshold == pytest.approx(1 / 6)
    assert len(d.cost_curve) == 101
    assert {p.value for p in d.per_slice} == {"north", "south", "east"}
    assert sum(p.n for p in d.per_slice) == len(data.y)
    # per-slice costs at the global threshold add up (weighted by n) to the overall cost
    assert sum(p.expected_cost * p.n for p in d.per_slice) / len(data.y) == pytest.approx(d.expected_cost)
    for p in d.per_slice:
        assert p.own_expected_cost <= p.expected_cost + 1e-12
    assert [p.expected_cost for p in d.per_slice] == sorted((p.expected_cost for p in d.per_slice), reverse=True)


@pytest.mark.parametrize(("cfp", "cfn"), [(-1, 1), (0, 0), (1, float("inf")), (float("nan"), 1)])
def test_bad_costs_are_input_errors(cfp: float, cfn: float) -> None:
    data = prepare(_frame(), label="y", score="p")
    with pytest.raises(InputError):
        decide(data, cfp, cfn)


def test_min_cost_by_ratio_equals_brute_force() -> None:
    f = _frame(4)
    y, s = f["y"].to_numpy(), f["p"].to_numpy()
    grid = np.r_[np.linspace(0, 1, 1001), 1.0001]
    got = min_cost_by_ratio(y, s, RATIO_GRID)
    for r, c in zip(RATIO_GRID, got, strict=True):
        assert c == pytest.approx(_brute(y, s, 1 / (1 + r), r / (1 + r), grid).min(), abs=1e-12)
