"""`Store`: the only code that talks to the database (endpoints, samples, baselines, reports, watcher)."""

from __future__ import annotations

import json
import time
from typing import Any

import pandas as pd
from sqlalchemy import Engine, and_, func, select
from sqlalchemy.exc import IntegrityError

from app.config import Settings
from app.errors import InputError, NotFoundError
from app.schemas import Report, Sample
from app.storage import tables as t
from app.storage.engine import make_engine, upgrade_schema
from app.storage.read import buckets

__all__ = ["EndpointRow", "Store"]

EndpointRow = dict[str, Any]


def _dumps(obj: Any) -> str | None:
    return None if obj is None else json.dumps(obj, default=str, separators=(",", ":"))


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


class Store:
    """Database access. Every write is one transaction: a crash never leaves half a sample."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine: Engine = make_engine(url)
        upgrade_schema(self.engine)
        _restrict_sqlite_file(self.engine)

    @classmethod
    def from_settings(cls, settings: Settings) -> Store:
        settings.ensure_dirs()
        return cls(settings.db_url)

    def dispose(self) -> None:
        self.engine.dispose()

    # ---- endpoints ---------------------------------------------------------------------------
    def upsert_endpoint(self, name: str, *, url: str | None = None, protocol: str | None = None,
                        headers: dict[str, str] | None = None, probe_set: str | None = None,
                        label_column: str | None = None, model_name: str | None = None,
                        interval_s: float | None = None, enabled: bool | None = None) -> EndpointRow:
        """Create the endpoint or update the given (non-None) fields; returns the stored row."""
        if not name or not name.strip():
            raise InputError("endpoint name must not be empty")
        values: dict[str, Any] = {"url": url, "protocol": protocol, "probe_set": probe_set,
                                  "label_column": label_column, "model_name": model_name,
                                  "interval_s": interval_s, "enabled": enabled}
        if headers is not None:
            values["headers_json"] = _dumps(headers)
        for what, value in (("endpoint name", name), ("endpoint URL", url or "")):
            if len(value) > t.NAME_MAX:
                raise InputError(f"{what} is too long ({len(value)} characters, at most {t.NAME_MAX})")
        values = {k: v for k, v in values.items() if v is not None}
        for attempt in (1, 2):
            try:
                with self.engine.begin() as conn:
                    row = conn.execute(select(t.endpoints.c.id).where(t.endpoints.c.name == name)).first()
                    if row is None:
                        conn.execute(t.endpoints.insert().values(name=name, created_at=time.time(),
                                                                 consecutive_failures=0,
                                                                 **{"interval_s": 5.0, "enabled": True, **values}))
                    elif values:
                        conn.execute(t.endpoints.update().where(t.endpoints.c.id == row[0]).values(**values))
                break
            except IntegrityError:
                if attempt == 2:     # another process inserted the same new name first: update its row
                    raise
        return self.get_endpoint(name)

    def get_endpoint(self, name: str) -> EndpointRow:
        with self.engine.connect() as conn:
            row = conn.execute(select(t.endpoints).where(t.endpoints.c.name == name)).mappings().first()
        if row is None:
            raise NotFoundError(f"unknown endpoint: {name}")
        return dict(row)

    def find_endpoint(self, name: str) -> EndpointRow | None:
        try:
            return self.get_endpoint(name)
        except NotFoundError:
            return None

    def list_endpoints(self, *, enabled_only: bool = False) -> list[EndpointRow]:
        q = select(t.endpoints).order_by(t.endpoints.c.id)
        if enabled_only:
            q = q.where(t.endpoints.c.enabled.is_(True))
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(q).mappings()]

    def set_enabled(self, name: str, enabled: bool) -> None:
        ep = self.get_endpoint(name)
        with self.engine.begin() as conn:
            conn.execute(t.endpoints.update().where(t.endpoints.c.id == ep["id"]).values(enabled=enabled))

    def delete_endpoint(self, name: str) -> None:
        ep = self.get_endpoint(name)
        with self.engine.begin() as conn:
            for tbl in (t.samples, t.reports, t.baselines, t.incidents, t.recommendations, t.sensitivity):
                conn.execute(tbl.delete().where(tbl.c.endpoint_id == ep["id"]))
            conn.execute(t.endpoints.delete().where(t.endpoints.c.id == ep["id"]))

    def record_probe_status(self, endpoint_id: int, ts: float, status: str, failures: int) -> None:
        with self.engine.begin() as conn:
            conn.execute(t.endpoints.update().where(t.endpoints.c.id == endpoint_id).values(
                last_probe_at=ts, last_status=status, consecutive_failures=failures))

    @staticmethod
    def headers_of(ep: EndpointRow) -> dict[str, str]:
        raw = ep.get("headers_json")
        return json.loads(raw) if raw else {}

    # ---- samples -----------------------------------------------------------------------------
    def _endpoint_id(self, name: str, create: bool = True) -> int:
        ep = self.find_endpoint(name)
        if ep is None:
            if not create:
                raise NotFoundError(f"unknown endpoint: {name}")
            ep = self.upsert_endpoint(name)
        return int(ep["id"])

    @staticmethod
    def sample_row(endpoint_id: int, s: Sample) -> dict[str, Any]:
        """The ``samples`` table row of one Sample (for batched inserts)."""
        correct = s.correct
        return {"endpoint_id": endpoint_id, "ts": s.ts, "source": s.source, "prediction": s.prediction,
                "confidence": s.confidence, "label": s.label,
                "correct": None if correct is None else int(correct), "latency_ms": s.latency_ms,
                "error_kind": s.error_kind, "error_detail": s.error_detail, "status_code": s.status_code,
                "inputs_json": _dumps(s.inputs), "probs_json": _dumps(s.probabilities)}

    def add_samples(self, items: list[Sample]) -> int:
        """Insert samples in one transaction (all or nothing). Returns the count written."""
        if not items:
            return 0
        ids: dict[str, int] = {}
        for s in items:
            if s.endpoint not in ids:
                ids[s.endpoint] = self._endpoint_id(s.endpoint)
        rows = [self.sample_row(ids[s.endpoint], s) for s in items]
        with self.engine.begin() as conn:
            conn.execute(t.samples.insert(), rows)
        return len(rows)

    def count_samples(self, name: str) -> int:
        eid = self._endpoint_id(name, create=False)
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(t.samples)
                                    .where(t.samples.c.endpoint_id == eid)).scalar_one())

    def recent_samples(self, name: str, *, last_n: int | None = None, since: float | None = None,
                       with_inputs: bool = True) -> list[Sample]:
        """The newest samples of an endpoint (oldest first), by count and/or time."""
        eid = self._endpoint_id(name, create=False)
        q = select(t.samples).where(t.samples.c.endpoint_id == eid)
        if since is not None:
            q = q.where(t.samples.c.ts >= since)
        q = q.order_by(t.samples.c.ts.desc(), t.samples.c.id.desc())
        if last_n is not None:
            q = q.limit(last_n)
        with self.engine.connect() as conn:
            rows = list(conn.execute(q).mappings())
        rows.reverse()
        out = []
        for r in rows:
            out.append(Sample(endpoint=name, ts=r["ts"], source=r["source"], prediction=r["prediction"],
                              confidence=r["confidence"], label=r["label"], latency_ms=r["latency_ms"],
                              error_kind=r["error_kind"], error_detail=r["error_detail"],
                              status_code=r["status_code"],
                              inputs=json.loads(r["inputs_json"]) if with_inputs and r["inputs_json"] else None,
                              probabilities=json.loads(r["probs_json"]) if r["probs_json"] else None))
        return out

    def metrics_timeseries(self, name: str, *, bucket_s: float = 60.0, since: float | None = None,
                           max_points: int | None = None) -> pd.DataFrame:
        """Per-bucket aggregates computed in the database (bounded rows whatever the stored count)."""
        eid = self._endpoint_id(name, create=False)
        s = t.samples.c
        if max_points is not None:
            with self.engine.connect() as conn:
                lo, hi = conn.execute(select(func.min(s.ts), func.max(s.ts)).where(
                    and_(s.endpoint_id == eid, s.ts >= (since or 0)))).one()
            if lo is not None and hi is not None and hi > lo:
                bucket_s = max(bucket_s, (hi - lo) / max_points)
        bucket = func.floor(s.ts / bucket_s).label("bucket")
        q = select(*buckets.aggregates(bucket)).where(s.endpoint_id == eid).group_by(bucket).order_by(bucket)
        if since is not None:
            q = q.where(s.ts >= since)
        with self.engine.connect() as conn:
            df = pd.DataFrame(conn.execute(q).mappings().all())
        if df.empty:
            return pd.DataFrame(columns=buckets.COLUMNS)
        return buckets.finish(df, origin=0.0, bucket_s=bucket_s)

    # ---- baselines index -------------------------------------------------------------------------
    def index_baseline(self, name: str, version: int, path: str, n_samples: int, summary: dict[str, Any],
                       created_at: float) -> None:
        eid = self._endpoint_id(name)
        with self.engine.begin() as conn:
            conn.execute(t.baselines.update().where(t.baselines.c.endpoint_id == eid).values(active=False))
            conn.execute(t.baselines.insert().values(endpoint_id=eid, version=version, created_at=created_at,
                                                     path=path, n_samples=n_samples,
                                                     summary_json=_dumps(summary), active=True))

    def baseline_versions(self, name: str) -> list[dict[str, Any]]:
        ep = self.find_endpoint(name)
        if ep is None:
            return []
        with self.engine.connect() as conn:
            rows = conn.execute(select(t.baselines).where(t.baselines.c.endpoint_id == ep["id"])
                                .order_by(t.baselines.c.version)).mappings().all()
        return [dict(r) for r in rows]

    # ---- reports -----------------------------------------------------------------------------
    def save_report(self, report: Report, *, incident_id: int | None = None) -> int:
        eid = self._endpoint_id(report.endpoint)
        ts = report.created_at or time.time()
        with self.engine.begin() as conn:
            res = conn.execute(t.reports.insert().values(
                endpoint_id=eid, ts=ts, root_cause=report.rca.root_cause, severity=report.rca.severity,
                alert=report.alert, incident_id=incident_id,
                metrics_json=report.metrics.model_dump_json(), report_json=report.model_dump_json()))
            rid = int(res.inserted_primary_key[0])
        report.report_id = rid
        return rid

    def list_reports(self, name: str, *, limit: int = 100, alerts_only: bool = False) -> list[Report]:
        ep = self.find_endpoint(name)
        if ep is None:
            return []
        q = select(t.reports.c.id, t.reports.c.report_json).where(t.reports.c.endpoint_id == ep["id"])
        if alerts_only:
            q = q.where(t.reports.c.alert.is_(True))
        q = q.order_by(t.reports.c.ts.desc()).limit(limit)
        with self.engine.connect() as conn:
            rows = conn.execute(q).all()
        out = []
        for rid, raw in rows:
            rep = Report.model_validate_json(raw)
            rep.report_id = rid
            out.append(rep)
        return out

    def latest_report(self, name: str) -> Report | None:
        reps = self.list_reports(name, limit=1)
        return reps[0] if reps else None

    def report_metrics_frame(self, name: str) -> pd.DataFrame:
        """One row per stored report: time, verdict and metrics (for export and charts)."""
        ep = self.get_endpoint(name)
        with self.engine.connect() as conn:
            rows = conn.execute(select(t.reports.c.id, t.reports.c.ts, t.reports.c.root_cause,
                                       t.reports.c.severity, t.reports.c.alert, t.reports.c.metrics_json)
                                .where(t.reports.c.endpoint_id == ep["id"]).order_by(t.reports.c.ts)).all()
        recs = []
        for rid, ts, rc, sev, alert, mj in rows:
            m = json.loads(mj)
            m.pop("class_distribution", None)
            m.pop("error_kinds", None)
            recs.append({"report_id": rid, "ts": ts, "root_cause": rc, "severity": sev, "alert": bool(alert), **m})
        return pd.DataFrame(recs)

    # ---- watcher heartbeat -------------------------------------------------------------------
    def _write_watcher(self, insert: dict[str, Any], update: dict[str, Any]) -> None:
        """Insert the singleton watcher row or update it (a concurrent first insert is retried as an update)."""
        for attempt in (1, 2):
            try:
                with self.engine.begin() as conn:
                    row = conn.execute(select(t.watcher.c.id).where(t.watcher.c.id == 1)).first()
                    if row is None:
                        conn.execute(t.watcher.insert().values(id=1, **insert))
                    else:
                        conn.execute(t.watcher.update().where(t.watcher.c.id == 1).values(**update))
                return
            except IntegrityError:
                if attempt == 2:
                    raise

    def heartbeat(self, *, pid: int, status: str, host: str = "", started_at: float | None = None,
                  cycles: int | None = None) -> None:
        vals: dict[str, Any] = {"pid": pid, "status": status, "last_beat": time.time(), "host": host}
        if started_at is not None:
            vals["started_at"] = started_at
        if cycles is not None:
            vals["cycles"] = cycles
        self._write_watcher({"desired": "running", **vals}, vals)

    def watcher_state(self) -> dict[str, Any] | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(t.watcher).where(t.watcher.c.id == 1)).mappings().first()
        return dict(row) if row else None

    def set_watcher_desired(self, desired: str) -> None:
        self._write_watcher({"desired": desired, "status": "stopped"}, {"desired": desired})

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
