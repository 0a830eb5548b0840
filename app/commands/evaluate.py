"""`mlfi evaluate`: evaluation and decision analysis of a predictions CSV (thin: parse, call, print)."""

from __future__ import annotations

import click

from app.commands._io import emit

__all__ = ["register"]


def _split(value: str | None) -> list[str]:
    return [v.strip() for v in (value or "").split(",") if v.strip()]


def register(group: click.Group) -> None:
    @group.command("evaluate")
    @click.argument("predictions", metavar="PREDICTIONS.csv")
    @click.option("--label", required=True, help="Label column (binary: 0/1, or say --positive-label).")
    @click.option(
        "--score",
        required=True,
        help="Score column (probability of the positive class); multiclass: one column per class, comma-separated.",
    )
    @click.option(
        "--slices", default=None, help="Comma-separated slice columns (numeric ones with many values -> quartiles)."
    )
    @click.option("--cost-fp", type=float, default=1.0, show_default=True, help="Cost of one false positive.")
    @click.option("--cost-fn", type=float, default=1.0, show_default=True, help="Cost of one false negative.")
    @click.option("--threshold", type=float, default=0.5, show_default=True, help="Threshold used by `metrics`.")
    @click.option("--model-column", default=None, help="Column naming the model of each row (compare models; default: a column named model, model_name, model_id or model_version; '' pools all rows).")
    @click.option("--id-column", default=None, help="Case id column shown next to error rows.")
    @click.option(
        "--features",
        default=None,
        help="Comma-separated numeric columns for error clusters (default: all other numeric).",
    )
    @click.option("--positive-label", default=None, help="Which label value is the positive class.")
    @click.option("--bins", type=int, default=10, show_default=True, help="Calibration bins.")
    @click.option(
        "--calibration-strategy", "strategy", default="uniform", show_default=True, help="uniform or quantile bins."
    )
    @click.option(
        "--slice-metric", default="accuracy", show_default=True, help="Metric that orders slices (worst first)."
    )
    @click.option("--compare-metric", default="brier", show_default=True, help="Metric that compares models.")
    @click.option(
        "--min-slice-n", type=int, default=30, show_default=True, help="Slices smaller than this are unstable."
    )
    @click.option(
        "--min-slice-gap",
        type=float,
        default=0.05,
        show_default=True,
        help="A slice is also unstable when its metric differs from overall by this much (and beyond its CI).",
    )
    @click.option("--bootstrap", type=int, default=200, show_default=True, help="Bootstrap resamples for slice CIs.")
    @click.option(
        "--seed", type=int, default=0, show_default=True, help="Seed of the bootstrap and the error clustering."
    )
    @click.option("--top", "top_k", type=int, default=10, show_default=True, help="How many top FP/FN rows to list.")
    @click.option("--max-clusters", type=int, default=4, show_default=True, help="Most error clusters to look for.")
    @click.option(
        "--export", "export_path", default=None, help="Write a report: FILE.html (with figures) or FILE.json."
    )
    @click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
    def evaluate_cmd(
        predictions: str,
        label: str,
        score: str,
        slices: str | None,
        cost_fp: float,
        cost_fn: float,
        threshold: float,
        model_column: str | None,
        id_column: str | None,
        features: str | None,
        positive_label: str | None,
        bins: int,
        strategy: str,
        slice_metric: str,
        compare_metric: str,
        min_slice_n: int,
        min_slice_gap: float,
        bootstrap: int,
        seed: int,
        top_k: int,
        max_clusters: int,
        export_path: str | None,
        as_json: bool,
    ) -> None:
        """Metrics, calibration, slices, error analysis and cost-based thresholds for PREDICTIONS.csv."""
        from app.evaluation import EvalOptions, evaluate, load
        from app.evaluation.report import summary_text

        options = EvalOptions(
            threshold=threshold,
            cost_fp=cost_fp,
            cost_fn=cost_fn,
            bins=bins,
            strategy=strategy,
            slice_metric=slice_metric,
            min_slice_n=min_slice_n,
            min_slice_gap=min_slice_gap,
            bootstrap=bootstrap,
            seed=seed,
            top_k=top_k,
            max_clusters=max_clusters,
            compare_metric=compare_metric,
        )
        options.validate()  # fail on bad flags before reading a large file
        data = load(
            predictions,
            label=label,
            score=_split(score),
            slices=_split(slices),
            model_column=model_column,
            id_column=id_column,
            features=_split(features) if features else None,
            positive_label=positive_label,
        )
        report = evaluate(data, options, source=predictions)
        if export_path:
            from app.evaluation.plots import all_figures
            from app.evaluation.report import export_report

            out = export_report(report, all_figures(report, data), export_path)
            click.echo(f"report written to {out}", err=True)
        emit(report.to_json_dict(), as_json, human=summary_text(report))
