"""The watcher's write buffer: completed probes wait here and go to the database one transaction per batch."""

from __future__ import annotations

from collections.abc import Callable

from loguru import logger

from app.errors import MlfiError
from app.schemas import Sample
from app.storage import Store
from app.storage.errors import DatabaseError
from app.storage.leases import FenceCheck
from app.storage.watcher import ProbeStatus, write_batch

__all__ = ["MAX_PENDING_SAMPLES", "WriteBuffer"]

MAX_PENDING_SAMPLES = 50_000   # samples kept in memory while the database refuses writes


class WriteBuffer:
    """Samples, latest probe status per endpoint and detected protocols, flushed together.

    A failed flush keeps everything for the next attempt (bounded: the oldest samples are dropped
    beyond ``MAX_PENDING_SAMPLES``, with an error in the log). Owned by one thread.
    """

    def __init__(self, store: Store) -> None:
        self.store = store
        self.samples: list[tuple[int, Sample]] = []
        self.status: dict[int, ProbeStatus] = {}
        self.detected: dict[str, tuple[str, str]] = {}
        self.last_written: list[tuple[int, Sample]] = []   # the samples of the last committed flush
        self.fence: Callable[[], FenceCheck | None] | None = None   # leases: what each write must carry
        self.refused = 0                                    # samples refused as stale (lease moved on)

    def __len__(self) -> int:
        return len(self.samples)

    def add(self, endpoint_id: int, sample: Sample, status: ProbeStatus) -> None:
        self.samples.append((endpoint_id, sample))
        self.status[endpoint_id] = status

    def set_status(self, status: ProbeStatus) -> None:
        self.status[status.endpoint_id] = status

    def failures_of(self, endpoint_id: int) -> int:
        st = self.status.get(endpoint_id)
        return st.failures if st else 0

    def flush(self) -> tuple[int, bool]:
        """Write everything buffered in one transaction. Returns (samples written, failed)."""
        for name, (protocol, url) in list(self.detected.items()):
            try:
                self.store.upsert_endpoint(name, protocol=protocol, url=url)
                logger.info(f"endpoint {name}: detected protocol {protocol}")
                del self.detected[name]
            except (DatabaseError, MlfiError) as exc:
                logger.warning(f"could not store the detected protocol of {name}: {type(exc).__name__}")
        self.last_written = []
        if not self.samples and not self.status:
            return 0, False
        fence = self.fence() if self.fence is not None else None
        try:
            n = write_batch(self.store.engine, self.samples, list(self.status.values()),
                            keep_inputs=self.store.keeps_inputs, fence=fence)
        except DatabaseError as exc:
            logger.warning(f"sample batch not written (kept for retry, {len(self.samples)} buffered): "
                           f"{type(exc).__name__}: {str(exc).splitlines()[0][:160]}")
            if len(self.samples) > MAX_PENDING_SAMPLES:
                drop = len(self.samples) - MAX_PENDING_SAMPLES
                del self.samples[:drop]
                logger.error(f"write buffer full: dropped the {drop} oldest unwritten samples")
            return 0, True
        if fence is not None and fence.refused:
            stale = sum(1 for eid, _ in self.samples if eid in fence.refused)
            self.refused += stale
            logger.warning(f"refused {stale} stale sample writes of {len(fence.refused)} endpoints: their leases "
                           "were taken over by another watcher (fencing)")
            self.samples = [(e, s) for e, s in self.samples if e not in fence.refused]
        self.last_written, self.samples, self.status = self.samples, [], {}
        return n, False
