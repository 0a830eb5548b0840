"""Issue 12: the fast drift path keeps its verdicts, sees rare-level shifts at every n, attributes joint-only alarms."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from app.detection.drift import feature_drift
from app.detection.suite import DetectionConfig

LEVELS = np.array([f"L{k:02d}" for k in range(50)], dtype=object)
ZIPF = (1.0 / np.arange(1, 51)) / (1.0 / np.arange(1, 51)).sum()


def _rare_shift() -> np.ndarray:
    """The 5 rarest levels of a 50-level Zipf double their share (2.3 % of the mass moves)."""
    q = ZIPF.copy()
    q[-5:] *= 2.0
    rest = np.ones(50, dtype=bool)
    rest[-5:] = False
    q[rest] *= (1.0 - q[~rest].sum()) / q[rest].sum()
    return q


def _zipf_frames(n: int, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    ref = pd.DataFrame({"x": rng.normal(size=n), "city": rng.choice(LEVELS, n, p=ZIPF)})
    cur = pd.DataFrame({"x": rng.normal(size=n), "city": rng.choice(LEVELS, n, p=_rare_shift())})
    return ref, cur


def test_rare_level_shift_moves_little_mass_but_is_above_the_psi_floor() -> None:
    q = _rare_shift()
    tv = 0.5 * np.abs(q - ZIPF).sum()
    psi = float(np.sum((q - ZIPF) * np.log(q / ZIPF)))
    assert 0.02 < tv < 0.05          # below the old total-variation floor (0.05): finding 2
    assert psi > 0.015               # above the categorical PSI floor (0.01)


@pytest.mark.parametrize("n,reps,needed", [(5_000, 20, 14), (100_000, 5, 5), (1_000_000, 2, 2)])
def test_rare_level_shift_is_seen_at_every_n(n: int, reps: int, needed: int) -> None:
    cfg = DetectionConfig(max_rows=None)
    hits = 0
    for rep in range(reps):
        ref, cur = _zipf_frames(n, 1000 + rep)
        fd = feature_drift(ref, cur, config=cfg)
        city = fd.features["city"]
        hits += bool(city.drift_detected and fd.dataset_drift and fd.ranking[0] == "city")
    assert hits >= needed, f"n={n}: {hits}/{reps}"


def test_rare_level_shift_detection_does_not_fall_as_n_grows() -> None:
    rates = []
    for n in (2_000, 20_000):
        hits = [feature_drift(*_zipf_frames(n, 77 + rep)).features["city"].drift_detected for rep in range(10)]
        rates.append(sum(hits))
    assert rates[1] >= rates[0] and rates[1] == 10


def test_categorical_no_change_at_a_million_rows_stays_quiet() -> None:
    rng = np.random.default_rng(5)
    n = 1_000_000
    ref = pd.DataFrame({"city": rng.choice(LEVELS, n, p=ZIPF)})
    cur = pd.DataFrame({"city": rng.choice(LEVELS, n, p=ZIPF)})
    assert not feature_drift(ref, cur, config=DetectionConfig(max_rows=None)).dataset_drift


def _correlation_cell(rep: int, n: int = 1000, d: int = 10) -> tuple[pd.DataFrame, pd.DataFrame, set[str]]:
    """rho 0 -> 0.8 between two random features, every marginal N(0, 1) in both windows."""
    rng = np.random.default_rng(5000 + rep)
    cols = [f"f{k}" for k in range(d)]
    ref = pd.DataFrame(rng.normal(size=(n, d)), columns=cols)
    z = rng.normal(size=(n, d))
    i, j = rng.choice(d, 2, replace=False)
    z[:, j] = 0.8 * z[:, i] + 0.6 * z[:, j]
    return ref, pd.DataFrame(z, columns=cols), {cols[i], cols[j]}


def test_correlation_only_change_is_caught_and_attributed() -> None:
    flags = named = 0
    for rep in range(30):
        ref, cur, changed = _correlation_cell(rep)
        fd = feature_drift(ref, cur)
        if fd.dataset_drift:
            flags += 1
            named += fd.ranking[0] in changed
            assert fd.ranking_basis in ("correlation", "features")
    assert flags >= 29
    assert named >= 0.9 * flags, f"a changed feature first in {named}/{flags} flags"


def test_thin_shift_over_every_feature_is_caught_by_the_mean_vector_test() -> None:
    hits = 0
    for rep in range(10):
        rng = np.random.default_rng(900 + rep)
        ref = pd.DataFrame(rng.normal(size=(1000, 30)))
        cur = pd.DataFrame(rng.normal(0.1, 1.0, size=(1000, 30)))
        ref.columns = cur.columns = [f"f{k}" for k in range(30)]
        hits += feature_drift(ref, cur).dataset_drift
    assert hits >= 9


def test_joint_alarm_without_attribution_is_marked_not_informative() -> None:
    from app.detection.base import TestResult
    from app.detection.drift import attribute

    auc = TestResult("rows", "domain_classifier", 0.7, 1e-5, 0.2, 0.05, p_adjusted=1e-5, drift_detected=True)
    assert attribute(["a", "b"], [auc]) == (["a", "b"], "not informative")


def test_feature_drift_skips_the_classifier_unless_asked_and_keeps_the_verdict() -> None:
    rng = np.random.default_rng(3)
    ref = pd.DataFrame(rng.normal(size=(800, 6)), columns=list("abcdef"))
    cur = pd.DataFrame(rng.normal(size=(800, 6)), columns=list("abcdef"))
    cur["c"] += 0.5
    lazy = feature_drift(ref, cur)
    full = feature_drift(ref, cur, config=DetectionConfig(classifier="always"))
    assert lazy.suite is not None and full.suite is not None
    assert "multivariate" not in lazy.suite.groups and "multivariate" in full.suite.groups
    assert lazy.dataset_drift and full.dataset_drift and lazy.ranking[0] == full.ranking[0] == "c"
    # BH is monotone: the extra hypothesis can only add flags, never remove one
    lazy_flags = {n for n, r in lazy.features.items() if r.drift_detected}
    full_flags = {n for n, r in full.features.items() if r.drift_detected}
    assert lazy_flags <= full_flags


def test_every_row_option_and_no_change_quiet_at_a_million_numeric_rows() -> None:
    rng = np.random.default_rng(11)
    ref = pd.DataFrame(rng.normal(size=(1_000_000, 5)), columns=list("abcde"))
    cur = pd.DataFrame(rng.normal(size=(1_000_000, 5)), columns=list("abcde"))
    cur["b"] += 0.02   # negligible: below every floor
    fd = feature_drift(ref, cur, config=DetectionConfig.model_validate({"max_rows": None}))
    assert not fd.dataset_drift
    assert fd.features["a"].n_reference == 1_000_000


def test_the_two_joint_tests_cost_one_hypothesis_in_the_inputs_family() -> None:
    """Hotelling and the correlation test are Cauchy-combined: with 5 features they make a family of 6, not 7.

    The smallest feature p-value 0.0075 sits between BH's first steps alpha/7 and alpha/6: flagged
    only when the joint pair counts once.
    """
    from app.detection.base import TestResult
    from app.detection.suite import _decide_all

    feats = [TestResult(f"f{i}", "ks", 0.3, p, 0.3, 0.05) for i, p in enumerate((0.0075, 0.4, 0.5, 0.6, 0.7))]
    joint = [TestResult("rows", "hotelling", 1.0, 0.3, 0.2, 0.1), TestResult("rows", "correlation", 1.0, 0.8, 0.2, 0.1)]
    out = _decide_all({"features": feats, "joint": joint}, 0.05, None)
    assert out["features"][0].drift_detected
    assert out["features"][0].p_adjusted == pytest.approx(0.0075 * 6)
    assert out["joint"][0].p_adjusted == out["joint"][1].p_adjusted
