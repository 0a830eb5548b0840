"""Flat tables (lists of row dicts) of an evaluation, shared by the HTML export and the dashboard page."""

from __future__ import annotations

from typing import Any

from app.evaluation.results import EvaluationReport

__all__ = ["report_tables"]

Row = dict[str, Any]


def _ci(ci: Any) -> str:
    return f"[{ci.low:.3f}, {ci.high:.3f}]" if ci else "n/a"


def report_tables(report: EvaluationReport) -> dict[str, list[Row]]:
    """Tables keyed ``metrics``, ``slices``, ``decision``, ``slice_costs``, ``errors``, ``clusters``, ``models``.

    A table that does not apply (no decision for multiclass, no models without a model column) is empty.
    """
    m = report.slice_metric
    t: dict[str, list[Row]] = {
        "metrics": [{"metric": k, "value": v} for k, v in report.metrics.items()],
        "slices": [
            {
                "column": s.column,
                "value": s.value,
                "n": s.n,
                m: s.metrics.get(m),
                "95% CI": _ci(s.ci.get(m)),
                "gap": s.gap,
                "unstable": ", ".join(s.unstable_reasons) or "no",
            }
            for s in report.slices
        ],
        "decision": [],
        "slice_costs": [],
        "models": [],
    }
    d = report.decision
    if d is not None:
        t["decision"] = [
            {
                "cost_fp": d.cost_fp,
                "cost_fn": d.cost_fn,
                "threshold": d.threshold,
                "expected cost": d.expected_cost,
                f"at {d.reference_threshold:g}": d.expected_cost_at_reference,
                "Bayes threshold": d.bayes_threshold,
                "at Bayes": d.expected_cost_at_bayes,
            }
        ]
        t["slice_costs"] = [
            {
                "column": p.column,
                "value": p.value,
                "n": p.n,
                "expected cost": p.expected_cost,
                "FP": p.false_positives,
                "FN": p.false_negatives,
                "own threshold": p.own_threshold,
                "own expected cost": p.own_expected_cost,
            }
            for p in d.per_slice
        ]
    e = report.errors
    t["errors"] = [
        {
            "row": c.row,
            "id": c.id,
            "kind": c.kind,
            "label": c.label,
            "predicted": c.predicted,
            "score": c.score,
            **c.slices,
        }
        for c in e.top_false_positives + e.top_false_negatives + e.top_misclassified
    ]
    t["clusters"] = [
        {
            "cluster": c.cluster,
            "size": c.size,
            "FP": c.false_positives,
            "FN": c.false_negatives,
            "profile (sd from mean)": ", ".join(f"{k} {v:+.2f}" for k, v in c.profile.items()),
            "representative row": c.representative.row,
            "representative id": c.representative.id,
        }
        for c in e.clusters
    ]
    c = report.comparison
    if c is not None:
        t["models"] = [{"slice": "overall", **c.overall, "winner": c.overall_winner, "differs from overall": ""}] + [
            {
                "slice": f"{s.column}={s.value}",
                **{k: s.values.get(k) for k in c.overall},
                "winner": s.winner,
                "differs from overall": "yes" if s.differs_from_overall else "",
            }
            for s in c.slices
        ]
    return t
