"""Issue 14 item 17: the watcher's analysis process is started with only the environment it needs."""

from __future__ import annotations

import os
from concurrent.futures import Future, ProcessPoolExecutor
from multiprocessing import get_context

from app.watcher import analysis
from app.watcher.child_env import analysis_environ, only_environ


def test_the_analysis_pool_is_started_without_the_callers_secrets(settings, store, monkeypatch):
    seen: dict[str, str] = {}

    class FakePool:
        def __init__(self, *a, **k) -> None:
            pass

        def submit(self, fn, *a):        # where a real pool spawns its process, with os.environ as it is now
            seen.update(os.environ)
            f: Future = Future()
            f.set_result([])
            return f

        def shutdown(self, *a, **k) -> None:
            pass

    monkeypatch.setattr(analysis, "ProcessPoolExecutor", FakePool)
    monkeypatch.setenv("MLFI_AUDIT_KEY", "audit-secret")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "cloud-secret")
    analysis.Analyzer(settings, store, background="process")
    assert "PATH" in seen and "MLFI_AUDIT_KEY" not in seen and "AWS_SECRET_ACCESS_KEY" not in seen
    assert os.environ["MLFI_AUDIT_KEY"] == "audit-secret"          # the watcher's own environment is restored


def test_a_spawned_child_really_gets_the_reduced_environment(monkeypatch):
    monkeypatch.setenv("SOME_TOKEN", "t0k3n")
    with ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn")) as pool:
        with only_environ(analysis_environ(os.environ)):
            fut = pool.submit(os.getenv, "SOME_TOKEN")
        assert fut.result(timeout=120) is None
        assert pool.submit(os.getenv, "PATH").result(timeout=120)
    assert os.environ["SOME_TOKEN"] == "t0k3n"
