"""Reports: save one (with its incident), list them newest first, the per-report metrics frame."""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING

import pandas as pd
from sqlalchemy import Connection, Engine, and_, or_, select

from app.schemas import Report
from app.storage import tables as t
from app.storage.endpoints import Endpoint
from app.storage.errors import StaleClaimError

__all__ = ["ReportsMixin"]


class ReportsMixin:
    """Store methods over the ``reports`` table (a `Store` provides the endpoint methods)."""

    engine: Engine
    # (analysis job id, fence) while a claimed PostgreSQL analysis job runs: its report is written only
    # while that claim is current (app.storage.analysis_jobs.job_is_current, same transaction)
    report_guard: tuple[int, int] | None = None

    if TYPE_CHECKING:      # provided by EndpointsMixin
        def _endpoint_id(self, name: str, create: bool = True) -> int: ...
        def find_endpoint(self, name: str) -> Endpoint | None: ...
        def get_endpoint(self, name: str) -> Endpoint: ...

    def check_guard(self, conn: Connection, what: str) -> None:
        """Raise `StaleClaimError` unless the claim in ``report_guard`` (if any) is still current.

        Called inside every transaction that writes on behalf of an analysis (report, incident, audit):
        the job row stays locked until that transaction ends, so a takeover cannot slip in between.
        """
        guard = self.report_guard
        if guard is not None:
            from app.storage.analysis_jobs import job_is_current

            if not job_is_current(conn, *guard):
                raise StaleClaimError(f"{what} refused: its analysis job was claimed again by another worker")

    def save_report(self, report: Report, *, incident_id: int | None = None, conn: Connection | None = None) -> int:
        """Insert the report; inside ``conn`` (an open transaction: the incident change and audit entries
        that go with it) or in a transaction of its own. Either way under the analysis claim's guard."""
        if conn is not None:        # read on the open transaction (a second connection could wait on its lock)
            eid = conn.execute(select(t.endpoints.c.id).where(t.endpoints.c.name == report.endpoint)).scalar()
            rid = self._insert_report(conn, report, int(eid) if eid is not None else self._endpoint_id(
                report.endpoint), incident_id)
        else:
            eid = self._endpoint_id(report.endpoint)
            with self.engine.begin() as own:
                rid = self._insert_report(own, report, eid, incident_id)
        report.report_id = rid
        return rid

    def _insert_report(self, conn: Connection, report: Report, eid: int, incident_id: int | None) -> int:
        self.check_guard(conn, f"report of {report.endpoint}")
        res = conn.execute(t.reports.insert().values(
            endpoint_id=eid, ts=report.created_at or time.time(), root_cause=report.rca.root_cause,
            severity=report.rca.severity, alert=report.alert, incident_id=incident_id,
            metrics_json=report.metrics.model_dump_json(), report_json=report.model_dump_json()))
        return int(res.inserted_primary_key[0])

    def list_reports(self, name: str, *, limit: int = 100, alerts_only: bool = False,
                     before: tuple[float, int] | None = None) -> list[Report]:
        """Newest first; ``before`` = (ts, id) of the last report of a page continues after it."""
        ep = self.find_endpoint(name)
        if ep is None:
            return []
        r = t.reports.c
        q = select(r.id, r.report_json).where(r.endpoint_id == ep.id)
        if alerts_only:
            q = q.where(r.alert.is_(True))
        if before is not None:
            q = q.where(or_(r.ts < before[0], and_(r.ts == before[0], r.id < before[1])))
        q = q.order_by(r.ts.desc(), r.id.desc()).limit(limit)
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
                                .where(t.reports.c.endpoint_id == ep.id).order_by(t.reports.c.ts)).all()
        recs = []
        for rid, ts, rc, sev, alert, mj in rows:
            m = json.loads(mj)
            m.pop("class_distribution", None)
            m.pop("error_kinds", None)
            recs.append({"report_id": rid, "ts": ts, "root_cause": rc, "severity": sev, "alert": bool(alert), **m})
        return pd.DataFrame(recs)
