"""Issue 14 item 5: a baseline needs a stated minimum of samples; below it, one line saying why (exit 2), and
the watcher neither learns nor analyses with a too-small baseline, nor logs a traceback for it."""

from __future__ import annotations

import pytest

from app.detection.baseline import MIN_BASELINE_SAMPLES, learn_baseline
from app.errors import InputError
from app.schemas import Sample


def _window(n: int, name: str = "ep") -> list[Sample]:
    return [Sample(endpoint=name, ts=float(i), prediction=str(i % 2), confidence=0.8, label=str(i % 2),
                   latency_ms=2.0, inputs={"a": float(i), "c": "xy"[i % 2]}) for i in range(n)]


def test_learning_refuses_fewer_than_the_minimum_with_the_reason() -> None:
    learn_baseline("ep", _window(MIN_BASELINE_SAMPLES))
    with pytest.raises(InputError, match=rf"at least {MIN_BASELINE_SAMPLES} successful samples, got 1: the drift"):
        learn_baseline("ep", _window(1))


def test_cli_baseline_with_one_sample_is_refused_before_probing(mlfi_env, capsys) -> None:
    from app.cli import main

    with pytest.raises(SystemExit) as exc:
        main(["baseline", "http://127.0.0.1:9/p", "--samples", "1"])
    err = capsys.readouterr().err.strip().splitlines()
    assert exc.value.code == 2 and len(err) == 1 and f"at least {MIN_BASELINE_SAMPLES} probes" in err[0], err
    assert not (mlfi_env / "data" / "mlfi.db").exists() or "connection" not in err[0]


def test_analysis_with_a_stored_one_sample_baseline_is_one_line() -> None:
    from app.analysis.window import analyze_window

    b = learn_baseline("ep", _window(MIN_BASELINE_SAMPLES)).model_copy(update={"n_samples": 1})
    b = b.model_copy(update={"metrics": b.metrics.model_copy(update={"total_samples": 1})})
    with pytest.raises(InputError, match="too small"):
        analyze_window(b, _window(30))


def test_watcher_never_learns_from_a_small_window_and_never_raises(settings, store) -> None:
    from loguru import logger

    from app.storage.baselines import save_baseline
    from app.watcher.analysis_job import AnalysisJob

    small = settings.model_copy(update={"window_size": 3})
    store.upsert_endpoint("e", url="http://x/e", protocol="generic")
    store.add_samples(_window(3, "e"))
    messages: list[str] = []
    sink = logger.add(lambda m: messages.append(str(m)), level="WARNING")
    try:
        job = AnalysisJob(small, store)
        out = job.analyze(store.get_endpoint("e"))
        assert out.action == "not_learnable" and "MLFI_WINDOW_SIZE, is 3" in out.detail
        # a stored baseline from before the minimum existed: skipped with one warning, no exception
        b = learn_baseline("e", _window(MIN_BASELINE_SAMPLES, "e"))
        b = b.model_copy(update={"n_samples": 1, "metrics": b.metrics.model_copy(update={"total_samples": 1})})
        save_baseline(settings, store, b)
        store.add_samples(_window(40, "e")[3:])
        job = AnalysisJob(settings, store)
        for _ in range(2):          # every pass: skipped, warned once
            store.add_samples([s.model_copy(update={"ts": s.ts + 100 + _}) for s in _window(1, "e")])
            out = job.analyze(store.get_endpoint("e"))
            assert out.action == "not_learnable" and "got 1" in out.detail
    finally:
        logger.remove(sink)
    assert len(messages) == 2 and not any("Traceback" in m for m in messages)
