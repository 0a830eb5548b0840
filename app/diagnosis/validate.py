"""Consistency validation of a draft diagnosis: list every contradiction and fail closed."""

from __future__ import annotations

from app.diagnosis.models import Contradiction, Diagnosis

__all__ = ["validate"]


def validate(d: Diagnosis, input_conflicts: list[str] | None = None) -> Diagnosis:
    """Return a copy of ``d`` with contradictions listed and unsafe fields forced to the safe value.

    Fail-closed rules: a diagnosed failure is always BLOCKED_PENDING_HUMAN_REVIEW; deployment_ready is true only
    for a CLEAR gate and a ready report; leakage as the primary category needs concrete evidence; a report without
    evidence, citations or a cited plan is not ready.
    """
    d = d.model_copy(deep=True)
    out: list[Contradiction] = []

    def add(code: str, message: str, resolution: str, blocks: bool = False) -> None:
        out.append(Contradiction(code=code, message=message, resolution=resolution, blocks_report=blocks))

    for text in input_conflicts or []:
        add("input_conflict", text, "the later value was used; confirm the numbers")
    if d.primary_category != "unknown" and d.deployment_gate != "BLOCKED_PENDING_HUMAN_REVIEW":
        add(
            "gate_not_blocked",
            f"{d.primary_category} diagnosed but gate was {d.deployment_gate}",
            "gate set to BLOCKED_PENDING_HUMAN_REVIEW",
        )
        d.deployment_gate = "BLOCKED_PENDING_HUMAN_REVIEW"
    if d.primary_category == "data_leakage" and not any(
        e.concrete and e.category == "data_leakage" for e in d.evidence
    ):
        add(
            "leakage_without_concrete_evidence",
            "data_leakage is primary but no concrete leakage evidence is listed",
            "report marked not ready; human review required",
            blocks=True,
        )
        d.deployment_gate = "BLOCKED_PENDING_HUMAN_REVIEW"
    if d.active_leakage_signal and not d.leakage_audit_recommended:
        add(
            "leakage_signal_without_audit",
            "an active leakage signal exists but no audit was recommended",
            "leakage_audit_recommended set to true",
        )
        d.leakage_audit_recommended = True
    if d.primary_category in d.secondary_risks:
        add(
            "primary_in_secondary",
            f"{d.primary_category} is both primary and secondary",
            "removed from secondary_risks",
        )
        d.secondary_risks = [c for c in d.secondary_risks if c != d.primary_category]
    if d.primary_category != "unknown" and not any(e.kind == "support" for e in d.evidence):
        add(
            "no_evidence",
            "a failure category was diagnosed without supporting evidence",
            "report marked not ready",
            blocks=True,
        )
    if not d.citations:
        add("no_citations", "the diagnosis cites no knowledge source", "report marked not ready", blocks=True)
    if not d.remediation_plan.three_day:
        add("empty_plan", "the 3-day remediation plan is empty", "report marked not ready", blocks=True)
    if d.responsible_ai_status != "NOT_EVALUATED" and not d.fairness:
        add(
            "rai_without_data",
            "responsible AI marked evaluated without fairness data",
            "responsible_ai_status set to NOT_EVALUATED",
        )
        d.responsible_ai_status = "NOT_EVALUATED"
    if d.grounding.remote_used != (d.grounding.proof_level == "remote_search_results"):
        add(
            "grounding_mismatch",
            "grounding proof level disagrees with remote_used",
            "proof level set to local",
            blocks=True,
        )
        d.grounding = d.grounding.model_copy(
            update={"proof_level": "local_knowledge_base", "remote_used": False, "provider": "local"}
        )
    d.report_ready = not any(c.blocks_report for c in out)
    if d.deployment_ready and (d.deployment_gate != "CLEAR" or not d.report_ready):
        add(
            "deployment_ready_while_blocked",
            f"deployment_ready was true with gate {d.deployment_gate}",
            "deployment_ready set to false",
        )
    d.deployment_ready = d.deployment_gate == "CLEAR" and d.report_ready
    d.human_review_required = d.deployment_gate != "CLEAR" or not d.report_ready
    d.contradictions = out
    return d
