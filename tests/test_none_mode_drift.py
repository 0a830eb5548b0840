"""Issue 17: with MLFI_STORE_INPUTS=none the watcher still tests input drift, on the in-memory window of inputs
handed to the analysis (inline, thread and process mode), and no feature value reaches the database files."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest

from app.config import Settings
from app.schemas import Sample
from app.storage import Store
from app.storage.baselines import load_baseline
from app.watcher.analysis import Analyzer
from app.watcher.input_window import InputWindow

W = 60


@pytest.fixture
def nsettings(tmp_path: Path) -> Settings:
    s = Settings(home=tmp_path / "n", window_size=W, analysis_every_s=30.0, store_inputs="none",  # type: ignore[call-arg]
                 _env_file=None)
    s.ensure_dirs()
    return s


@pytest.fixture
def nstore(nsettings: Settings) -> Any:
    st = Store.from_settings(nsettings)
    yield st
    st.dispose()


def _batch(n: int, t0: float, shift: float, sentinels: list[str], seed: int) -> list[tuple[int, Sample]]:
    """``n`` samples whose feature values are unique sentinels (a 1e-10 offset no other number carries)."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        x = round(rng.gauss(shift, 1.0), 4) + (len(sentinels) + 1) * 1e-9 + 3e-10
        sentinels.append(repr(x))
        out.append((1, Sample(endpoint="e", ts=t0 + i, inputs={"x": x}, prediction=str(int(rng.random() < 0.5)),
                              confidence=0.8, latency_ms=3.0)))
    return out


def _feed(store: Store, window: InputWindow, batch: list[tuple[int, Sample]]) -> None:
    """What the scheduler does after a committed batch: the rows to the database, the inputs to memory."""
    store.add_samples([s for _, s in batch])
    window.add(batch)


def _db_hits(home: Path, sentinels: list[str]) -> set[str]:
    found: set[str] = set()
    for p in home.rglob("*"):
        if p.is_file() and "baselines" not in p.parts:
            data = p.read_bytes()
            found |= {s for s in sentinels if s.encode() in data}
    return found


def _flow(settings: Settings, store: Store, background: str | None) -> None:
    store.upsert_endpoint("e", url="http://x/e", protocol="generic")
    sentinels: list[str] = []
    window = InputWindow(W)
    an = Analyzer(settings, store, background=background)
    an.inputs = window
    try:
        assert an.wait_idle(120)
        _feed(store, window, _batch(W, 0.0, 0.0, sentinels, seed=1))
        an.run_due(store.list_endpoints(), 100.0)
        assert an.wait_idle(120)
        base = load_baseline(settings, store, "e")
        assert "x" in base.features and base.feature_rows == [], "no input feature in the (sketched) baseline"
        _feed(store, window, _batch(W, 1000.0, 3.0, sentinels, seed=2))      # every input shifted by 3 sd
        an.run_due(store.list_endpoints(), 200.0)
        assert an.wait_idle(120)
    finally:
        an.close()
    rep = store.latest_report("e")
    assert rep is not None
    feats = rep.drift.get("features") or {}
    assert "x" in feats and feats["x"]["drift_detected"], f"input drift missed in none mode: {feats}"
    assert store.recent_samples("e", last_n=5)[0].inputs is None
    assert _db_hits(settings.home, sentinels) == set(), "a feature value reached the database, WAL or logs"


@pytest.mark.parametrize("background", [None, "thread"])
def test_none_mode_finds_input_drift_on_the_in_memory_window(nsettings: Settings, nstore: Store,
                                                               background: str | None) -> None:
    _flow(nsettings, nstore, background)


@pytest.mark.integration       # a real spawned analysis process (its imports take seconds), as in test_watcher_analysis
def test_none_mode_process_analysis_gets_the_inputs_through_its_pipe(nsettings: Settings, nstore: Store) -> None:
    _flow(nsettings, nstore, "process")


def test_process_mode_sends_the_inputs_as_pickled_task_arguments(nsettings: Settings, nstore: Store,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """What the process pool does with a task, without spawning: the call and its arguments are pickled into
    the pool's call queue (a pipe) and unpickled by the worker, which runs ``run_in_process``."""
    import pickle
    from concurrent.futures import Future

    import app.watcher.analysis_job as aj

    sent: list[tuple[Any, tuple[Any, ...]]] = []

    class PipePool:
        def submit(self, fn: Any, *args: Any) -> Future[Any]:
            fn2, args2 = pickle.loads(pickle.dumps((fn, args)))
            sent.append((fn2, args2))
            fut: Future[Any] = Future()
            fut.set_result(fn2(*args2))
            return fut

        def shutdown(self, **_: Any) -> None:
            pass

    monkeypatch.setattr(aj, "_PROCESS_JOB", [aj.AnalysisJob(nsettings, nstore)])
    monkeypatch.setattr(Analyzer, "_start_pool", lambda self: setattr(self, "_pool", PipePool()))
    _flow(nsettings, nstore, "process")
    assert [fn for fn, _ in sent] == [aj.run_in_process, aj.run_in_process]
    assert all(len(args[3][1]) == W for _, args in sent)          # each pass got the endpoint's window of inputs


def test_window_is_bounded_and_drops_endpoints_no_longer_watched() -> None:
    w = InputWindow(3)
    w.add([(e, Sample(endpoint="e", ts=float(i), inputs={"x": i})) for i in range(10) for e in (1, 2)])
    assert len(w) == 6 and list(w.snapshot([1])[1]) == [7.0, 8.0, 9.0]
    w.forget({2})
    assert w.snapshot([1, 2]).keys() == {2}


def test_scheduler_keeps_inputs_in_memory_only_in_none_mode(nsettings: Settings, nstore: Store,
                                                            settings: Settings, store: Store) -> None:
    from app.watcher.scheduler import Scheduler

    a, b = Scheduler(nsettings, nstore), Scheduler(settings, store)
    try:
        assert a.inputs is not None and a.inputs.size == W and b.inputs is None
    finally:
        a.close()
        b.close()
