"""A 3-day and a 7-day remediation plan; every item cites the knowledge-base section it comes from."""

from __future__ import annotations

from app.diagnosis.models import PlanItem, RemediationPlan
from app.diagnosis.taxonomy import TaxonomyResult
from app.knowledge.retriever import Retriever

__all__ = ["SECTION_3_DAY", "SECTION_7_DAY", "build_plan", "bullets", "playbook_id"]

SECTION_3_DAY = "Remediation: first 3 days"
SECTION_7_DAY = "Remediation: within 7 days"
_AUDIT = (
    "Run a leakage audit before trusting any score: single-feature AUC per column, train/test row and entity "
    "overlap, a timestamp check of every feature, and all preprocessing inside the cross-validation pipeline."
)


def playbook_id(category: str) -> str:
    """Document id of a category's playbook.

    >>> playbook_id("data_leakage")
    'playbook-data-leakage'
    """
    return "playbook-" + category.replace("_", "-")


def bullets(text: str) -> list[str]:
    """Markdown bullet items of a section (continuation lines joined).

    >>> bullets("- first\\n  more\\n- second")
    ['first more', 'second']
    """
    items: list[str] = []
    for line in text.splitlines():
        if line.lstrip().startswith(("- ", "* ")):
            items.append(line.lstrip()[2:].strip())
        elif items and line.strip():
            items[-1] += " " + line.strip()
    return items


def _item(r: Retriever, action: str, category: str, origin: str, doc: str, section: str) -> PlanItem | None:
    cit = r.cite(doc, section, action)
    if cit is None:
        return None
    return PlanItem(action=action, category=category, origin=origin, citation=cit)  # type: ignore[arg-type]


def build_plan(r: Retriever, tax: TaxonomyResult) -> RemediationPlan:
    """Evidence-specific actions first, then the playbook's steps; secondary risks and the leakage audit follow."""
    cat = tax.primary
    doc = playbook_id(cat)
    three: list[PlanItem | None] = []
    seen: set[str] = set()
    for f in sorted(
        (f for f in tax.fired if f.category == cat and f.kind == "support" and f.action),
        key=lambda f: (-f.contribution, f.rule_id),
    ):
        if f.action and f.action not in seen:
            seen.add(f.action)
            three.append(_item(r, f.action, cat, "evidence", doc, SECTION_3_DAY))
    if tax.leakage_audit_recommended and cat != "data_leakage":
        three.append(_item(r, _AUDIT, "data_leakage", "leakage_audit", "playbook-data-leakage", "Tests to run"))
    chunk3, chunk7 = r.local.find(doc, SECTION_3_DAY), r.local.find(doc, SECTION_7_DAY)
    three += [_item(r, b, cat, "playbook", doc, SECTION_3_DAY) for b in bullets(chunk3.text if chunk3 else "")]
    seven = [_item(r, b, cat, "playbook", doc, SECTION_7_DAY) for b in bullets(chunk7.text if chunk7 else "")]
    for sec in tax.secondary_risks:
        if sec == "data_leakage" and tax.leakage_audit_recommended:
            continue
        chunk = r.local.find(playbook_id(sec), SECTION_3_DAY)
        first = bullets(chunk.text)[:1] if chunk else []
        seven += [_item(r, b, sec, "secondary_risk", playbook_id(sec), SECTION_3_DAY) for b in first]
    return RemediationPlan(three_day=[i for i in three if i], seven_day=[i for i in seven if i])
