"""Use cases behind `mlfi baseline` / `analyze` / `ingest` / `export`: probe, learn, compare, persist."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pandas as pd
import requests
from loguru import logger

from app.baseline import learn_baseline, load_baseline, save_baseline
from app.checks import check_unit_interval
from app.config import Settings
from app.errors import EndpointError, InputError
from app.schemas import Baseline, Report, Sample
from app.storage import Endpoint, Store

__all__ = [
    "EndpointSpec",
    "collect",
    "export_metrics",
    "ingest_csv",
    "parse_headers",
    "resolve_target",
    "run_analyze",
    "run_baseline",
]

# a run of probes is aborted when this many in a row fail at the start: the endpoint or payload is wrong
_EARLY_ABORT = 5


class EndpointSpec:
    """What the user said about an endpoint on the command line (None = take the stored value)."""

    def __init__(self, url: str, protocol: str | None = None, probe_set: str | None = None,
                 label_column: str | None = None, headers: dict[str, str] | None = None,
                 model_name: str | None = None, timeout_s: float | None = None) -> None:
        self.url, self.protocol, self.probe_set, self.label_column = url, protocol, probe_set, label_column
        self.headers, self.model_name, self.timeout_s = headers, model_name, timeout_s


def parse_headers(items: tuple[str, ...] | list[str]) -> dict[str, str]:
    """``["Authorization: Bearer x"]`` -> ``{"Authorization": "Bearer x"}``; values never logged.

    >>> parse_headers(["X-Key: abc", "A:b:c"])
    {'X-Key': 'abc', 'A': 'b:c'}
    """
    out: dict[str, str] = {}
    for n, item in enumerate(items, start=1):
        if ":" not in item:     # the whole item may be a secret ('Authorization SECRET'): never echo it
            raise InputError(f"bad --header #{n} (value not shown): expected NAME:VALUE")
        k, v = item.split(":", 1)
        if not k.strip():
            raise InputError("bad --header: empty header name")
        out[k.strip()] = v.strip()
    return out


def _validate_url(url: str) -> None:
    from app.probing.urls import check_url

    check_url(url)


def resolve_target(settings: Settings, store: Store, spec: EndpointSpec,
                   persist: bool = True) -> tuple[Any, Any, dict[str, Any]]:
    """Merge CLI flags with the stored endpoint, load the probe set, detect the protocol.

    Returns (ProbeTarget, ProbeSet, endpoint fields). With ``persist`` the merged configuration is
    stored at once; otherwise the caller stores it (``remember``) only after the probes succeeded, so a
    failed run with a wrong probe set never replaces the endpoint's working configuration.
    """
    from app.probing import Overrides, ProbeSet, check_protocol, default_probe_set_path, target_for

    _validate_url(spec.url)
    stored = store.find_endpoint(spec.url) or Endpoint(id=0, name=spec.url)
    check_protocol(spec.protocol or stored.protocol or "auto")   # a bad flag fails before the probe set is read
    headers = spec.headers or stored.headers
    probe_path = spec.probe_set or stored.probe_set or str(default_probe_set_path())
    label_column = spec.label_column or stored.label_column
    if label_column is None and not (spec.probe_set or stored.probe_set):
        label_column = "target"   # the shipped demo probe set is labelled
    if not Path(probe_path).exists():
        raise InputError(f"probe set not found: {probe_path}")
    probe_set = ProbeSet.from_csv(probe_path, label_column=label_column)
    first_row, _ = probe_set.rows(1, seed=0)[0]
    target = target_for(stored, Overrides(url=spec.url, protocol=spec.protocol, headers=spec.headers or {},
                                          model_name=spec.model_name, timeout_s=spec.timeout_s),
                        timeout_s=settings.probe_timeout_s, detect_with=first_row)
    if (spec.protocol or stored.protocol or "auto") == "auto":
        logger.info(f"detected protocol {target.protocol} at {target.url}")
    url, protocol = target.url, target.protocol
    fields = {"url": url, "protocol": protocol, "headers": headers or None,
              "probe_set": str(Path(probe_path).resolve()), "label_column": label_column,
              "model_name": target.model_name}
    if persist:
        remember(store, spec.url, fields)
    return target, probe_set, fields


def remember(store: Store, name: str, fields: dict[str, Any]) -> Endpoint:
    """Store an endpoint's working configuration (URL, protocol, headers, probe set)."""
    return store.upsert_endpoint(name, **fields)


def _is_misconfiguration(s: Sample) -> bool:
    """A fault that says the probe itself is wrong (nobody listening, payload refused), not the model."""
    return s.error_kind == "connection_error" or bool(s.status_code and 400 <= s.status_code < 500)


def collect(target: Any, probe_set: Any, n: int, *, seed: int, concurrency: int = 1,
            strict: bool = True) -> list[Sample]:
    """Probe ``n`` times with ``concurrency`` workers (one session each); results keep the row order.

    Faults come back as error samples. If the first probes all fail, the run aborts with one clear line:
    the URL, protocol or probe payload is wrong, and probing on would only store noise. With
    ``strict=False`` (analysis of a known endpoint) only misconfiguration aborts (refused connections,
    4xx); 5xx, timeouts and malformed bodies are what the analysis is there to measure.
    """
    from concurrent.futures import ThreadPoolExecutor

    from app.probing import probe_once

    rows = probe_set.rows(n, seed=seed)
    head, tail = rows[:_EARLY_ABORT], rows[_EARLY_ABORT:]
    with requests.Session() as session:
        out = [probe_once(target, row, label, session=session) for row, label in head]
    if len(out) == _EARLY_ABORT and all((not x.ok) if strict else _is_misconfiguration(x) for x in out):
        kinds = sorted({f"{x.error_kind}{' ' + str(x.status_code) if x.status_code else ''}" for x in out})
        detail = (out[-1].error_detail or "")[:160]
        if any(x.status_code and 400 <= x.status_code < 500 for x in out):
            hint = " (does the probe set have the model's columns?)"      # the server refused the payload
        elif any(x.error_kind in ("malformed_response", "protocol_error") for x in out):
            hint = " (the replies could not be read as predictions: is --protocol right?)"
        else:
            hint = ""
        raise EndpointError(f"first {_EARLY_ABORT} probes of {target.url} failed: "
                            f"{', '.join(kinds)}{hint}; {detail}".rstrip("; "))
    if not tail:
        return out
    workers = max(1, min(concurrency, len(tail)))
    chunks = [tail[i::workers] for i in range(workers)]

    def _run(chunk: list[tuple[dict[str, Any], Any]]) -> list[Sample]:
        with requests.Session() as sess:
            return [probe_once(target, row, label, session=sess) for row, label in chunk]

    with ThreadPoolExecutor(max_workers=workers) as pool:
        results = list(pool.map(_run, chunks))
    merged: list[Sample] = [None] * len(tail)  # type: ignore[list-item]
    for w, res in enumerate(results):
        for j, smp in enumerate(res):
            merged[w + j * workers] = smp
    return out + merged


def run_baseline(settings: Settings, store: Store, spec: EndpointSpec, n: int, seed: int = 0,
                 concurrency: int = 1) -> Baseline:
    target, probe_set, fields = resolve_target(settings, store, spec, persist=False)
    samples = collect(target, probe_set, n, seed=seed, concurrency=concurrency)
    remember(store, spec.url, fields)
    store.add_samples(samples)
    baseline = learn_baseline(spec.url, samples, protocol=target.protocol)
    err = baseline.metrics.error_rate
    if err > 0.5:
        raise EndpointError(f"refusing to learn a baseline: {err:.0%} of the {n} probes failed")
    return save_baseline(settings, store, baseline)


def _analyze(settings: Settings, store: Store, name: str, samples: list[Sample], baseline: Baseline) -> Report:
    from app.detection import analyze_window
    from app.governance import on_report, sensitivity_for

    report = analyze_window(baseline, samples, settings=settings, sensitivity=sensitivity_for(store, name))
    return on_report(store, report, settings)


def run_analyze(settings: Settings, store: Store, spec: EndpointSpec, n: int, seed: int = 1,
                concurrency: int = 1) -> Report:
    load_baseline(settings, store, spec.url)   # fail fast (exit 2) before probing
    target, probe_set, fields = resolve_target(settings, store, spec, persist=False)
    baseline = load_baseline(settings, store, spec.url)
    samples = collect(target, probe_set, n, seed=seed, concurrency=concurrency, strict=False)
    remember(store, spec.url, fields)
    store.add_samples(samples)
    return _analyze(settings, store, spec.url, samples, baseline)


_COLUMN_ALIASES = {
    "prediction": ("prediction", "pred", "predicted", "y_pred", "label_pred"),
    "confidence": ("confidence", "score", "probability", "proba", "y_score"),
    "label": ("label", "target", "y_true", "actual", "ground_truth"),
    "ts": ("ts", "timestamp", "time", "datetime"),
    "latency_ms": ("latency_ms", "latency"),
}


def _pick(df: pd.DataFrame, given: str | None, role: str) -> str | None:
    if given:
        if given not in df.columns:
            raise InputError(f"column {given!r} not in the CSV (columns: {', '.join(map(str, df.columns[:12]))})")
        return given
    for c in _COLUMN_ALIASES[role]:
        if c in df.columns:
            return c
    return None


def guess_columns(reference: pd.DataFrame, current: pd.DataFrame, *, target: str | None = None,
                  prediction_column: str | None = None,
                  confidence_column: str | None = None) -> tuple[str | None, str | None, str | None]:
    """Fill in the label / prediction / confidence columns a user did not name, from common names
    present in BOTH files (the same aliases `mlfi ingest` uses), so they are not tested as features.

    >>> df = pd.DataFrame({"x": [1.0], "prediction": [1], "score": [0.9], "label": [1]})
    >>> guess_columns(df, df)
    ('label', 'prediction', 'score')
    """
    common = reference.columns.intersection(current.columns)
    both = pd.DataFrame(columns=common)

    def pick(given: str | None, role: str) -> str | None:
        if given:
            return given   # validated by compare_frames with its own message
        return _pick(both, None, role)

    return pick(target, "label"), pick(prediction_column, "prediction"), pick(confidence_column, "confidence")


def read_csv(path: str | Path) -> pd.DataFrame:
    """Read a CSV or raise InputError with one line (missing, a directory, unreadable, empty)."""
    p = Path(path)
    if not p.exists():
        raise InputError(f"file not found: {p}")
    if not p.is_file():
        raise InputError(f"not a file: {p}")
    try:
        df = pd.read_csv(p)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, OSError) as exc:
        raise InputError(f"cannot read CSV {p}: {str(exc).splitlines()[0]}") from exc
    if df.empty:
        raise InputError(f"CSV {p} has no rows")
    return df


_EARLIEST_TS = 946684800.0          # 2000-01-01: logged predictions older than that are a wrong column


def _timestamps(col: pd.Series, name: str, now: float) -> list[float]:
    """Epoch seconds from dates or epoch numbers (seconds, or milliseconds when that large); rows without a
    time get ``now``. A column whose times fall before 2000 or after tomorrow is not a timestamp column.

    >>> _timestamps(pd.Series(["2026-01-02T00:00:00Z", None]), "ts", 1.8e9)
    [1767312000.0, 1800000000.0]
    >>> _timestamps(pd.Series([1767312000000]), "ts", 1.8e9)
    [1767312000.0]
    >>> _timestamps(pd.Series([0, 1]), "label", 1.8e9)
    Traceback (most recent call last):
    ...
    app.errors.InputError: timestamp column 'label' holds times from 1970-01-01 to 1970-01-01: not a timestamp column (dates or epoch seconds after 2000 expected)
    """
    if pd.api.types.is_numeric_dtype(col):
        vals = col.astype(float)
        vals = vals.where(vals.abs() < 1e11, vals / 1000.0)          # epoch milliseconds
    else:
        parsed = pd.to_datetime(col, errors="coerce", utc=True, format="mixed")
        if parsed.isna().all():
            raise InputError(f"timestamp column {name!r} is neither dates nor epoch seconds")
        vals = pd.Series([p.timestamp() if not pd.isna(p) else float("nan") for p in parsed], index=col.index)
    known = vals.dropna()
    if not known.empty and (known.min() < _EARLIEST_TS or known.max() > now + 86400):
        lo, hi = (pd.to_datetime(v, unit="s", utc=True).strftime("%Y-%m-%d") for v in (known.min(), known.max()))
        raise InputError(f"timestamp column {name!r} holds times from {lo} to {hi}: not a timestamp column "
                         "(dates or epoch seconds after 2000 expected)")
    return [now if pd.isna(v) else float(v) for v in vals]


def ingest_csv(store: Store, name: str, path: str | Path, *, prediction_column: str | None = None,
               confidence_column: str | None = None, label_column: str | None = None,
               ts_column: str | None = None) -> int:
    """Append logged predictions as samples (source 'ingest'); one transaction, all rows or none.

    An endpoint the watcher probes is refused: its logs go under another name, so probing is never silently
    switched off and probe and logged traffic never mix in one window.
    """
    existing = store.find_endpoint(name)
    if existing and existing.protocol not in (None, "", "ingest"):
        raise InputError(f"endpoint {name!r} is probed over HTTP (protocol {existing.protocol}): ingest its logged "
                         f"predictions under another name, e.g. --endpoint '{name}-logs'")
    df = read_csv(path)
    pred = _pick(df, prediction_column, "prediction")
    if pred is None:
        raise InputError(f"no prediction column in {path}: pass --prediction-column")
    conf = _pick(df, confidence_column, "confidence")
    lab = _pick(df, label_column, "label")
    tcol = _pick(df, ts_column, "ts")
    lat = _pick(df, None, "latency_ms")
    if conf is not None and not pd.api.types.is_numeric_dtype(df[conf]):
        raise InputError(f"confidence column {conf!r} is not numeric")
    if conf is not None:
        check_unit_interval(df[conf], f"confidence column {conf!r} in {path}")
    now = time.time()
    if tcol is not None:
        times = _timestamps(df[tcol], tcol, now)
    else:
        times = [now + i * 1e-3 for i in range(len(df))]
    feature_cols = [c for c in df.columns if c not in {pred, conf, lab, tcol, lat}]
    records = df.to_dict(orient="records")
    samples = []
    for i, r in enumerate(records):
        inputs = {c: (None if pd.isna(r[c]) else r[c]) for c in feature_cols}
        c = r[conf] if conf else None
        samples.append(Sample(endpoint=name, ts=float(times[i]), source="ingest", inputs=inputs or None,
                              prediction=None if pd.isna(r[pred]) else str(r[pred]),
                              confidence=None if c is None or pd.isna(c) else float(c),
                              label=None if lab is None or pd.isna(r[lab]) else str(r[lab]),
                              latency_ms=None if lat is None or pd.isna(r[lat]) else float(r[lat])))
    store.upsert_endpoint(name, protocol="ingest")
    return store.add_samples(samples)


def export_metrics(store: Store, name: str, out: str | Path, *, bucket_s: float = 60.0,
                   kind: str = "samples") -> int:
    """Write the metrics time series (per time bucket, or per stored report) as CSV; no secrets."""
    from app.exporting import metrics_frame, reports_frame

    store.get_endpoint(name)
    df = reports_frame(store, name) if kind == "reports" else metrics_frame(store, name, bucket_s=bucket_s)
    from app.atomic_file import write_atomic

    write_atomic(out, df.to_csv(index=False))   # a regular file or a new path only, temp + rename
    return len(df)
