"""`Store`: one handle on the database, composed of one mixin per aggregate (endpoints, samples, reports,
watcher) plus the baseline index and diagnoses. Governance rows live in ``app.storage.governance``."""

from __future__ import annotations

import json
import time
from typing import Any

from sqlalchemy import Engine, select

from app.config import Settings
from app.storage import tables as t
from app.storage.endpoints import Endpoint, EndpointsMixin
from app.storage.endpoints import dumps as _dumps
from app.storage.engine import make_engine, upgrade_schema
from app.storage.ingest_progress import IngestProgressMixin
from app.storage.readonly import readonly_engine, unwritable_sqlite_file
from app.storage.reports import ReportsMixin
from app.storage.samples import SamplesMixin
from app.storage.watcher import WatcherMixin

__all__ = ["Endpoint", "Store"]


def _restrict_sqlite_file(engine: Engine) -> None:
    """The database holds endpoint headers (tokens): make a SQLite file readable by its owner only.

    SQLite creates its -wal/-shm files with the database file's permissions.
    """
    import os

    db = engine.url.database if engine.url.get_backend_name() == "sqlite" else None
    if not db or db == ":memory:":
        return
    for suffix in ("", "-wal", "-shm"):
        try:
            os.chmod(db + suffix, 0o600)
        except OSError:
            pass   # not ours to change (read-only mount, other owner): leave it as it is


class Store(EndpointsMixin, SamplesMixin, ReportsMixin, WatcherMixin, IngestProgressMixin):
    """Database access. Every write is one transaction: a crash never leaves half a sample."""

    def __init__(self, url: str, *, store_inputs: str = "window", read_only: bool = False) -> None:
        self.url = url
        self.store_inputs = store_inputs
        self.keeps_inputs = store_inputs != "none"
        locked = unwritable_sqlite_file(url) if read_only else None
        self.read_only = locked is not None      # True: opened read-only (nothing may be written through it)
        if locked is not None:        # a read command on a state dir it cannot write: read, never upgrade
            self.engine: Engine = readonly_engine(locked)
            return
        self.engine = make_engine(url)
        upgrade_schema(self.engine)
        _restrict_sqlite_file(self.engine)

    @classmethod
    def from_settings(cls, settings: Settings, *, read_only: bool = False) -> Store:
        """The settings' database; ``read_only`` (read commands) opens a SQLite file this process cannot
        write read-only instead of failing on the schema check's write."""
        if not read_only:
            settings.ensure_dirs()
        return cls(settings.db_url, store_inputs=settings.store_inputs, read_only=read_only)

    def dispose(self) -> None:
        self.engine.dispose()

    # ---- baselines index -------------------------------------------------------------------------
    def index_baseline(self, name: str, version: int, path: str, n_samples: int, summary: dict[str, Any],
                       created_at: float) -> None:
        eid = self._endpoint_id(name)
        with self.engine.begin() as conn:
            self.check_guard(conn, f"baseline v{version} of {name}")     # a stale analysis claim learns nothing
            conn.execute(t.baselines.update().where(t.baselines.c.endpoint_id == eid).values(active=False))
            conn.execute(t.baselines.insert().values(endpoint_id=eid, version=version, created_at=created_at,
                                                     path=path, n_samples=n_samples,
                                                     summary_json=_dumps(summary), active=True))

    def baseline_versions(self, name: str) -> list[dict[str, Any]]:
        ep = self.find_endpoint(name)
        if ep is None:
            return []
        with self.engine.connect() as conn:
            rows = conn.execute(select(t.baselines).where(t.baselines.c.endpoint_id == ep.id)
                                .order_by(t.baselines.c.version)).mappings().all()
        return [dict(r) for r in rows]

    # ---- diagnoses ---------------------------------------------------------------------------
    def save_diagnosis(self, payload: dict[str, Any], *, team: str | None = None) -> None:
        with self.engine.begin() as conn:
            conn.execute(t.diagnoses.insert().values(
                id=payload["diagnosis_id"], created_at=time.time(), team=team,
                primary_category=payload["primary_category"], payload_hash=payload["payload_hash"],
                payload_json=json.dumps(payload, default=str)))

    def list_diagnoses(self, *, limit: int = 500) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(t.diagnoses).order_by(t.diagnoses.c.created_at.desc()).limit(limit)).mappings()
            return [{**dict(r), "payload": json.loads(r["payload_json"])} for r in rows]
