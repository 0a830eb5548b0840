"""`mlfi baseline | analyze | compare | ingest | export`: thin wrappers over app.analysis."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import click

from app.commands._io import RegistryChoice, emit, protocol_choices, settings_store

if TYPE_CHECKING:
    from app.analysis.target import EndpointSpec
    from app.config import Settings
    from app.schemas import Report
    from app.storage import Store

__all__ = ["MAX_BASELINE_ROWS", "register"]

MAX_BASELINE_ROWS = 50_000     # `ingest --as-baseline` learns from the newest rows of the file, at most this many


def _endpoint_options(f: Callable[..., Any]) -> Callable[..., Any]:
    opts = [
        click.argument("url"),
        click.option("--protocol", type=RegistryChoice(protocol_choices), default=None,
                     help="Protocol the endpoint speaks (default: stored, else auto-detect)."),
        click.option("--probe-set", "probe_set", type=str, default=None,
                     help="CSV of feature columns (+ optional label column) to send as probes."),
        click.option("--label-column", type=str, default=None, help="Label column of the probe set."),
        click.option("--header", "headers", multiple=True, help="K:V header sent with every probe (never logged); a value may be ${ENV_VAR}, stored as the reference and read when sending."),
        click.option("--model-name", type=str, default=None, help="Model name for V1/V2 protocols."),
        click.option("--timeout", "timeout_s", type=click.FloatRange(min=0.01), default=None, help="Probe timeout, s."),
        click.option("--samples", "n", type=click.IntRange(min=1, max=1_000_000), default=150, show_default=True),
        click.option("--seed", type=int, default=None, help="Seed of the probe-row sampling."),
        click.option("--concurrency", type=click.IntRange(min=1, max=64), default=1, show_default=True,
                     help="Parallel probe workers (use the same value for baseline and analyze)."),
        click.option("--json", "as_json", is_flag=True, help="Print one JSON document."),
    ]
    for o in reversed(opts):
        f = o(f)
    return f


def _spec(url: str, protocol: str | None, probe_set: str | None, label_column: str | None,
          headers: tuple[str, ...], model_name: str | None, timeout_s: float | None) -> EndpointSpec:
    from app.analysis.target import EndpointSpec, parse_headers

    return EndpointSpec(url, protocol=protocol, probe_set=probe_set, label_column=label_column,
                        headers=parse_headers(headers), model_name=model_name, timeout_s=timeout_s)


def _store(ctx: click.Context) -> tuple[Settings, Store]:
    return settings_store(ctx)


def _verdict_line(rep: Report) -> str:
    m = rep.metrics
    acc = "n/a" if m.accuracy is None else f"{m.accuracy:.3f}"
    conf = "n/a" if m.avg_confidence is None else f"{m.avg_confidence:.3f}"
    lines = [f"{rep.endpoint}: root cause {rep.rca.root_cause} (severity {rep.rca.severity})",
             f"  {rep.rca.failure_reason}",
             f"  samples {m.total_samples}  accuracy {acc}  avg confidence {conf}  error rate {m.error_rate:.3f}"]
    for r in rep.recommendations[:5]:
        lines.append(f"  [{r.priority}] {r.action}  (id {r.id}, {r.status})")
    return "\n".join(lines)


def register(group: click.Group) -> None:
    @group.command("baseline")
    @_endpoint_options
    @click.pass_context
    def baseline_cmd(ctx: click.Context, url: str, protocol: str | None, probe_set: str | None,
                     label_column: str | None, headers: tuple[str, ...], model_name: str | None,
                     timeout_s: float | None, n: int, seed: int | None, concurrency: int, as_json: bool) -> None:
        """Probe URL N times and store the learned baseline (a new version)."""
        from app.analysis.run import run_baseline
        from app.detection.baseline import baseline_size_problem
        from app.errors import InputError

        problem = baseline_size_problem(n, "probes")
        if problem:                      # refused before anything is probed or stored
            raise InputError(f"--samples {n}: {problem}")
        settings, store = _store(ctx)
        b = run_baseline(settings, store, _spec(url, protocol, probe_set, label_column, headers, model_name,
                                                timeout_s), n, seed=0 if seed is None else seed,
                         concurrency=concurrency)
        out = {"endpoint": b.endpoint, "version": b.version, "protocol": b.protocol, "n_samples": b.n_samples,
               "metrics": b.metrics.model_dump(), "features": sorted(b.features),
               "classes": b.class_counts}
        emit(out, as_json, f"baseline v{b.version} for {b.endpoint} ({b.protocol}) from {b.n_samples} probes: "
                           f"accuracy {b.metrics.accuracy}, avg confidence {b.metrics.avg_confidence}")

    @group.command("analyze")
    @_endpoint_options
    @click.option("--fail-on-alert", is_flag=True, help="Exit 1 when the verdict is an alert (for CI jobs).")
    @click.pass_context
    def analyze_cmd(ctx: click.Context, url: str, protocol: str | None, probe_set: str | None,
                    label_column: str | None, headers: tuple[str, ...], model_name: str | None,
                    timeout_s: float | None, n: int, seed: int | None, concurrency: int, as_json: bool,
                    fail_on_alert: bool) -> int:
        """Probe URL N times, compare with the stored baseline, print the report."""
        import random

        from app.analysis.run import run_analyze

        settings, store = _store(ctx)
        rep = run_analyze(settings, store, _spec(url, protocol, probe_set, label_column, headers, model_name,
                                                 timeout_s), n, seed=random.randrange(1 << 30) if seed is None else seed,
                          concurrency=concurrency)
        emit(rep.model_dump(mode="json"), as_json, _verdict_line(rep))
        return 1 if fail_on_alert and rep.alert else 0

    @group.command("compare")
    @click.argument("reference")
    @click.argument("current")
    @click.option("--target", default=None, help="Label column (enables accuracy checks).")
    @click.option("--prediction-column", default=None)
    @click.option("--confidence-column", default=None)
    @click.option("--endpoint", "endpoint", default=None, help="Store the report under this endpoint name.")
    @click.option("--json", "as_json", is_flag=True)
    @click.pass_context
    def compare_cmd(ctx: click.Context, reference: str, current: str, target: str | None,
                    prediction_column: str | None, confidence_column: str | None, endpoint: str | None,
                    as_json: bool) -> None:
        """Batch mode: compare logged REFERENCE.csv with CURRENT.csv (same report shape)."""
        from app.analysis.compare import compare_frames
        from app.analysis.ingest import guess_columns, read_csv
        from app.governance import on_report

        settings, store = _store(ctx)
        ref, cur = read_csv(reference), read_csv(current)
        target, prediction_column, confidence_column = guess_columns(
            ref, cur, target=target, prediction_column=prediction_column, confidence_column=confidence_column)
        rep = compare_frames(ref, cur, target=target, prediction_column=prediction_column,
                             confidence_column=confidence_column, settings=settings,
                             endpoint=endpoint or f"batch:{current}")
        rep = on_report(store, rep, settings, persist=endpoint is not None)
        emit(rep.model_dump(mode="json"), as_json, _verdict_line(rep))

    @group.command("ingest")
    @click.option("--endpoint", "endpoint", required=True, help="Endpoint name the rows belong to.")
    @click.argument("file")
    @click.option("--prediction-column", default=None)
    @click.option("--confidence-column", default=None)
    @click.option("--label-column", default=None)
    @click.option("--timestamp-column", "ts_column", default=None)
    @click.option("--as-baseline", is_flag=True, help="Also learn the endpoint's baseline from these rows.")
    @click.option("--json", "as_json", is_flag=True)
    @click.pass_context
    def ingest_cmd(ctx: click.Context, endpoint: str, file: str, prediction_column: str | None,
                   confidence_column: str | None, label_column: str | None, ts_column: str | None,
                   as_baseline: bool, as_json: bool) -> None:
        """Append logged predictions from FILE.csv (passive monitoring)."""
        from app.analysis.ingest import ingest_csv
        from app.detection.baseline import MIN_BASELINE_SAMPLES, learn_baseline
        from app.storage.baselines import save_baseline

        settings, store = _store(ctx)
        got = ingest_csv(store, endpoint, file, prediction_column=prediction_column,
                         confidence_column=confidence_column, label_column=label_column, ts_column=ts_column,
                         min_rows=MIN_BASELINE_SAMPLES if as_baseline else 0)
        n = got.ingested
        out: dict[str, Any] = {"endpoint": endpoint, "ingested": n, "total_samples": store.count_samples(endpoint)}
        if got.resumed_after:
            out["resumed_after_row"] = got.resumed_after
        if as_baseline:
            # the rows of this file (all of them when resumed), the newest MAX_BASELINE_ROWS at most: a baseline
            # keeps 5000 values per feature, and a million Sample objects would need gigabytes
            last_n = min(n + got.resumed_after, MAX_BASELINE_ROWS)
            b = save_baseline(settings, store, learn_baseline(endpoint, store.recent_samples(endpoint, last_n=last_n),
                                                              protocol="ingest"))
            out["baseline_version"] = b.version
        resumed = f", resumed after row {got.resumed_after}" if got.resumed_after else ""
        emit(out, as_json, f"ingested {n} rows into {endpoint} ({out['total_samples']} samples stored{resumed})")

    @group.command("export")
    @click.option("--endpoint", "endpoint", required=True)
    @click.option("--out", "out", required=True, help="Destination CSV file.")
    @click.option("--bucket", "bucket_s", type=click.FloatRange(min=0.001), default=60.0, show_default=True,
                  help="Bucket width in seconds for the sample time series.")
    @click.option("--kind", type=click.Choice(["samples", "reports"]), default="samples", show_default=True)
    @click.option("--json", "as_json", is_flag=True)
    @click.pass_context
    def export_cmd(ctx: click.Context, endpoint: str, out: str, bucket_s: float, kind: str, as_json: bool) -> None:
        """Write the metrics time series of an endpoint as CSV."""
        from app.exporting import export_metrics

        _, store = _store(ctx)
        rows = export_metrics(store, endpoint, out, bucket_s=bucket_s, kind=kind)
        emit({"endpoint": endpoint, "out": out, "rows": rows}, as_json, f"wrote {rows} rows to {out}")
