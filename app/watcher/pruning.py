"""The watcher's pruning worker: a thread that rolls raw samples up into per-minute aggregates and enforces
``MLFI_RAW_RETENTION`` / ``MLFI_AGGREGATE_RETENTION``.

It has its own database engine and works in small transactions (see :mod:`app.storage.retention`), so
the probing threads never wait on it and the loop's batch writes wait at most one small transaction.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from loguru import logger

from app.config import Settings
from app.errors import MlfiError
from app.storage import Store
from app.storage.errors import DatabaseError
from app.storage.retention import PruneResult, last_pass, prune_pass, pruner_lock, save_last_pass
from app.storage.retention_policy import Retention, effective, recorded, save_policy, shortened
from app.watcher.logs import log_failure

__all__ = ["FIRST_PASS_AFTER_S", "PRUNE_EVERY_S", "Pruner", "configured_retention", "raw_retention_in_force",
           "retention_to_apply", "run_pruning_pass"]

PRUNE_EVERY_S = 60.0        # a pass every minute: each deletes about a minute of rows per endpoint
FIRST_PASS_AFTER_S = 10.0   # the first pass waits for the watcher's start-up work


def raw_retention_in_force(settings: Settings) -> float | None:
    """Seconds raw samples are kept; None (forever) only with ``MLFI_STORE_INPUTS=all`` and no explicit retention."""
    if settings.store_inputs == "all" and settings.raw_retention is None:
        return None
    return settings.raw_retention_s


def configured_retention(settings: Settings) -> Retention:
    """The retention the settings ask for (``MLFI_RAW_RETENTION`` / ``MLFI_AGGREGATE_RETENTION``)."""
    return Retention(raw_retention_in_force(settings), settings.aggregate_retention_s)


def retention_to_apply(settings: Settings, store: Store) -> tuple[Retention, list[str]]:
    """What a pass applies (a shortening waits for its confirmation) and the names of pending shortenings;
    records the configured retention when nothing is shortened (the first pass, or a longer one)."""
    want, old = configured_retention(settings), recorded(store.engine)
    use = effective(old, want)
    if use != old:
        save_policy(store.engine, use)
    return use, sorted(shortened(old, want))


def run_pruning_pass(settings: Settings, store: Store, now: float | None = None) -> PruneResult | None:
    """One pass (what the worker runs and tests call): roll up, prune, vacuum, record the outcome.

    Returns None when another watcher's pruner holds the lock (PostgreSQL): one pass at a time."""
    now = time.time() if now is None else now
    with pruner_lock(store.engine) as mine:
        if not mine:
            logger.debug("retention pass skipped: another watcher is pruning")
            return None
        use, pending = retention_to_apply(settings, store)
        res = prune_pass(store.engine, now, raw_retention_s=use.raw_s, aggregate_retention_s=use.aggregate_s)
        before = last_pass(store.engine) or {}
        save_last_pass(store.engine, {"at": now, **res.as_dict(), "pending": pending})
    if pending and before.get("pending") != pending:
        logger.warning(f"retention not shortened yet ({', '.join(pending)}): the longer recorded value is kept "
                       "until `mlfi storage retention --yes` confirms it")
    if res.raw_deleted or res.aggregates_deleted:
        logger.info(f"retention: {res.raw_deleted} raw samples and {res.aggregates_deleted} aggregates deleted, "
                    f"{res.minutes_rolled_up} minutes rolled up, {res.pages_freed} pages freed "
                    f"in {res.duration_s:.2f} s")
    return res


class Pruner:
    """Runs :func:`run_pruning_pass` every ``every_s`` on a daemon thread until ``stop`` or :meth:`close`."""

    def __init__(self, settings: Settings, stop: threading.Event | None = None, *, every_s: float = PRUNE_EVERY_S,
                 first_after_s: float = FIRST_PASS_AFTER_S, store_factory: Callable[[], Store] | None = None) -> None:
        self.settings, self.every_s, self.first_after_s = settings, every_s, first_after_s
        self._stop = stop or threading.Event()
        self._closed = threading.Event()
        self._factory = store_factory or (lambda: Store.from_settings(settings))
        self.passes = 0
        self._thread = threading.Thread(target=self._run, name="mlfi-pruning", daemon=True)

    @classmethod
    def start(cls, settings: Settings, stop: threading.Event | None = None) -> Pruner:
        p = cls(settings, stop)
        p._thread.start()
        return p

    def _stopped(self, wait_s: float) -> bool:
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline:
            if self._stop.is_set() or self._closed.is_set():
                return True
            self._closed.wait(min(0.5, max(0.0, deadline - time.monotonic())))
        return self._stop.is_set() or self._closed.is_set()

    def _run(self) -> None:
        store: Store | None = None
        try:
            if self._stopped(self.first_after_s):
                return
            store = self._factory()
            while True:
                try:
                    if run_pruning_pass(self.settings, store) is not None:
                        self.passes += 1
                except (DatabaseError, MlfiError) as exc:
                    logger.warning(f"retention pass failed (retried next minute): {type(exc).__name__}: "
                                   f"{str(exc).splitlines()[0][:160] if str(exc) else ''}")
                except Exception as exc:  # noqa: BLE001 - a bug must not end retention silently: logged, retried
                    log_failure("retention pass failed inside mlfi", exc)
                if self._stopped(self.every_s):
                    return
        finally:
            if store is not None:
                store.dispose()

    def close(self, timeout_s: float = 10.0) -> None:
        """Stop after the current transaction and wait for the thread (bounded)."""
        self._closed.set()
        if self._thread.is_alive():
            self._thread.join(timeout=timeout_s)
