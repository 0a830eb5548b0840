"""Structured evidence and counter-evidence from the fired rules and the measurements (no hidden reasoning)."""

from __future__ import annotations

from app.diagnosis.measure import DatasetMeasurements
from app.diagnosis.models import EvidenceItem
from app.diagnosis.taxonomy import FiredRule, TaxonomyResult

__all__ = ["build_evidence", "measurement_items"]


def _item(i: int, prefix: str, f: FiredRule, kind: str | None = None) -> EvidenceItem:
    return EvidenceItem(
        id=f"{prefix}{i}",
        kind=kind or f.kind,
        category=f.category,
        rule_id=f.rule_id,  # type: ignore[arg-type]
        concrete=f.concrete,
        statement=f.statement,
        values=f.values,
        sources=f.sources,
        contribution=f.contribution,
        cite={"doc_id": f.cite_doc, "section": f.cite_section},
    )


def measurement_items(m: DatasetMeasurements) -> list[EvidenceItem]:
    """What the data itself showed, naming the columns."""
    src = [
        f"measured: {m.train_csv} ({m.n_train} rows, sha256 {m.train_sha256[:12]})",
        f"measured: {m.test_csv} ({m.n_test} rows, sha256 {m.test_sha256[:12]})",
    ]
    top = sorted(m.features, key=lambda s: (-(s.power_train or 0.0), s.name))[:5]
    out = [
        EvidenceItem(
            id="M1",
            kind="measurement",
            category=None,
            sources=src,
            statement="Most predictive single columns (train, test): "
            + ", ".join(f"{s.name} ({s.power_train or 0:.3f}, {s.power_test or 0:.3f})" for s in top),
            values={s.name: s.power_train for s in top},
        )
    ]
    if m.leaking_columns:
        out.append(
            EvidenceItem(
                id="M2",
                kind="measurement",
                category="data_leakage",
                concrete=True,
                sources=src,
                statement=f"Leaking column(s) {', '.join(m.leaking_columns)}: single-feature "
                f"{top[0].power_metric} {m.leak_power_max:.3f} on its own.",
                values={"leaking_columns": m.leaking_columns, "leak_power_max": m.leak_power_max},
                cite={"doc_id": "playbook-data-leakage", "section": "Numeric signals"},
            )
        )
    out.append(
        EvidenceItem(
            id=f"M{len(out) + 1}",
            kind="measurement",
            category=None,
            sources=src,
            statement=f"{m.overlap_rows} of {m.n_test} test rows ({m.overlap_fraction:.1%}) also occur in train; "
            f"{m.duplicate_fraction_train:.1%} duplicate rows within train; class shares train "
            f"{m.class_distribution_train or 'n/a'}, test {m.class_distribution_test or 'n/a'}.",
            values={"overlap_fraction": m.overlap_fraction, "duplicate_fraction_train": m.duplicate_fraction_train},
        )
    )
    shift = (
        ", ".join(f"{s.name} ({s.shift_method} {s.shift_statistic:.2f})" for s in m.features if s.shift_detected)
        or "none"
    )
    missing = ", ".join(f"{k} ({v:.1%})" for k, v in sorted(m.missing_columns.items(), key=lambda kv: -kv[1])[:5])
    out.append(
        EvidenceItem(
            id=f"M{len(out) + 1}",
            kind="measurement",
            category=None,
            sources=src,
            statement=f"Train-vs-test shift (BH-adjusted p < 0.05 and effect >= 0.1): {shift}; "
            f"missing values: {missing or 'none'}.",
            values={"shifted_columns": m.shifted_columns, "missing_columns": m.missing_columns},
        )
    )
    return out


def build_evidence(
    tax: TaxonomyResult, meas: DatasetMeasurements | None
) -> tuple[list[EvidenceItem], list[EvidenceItem]]:
    """(evidence, counter_evidence). Evidence: support for the primary, then for each secondary risk, then
    measurements. Counter-evidence: counter-rules against the primary, support for categories in conflict with
    it, and, when leakage is only a risk, the absence of any concrete leakage source."""
    primary = tax.primary
    order = {c: i for i, c in enumerate([primary, *tax.secondary_risks])}
    support = sorted(
        (f for f in tax.fired if f.kind == "support" and (primary == "unknown" or f.category in order)),
        key=lambda f: (order.get(f.category, 99), -f.contribution, f.rule_id),
    )
    evidence = [_item(i, "E", f) for i, f in enumerate(support, start=1)]
    if meas is not None:
        evidence += measurement_items(meas)
    conflicting = {c for cf in tax.conflicts if primary in cf.categories for c in cf.categories} - {primary}
    counters = [
        f
        for f in tax.fired
        if f.kind == "counter" and (primary == "unknown" or f.category == primary or f.category == "data_leakage")
    ]
    counters += [f for f in tax.fired if f.kind == "support" and f.category in conflicting]
    counters.sort(key=lambda f: (f.category != primary, -f.contribution, f.rule_id))
    counter = [_item(i, "C", f, kind="counter") for i, f in enumerate(counters, start=1)]
    if primary != "data_leakage" and tax.leakage_audit_recommended and not tax.concrete_leakage:
        counter.append(
            EvidenceItem(
                id=f"C{len(counter) + 1}",
                kind="absence",
                category="data_leakage",
                statement="No concrete leakage source was found: no future-state feature, no leaking column, no "
                "train/test "
                "row or entity overlap, no preprocessing fit on all data. Leakage stays a risk to audit, not the "
                "diagnosis.",
                cite={"doc_id": "playbook-data-leakage", "section": "Counter-signals"},
            )
        )
    return evidence, counter
