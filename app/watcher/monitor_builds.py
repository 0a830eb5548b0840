"""Sequential monitors built off the watcher's owner thread: one daemon builder thread, results collected by the owner.

Building a :class:`~app.detection.sequential.SequentialMonitor` costs 0.3-0.5 s of CPU (simulated and
bootstrapped thresholds). Built inline, a watcher starting with 30 endpoints that have baselines stalls its
owner thread (probe writes, leases, heartbeats) for seconds at a time. Here the owner only submits a
:class:`~app.detection.sequential.MonitorBaseline` with a token and, on its next pass, collects the monitors
that are ready; :class:`~app.watcher.sequential.SequentialWatch` queues the endpoint's samples meanwhile.

Modes: ``"thread"`` (the live watcher) builds on one daemon thread, in submission order; ``"inline"`` builds
at submission, on the caller's thread (``run_once``, tests and benches on a simulated clock: the result is
ready before :meth:`MonitorBuilds.submit` returns, exactly the behaviour before the builder existed).
One thread, not a pool: the build is mostly Python holding the GIL, so a second builder would only take
turns with the first (and with the owner). Closing never waits for a build in progress: the thread is a
daemon and its result is dropped.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass

from app.detection.sequential import MonitorBaseline, SequentialMonitor

__all__ = ["BUILD_MODES", "Built", "MonitorBuilds"]

BUILD_MODES = ("inline", "thread")

Build = Callable[[MonitorBaseline, float], SequentialMonitor]


def _build(baseline: MonitorBaseline, false_alarm_every: float) -> SequentialMonitor:
    return SequentialMonitor(baseline, false_alarm_every=false_alarm_every)


@dataclass(frozen=True)
class Built:
    """A finished build: the monitor, or the exception that stopped it (``token`` says which request)."""

    endpoint_id: int
    token: int
    monitor: SequentialMonitor | None
    error: BaseException | None = None


class MonitorBuilds:
    """Submit monitor builds (owner thread), take the finished ones (owner thread) in submission order.

    Parameters
    ----------
    mode : ``"thread"`` (one daemon builder thread) or ``"inline"`` (built at submission).
    build : ``(baseline, false_alarm_every) -> monitor``; tests inject a slow one.
    """

    def __init__(self, mode: str = "inline", *, build: Build = _build) -> None:
        if mode not in BUILD_MODES:
            raise ValueError(f"unknown monitor build mode {mode!r}: choose one of {', '.join(BUILD_MODES)}")
        self.mode, self._build = mode, build
        self._todo: queue.SimpleQueue[tuple[int, int, MonitorBaseline, float] | None] = queue.SimpleQueue()
        self._done: queue.SimpleQueue[Built] = queue.SimpleQueue()
        self._closed = threading.Event()
        self._thread: threading.Thread | None = None
        self.submitted = self.finished = 0

    def submit(self, endpoint_id: int, token: int, baseline: MonitorBaseline, false_alarm_every: float) -> None:
        """Ask for a monitor; :meth:`take` hands it out with the same ``token`` once built."""
        if self._closed.is_set():
            return
        self.submitted += 1
        if self.mode == "inline":
            self._done.put(self._run(endpoint_id, token, baseline, false_alarm_every))
            return
        if self._thread is None:
            self._thread = threading.Thread(target=self._serve, name="mlfi-monitor-build", daemon=True)
            self._thread.start()
        self._todo.put((endpoint_id, token, baseline, false_alarm_every))

    def take(self) -> list[Built]:
        """The builds finished since the last call (never blocks)."""
        out: list[Built] = []
        while True:
            try:
                out.append(self._done.get_nowait())
            except queue.Empty:
                self.finished += len(out)
                return out

    @property
    def busy(self) -> bool:
        """Builds submitted and not yet taken (both counters are the owner's: no lock)."""
        return self.finished < self.submitted

    def close(self) -> None:
        """Stop taking work. A build in progress is not waited for (daemon thread); its result is dropped."""
        self._closed.set()
        self._todo.put(None)

    def _run(self, endpoint_id: int, token: int, baseline: MonitorBaseline, every: float) -> Built:
        try:
            return Built(endpoint_id, token, self._build(baseline, every))
        except Exception as exc:  # noqa: BLE001 - handed to the owner thread, which logs it and retries later
            return Built(endpoint_id, token, None, exc)

    def _serve(self) -> None:
        while not self._closed.is_set():
            job = self._todo.get()
            if job is None or self._closed.is_set():
                return
            built = self._run(*job)
            if not self._closed.is_set():
                self._done.put(built)
