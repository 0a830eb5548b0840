"""Governance: incidents, approvals (exactly once), hash-chained audit log, executors, adaptive sensitivity."""

from app.governance.api import audit_entries, list_incidents, list_recommendations, similar_to_incident, verify_audit
from app.governance.audit import AuditEntry, VerifyResult
from app.governance.decisions import Decision, approve, decide, reject
from app.governance.executors import ExecutionRun, execute
from app.governance.pipeline import on_report, preview
from app.governance.sensitivity import list_sensitivity, sensitivity_for
from app.governance.sensitivity import reset as reset_sensitivity
from app.storage.governance.recommendations import RecommendationRecord

__all__ = ["AuditEntry", "Decision", "ExecutionRun", "RecommendationRecord", "VerifyResult", "approve", "audit_entries",
           "decide", "execute", "list_incidents", "list_recommendations", "list_sensitivity", "on_report", "preview",
           "reject", "reset_sensitivity", "sensitivity_for", "similar_to_incident", "verify_audit"]
