"""The probe job a watcher worker runs, and the per-endpoint schedule state it reports back with."""

from __future__ import annotations

import dataclasses
import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

import requests

from app.errors import MlfiError
from app.schemas import Sample
from app.watcher.logs import log_failure
from app.watcher.stats import Totals
from app.watcher.targets import RowPicker

__all__ = ["ProbeFn", "ProbeJobs"]

ProbeFn = Callable[[Any, dict[str, Any], Any, "requests.Session | None"], Sample]


@dataclass
class _Endpoint:
    id: int
    name: str
    interval_s: float
    next_due: float
    failures: int = 0
    key: tuple[Any, ...] = ()
    target: Any = None
    pick: RowPicker | None = None
    config_error: str | None = None
    config_retry_at: float = 0.0
    future: Future[Any] | None = None
    fast: bool = False              # variable sampling interval: near or in an alarm, probed at the fast interval
    last_due: float | None = None   # the slot of the last probe started


@dataclass(frozen=True)
class _Result:
    endpoint_id: int
    name: str
    due: float
    started: float
    sample: Sample
    detected: tuple[str, str] | None = None


@dataclass
class _Cycle:
    submitted: int = 0
    skipped: int = 0
    completed: int = 0
    errors: dict[str, int] = field(default_factory=dict)


def _default_probe() -> ProbeFn:
    from app.probing import probe_once

    return probe_once


class ProbeJobs:
    """Worker side of the scheduler: one probe (protocol detection first when "auto"), one session per
    worker thread; the result is queued for the owner thread, which alone writes to the database."""

    clock: Callable[[], float]
    totals: Totals
    wake: threading.Event
    _probe: ProbeFn
    _local: threading.local
    _sessions: list[requests.Session]
    _sessions_lock: threading.Lock
    _done: queue.SimpleQueue[_Result]

    def _session(self) -> requests.Session:
        s = getattr(self._local, "session", None)
        if s is None:
            s = self._local.session = requests.Session()
            with self._sessions_lock:
                self._sessions.append(s)
        return s

    def _job(self, st_id: int, name: str, target: Any, row: dict[str, Any], label: Any, due: float) -> None:
        started = self.clock()
        self.totals.record_start(started - due)
        detected = None
        try:
            if target.protocol == "auto":
                from app.probing import detect_protocol

                protocol, url = detect_protocol(target.url, target.headers, row, target.timeout_s,
                                                model_name=target.model_name)
                target = dataclasses.replace(target, protocol=protocol, url=url)
                detected = (protocol, url)
            sample = self._probe(target, row, label, self._session())
        except MlfiError as exc:   # detection found no protocol / endpoint unreachable (keep its fault kind)
            sample = Sample(endpoint=name, ts=time.time(), inputs=row, label=None if label is None else str(label),
                            error_kind=getattr(exc, "kind", None) or "protocol_error",
                            error_detail=str(exc).splitlines()[0][:200])
        except Exception as exc:  # noqa: BLE001 - a bug, not an endpoint fault: logged, recorded as data
            log_failure(f"probe of {name} failed inside mlfi", exc)
            sample = Sample(endpoint=name, ts=time.time(), inputs=row, label=None if label is None else str(label),
                            error_kind="protocol_error", error_detail=f"internal error: {type(exc).__name__}")
        self._done.put(_Result(st_id, name, due, started, sample, detected))
        self.wake.set()
