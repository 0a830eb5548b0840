"""Cached reads of the core for the pages (``st.cache_data(ttl=...)`` lives here, never in ``app/``).

Every cached function is keyed by the database URL, so two state directories never share entries.
Writes (decisions, start/stop, new endpoints) go straight to ``app.*`` and then call :func:`invalidate`.
"""

from __future__ import annotations

import time
from typing import Any

import pandas as pd
import streamlit as st
from loguru import logger

from app.config import Settings
from app.errors import MlfiError
from app.evaluation import EvalOptions
from app.storage import Endpoint, Store
from app.views import (
    decisions,
    diagnosis,
    drift_map,
    evaluation,
    export,
    incidents,
    kpis,
    live,
    long_range,
    overview,
    series,
    status,
    verdict,
)
from app.views import estimate as estimate_view

__all__ = [
    "FAST_TTL",
    "SLOW_TTL",
    "audit_csv",
    "audit_status",
    "audit_table",
    "baseline",
    "db_or_stop",
    "diagnose",
    "diagnosis_history",
    "drift",
    "endpoint_incidents",
    "endpoint_names",
    "endpoint_row",
    "endpoint_summary",
    "estimates",
    "evaluate",
    "evaluation_columns",
    "feature_values",
    "incident",
    "incident_list",
    "invalidate",
    "kept_text",
    "live_frame",
    "long_timeseries",
    "markers",
    "metrics_csv",
    "overview_rows",
    "range_start",
    "readiness",
    "recommendations",
    "reports_csv",
    "settings",
    "store",
    "timeseries",
    "watcher",
    "window_kpis",
]

FAST_TTL = 2.0    # seconds: status, KPIs, time series (the default refresh interval)
SLOW_TTL = 15.0   # seconds: drift grid, incidents, exports
MAX_ENTRIES = 64  # per cached function: time-keyed entries never pile up between TTL sweeps


def settings() -> Settings:
    """The Settings of this run (cheap; read each run so MLFI_HOME is honoured)."""
    return Settings()


@st.cache_resource(show_spinner=False)
def _store(db_url: str) -> Store:
    settings().ensure_dirs()
    return Store(db_url)


def store() -> Store:
    """The process-wide Store of the current database (one engine / connection pool per URL)."""
    return _store(settings().db_url)


def db_or_stop() -> str:
    """The database URL once the database opens; otherwise a clear message and the page stops."""
    try:
        s = settings()
        _store(s.db_url)
    except MlfiError as exc:
        st.error(f"Cannot open the mlfi database: {exc}", icon=":material/error:")
        st.stop()
    except ValueError as exc:  # invalid MLFI_* settings (pydantic)
        st.error(f"Invalid mlfi settings: {str(exc).splitlines()[0]}", icon=":material/error:")
        st.stop()
    except Exception as exc:  # noqa: BLE001  (page boundary: one clear line, the traceback goes to the log)
        logger.exception("the dashboard cannot open the database")
        st.error(f"Cannot open the mlfi database: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}",
                 icon=":material/error:")
        st.stop()
    return s.db_url


def invalidate() -> None:
    """Forget cached reads after a write so the next render shows it."""
    st.cache_data.clear()


@st.cache_data(ttl=FAST_TTL, max_entries=MAX_ENTRIES, show_spinner=False)
def overview_rows(db_url: str) -> list[overview.EndpointSummary]:
    return overview.overview(_store(db_url))


@st.cache_data(ttl=FAST_TTL, max_entries=MAX_ENTRIES, show_spinner=False)
def endpoint_summary(db_url: str, name: str) -> overview.EndpointSummary | None:
    rows = overview.overview(_store(db_url), name=name)
    return rows[0] if rows else None


@st.cache_data(ttl=FAST_TTL, max_entries=MAX_ENTRIES, show_spinner=False)
def watcher(db_url: str) -> status.WatcherInfo:
    return status.watcher_info(_store(db_url), settings())


@st.cache_data(ttl=FAST_TTL, max_entries=MAX_ENTRIES, show_spinner=False)
def live_watchers(db_url: str) -> list[dict[str, Any]]:
    """The live watcher processes (several on PostgreSQL): host, pid, endpoints held, heartbeat, probe rate."""
    from app.watcher.fleet import watcher_rows

    return [w for w in watcher_rows(settings(), _store(db_url)) if w["alive"]]


@st.cache_data(ttl=FAST_TTL, max_entries=MAX_ENTRIES, show_spinner=False)
def endpoint_names(db_url: str) -> list[str]:
    return [e.name for e in _store(db_url).list_endpoints()]


@st.cache_data(ttl=FAST_TTL, max_entries=MAX_ENTRIES, show_spinner=False)
def endpoint_row(db_url: str, name: str) -> Endpoint | None:
    row = _store(db_url).find_endpoint(name)
    return None if row is None else row.without_secrets()   # secrets never leave the core


@st.cache_data(ttl=SLOW_TTL, max_entries=MAX_ENTRIES, show_spinner=False)
def baseline(db_url: str, name: str) -> tuple[Any, int | None]:
    return kpis.baseline_metrics(_store(db_url), name)


@st.cache_data(ttl=FAST_TTL, max_entries=MAX_ENTRIES, show_spinner=False)
def window_kpis(db_url: str, name: str, last_n: int) -> list[kpis.Kpi]:
    base, _version = baseline(db_url, name)
    return kpis.kpis(kpis.window_metrics(_store(db_url), name, last_n=last_n), base)


def _bucketed_since(since: float | None, step: float) -> float | None:
    # round the range start so consecutive reruns hit the same cache entry
    return None if since is None else float(int(since // step) * step)


@st.cache_data(ttl=FAST_TTL, max_entries=MAX_ENTRIES, show_spinner=False)
def timeseries(db_url: str, name: str, since: float | None, max_points: int, min_bucket_s: float = 1.0
               ) -> pd.DataFrame:
    return series.timeseries(_store(db_url), name, since=since, max_points=max_points, min_bucket_s=min_bucket_s)


@st.cache_data(ttl=SLOW_TTL, max_entries=MAX_ENTRIES, show_spinner=False)
def long_timeseries(db_url: str, name: str, since: float, max_points: int) -> pd.DataFrame:
    """A 7- or 30-day chart series from the per-minute aggregates (raw rows are pruned long before)."""
    return long_range.long_timeseries(_store(db_url), name, since=since, now=time.time(), max_points=max_points)


@st.cache_data(ttl=SLOW_TTL, max_entries=MAX_ENTRIES, show_spinner=False)
def kept_text(db_url: str) -> str:
    """What is kept, and for how long (retention in force and the inputs mode)."""
    return long_range.kept_text(settings(), _store(db_url))


@st.cache_data(ttl=FAST_TTL, max_entries=MAX_ENTRIES, show_spinner=False)
def markers(db_url: str, name: str, since: float | None) -> pd.DataFrame:
    return series.alert_markers(_store(db_url), name, since=since)


@st.cache_data(ttl=FAST_TTL, max_entries=MAX_ENTRIES, show_spinner=False)
def live_frame(db_url: str, name: str, since: float | None, last_n: int) -> pd.DataFrame:
    """The newest ``last_n`` samples in the range, one row each (``app.views.live.samples_frame``)."""
    return live.samples_frame(_store(db_url).recent_samples(name, last_n=last_n, since=since, with_inputs=False))


@st.cache_data(ttl=FAST_TTL, max_entries=MAX_ENTRIES, show_spinner=False)
def endpoint_incidents(db_url: str, name: str) -> pd.DataFrame:
    return incidents.list_incidents(_store(db_url), endpoint=name, limit=200)


@st.cache_data(ttl=SLOW_TTL, max_entries=MAX_ENTRIES, show_spinner=False)
def feature_values(db_url: str, name: str, feature: str) -> tuple[list[Any], list[Any]]:
    return drift_map.feature_values(settings(), _store(db_url), name, feature)


@st.cache_data(ttl=SLOW_TTL, max_entries=MAX_ENTRIES, show_spinner=False)
def drift(db_url: str, name: str, since: float | None, max_columns: int = 60) -> drift_map.DriftGrid:
    return drift_map.drift_grid(_store(db_url), name, since=since, max_columns=max_columns)


def range_start(label: str, step: float = 5.0) -> float | None:
    """Start of a named time range, rounded to ``step`` seconds (stable cache keys)."""
    return _bucketed_since(series.since_for(label, time.time()), step)


@st.cache_data(ttl=FAST_TTL, max_entries=MAX_ENTRIES, show_spinner=False)
def incident_list(db_url: str, status_filter: str | None) -> pd.DataFrame:
    return incidents.list_incidents(_store(db_url), status=status_filter)


@st.cache_data(ttl=FAST_TTL, max_entries=MAX_ENTRIES, show_spinner=False)
def incident(db_url: str, incident_id: int) -> incidents.IncidentDetail:
    return incidents.incident_detail(_store(db_url), incident_id)


@st.cache_data(ttl=SLOW_TTL, max_entries=MAX_ENTRIES, show_spinner=False)
def estimates(db_url: str, name: str, since: float | None) -> pd.DataFrame:
    return estimate_view.estimate_series(_store(db_url), name, since=since)


@st.cache_data(ttl=SLOW_TTL, max_entries=MAX_ENTRIES, show_spinner=False)
def metrics_csv(db_url: str, name: str) -> bytes:
    return export.metrics_csv(_store(db_url), name)


@st.cache_data(ttl=SLOW_TTL, max_entries=MAX_ENTRIES, show_spinner=False)
def reports_csv(db_url: str, name: str) -> bytes:
    return export.reports_csv(_store(db_url), name)


@st.cache_data(ttl=FAST_TTL, max_entries=MAX_ENTRIES, show_spinner=False)
def audit_csv(db_url: str) -> bytes:
    return export.audit_csv(_store(db_url))


@st.cache_data(ttl=FAST_TTL, max_entries=MAX_ENTRIES, show_spinner=False)
def audit_table(db_url: str, limit: int = 200) -> pd.DataFrame:
    return export.audit_frame(_store(db_url), limit=limit)


@st.cache_data(ttl=FAST_TTL, max_entries=MAX_ENTRIES, show_spinner=False)
def recommendations(db_url: str, status_filter: str | None, incident_id: int | None = None) -> list[Any]:
    return decisions.ranked(_store(db_url), status=status_filter, incident_id=incident_id)


@st.cache_data(ttl=FAST_TTL, max_entries=MAX_ENTRIES, show_spinner=False)
def audit_status(db_url: str) -> dict[str, Any]:
    return decisions.audit_status(_store(db_url), settings())


@st.cache_data(ttl=FAST_TTL, max_entries=MAX_ENTRIES, show_spinner=False)
def readiness(db_url: str, name: str, samples: int, has_report: bool) -> verdict.Readiness:
    return verdict.endpoint_readiness(_store(db_url), settings(), name, samples=samples, has_report=has_report)


@st.cache_data(ttl=SLOW_TTL, max_entries=MAX_ENTRIES, show_spinner=False)
def diagnosis_history(db_url: str) -> list[dict[str, Any]]:
    return diagnosis.history(_store(db_url))


def diagnose(db_url: str, **request: Any) -> diagnosis.DiagnosisRun:
    """Run a diagnosis (``app.views.diagnosis.run`` arguments); a saved one shows up in the history at once."""
    result = diagnosis.run(_store(db_url), settings(), **request)
    if request.get("save"):
        diagnosis_history.clear()
    return result


@st.cache_data(ttl=SLOW_TTL, max_entries=MAX_ENTRIES, show_spinner=False)
def evaluation_columns(raw: bytes) -> list[str]:
    return evaluation.columns(raw)


@st.cache_data(ttl=600, max_entries=MAX_ENTRIES, show_spinner="Evaluating ...")
def evaluate(raw: bytes, spec: evaluation.ColumnSpec, opts: EvalOptions) -> evaluation.Evaluation:
    return evaluation.run(raw, spec, opts)
