"""Table definitions (SQLAlchemy Core). The schema version lives in the ``meta`` table."""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.types import TypeDecorator

__all__ = ["NAME_MAX", "SCHEMA_VERSION", "SafeString", "SafeText", "analysis_jobs", "api_analyses", "api_idempotency", "api_tokens",
           "audit_log", "baselines", "diagnoses", "endpoints", "incidents", "ingest_progress", "leases", "meta",
           "metadata", "no_nul", "recommendations", "reports", "sample_aggregates", "samples", "sensitivity",
           "watcher", "watchers"]

SCHEMA_VERSION = 4
NAME_MAX = 2048      # endpoint names and URLs (a URL-based endpoint is named by its URL)


def no_nul(value: str, dialect_name: str) -> str:
    r"""PostgreSQL text cannot hold U+0000: it becomes U+FFFD there; every other database keeps it.

    >>> no_nul("a\x00b", "postgresql") == "a\ufffdb", no_nul("a\x00b", "sqlite") == "a\x00b"
    (True, True)
    """
    if dialect_name == "postgresql" and "\x00" in value:
        return value.replace("\x00", "\ufffd")
    return value


class SafeString(TypeDecorator[str]):
    """VARCHAR(n) that can store any Python string on every backend (see `no_nul`)."""

    impl = String
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        return no_nul(value, dialect.name) if isinstance(value, str) else value


class SafeText(SafeString):
    """TEXT (unbounded) that can store any Python string on every backend (see `no_nul`)."""

    impl = Text
    cache_ok = True


metadata = MetaData()

meta = Table("meta", metadata,
             Column("key", SafeString(64), primary_key=True),
             Column("value", SafeText, nullable=False))

endpoints = Table(
    "endpoints", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", SafeString(NAME_MAX), nullable=False, unique=True),
    Column("url", SafeString(NAME_MAX)),
    Column("protocol", SafeString(32)),
    Column("headers_json", SafeText),          # secret: never logged, exported or shown
    Column("probe_set", SafeText),             # path of a probe-set CSV or None (template / ingest)
    Column("label_column", SafeText),
    Column("model_name", SafeText),
    Column("interval_s", Float, nullable=False, default=5.0),
    Column("enabled", Boolean, nullable=False, default=True),
    Column("created_at", Float, nullable=False),
    Column("last_probe_at", Float),
    Column("last_status", SafeString(32)),     # ok / error kind of the last probe
    Column("consecutive_failures", Integer, nullable=False, default=0),
)

samples = Table(
    "samples", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("endpoint_id", Integer, ForeignKey("endpoints.id", ondelete="CASCADE"), nullable=False),
    Column("ts", Float, nullable=False),
    Column("source", SafeString(16), nullable=False, default="probe"),
    Column("prediction", SafeText),
    Column("confidence", Float),
    Column("label", SafeText),
    Column("correct", Integer),
    Column("latency_ms", Float),
    Column("error_kind", SafeString(32)),
    Column("error_detail", SafeText),
    Column("status_code", Integer),
    Column("inputs_json", SafeText),
    Column("probs_json", SafeText),
)
Index("ix_samples_endpoint_ts", samples.c.endpoint_id, samples.c.ts)

# one row per endpoint and minute, rolled up from ``samples`` before raw rows are pruned (app.storage.aggregates)
sample_aggregates = Table(
    "sample_aggregates", metadata,
    Column("endpoint_id", Integer, ForeignKey("endpoints.id", ondelete="CASCADE"), primary_key=True),
    Column("minute", Float, primary_key=True),          # start of the minute, epoch seconds
    Column("n", Integer, nullable=False),
    Column("errors", Integer, nullable=False),
    Column("error_kinds_json", SafeText),               # {"timeout": 3, ...}
    Column("latency_p50", Float), Column("latency_p90", Float), Column("latency_p99", Float),
    Column("latency_max", Float), Column("latency_mean", Float),
    Column("confidence_mean", Float), Column("confidence_sq_mean", Float),
    Column("confidence_p10", Float), Column("confidence_p50", Float), Column("confidence_p90", Float),
    Column("class_mix_json", SafeText),                 # {"0": 31, "1": 28}: predicted classes (top 20 + "__other__")
    Column("labelled", Integer, nullable=False, default=0),
    Column("correct", Integer, nullable=False, default=0),
)
Index("ix_sample_aggregates_minute", sample_aggregates.c.minute)

baselines = Table(
    "baselines", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("endpoint_id", Integer, ForeignKey("endpoints.id", ondelete="CASCADE"), nullable=False),
    Column("version", Integer, nullable=False),
    Column("created_at", Float, nullable=False),
    Column("path", SafeText, nullable=False),
    Column("n_samples", Integer, nullable=False),
    Column("summary_json", SafeText, nullable=False),
    Column("active", Boolean, nullable=False, default=True),
    UniqueConstraint("endpoint_id", "version", name="uq_baseline_version"),
)

reports = Table(
    "reports", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("endpoint_id", Integer, ForeignKey("endpoints.id", ondelete="CASCADE"), nullable=False),
    Column("ts", Float, nullable=False),
    Column("root_cause", SafeString(32), nullable=False),
    Column("severity", SafeString(16), nullable=False),
    Column("alert", Boolean, nullable=False, default=False),
    Column("incident_id", Integer),
    Column("metrics_json", SafeText, nullable=False),
    Column("report_json", SafeText, nullable=False),
)
Index("ix_reports_endpoint_ts", reports.c.endpoint_id, reports.c.ts)

incidents = Table(
    "incidents", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("endpoint_id", Integer, ForeignKey("endpoints.id", ondelete="CASCADE"), nullable=False),
    Column("root_cause", SafeString(32), nullable=False),
    Column("severity", SafeString(16), nullable=False),
    Column("status", SafeString(16), nullable=False, default="open"),   # open / resolved
    Column("opened_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
    Column("resolved_at", Float),
    Column("first_report_id", Integer),
    Column("last_report_id", Integer),
    Column("alert_count", Integer, nullable=False, default=1),
    Column("features_json", SafeText),
    Column("summary", SafeText),
    Column("outcome", SafeString(32)),          # recovered / not_recovered / unknown
    Column("change_point_at", Float),           # estimated start of the change (sequential alarm), epoch s
    Column("detection_delay_samples", Integer), # samples between that change point and the alarm
)

recommendations = Table(
    "recommendations", metadata,
    Column("id", SafeString(64), primary_key=True),
    Column("endpoint_id", Integer, ForeignKey("endpoints.id", ondelete="CASCADE")),
    Column("incident_id", Integer),
    Column("report_id", Integer),
    Column("rule_id", SafeString(128)),
    Column("action", SafeText, nullable=False),
    Column("action_type", SafeString(64)),
    Column("priority", SafeString(16), nullable=False),
    Column("rationale", SafeText),
    Column("knowledge_id", SafeString(128)),
    Column("status", SafeString(16), nullable=False, default="pending"),
    Column("created_at", Float, nullable=False),
    Column("decided_at", Float),
    Column("decided_by", SafeText),
    Column("reason", SafeText),
    Column("payload_json", SafeText),
)

audit_log = Table(
    "audit_log", metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("ts", Float, nullable=False),
    Column("event", SafeString(64), nullable=False),
    Column("actor", SafeText),
    Column("payload_json", SafeText, nullable=False),
    Column("prev_hash", SafeString(64), nullable=False),
    Column("hash", SafeString(64), nullable=False, unique=True),
)

sensitivity = Table(
    "sensitivity", metadata,
    Column("endpoint_id", Integer, ForeignKey("endpoints.id", ondelete="CASCADE"), primary_key=True),
    Column("detector", SafeString(64), primary_key=True),
    Column("multiplier", Float, nullable=False, default=1.0),
    Column("updated_at", Float, nullable=False),
)

watcher = Table(
    "watcher", metadata,
    Column("id", Integer, primary_key=True),               # singleton row id=1
    Column("pid", Integer),
    Column("host", SafeString(256)),
    Column("started_at", Float),
    Column("last_beat", Float),
    Column("status", SafeString(16)),                           # running / stopped
    Column("desired", SafeString(16)),                          # running / stopped (set by the dashboard)
    Column("cycles", Integer, default=0),
)

# one row per watcher process (many on PostgreSQL): heartbeat, endpoints held, probe rate
watchers = Table(
    "watchers", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("host", SafeString(256), nullable=False),
    Column("pid", Integer, nullable=False),
    Column("started_at", Float, nullable=False),
    Column("last_beat", Float, nullable=False),
    Column("status", SafeString(16), nullable=False),           # running / stopped
    Column("endpoints_held", Integer, nullable=False, default=0),
    Column("probes_per_minute", Float),
)
Index("ix_watchers_last_beat", watchers.c.last_beat)

# PostgreSQL: which watcher probes an endpoint, until when, and the fencing number of that claim
# (grows by one on every claim; a write carrying an older number is refused)
leases = Table(
    "leases", metadata,
    Column("endpoint_id", Integer, ForeignKey("endpoints.id", ondelete="CASCADE"), primary_key=True),
    Column("holder", Integer),                                  # watchers.id, NULL when free
    Column("expires_at", Float, nullable=False, default=0.0),   # database clock, epoch s
    Column("fence", BigInteger, nullable=False, default=0),
)
Index("ix_leases_holder", leases.c.holder)

# one row per (endpoint, analysis window): claimed like a lease, so each window is analysed once
analysis_jobs = Table(
    "analysis_jobs", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("endpoint_id", Integer, ForeignKey("endpoints.id", ondelete="CASCADE"), nullable=False),
    Column("window_no", BigInteger, nullable=False),               # floor(time / analysis_every_s)
    Column("status", SafeString(16), nullable=False, default="todo"),   # todo / doing / done
    Column("holder", Integer),
    Column("expires_at", Float, nullable=False, default=0.0),
    Column("fence", BigInteger, nullable=False, default=0),
    Column("attempts", Integer, nullable=False, default=0),
    Column("created_at", Float, nullable=False),
    UniqueConstraint("endpoint_id", "window_no", name="uq_analysis_job_window"),
)
Index("ix_analysis_jobs_status", analysis_jobs.c.status, analysis_jobs.c.expires_at)

diagnoses = Table(
    "diagnoses", metadata,
    Column("id", SafeString(64), primary_key=True),
    Column("created_at", Float, nullable=False),
    Column("team", SafeText),
    Column("primary_category", SafeString(64), nullable=False),
    Column("payload_hash", SafeString(64), nullable=False),
    Column("payload_json", SafeText, nullable=False),
)

# how far `mlfi ingest` got through a file: the sha256 of the bytes ingested so far (header included), the
# byte offset they end at and the rows they held; updated in the transaction that stores each chunk
ingest_progress = Table(
    "ingest_progress", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("endpoint_id", Integer, ForeignKey("endpoints.id", ondelete="CASCADE"), nullable=False),
    Column("prefix_sha256", SafeString(64), nullable=False),
    Column("byte_offset", BigInteger, nullable=False),
    Column("rows_done", Integer, nullable=False),
    Column("updated_at", Float, nullable=False),
)

# API bearer tokens (`mlfi tokens`): only the sha256 of a token is stored; a revoked token keeps its row
api_tokens = Table(
    "api_tokens", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", SafeString(64), nullable=False, unique=True),
    Column("scopes", SafeString(64), nullable=False),            # comma-separated, sorted
    Column("token_sha256", SafeString(64), nullable=False, unique=True),
    Column("created_at", Float, nullable=False),
    Column("revoked_at", Float),
    Column("last_used_at", Float),
)

# batch ingest under an `Idempotency-Key`: the first request's receipt, replayed for a repeat of it
# an analysis requested over HTTP (POST /api/v1/analyses): its analysis job, who asked, and what came of it
api_analyses = Table(
    "api_analyses", metadata,
    Column("job_id", Integer, ForeignKey("analysis_jobs.id", ondelete="CASCADE"), primary_key=True),
    Column("endpoint_id", Integer, ForeignKey("endpoints.id", ondelete="CASCADE"), nullable=False),
    Column("requested_by", SafeString(128), nullable=False),
    Column("requested_at", Float, nullable=False),
    Column("outcome", SafeString(32)),          # AnalysisOutcome.action once finished (NULL: not yet)
    Column("detail", SafeText),
    Column("report_id", Integer),
    Column("finished_at", Float),
)

api_idempotency = Table(
    "api_idempotency", metadata,
    Column("endpoint_id", Integer, ForeignKey("endpoints.id", ondelete="CASCADE"), primary_key=True),
    Column("key", SafeString(255), primary_key=True),
    Column("request_sha256", SafeString(64), nullable=False),
    Column("receipt_json", SafeText, nullable=False),
    Column("created_at", Float, nullable=False),
)
