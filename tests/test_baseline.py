"""Baselines: learned from samples, versioned, human-readable files, indexed in the database."""

from __future__ import annotations

import json

import numpy as np
import pytest

from app.detection.baseline import learn_baseline
from app.errors import BaselineMissingError, InputError
from app.schemas import Sample
from app.storage.baselines import load_baseline, save_baseline


def _window(n: int, seed: int = 0) -> list[Sample]:
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        p = float(rng.uniform(0.6, 1.0))
        out.append(Sample(endpoint="ep", ts=float(i), prediction=str(i % 2), confidence=p, label=str(i % 2),
                          latency_ms=float(rng.uniform(1, 5)), inputs={"a": float(rng.normal()), "c": "x" if i % 3 else "y"}))
    out.append(Sample(endpoint="ep", ts=float(n), error_kind="timeout", latency_ms=5000.0))
    return out


def test_learn_summarises_the_window() -> None:
    b = learn_baseline("ep", _window(100), protocol="generic")
    assert b.n_samples == 101
    assert len(b.confidences) == 100 and len(b.latencies_ms) == 100
    assert b.class_counts == {"0": 50, "1": 50}
    assert sum(b.correct) == 100
    assert b.features["a"].kind == "numeric" and b.features["c"].kind == "categorical"
    assert b.features["c"].categories["x"] == pytest.approx(66 / 100)
    assert b.metrics.error_rate == pytest.approx(1 / 101)
    assert b.notes["error_kinds"] == {"timeout": 1}


def test_versions_files_and_index(settings, store) -> None:  # type: ignore[no-untyped-def]
    b1 = save_baseline(settings, store, learn_baseline("ep", _window(40)))
    b2 = save_baseline(settings, store, learn_baseline("ep", _window(60, seed=1)))
    assert (b1.version, b2.version) == (1, 2)
    files = sorted(settings.baselines_dir.rglob("v*.json"))
    assert len(files) == 2
    assert json.loads(files[0].read_text())["version"] == 1          # human-readable JSON
    assert load_baseline(settings, store, "ep").version == 2          # newest is active
    assert load_baseline(settings, store, "ep", version=1).n_samples == 41
    with pytest.raises(BaselineMissingError):
        load_baseline(settings, store, "ep", version=9)


def test_missing_and_unlearnable(settings, store) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(BaselineMissingError):
        load_baseline(settings, store, "never-seen")
    with pytest.raises(InputError):
        learn_baseline("ep", [Sample(endpoint="ep", ts=0.0, error_kind="connection_error")])
