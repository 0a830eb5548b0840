"""Export an evaluation as a self-contained HTML page (tables + Plotly figures) or a JSON document."""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

import plotly.graph_objects as go

from app.errors import InputError
from app.evaluation.results import EvaluationReport

__all__ = ["export_report", "render_html", "summary_text"]


def _fmt(v: Any) -> str:
    if v is None:
        return "n/a"
    if isinstance(v, float):
        return f"{v:.4g}"
    return html.escape(str(v))


def _table(header: list[str], rows: list[list[Any]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{_fmt(c)}</td>" for c in r) + "</tr>" for r in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def summary_text(report: EvaluationReport) -> str:
    """A few human-readable lines (the CLI's output without ``--json``)."""
    m = report.metrics
    who = f" [{report.model}]" if report.model else ""
    lines = [f"{report.source}: {report.n} rows, {report.task}{who}",
             "metrics: " + ", ".join(f"{k}={_fmt(v)}" for k, v in m.items())]
    if report.calibration.ece is not None:
        lines.append(f"calibration: ECE {report.calibration.ece:.4f} ({report.calibration.binning})")
    worst = [s for s in report.slices[:3]]
    for s in worst:
        flag = " UNSTABLE" if s.unstable else ""
        lines.append(f"slice {s.column}={s.value}: n={s.n} {report.slice_metric}={_fmt(s.metrics.get(report.slice_metric))}{flag}")
    d = report.decision
    if d is not None:
        lines.append(f"decision: threshold {d.threshold:.4g} -> expected cost {d.expected_cost:.4g}/row "
                     f"(at {d.reference_threshold:g}: {d.expected_cost_at_reference:.4g}) with cost_fp={d.cost_fp:g}, "
                     f"cost_fn={d.cost_fn:g}")
    c = report.comparison
    if c is not None:
        lines.append(f"models: best overall on {c.metric}: {c.overall_winner or 'tie'}; at the given costs: "
                     f"{c.winner_at_given_costs or 'tie'}")
        for s in c.slices:
            if s.differs_from_overall:
                lines.append(f"  but on {s.column}={s.value} the better model is {s.winner}")
        for w in c.wins:
            lines.append(f"  cost_fn/cost_fp in [{w.ratio_from:.3g}, {w.ratio_to:.3g}]: {w.winner or 'tie'} wins")
    return "\n".join(lines)


def render_html(report: EvaluationReport, figures: dict[str, go.Figure]) -> str:
    """One self-contained HTML page (plotly.js inlined once, so it works offline)."""
    parts = [f"<h1>Evaluation of {html.escape(report.source)}</h1>",
             f"<pre>{html.escape(summary_text(report))}</pre>",
             "<h2>Metrics</h2>", _table(["metric", "value"], [[k, v] for k, v in report.metrics.items()])]
    parts += ["<h2>Slices (worst first)</h2>",
              _table(["column", "value", "n", report.slice_metric, "95% CI", "unstable"],
                     [[s.column, s.value, s.n, s.metrics.get(report.slice_metric),
                       (lambda ci: f"[{ci.low:.3f}, {ci.high:.3f}]" if ci else "n/a")(s.ci.get(report.slice_metric)),
                       ", ".join(s.unstable_reasons) or "no"] for s in report.slices])]
    if report.decision is not None:
        d = report.decision
        parts += ["<h2>Decision</h2>",
                  _table(["cost_fp", "cost_fn", "threshold", "expected cost", "at reference", "Bayes threshold"],
                         [[d.cost_fp, d.cost_fn, d.threshold, d.expected_cost, d.expected_cost_at_reference,
                           d.bayes_threshold]]),
                  _table(["column", "value", "n", "expected cost", "FP", "FN", "own threshold"],
                         [[p.column, p.value, p.n, p.expected_cost, p.false_positives, p.false_negatives,
                           p.own_threshold] for p in d.per_slice])]
    e = report.errors
    cases = e.top_false_positives + e.top_false_negatives + e.top_misclassified
    parts += ["<h2>Errors</h2>",
              _table(["row", "id", "kind", "label", "predicted", "score"],
                     [[c.row, c.id, c.kind, c.label, c.predicted, c.score] for c in cases]),
              f"<p>Clusters: {html.escape(e.cluster_method)}</p>",
              _table(["cluster", "size", "FP", "FN", "profile (sd from mean)", "representative row"],
                     [[c.cluster, c.size, c.false_positives, c.false_negatives,
                       ", ".join(f"{k} {v:+.2f}" for k, v in c.profile.items()), c.representative.row]
                      for c in e.clusters])]
    if report.comparison is not None:
        c = report.comparison
        parts += [f"<h2>Models ({html.escape(c.metric)})</h2>",
                  _table(["slice", *c.overall, "winner", "differs from overall"],
                         [["overall", *c.overall.values(), c.overall_winner, ""]]
                         + [[f"{s.column}={s.value}", *(s.values.get(m) for m in c.overall), s.winner,
                             "yes" if s.differs_from_overall else ""] for s in c.slices])]
    parts.append("<h2>Figures</h2>")
    for i, (name, fig) in enumerate(figures.items()):
        parts.append(f'<div id="fig-{html.escape(name)}">'
                     + fig.to_html(full_html=False, include_plotlyjs=(i == 0)) + "</div>")
    parts.append("<h2>Notes</h2><ul>" + "".join(f"<li>{html.escape(n)}</li>" for n in report.notes) + "</ul>")
    style = ("body{font-family:sans-serif;margin:2em;max-width:1200px}table{border-collapse:collapse;margin:1em 0}"
             "td,th{border:1px solid #ccc;padding:3px 8px;text-align:left}")
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>mlfi evaluation</title><style>{style}</style>"
            f"</head><body>{''.join(parts)}</body></html>")


def export_report(report: EvaluationReport, figures: dict[str, go.Figure], path: str | Path) -> Path:
    """Write ``.html`` (page with figures) or ``.json`` (contract document + figures as Plotly JSON)."""
    out = Path(path)
    suffix = out.suffix.lower()
    if suffix not in (".html", ".htm", ".json"):
        raise InputError(f"--export must end in .html or .json, got {out.name!r}")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        if suffix == ".json":
            doc = report.to_json_dict() | {"figures": {k: json.loads(f.to_json()) for k, f in figures.items()}}
            out.write_text(json.dumps(doc, indent=2, allow_nan=False), encoding="utf-8")
        else:
            out.write_text(render_html(report, figures), encoding="utf-8")
    except OSError as e:
        raise InputError(f"cannot write {out}: {e.strerror or e}") from e
    return out
