"""Samples: batched inserts (all or nothing), the newest samples of an endpoint, bucketed metrics."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pandas as pd
from sqlalchemy import Engine, and_, func, select

from app.schemas import Sample
from app.storage import tables as t
from app.storage.endpoints import dumps
from app.storage.read import buckets
from app.storage.redact import redact_error

__all__ = ["SamplesMixin"]


class SamplesMixin:
    """Store methods over the ``samples`` table (a `Store` provides ``engine`` and ``_endpoint_id``)."""

    engine: Engine
    keeps_inputs: bool = True      # False with MLFI_STORE_INPUTS=none: feature values never reach the database

    if TYPE_CHECKING:      # provided by EndpointsMixin
        def _endpoint_id(self, name: str, create: bool = True) -> int: ...

    @staticmethod
    def sample_row(endpoint_id: int, s: Sample, *, keep_inputs: bool = True) -> dict[str, Any]:
        """The ``samples`` table row of one Sample (for batched inserts); ``keep_inputs=False`` drops the inputs
        and reduces the error text to what cannot echo them (:func:`app.storage.redact.redact_error`)."""
        correct = s.correct
        return {"endpoint_id": endpoint_id, "ts": s.ts, "source": s.source, "prediction": s.prediction,
                "confidence": s.confidence, "label": s.label,
                "correct": None if correct is None else int(correct), "latency_ms": s.latency_ms,
                "error_kind": s.error_kind, "status_code": s.status_code,
                "error_detail": s.error_detail if keep_inputs else redact_error(s.error_detail),
                "inputs_json": dumps(s.inputs) if keep_inputs else None, "probs_json": dumps(s.probabilities)}

    def add_samples(self, items: list[Sample]) -> int:
        """Insert samples in one transaction (all or nothing). Returns the count written."""
        if not items:
            return 0
        ids: dict[str, int] = {}
        for s in items:
            if s.endpoint not in ids:
                ids[s.endpoint] = self._endpoint_id(s.endpoint)
        rows = [self.sample_row(ids[s.endpoint], s, keep_inputs=self.keeps_inputs) for s in items]
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
