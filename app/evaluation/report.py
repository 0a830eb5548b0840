"""Export an evaluation as a self-contained HTML page (tables + Plotly figures) or a JSON document."""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

import plotly.graph_objects as go

from app.errors import InputError
from app.evaluation.results import EvaluationReport
from app.evaluation.tables import report_tables

__all__ = ["export_report", "render_html", "summary_text"]


def _fmt(v: Any) -> str:
    if v is None:
        return "n/a"
    if isinstance(v, float):
        return f"{v:.4g}"
    return html.escape(str(v))


def _table(rows: list[dict[str, Any]]) -> str:
    header = list(dict.fromkeys(k for r in rows for k in r))
    head = "".join(f"<th>{html.escape(str(h))}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{_fmt(r.get(h))}</td>" for h in header) + "</tr>" for r in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def summary_text(report: EvaluationReport) -> str:
    """A few human-readable lines (the CLI's output without ``--json``)."""
    m = report.metrics
    who = f" [{report.model}]" if report.model else ""
    lines = [
        f"{report.source}: {report.n} rows, {report.task}{who}",
        "metrics: " + ", ".join(f"{k}={_fmt(v)}" for k, v in m.items()),
    ]
    if report.calibration.ece is not None:
        lines.append(f"calibration: ECE {report.calibration.ece:.4f} ({report.calibration.binning})")
    worst = [s for s in report.slices[:3]]
    if worst:
        lines.append(f"worst {len(worst)} of {len(report.slices)} slices by {report.slice_metric} "
                     "(all of them: --json or --export):")
    for s in worst:
        flag = " UNSTABLE" if s.unstable else ""
        lines.append(
            f"slice {s.column}={s.value}: n={s.n} "
            f"{report.slice_metric}={_fmt(s.metrics.get(report.slice_metric))}{flag}"
        )
    d = report.decision
    if d is not None:
        lines.append(
            f"decision: threshold {d.threshold:.4g} -> expected cost {d.expected_cost:.4g}/row "
            f"(at {d.reference_threshold:g}: {d.expected_cost_at_reference:.4g}) with cost_fp={d.cost_fp:g}, "
            f"cost_fn={d.cost_fn:g}"
        )
    c = report.comparison
    if c is not None:
        lines.append(
            f"models: best overall on {c.metric}: {c.overall_winner or 'tie'}; at the given costs: "
            f"{c.winner_at_given_costs or 'tie'}"
        )
        for sc in c.slices:
            if sc.differs_from_overall:
                lines.append(f"  but on {sc.column}={sc.value} the better model is {sc.winner}")
        for w in c.wins:
            lines.append(f"  cost_fn/cost_fp in [{w.ratio_from:.3g}, {w.ratio_to:.3g}]: {w.winner or 'tie'} wins")
    return "\n".join(lines)


def render_html(report: EvaluationReport, figures: dict[str, go.Figure]) -> str:
    """One self-contained HTML page (plotly.js inlined once, so it works offline)."""
    t = report_tables(report)
    titles = {
        "metrics": "Metrics",
        "slices": f"Slices (worst first on {report.slice_metric})",
        "decision": "Decision",
        "slice_costs": "Cost per slice (at the chosen threshold)",
        "errors": "Top errors",
        "clusters": f"Error clusters: {report.errors.cluster_method}",
        "models": f"Models ({report.comparison.metric if report.comparison else ''})",
    }
    parts = [f"<h1>Evaluation of {html.escape(report.source)}</h1>", f"<pre>{html.escape(summary_text(report))}</pre>"]
    for key, title in titles.items():
        if t[key]:
            parts += [f"<h2>{html.escape(title)}</h2>", _table(t[key])]
    parts.append("<h2>Figures</h2>")
    for i, (name, fig) in enumerate(figures.items()):
        parts.append(
            f'<div id="fig-{html.escape(name)}">' + fig.to_html(full_html=False, include_plotlyjs=(i == 0)) + "</div>"
        )
    parts.append("<h2>Notes</h2><ul>" + "".join(f"<li>{html.escape(n)}</li>" for n in report.notes) + "</ul>")
    style = (
        "body{font-family:sans-serif;margin:2em;max-width:1200px}table{border-collapse:collapse;margin:1em 0}"
        "td,th{border:1px solid #ccc;padding:3px 8px;text-align:left}"
    )
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>mlfi evaluation</title><style>{style}</style>"
        f"</head><body>{''.join(parts)}</body></html>"
    )


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
