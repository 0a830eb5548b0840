"""Watcher analysis: cadence, automatic first baseline, hand-off to detection and governance, guards."""

from __future__ import annotations

import random
import sys
import time
from pathlib import Path
from typing import Any

import pytest

import app.analysis.window
import app.governance
from app.config import Settings
from app.detection.metrics import compute_metrics
from app.schemas import Report, Sample
from app.storage import Endpoint, Store
from app.watcher.analysis import Analyzer
from app.watcher.loop import run_once


@pytest.fixture
def wsettings(tmp_path: Path) -> Settings:
    s = Settings(home=tmp_path / "w", window_size=40, analysis_every_s=30.0, _env_file=None)  # type: ignore[call-arg]
    s.ensure_dirs()
    return s


@pytest.fixture
def wstore(wsettings: Settings) -> Any:
    st = Store.from_settings(wsettings)
    yield st
    st.dispose()


def _samples(name: str, n: int, *, t0: float = 0.0, errors: int = 0, seed: int = 0,
             source: str = "probe") -> list[Sample]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        x = rng.gauss(0, 1)
        if i < errors:
            out.append(Sample(endpoint=name, ts=t0 + i, source=source, inputs={"x": x}, error_kind="timeout",
                              latency_ms=5000.0))
            continue
        pred = str(int(x > 0))
        out.append(Sample(endpoint=name, ts=t0 + i, source=source, inputs={"x": x}, prediction=pred,
                          confidence=0.75 + 0.2 * rng.random(), label=pred if rng.random() < 0.9 else str(1 - int(pred)),
                          latency_ms=3 + rng.random()))
    return out


def _ep(store: Store, name: str) -> Endpoint:
    return store.get_endpoint(name)


def test_first_baseline_is_learned_once_a_window_is_full(wsettings: Settings, wstore: Store) -> None:
    wstore.upsert_endpoint("e", url="http://x/e", protocol="generic")
    an = Analyzer(wsettings, wstore)
    assert an.job.analyze(_ep(wstore, "e")).action == "waiting"            # no samples
    wstore.add_samples(_samples("e", 39))
    assert an.job.analyze(_ep(wstore, "e")).action == "waiting"            # 39 / 40
    wstore.add_samples(_samples("e", 1, t0=100.0, seed=1))
    out = an.job.analyze(_ep(wstore, "e"))
    assert out.action == "baseline_learned" and out.detail == "v1"
    from app.storage.baselines import load_baseline

    b = load_baseline(wsettings, wstore, "e")
    assert b.n_samples == 40 and b.protocol == "generic" and "x" in b.features
    assert an.job.analyze(_ep(wstore, "e")).action == "no_new_samples"    # same window: nothing to do


def test_no_baseline_from_a_failing_window(wsettings: Settings, wstore: Store) -> None:
    wstore.add_samples(_samples("bad", 40, errors=20))
    out = Analyzer(wsettings, wstore).job.analyze(_ep(wstore, "bad"))
    assert out.action == "not_learnable" and wstore.baseline_versions("bad") == []


def _fake_detection(monkeypatch: pytest.MonkeyPatch, calls: dict[str, Any]) -> None:
    def analyze_window(baseline: Any, samples: list[Sample], *, settings: Settings,
                       sensitivity: dict[str, float] | None = None) -> Report:
        calls["window"] = samples
        calls["sensitivity"] = sensitivity
        return Report(endpoint=baseline.endpoint, metrics=compute_metrics(samples),
                      samples_collected=len(samples), created_at=samples[-1].ts)

    def on_report(store: Store, report: Report, settings: Settings, *, persist: bool = True) -> Report:
        calls["on_report"] = calls.get("on_report", 0) + 1
        store.save_report(report)
        return report

    monkeypatch.setattr(app.analysis.window, "analyze_window", analyze_window)
    monkeypatch.setattr(app.governance, "on_report", on_report)
    monkeypatch.setattr(app.governance, "sensitivity_for", lambda store, name: {"ks": 1.5})


def test_window_goes_to_detection_then_governance(wsettings: Settings, wstore: Store,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    calls: dict[str, Any] = {}
    _fake_detection(monkeypatch, calls)
    wstore.add_samples(_samples("e", 40))
    an = Analyzer(wsettings, wstore)
    assert an.job.analyze(_ep(wstore, "e")).action == "baseline_learned"
    wstore.add_samples(_samples("e", 25, t0=1000.0, seed=2))
    out = an.job.analyze(_ep(wstore, "e"))
    assert out.action == "report" and calls["on_report"] == 1
    window = calls["window"]
    assert len(window) == 40 and window[-1].ts == 1024.0 and window[0].ts == 25.0   # the newest 40, oldest first
    assert calls["sensitivity"] == {"ks": 1.5}
    assert wstore.latest_report("e") is not None


def test_cadence_follows_analysis_every_s(wsettings: Settings, wstore: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: dict[str, Any] = {}
    _fake_detection(monkeypatch, calls)
    wstore.upsert_endpoint("e", url="http://x/e")
    eps = wstore.list_endpoints()
    t = {"now": 0.0}
    an = Analyzer(wsettings, wstore, clock=lambda: t["now"])
    ran = []
    for now in (0.0, 10.0, 29.0, 30.0, 45.0, 60.0):
        t["now"] = now
        if an.run_due(eps):
            ran.append(now)
    assert ran == [0.0, 30.0, 60.0]


def test_ingested_endpoint_is_analysed_not_probed(wsettings: Settings, wstore: Store,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    calls: dict[str, Any] = {}
    _fake_detection(monkeypatch, calls)
    wstore.upsert_endpoint("logs", protocol="ingest")
    wstore.add_samples(_samples("logs", 40, source="ingest"))
    probed: list[str] = []

    def probe(target: Any, row: Any, label: Any, session: Any) -> Sample:
        probed.append(target.name)
        raise AssertionError("an ingested endpoint must not be probed")

    st = run_once(wsettings, wstore, probe_fn=probe)
    assert probed == [] and st.baselines_learned == 1
    wstore.add_samples(_samples("logs", 5, t0=500.0, source="ingest"))
    an = Analyzer(wsettings, wstore, clock=lambda: 1e12)   # far future: due again
    assert [o.action for o in an.run_due(wstore.list_endpoints())] == ["report"]


def test_a_broken_analysis_import_fails_the_pass_loudly(wsettings: Settings, wstore: Store,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    wstore.add_samples(_samples("e", 40))
    an = Analyzer(wsettings, wstore)
    assert an.job.analyze(_ep(wstore, "e")).action == "baseline_learned"
    monkeypatch.setitem(sys.modules, "app.analysis.window", None)     # import now fails
    wstore.add_samples(_samples("e", 1, t0=100.0))
    with pytest.raises(ImportError):
        an.job.analyze(_ep(wstore, "e"))
    assert [o.action for o in an.job.run_all([_ep(wstore, "e")])] == ["failed"]   # logged, other endpoints go on


def test_background_pass_never_blocks_the_caller(wsettings: Settings, wstore: Store,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    import threading

    gate = threading.Event()
    calls: dict[str, Any] = {}
    _fake_detection(monkeypatch, calls)
    real_learn = __import__("app.detection.baseline", fromlist=["learn_baseline"]).learn_baseline

    def slow_learn(*a: Any, **k: Any) -> Any:
        gate.wait(5)
        return real_learn(*a, **k)

    monkeypatch.setattr("app.detection.baseline.learn_baseline", slow_learn)
    wstore.add_samples(_samples("e", 40))
    an = Analyzer(wsettings, wstore, background="thread")
    assert an.wait_idle(30)                                        # start-up warm-up (imports) done
    assert an.run_due(wstore.list_endpoints(), 0.0) == []        # submitted, returns at once
    assert an.run_due(wstore.list_endpoints(), 100.0) == []      # previous pass still running: not resubmitted
    gate.set()
    an.close()
    assert len(wstore.baseline_versions("e")) == 1
    assert an.totals.snapshot()["baselines_learned"] == 1


@pytest.mark.integration
def test_process_mode_runs_passes_in_a_separate_process(wsettings: Settings, wstore: Store) -> None:
    import multiprocessing
    import os

    wstore.upsert_endpoint("e", url="http://x/e", protocol="generic", headers={"Authorization": "Bearer x"})
    wstore.add_samples(_samples("e", 40))
    an = Analyzer(wsettings, wstore, background="process")
    try:
        assert an.wait_idle(120)                                   # the process started and imported
        children = multiprocessing.active_children()
        assert len(children) == 1 and children[0].pid != os.getpid()
        assert an.run_due(wstore.list_endpoints(), 0.0) == []
        assert an.wait_idle(60)
        deadline = time.time() + 20                                # the done-callback runs right after the
        while an.totals.snapshot()["baselines_learned"] < 1 and time.time() < deadline:  # result (slow when
            time.sleep(0.05)                                       # the machine is loaded)
        assert an.totals.snapshot()["baselines_learned"] == 1
        assert len(wstore.baseline_versions("e")) == 1
    finally:
        an.close()
    assert multiprocessing.active_children() == []
