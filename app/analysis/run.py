"""The live use cases: probe an endpoint, learn its baseline, or analyse a window against it.

probe -> window -> suite -> RCA -> report -> governance (``mlfi baseline`` / ``mlfi analyze``).
"""

from __future__ import annotations

import threading

import requests

from app.analysis.target import EndpointSpec, remember, resolve_target
from app.analysis.window import analyze_window
from app.config import Settings
from app.detection.baseline import learn_baseline
from app.errors import EndpointError
from app.governance import on_report, sensitivity_for
from app.probing import ProbeSet, ProbeTarget, probe_once
from app.schemas import Baseline, Report, Sample
from app.storage import Store
from app.storage.baselines import load_baseline, save_baseline

__all__ = ["collect", "run_analyze", "run_baseline"]

# a run of probes is aborted when this many in a row fail at the start: the endpoint or payload is wrong
_EARLY_ABORT = 5


def _is_misconfiguration(s: Sample) -> bool:
    """A fault that says the probe itself is wrong (nobody listening, payload refused), not the model."""
    return s.error_kind == "connection_error" or bool(s.status_code and 400 <= s.status_code < 500)


def collect(target: ProbeTarget, probe_set: ProbeSet, n: int, *, seed: int, concurrency: int = 1,
            strict: bool = True) -> list[Sample]:
    """Probe ``n`` times with ``concurrency`` workers (one session each); results keep the row order.

    Faults come back as error samples. If the first probes all fail, the run aborts with one clear line:
    the URL, protocol or probe payload is wrong, and probing on would only store noise. With
    ``strict=False`` (analysis of a known endpoint) only misconfiguration aborts (refused connections,
    4xx); 5xx, timeouts and malformed bodies are what the analysis is there to measure.
    """
    order = probe_set.order(n, seed=seed)       # indices only: rows are copied as they are sent
    head, tail = order[:_EARLY_ABORT], order[_EARLY_ABORT:]
    with requests.Session() as session:
        out = [probe_once(target, *probe_set.row(i), session=session) for i in head]
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
    chunks = [range(w, len(tail), workers) for w in range(workers)]
    results: list[list[Sample]] = [[] for _ in range(workers)]
    stop = threading.Event()
    failures: list[BaseException] = []

    def _run(w: int) -> None:
        try:
            with requests.Session() as sess:
                for j in chunks[w]:
                    if stop.is_set():
                        return
                    results[w].append(probe_once(target, *probe_set.row(tail[j]), session=sess))
        except BaseException as exc:  # noqa: BLE001 - handed to the main thread, raised there
            failures.append(exc)
            stop.set()

    # daemon threads, joined with a short timeout: Ctrl-C reaches the main thread within a fraction of a
    # second, the workers stop before their next probe, and exiting never waits for a probe in flight
    threads = [threading.Thread(target=_run, args=(w,), daemon=True, name=f"probe-{w}") for w in range(workers)]
    for th in threads:
        th.start()
    try:
        for th in threads:
            while th.is_alive():
                th.join(0.1)
    except BaseException:
        stop.set()
        raise
    if failures:
        raise failures[0]
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
    report = analyze_window(baseline, samples, settings=settings, sensitivity=sensitivity_for(store, name))
    return on_report(store, report, settings)


def run_analyze(settings: Settings, store: Store, spec: EndpointSpec, n: int, seed: int = 1,
                concurrency: int = 1) -> Report:
    baseline = load_baseline(settings, store, spec.url)   # fail fast (exit 2) before probing
    target, probe_set, fields = resolve_target(settings, store, spec, persist=False)
    samples = collect(target, probe_set, n, seed=seed, concurrency=concurrency, strict=False)
    remember(store, spec.url, fields)
    store.add_samples(samples)
    return _analyze(settings, store, spec.url, samples, baseline)
