"""Governance: incidents, approvals (exactly once), hash-chained audit log, executors, adaptive sensitivity."""

from app.governance.api import (audit_entries, list_incidents, list_recommendations, similar_to_incident,
                                verify_audit)
from app.governance.audit import AuditEntry, VerifyResult
from app.governance.decisions import Decision, approve, decide, reject
from app.governance.executors import ExecutionRun, execute
from app.governance.pipeline import on_report, preview
from app.governance.repo import RecommendationRecord
from app.governance.sensitivity import list_sensitivity, reset as reset_sensitivity, sensitivity_for

__all__ = ["on_report", "preview", "sensitivity_for", "approve", "reject", "decide", "execute", "Decision",
           "ExecutionRun", "list_recommendations", "list_incidents", "similar_to_incident", "audit_entries",
           "verify_audit", "AuditEntry", "VerifyResult", "RecommendationRecord", "list_sensitivity",
           "reset_sensitivity"]
