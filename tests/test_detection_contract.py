"""One contract suite over every registered detector (river-style estimator checks).

Every detector: flags nothing on identical data (nor on a fresh draw of the same distribution),
flags a seeded shift, refuses to score before ``fit``, and rejects a wrong shape with a message
naming both shapes. Data for each input kind comes from one factory below; a new detector gets
the suite for free by registering.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pytest

from app.detection import registry
from app.detection.base import Detector, NotFittedError, decide
from app.errors import InputError

N = 300
Factory = Callable[[np.random.Generator], Any]


def _numeric(cols: int) -> tuple[Factory, Factory]:
    same = lambda rng: rng.normal(10.0, 2.0, size=(N, cols))
    shifted = lambda rng: rng.normal(13.0, 4.0, size=(N, cols))  # mean +1.5 sd and spread x2
    return same, shifted


def _categorical(rng: np.random.Generator, p: list[float]) -> np.ndarray:
    return rng.choice(np.array(["a", "b", "c"], dtype=object), size=(N, 2), p=p)


def _outputs(rng: np.random.Generator, degenerate: bool) -> np.ndarray:
    if degenerate:
        return np.column_stack([np.full(N, "1", dtype=object), np.full(N, 0.9, dtype=object)])
    preds = rng.choice(np.array(["0", "1"], dtype=object), N, p=[0.4, 0.6])
    return np.column_stack([preds, rng.uniform(0.55, 1.0, N).astype(object)])


def _frame(rng: np.random.Generator, broken: bool) -> pd.DataFrame:
    df = pd.DataFrame({"x": rng.normal(0, 1, N), "y": rng.normal(5, 2, N), "z": rng.choice(["u", "v"], N)})
    if broken:
        df = df.drop(columns=["z"])
        df["x"] = np.where(rng.random(N) < 0.4, np.nan, df["x"])
        df["y"] = df["y"].astype(object)
        df.loc[: N // 3, "y"] = "n/a"
    return df


def _correlated(z: np.ndarray) -> np.ndarray:
    return np.column_stack([z[:, 0], 0.8 * z[:, 0] + 0.6 * z[:, 1], z[:, 2]])


# input kind (or detector name) -> (same-distribution factory, shifted factory)
FACTORIES: dict[str, tuple[Factory, Factory]] = {
    "numeric": _numeric(3),
    "categorical": (lambda rng: _categorical(rng, [0.5, 0.3, 0.2]), lambda rng: _categorical(rng, [0.2, 0.3, 0.5])),
    "outputs": (lambda rng: _outputs(rng, False), lambda rng: _outputs(rng, True)),
    "frame": (lambda rng: _frame(rng, False), lambda rng: _frame(rng, True)),
    # one-column detectors whose "worse" has a direction
    "accuracy_drop": (lambda rng: (rng.random((N, 1)) < 0.9).astype(float), lambda rng: (rng.random((N, 1)) < 0.6).astype(float)),
    "error_rate": (lambda rng: (rng.random((N, 1)) < 0.02).astype(float), lambda rng: (rng.random((N, 1)) < 0.3).astype(float)),
    "latency_shift": (lambda rng: rng.gamma(4.0, 5.0, (N, 1)), lambda rng: rng.gamma(4.0, 5.0, (N, 1)) + 200.0),
    # three independent columns vs the same marginals with the first two correlated (rho ~0.8)
    "correlation": (lambda rng: rng.normal(0, 1, (N, 3)), lambda rng: _correlated(rng.normal(0, 1, (N, 3)))),
    # (prediction, label) of a regressor: tracking the label (r ~0.9) vs noise-degraded (r ~0.3)
    "correlation_drop": (lambda rng: (lambda y: np.column_stack([y + rng.normal(0, 0.5, N), y]))(rng.normal(0, 1, N)),
                         lambda rng: (lambda y: np.column_stack([y + rng.normal(0, 3.0, N), y]))(rng.normal(0, 1, N))),
}


def factories(name: str) -> tuple[Factory, Factory]:
    cls = registry.get(name)
    return FACTORIES.get(name) or FACTORIES[cls.input_kind]


def flagged(det: Detector, current: Any) -> list[str]:
    return [f"{r.method}:{r.name}" for r in decide(det.score(current), 0.05) if r.drift_detected]


ALL = registry.names()


def test_registry_holds_every_issue_detector() -> None:
    wanted = {"ks", "chi2", "psi", "wasserstein", "variance", "welch", "isolation_forest", "domain_classifier",
              "data_quality", "accuracy_drop", "error_rate", "latency_shift", "silent_failure"}
    assert wanted <= set(ALL)


def test_registry_rejects_unknown_and_duplicate_names() -> None:
    with pytest.raises(InputError, match="unknown detector 'nope'"):
        registry.get("nope")

    class Clash(registry.get("ks")):  # type: ignore[misc, valid-type]
        name = "ks"

    with pytest.raises(TypeError, match="already registered"):
        registry.register(Clash)


@pytest.mark.parametrize("name", ALL)
def test_identical_data_flags_nothing(name: str) -> None:
    same, _ = factories(name)
    ref = same(np.random.default_rng(1))
    det = registry.create(name, seed=0).fit(ref)
    assert flagged(det, ref) == []


@pytest.mark.parametrize("name", ALL)
def test_fresh_draw_of_the_same_distribution_flags_nothing(name: str) -> None:
    same, _ = factories(name)
    det = registry.create(name, seed=0).fit(same(np.random.default_rng(1)))
    assert flagged(det, same(np.random.default_rng(2))) == []


@pytest.mark.parametrize("name", ALL)
def test_seeded_shift_is_flagged(name: str) -> None:
    same, shifted = factories(name)
    det = registry.create(name, seed=0).fit(same(np.random.default_rng(1)))
    assert flagged(det, shifted(np.random.default_rng(2))), f"{name} missed a large seeded shift"


@pytest.mark.parametrize("name", ALL)
def test_refuses_to_score_before_fit(name: str) -> None:
    same, _ = factories(name)
    with pytest.raises(NotFittedError, match=rf"{name}: call fit\(reference\) before score\(current\)"):
        registry.create(name).score(same(np.random.default_rng(1)))


@pytest.mark.parametrize("name", ALL)
def test_rejects_a_wrong_shape_naming_the_shapes(name: str) -> None:
    same, _ = factories(name)
    ref = same(np.random.default_rng(1))
    det = registry.create(name).fit(ref)
    if registry.get(name).same_columns:
        arr = np.asarray(ref)
        wrong = np.column_stack([arr, arr[:, :1]])
        with pytest.raises(InputError) as exc:
            det.score(wrong)
        msg = str(exc.value)
        assert str(tuple(wrong.shape)) in msg and str(tuple(arr.shape)) in msg, msg
    wrong3 = np.zeros((4, 2, 2))
    with pytest.raises(InputError, match=re.escape(str(wrong3.shape))):
        det.score(wrong3)


@pytest.mark.parametrize("name", ALL)
def test_hyper_parameters_are_validated(name: str) -> None:
    with pytest.raises(InputError, match="effect_floor"):
        registry.create(name, effect_floor=-1.0)


@pytest.mark.parametrize("name", ALL)
def test_results_are_json_safe_and_name_their_method(name: str) -> None:
    same, shifted = factories(name)
    det = registry.create(name).fit(same(np.random.default_rng(1)))
    for r in decide(det.score(shifted(np.random.default_rng(3))), 0.05):
        assert r.method.split(".")[0] == name
        d = r.to_drift().model_dump()
        assert all(not (isinstance(v, float) and not np.isfinite(v)) for v in d.values())
