"""Table definitions (SQLAlchemy Core). The schema version lives in the ``meta`` table."""

from __future__ import annotations

from sqlalchemy import (Boolean, Column, Float, ForeignKey, Index, Integer, MetaData, String, Table, Text,
                        UniqueConstraint)

__all__ = ["metadata", "SCHEMA_VERSION", "meta", "endpoints", "samples", "baselines", "reports", "incidents",
           "recommendations", "audit_log", "sensitivity", "watcher", "diagnoses"]

SCHEMA_VERSION = 2

metadata = MetaData()

meta = Table("meta", metadata,
             Column("key", String(64), primary_key=True),
             Column("value", Text, nullable=False))

endpoints = Table(
    "endpoints", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(512), nullable=False, unique=True),
    Column("url", String(2048)),
    Column("protocol", String(32)),
    Column("headers_json", Text),          # secret: never logged, exported or shown
    Column("probe_set", Text),             # path of a probe-set CSV or None (template / ingest)
    Column("label_column", String(256)),
    Column("model_name", String(256)),
    Column("interval_s", Float, nullable=False, default=5.0),
    Column("enabled", Boolean, nullable=False, default=True),
    Column("created_at", Float, nullable=False),
    Column("last_probe_at", Float),
    Column("last_status", String(32)),     # ok / error kind of the last probe
    Column("consecutive_failures", Integer, nullable=False, default=0),
)

samples = Table(
    "samples", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("endpoint_id", Integer, ForeignKey("endpoints.id", ondelete="CASCADE"), nullable=False),
    Column("ts", Float, nullable=False),
    Column("source", String(16), nullable=False, default="probe"),
    Column("prediction", String(256)),
    Column("confidence", Float),
    Column("label", String(256)),
    Column("correct", Integer),
    Column("latency_ms", Float),
    Column("error_kind", String(32)),
    Column("error_detail", Text),
    Column("status_code", Integer),
    Column("inputs_json", Text),
    Column("probs_json", Text),
)
Index("ix_samples_endpoint_ts", samples.c.endpoint_id, samples.c.ts)

baselines = Table(
    "baselines", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("endpoint_id", Integer, ForeignKey("endpoints.id", ondelete="CASCADE"), nullable=False),
    Column("version", Integer, nullable=False),
    Column("created_at", Float, nullable=False),
    Column("path", Text, nullable=False),
    Column("n_samples", Integer, nullable=False),
    Column("summary_json", Text, nullable=False),
    Column("active", Boolean, nullable=False, default=True),
    UniqueConstraint("endpoint_id", "version", name="uq_baseline_version"),
)

reports = Table(
    "reports", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("endpoint_id", Integer, ForeignKey("endpoints.id", ondelete="CASCADE"), nullable=False),
    Column("ts", Float, nullable=False),
    Column("root_cause", String(32), nullable=False),
    Column("severity", String(16), nullable=False),
    Column("alert", Boolean, nullable=False, default=False),
    Column("incident_id", Integer),
    Column("metrics_json", Text, nullable=False),
    Column("report_json", Text, nullable=False),
)
Index("ix_reports_endpoint_ts", reports.c.endpoint_id, reports.c.ts)

incidents = Table(
    "incidents", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("endpoint_id", Integer, ForeignKey("endpoints.id", ondelete="CASCADE"), nullable=False),
    Column("root_cause", String(32), nullable=False),
    Column("severity", String(16), nullable=False),
    Column("status", String(16), nullable=False, default="open"),   # open / resolved
    Column("opened_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
    Column("resolved_at", Float),
    Column("first_report_id", Integer),
    Column("last_report_id", Integer),
    Column("alert_count", Integer, nullable=False, default=1),
    Column("features_json", Text),
    Column("summary", Text),
    Column("outcome", String(32)),          # recovered / not_recovered / unknown
)

recommendations = Table(
    "recommendations", metadata,
    Column("id", String(64), primary_key=True),
    Column("endpoint_id", Integer, ForeignKey("endpoints.id", ondelete="CASCADE")),
    Column("incident_id", Integer),
    Column("report_id", Integer),
    Column("rule_id", String(128)),
    Column("action", Text, nullable=False),
    Column("action_type", String(64)),
    Column("priority", String(16), nullable=False),
    Column("rationale", Text),
    Column("knowledge_id", String(128)),
    Column("status", String(16), nullable=False, default="pending"),
    Column("created_at", Float, nullable=False),
    Column("decided_at", Float),
    Column("decided_by", String(256)),
    Column("reason", Text),
    Column("payload_json", Text),
)

audit_log = Table(
    "audit_log", metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("ts", Float, nullable=False),
    Column("event", String(64), nullable=False),
    Column("actor", String(256)),
    Column("payload_json", Text, nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False, unique=True),
)

sensitivity = Table(
    "sensitivity", metadata,
    Column("endpoint_id", Integer, ForeignKey("endpoints.id", ondelete="CASCADE"), primary_key=True),
    Column("detector", String(64), primary_key=True),
    Column("multiplier", Float, nullable=False, default=1.0),
    Column("updated_at", Float, nullable=False),
)

watcher = Table(
    "watcher", metadata,
    Column("id", Integer, primary_key=True),               # singleton row id=1
    Column("pid", Integer),
    Column("host", String(256)),
    Column("started_at", Float),
    Column("last_beat", Float),
    Column("status", String(16)),                           # running / stopped
    Column("desired", String(16)),                          # running / stopped (set by the dashboard)
    Column("cycles", Integer, default=0),
)

diagnoses = Table(
    "diagnoses", metadata,
    Column("id", String(64), primary_key=True),
    Column("created_at", Float, nullable=False),
    Column("team", String(128)),
    Column("primary_category", String(64), nullable=False),
    Column("payload_hash", String(64), nullable=False),
    Column("payload_json", Text, nullable=False),
)
