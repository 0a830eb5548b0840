"""This watcher's share of the endpoints: its row in ``watchers`` and, on PostgreSQL, its leases.

`LeaseKeeper.tick` runs with the heartbeat: it renews the leases still held, counts the live
watchers, then sheds or claims so that each holds about ceil(N / W) endpoints. Leases that were taken
over (this process was paused past its TTL) are dropped from the schedule; their pending writes are
refused by the fence check in the writing transaction. On SQLite there is one watcher: it holds every
endpoint and writes without a fence.
"""

from __future__ import annotations

import math
import os
import socket
import threading
import time
from collections.abc import Callable

from loguru import logger

from app.config import Settings
from app.storage import Store
from app.storage import leases as L
from app.storage.errors import DatabaseError

__all__ = ["LeaseKeeper", "fair_share"]


def fair_share(endpoints: int, watchers: int) -> int:
    """How many endpoints one of ``watchers`` live watchers should hold.

    >>> fair_share(60, 3), fair_share(61, 3), fair_share(5, 0), fair_share(0, 2)
    (20, 21, 5, 0)
    """
    return math.ceil(endpoints / max(1, watchers))


class LeaseKeeper:
    """Registers this watcher and keeps its leases (``leasing`` is False on SQLite: everything is held)."""

    def __init__(self, settings: Settings, store: Store, *, started_at: float | None = None) -> None:
        self.settings, self.store = settings, store
        self.ttl_s = float(settings.lease_ttl_s)
        self.leasing = L.supports_leases(store.engine)
        self.pid, self.host = os.getpid(), socket.gethostname()
        self.id = L.register_watcher(store.engine, host=self.host, pid=self.pid,
                                     started_at=started_at or time.time())
        self.held: dict[int, int] = {}        # endpoint id -> fence of our claim
        self._fences: dict[int, int] = {}     # every fence we ever held (a late write carries the old one)
        self.lost = 0                         # leases found taken over at renewal
        # time.monotonic() before which the held leases are surely unexpired: set from the moment a renewal
        # or claim started (the database's expiry is later); a watcher paused past it probes nothing until
        # its lease thread renewed (or learned what it lost), so it does not probe what another now holds
        self._valid_until = 0.0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()         # one tick at a time (the thread's, or the caller's)
        self.wake: threading.Event | None = None   # set after a claim (the scheduler's: refresh and probe now)
        self.claimed = threading.Event()      # a claim since the probe loop last refreshed its schedule
        self._shed: list[int] = []            # leases no longer probed, given back at the next tick
        self.expiry_in: float | None = None   # seconds until another watcher's first lease expires (at read)
        self._expiry_read = 0.0

    def holds(self, endpoint_id: int) -> bool:
        return not self.leasing or endpoint_id in self.current()

    def current(self) -> dict[int, int]:
        """The leases held now (endpoint id -> fence); none while their last renewal is older than the TTL."""
        return self.held if time.monotonic() < self._valid_until else {}

    def fence_check(self) -> L.FenceCheck | None:
        """What the next sample write must carry (None on SQLite)."""
        return L.FenceCheck(self.id, dict(self._fences)) if self.leasing else None

    def start(self, every_s: float, rate: Callable[[], float | None] | None = None) -> None:
        """Renew and rebalance every ``every_s`` on a thread of its own: a busy probe loop (or a slow cycle)
        never lets the leases lapse. ``rate`` gives the probes per minute shown in ``watchers``."""
        def run() -> None:
            while not self._stop.wait(self._wait_s(every_s)):
                self.tick(probes_per_minute=rate() if rate is not None else None)

        self._thread = threading.Thread(target=run, daemon=True, name="mlfi-leases")
        self._thread.start()

    def _wait_s(self, every_s: float) -> float:
        """Until the next tick: the heartbeat period, or less when another watcher's lease expires sooner
        (it stopped renewing: it is taken over right after its expiry, not up to a heartbeat later)."""
        if self.expiry_in is None:
            return every_s
        return min(every_s, max(0.02, self.expiry_in - (time.monotonic() - self._expiry_read) + 0.02))

    def tick(self, *, probes_per_minute: float | None = None) -> None:
        """Renew, count peers, rebalance; then write this watcher's heartbeat row. Errors are logged."""
        try:
            with self._lock:
                if self.leasing:
                    self._rebalance()
            L.beat_watcher(self.store.engine, self.id, status="running", held=len(self.held) if self.leasing
                           else L.enabled_endpoint_count(self.store.engine), probes_per_minute=probes_per_minute)
        except DatabaseError as exc:
            logger.warning(f"leases not renewed: {type(exc).__name__}: {str(exc).splitlines()[0][:120]}")

    def _rebalance(self) -> None:
        eng = self.store.engine
        began = time.monotonic()
        kept = L.renew(eng, self.id, self.held, self.ttl_s)
        self._valid_until = began + self.ttl_s
        gone = set(self.held) - set(kept)
        if gone:
            self.lost += len(gone)
            logger.warning(f"{len(gone)} endpoint leases were taken over by other watchers; dropping them")
        self.held = kept          # replaced, never mutated: the probe loop reads it from another thread
        if self._shed:            # not probed since the last tick: their last samples are written by now
            n = L.release(eng, self.id, self._shed)
            self._shed = []
            logger.info(f"released {n} endpoint leases to other watchers")
        endpoints, live, lapsed = L.share_counts(eng, self.ttl_s)   # the heartbeat row is written after (tick)
        target = fair_share(endpoints, live)
        if lapsed:       # a dead (or paused) watcher's leases: whoever sees them first takes them all at once;
            got = L.claim(eng, self.id, lapsed, self.ttl_s)     # the fair share is restored at the next ticks
            if got:
                logger.info(f"took over {len(got)} expired endpoint leases")
                self._took(kept, got)
                kept = self.held
        if len(kept) > target:
            # stop probing them now, give them back at the next tick: released now, the write of a probe
            # still in flight would be refused, and the next holder would not see it and probe that slot again
            self._shed = sorted(kept)[target:]
            gone_now = set(self._shed)
            self.held = {e: f for e, f in kept.items() if e not in gone_now}
            logger.info(f"releasing {len(self._shed)} endpoint leases to other watchers (share {target})")
        elif len(kept) < target:
            got = L.claim(eng, self.id, target - len(kept), self.ttl_s)
            if got:
                self._took(kept, got)
                logger.info(f"claimed {len(got)} endpoint leases (holding {len(self.held)}, share {target})")
        self.expiry_in, self._expiry_read = L.next_expiry_in(eng, self.id), time.monotonic()

    def _took(self, kept: dict[int, int], got: dict[int, int]) -> None:
        """Add claimed leases and wake the probe loop (it schedules them at once)."""
        self._fences = {**self._fences, **got}
        self.held = {**kept, **got}
        self.claimed.set()
        if self.wake is not None:
            self.wake.set()

    def close(self) -> None:
        """Release every lease at once and mark this watcher stopped (errors are logged)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        try:
            if self.leasing:
                n = L.release(self.store.engine, self.id)
                if n:
                    logger.info(f"released {n} endpoint leases")
            self.held = {}
            L.beat_watcher(self.store.engine, self.id, status="stopped", held=0, probes_per_minute=None)
        except DatabaseError as exc:
            logger.warning(f"leases not released (they expire in {self.ttl_s:g} s): {type(exc).__name__}")
