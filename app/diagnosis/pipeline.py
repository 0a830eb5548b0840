"""diagnose(): intake, measure, signals, taxonomy, evidence, plan, learning, validate, hash, history."""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from pathlib import Path
from typing import Any

from app.config import Settings
from app.diagnosis.evidence import build_evidence
from app.diagnosis.history import similar_diagnoses
from app.diagnosis.learned import reader_doubts, revise
from app.diagnosis.learning import MAP_DOC, MAP_SECTION, learning_path
from app.diagnosis.models import Diagnosis, EvidenceItem, LearningItem, RemediationPlan
from app.diagnosis.normalise import lost_values
from app.diagnosis.payload import CONFIDENCE_FORMULA, HASH_EXCLUDED, canonical_json, confidence, payload_hash
from app.diagnosis.plan import build_plan
from app.diagnosis.readiness import readiness_questions
from app.diagnosis.reading import Reading, read
from app.diagnosis.reasoning import with_reasoning
from app.diagnosis.record import ExperimentRecord
from app.diagnosis.rules import RULES_PATH
from app.diagnosis.signals import Signals
from app.diagnosis.signatures import LARGE_DROP, match_signatures
from app.diagnosis.signatures.healthy import healthy, healthy_facts
from app.diagnosis.taxonomy import TaxonomyResult, classify
from app.diagnosis.validate import validate
from app.knowledge.models import Citation
from app.knowledge.retriever import Retriever, build_retriever

__all__ = ["TAXONOMY_DOC", "Reading", "collapsed", "deployment_gate", "diagnose", "fairness_status", "read"]

TAXONOMY_DOC = "taxonomy-ml-experiment-failures"


def fairness_status(rec: ExperimentRecord) -> tuple[str, list[dict[str, Any]]]:
    """NOT_EVALUATED without fairness data; otherwise per-attribute gap and ratio (four-fifths rule) of the metric."""
    if not rec.fairness:
        return "NOT_EVALUATED", []
    rows = []
    for f in rec.fairness:
        lo, hi = min(f.groups.values()), max(f.groups.values())
        ratio = lo / hi if hi > 0 else None
        rows.append(
            {
                "protected_attribute": f.protected_attribute,
                "metric": f.metric,
                "gap": round(hi - lo, 6),
                "ratio": None if ratio is None else round(ratio, 6),
                "concern": hi - lo > 0.1 or (ratio is not None and ratio < 0.8),
            }
        )
    return ("EVALUATED_CONCERNS" if any(r["concern"] for r in rows) else "EVALUATED_NO_MAJOR_GAPS"), rows


def collapsed(sig: Signals, facts: dict[str, Any]) -> bool:
    """A large drop between any two splits, or between offline and production figures (a table included).

    >>> collapsed(Signals(values={"drop_offline_production": 0.5}), {}), collapsed(Signals(), {"max_split_drop": 0.1})
    (True, False)
    """
    drops = [sig.get(k) for k in ("drop_val_test", "drop_offline_production", "history_drop_production")]
    drops += [facts.get(k) for k in ("max_split_drop", "table_max_drop")]
    if any(isinstance(d, (int, float)) and d >= LARGE_DROP for d in drops):
        return True
    if (facts.get("error_rise_ratio") or 0.0) >= 2.0:  # an error metric (MAPE, RMSE, WER) doubled or more
        return True
    return (sig.get("rel_error_drop_production") or 0.0) >= 0.5 or any(
        (sig.get(f"qual_drop_{s}") or 0.0) >= 1.0 for s in ("validation", "test", "production")
    )


def deployment_gate(
    tax: TaxonomyResult,
    sig: Signals,
    rec: ExperimentRecord,
    rai_status: str,
    lost_input: bool = False,
    collapse: bool = False,
    doubt: bool = False,
    well: bool = False,
    asks: bool = False,
) -> str:
    """BLOCKED for any diagnosed failure; CLEAR only for complete, healthy numbers with no concern at all.

    ``lost_input``: the intake dropped a value it could not read, so the numbers are not complete.
    ``collapse``: a large drop between two splits or offline and production (``collapsed``): never CLEAR.
    ``doubt``: the learned reader leaned towards a failure but abstained (below its threshold): never CLEAR.
    ``well``: the write-up states healthy numbers and nothing fails (``signatures.healthy``): CLEAR although it voices
    a worry or gives one split only, unless the input is incomplete or conflicting, training went wrong, a concrete
    signature or a collapse was found, or fairness gaps were measured.
    ``asks``: the write-up asks a question. Without a healthy statement (``well``) nothing matched in a text that
    asks something ("were these baselines really re-run?"): that is a doubt the rules did not read, so
    REVIEW_RECOMMENDED, not CLEAR. Bare healthy numbers ("validation AUC 0.86, test 0.85") stay CLEAR.
    """
    if tax.primary != "unknown":
        return "BLOCKED_PENDING_HUMAN_REVIEW"
    if (
        well
        and not (collapse or lost_input or rec.input_conflicts or rec.training_issues)
        and not any(f.concrete for f in tax.fired)
        and rai_status != "EVALUATED_CONCERNS"
    ):
        return "CLEAR"
    worried = (
        bool(rec.concerns)
        or any(o.direction == "drop" for o in rec.observations)
        or bool(rec.input_conflicts)
        or lost_input
        or collapse
        or bool(rec.training_issues)
        or doubt
    )
    if (
        any(f.kind == "support" for f in tax.fired)
        or worried
        or tax.leakage_audit_recommended
        or (sig.get("n_splits_with_metric") or 0) < 2
        or rai_status == "EVALUATED_CONCERNS"
    ):
        return "REVIEW_RECOMMENDED"
    return "REVIEW_RECOMMENDED" if asks else "CLEAR"


def _query(tax: TaxonomyResult, evidence: list[EvidenceItem]) -> str:
    words = [tax.primary.replace("_", " "), (tax.subtype or "").replace("_", " ")]
    words += [e.statement for e in evidence if e.kind == "support"][:4]
    return " ".join(w for w in words if w)


def _citations(
    r: Retriever, tax: TaxonomyResult, evidence: list[EvidenceItem], plan: RemediationPlan, learning: list[LearningItem]
) -> list[Citation]:
    q = _query(tax, evidence)
    found: list[Citation | None] = list(r.search(q, k=3, category=tax.primary))
    for e in evidence:
        if e.cite:
            found.append(r.cite(e.cite["doc_id"], e.cite["section"], q))
    found.append(r.cite(TAXONOMY_DOC, "Decision order", q))
    found += [i.citation for i in plan.three_day + plan.seven_day]
    if learning:
        found.append(r.cite(MAP_DOC, MAP_SECTION, q))
    out, seen = [], set()
    for c in found:
        if c is not None and (c.doc_id, c.section, c.path) not in seen:
            seen.add((c.doc_id, c.section, c.path))
            out.append(c)
    return out


def diagnose(
    *,
    prompt: str | None = None,
    experiment: str | Path | dict[str, Any] | None = None,
    settings: Settings | None = None,
    retriever: Retriever | None = None,
    store: Any = None,
    knowledge_dir: Path | None = None,
    rules_path: Path = RULES_PATH,
    base_dir: Path | None = None,
    now: dt.datetime | None = None,
) -> Diagnosis:
    """Diagnose one failed experiment. Same input (and knowledge base) -> same payload_hash."""
    rd = read(prompt=prompt, experiment=experiment, settings=settings, rules_path=rules_path, base_dir=base_dir)
    rec, meas, sig, rules, intake_warnings, facts = rd.rec, rd.meas, rd.sig, rd.rules, rd.warnings, rd.facts
    matched = match_signatures(facts, rd.fact_sources)
    tax = classify(sig, rules, matched)
    collapse = collapsed(sig, facts)
    large_drop = any(o.direction == "drop" and o.magnitude == "large" for o in rec.observations)
    well = tax.primary == "unknown" and healthy(healthy_facts(rd.reader_text or ""), facts, len(matched), collapse,
                                                large_drop)
    if well:  # the write-up states healthy numbers and nothing fails: the reader's words do not overrule that,
        # but a failure it reads at or above its threshold keeps the gate from CLEAR (a person looks)
        doubt = reader_doubts(rd.reader_text or "", facts)
        well = not doubt
    else:
        tax, doubt = revise(tax, rules, rd.reader_text, facts, lambda extra: classify(sig, rules, [*matched, extra]))
    evidence, counter = build_evidence(tax, meas)
    r = retriever or build_retriever(settings, knowledge_dir)
    plan = build_plan(r, tax)
    learning = learning_path(
        r.local,
        tax.primary,
        tax.secondary_risks,
        ai_service=bool(sig.get("ai_service")),
        fairness_given=bool(rec.fairness),
    )
    citations = _citations(r, tax, evidence, plan, learning)
    rai, fairness = fairness_status(rec)
    record_json = rec.model_dump(mode="json", exclude_defaults=True)
    fingerprint = hashlib.sha256(
        canonical_json(
            {"record": record_json, "data": [meas.train_sha256, meas.test_sha256] if meas else None}
        ).encode()
    ).hexdigest()
    draft = Diagnosis(
        diagnosis_id=f"dx-{fingerprint[:8]}-{uuid.uuid4().hex[:8]}",
        primary_category=tax.primary,
        subtype=tax.subtype,
        secondary_risks=tax.secondary_risks,
        confidence=0.0,
        evidence=evidence,
        counter_evidence=counter,
        deployment_gate=deployment_gate(  # type: ignore[arg-type]
            tax, sig, rec, rai, lost_values(intake_warnings) or rd.truncated, collapse, doubt, well,
            asks="?" in (prompt or ""),
        ),
        report_ready=True,
        deployment_ready=False,
        human_review_required=True,
        leakage_audit_recommended=tax.leakage_audit_recommended,
        active_leakage_signal=tax.concrete_leakage,
        responsible_ai_status=rai,
        learning_path=learning,
        remediation_plan=plan,
        citations=citations,
        grounding=with_reasoning(r.grounding, rd.reasoning),
        contradictions=[],
        intake_warnings=intake_warnings,
        readiness_questions=readiness_questions(r.local, tax.primary, tax.secondary_risks, evidence),
        rules_version=rules.version,
        confidence_formula=CONFIDENCE_FORMULA,
        category_scores=[s.model_dump() for s in sorted(tax.scores, key=lambda s: (-s.score, s.category))],
        conflicts=[c.model_dump() for c in tax.conflicts],
        signals=dict(sorted(sig.values.items())),
        assumptions=sorted(set(sig.assumptions)),
        input={
            "source": rd.source,
            "experiment_id": rec.experiment_id,
            "title": rec.title,
            "fingerprint": fingerprint,
            "record": record_json,
        },
        measurements=meas.model_dump(mode="json") if meas else None,
        fairness=fairness,
        hash_scope={
            "algorithm": "sha256",
            "canonical_json": "sorted keys, no whitespace, floats rounded to 6 places",
            "excluded": list(HASH_EXCLUDED),
        },
        created_at=(now or dt.datetime.now(dt.UTC)).isoformat(timespec="seconds"),
    )
    d = validate(draft, rec.input_conflicts)
    unknown = tax.primary == "unknown"
    s1 = max((s.score for s in tax.scores), default=0.0) if unknown else tax.primary_score
    given = sum(len(v) for v in (rec.metrics or {}).values())
    information = 1.0 if meas is not None else min(1.0, given / 3)
    d.confidence = confidence(s1, tax.runner_up_score, len(d.contradictions), unknown=unknown, information=information)
    d.payload_hash = payload_hash(d.payload())
    if store is not None:
        d.similar_past_diagnoses = similar_diagnoses(store, d.payload())
    return d
