"""The diagnosis payload as typed models; the contract JSON is ``Diagnosis.payload()``."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from app.knowledge.models import Citation, Grounding

__all__ = [
    "CONTRACT_KEYS",
    "Contradiction",
    "Diagnosis",
    "EvidenceItem",
    "LearningItem",
    "PlanItem",
    "RemediationPlan",
    "SimilarDiagnosis",
]

CONTRACT_KEYS = (
    "diagnosis_id",
    "primary_category",
    "subtype",
    "secondary_risks",
    "confidence",
    "evidence",
    "counter_evidence",
    "deployment_gate",
    "report_ready",
    "deployment_ready",
    "human_review_required",
    "leakage_audit_recommended",
    "active_leakage_signal",
    "responsible_ai_status",
    "learning_path",
    "remediation_plan",
    "citations",
    "grounding",
    "contradictions",
    "intake_warnings",
    "payload_hash",
)


class EvidenceItem(BaseModel):
    """One piece of structured evidence: the statement, the numbers behind it and where they came from."""

    id: str
    kind: Literal["support", "counter", "measurement", "absence"]
    category: str | None
    rule_id: str | None = None
    concrete: bool = False
    statement: str
    values: dict[str, Any] = Field(default_factory=dict)
    sources: list[str] = Field(default_factory=list)
    contribution: float = 0.0
    cite: dict[str, str] | None = Field(None, description="{doc_id, section} of the knowledge base")


class LearningItem(BaseModel):
    id: str
    title: str
    certification: str | None
    category: str
    source: dict[str, str]


class PlanItem(BaseModel):
    action: str
    category: str
    origin: Literal["evidence", "playbook", "leakage_audit", "secondary_risk"]
    citation: Citation


class RemediationPlan(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    three_day: list[PlanItem] = Field(default_factory=list, alias="3_day")
    seven_day: list[PlanItem] = Field(default_factory=list, alias="7_day")


class Contradiction(BaseModel):
    code: str
    message: str
    resolution: str
    blocks_report: bool = False


class SimilarDiagnosis(BaseModel):
    diagnosis_id: str
    primary_category: str
    subtype: str | None
    team: str | None
    created_at: str
    similarity: float
    payload_hash: str


class Diagnosis(BaseModel):
    """A finished diagnosis. Contract keys first; the rest documents how it was reached."""

    model_config = ConfigDict(populate_by_name=True)

    diagnosis_id: str
    primary_category: str
    subtype: str | None
    secondary_risks: list[str]
    confidence: float = Field(ge=0.0, le=1.0)
    evidence: list[EvidenceItem]
    counter_evidence: list[EvidenceItem]
    deployment_gate: Literal["BLOCKED_PENDING_HUMAN_REVIEW", "REVIEW_RECOMMENDED", "CLEAR"]
    report_ready: bool
    deployment_ready: bool
    human_review_required: bool
    leakage_audit_recommended: bool
    active_leakage_signal: bool
    responsible_ai_status: str
    learning_path: list[LearningItem]
    remediation_plan: RemediationPlan
    citations: list[Citation]
    grounding: Grounding
    contradictions: list[Contradiction]
    intake_warnings: list[str] = Field(
        default_factory=list, description="what the intake ignored or reinterpreted, one line each"
    )
    payload_hash: str = ""
    # ---- how it was reached (hashed, except the run-specific fields listed in hash_scope) -----------------
    schema_version: str = "mlfi.diagnosis/1"
    rules_version: int = 1
    confidence_formula: str = ""
    category_scores: list[dict[str, Any]] = Field(default_factory=list)
    conflicts: list[dict[str, Any]] = Field(default_factory=list)
    signals: dict[str, Any] = Field(default_factory=dict)
    assumptions: list[str] = Field(default_factory=list)
    input: dict[str, Any] = Field(default_factory=dict)
    measurements: dict[str, Any] | None = None
    fairness: list[dict[str, Any]] = Field(default_factory=list)
    hash_scope: dict[str, Any] = Field(default_factory=dict)
    created_at: str = ""
    similar_past_diagnoses: list[SimilarDiagnosis] = Field(default_factory=list)

    def payload(self) -> dict[str, Any]:
        """The canonical JSON-ready payload (what the CLI prints, the export embeds and the store keeps)."""
        return self.model_dump(mode="json", by_alias=True)
