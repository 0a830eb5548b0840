"""`MlfiCollector`: a prometheus_client custom collector that reads mlfi's state from the store at scrape time.

Nothing is pushed from the watcher: each scrape reads the database (see :mod:`app.storage.read.metrics`
and :mod:`app.storage.read.sample_counts`), so the API process shows what every watcher and ingest wrote.
Labels are bounded: endpoint names (configuration; at most ``MAX_ENDPOINTS``, cut to ``NAME_CHARS``),
known outcome kinds, detector names, root causes, severities and priorities; never a feature value,
a prediction or a prediction id.
"""

from __future__ import annotations

import platform
import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

from loguru import logger
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector

from app import __version__
from app.schemas import PRIORITIES, ROOT_CAUSES, SEVERITIES, severity_rank
from app.storage import Store
from app.storage.errors import DatabaseError
from app.storage.read import metrics as state
from app.storage.read.sample_counts import LatencyHistogram, SampleCounts

__all__ = ["OTHER", "MlfiCollector"]

OTHER = "_other"    # the endpoint label of endpoints past MAX_ENDPOINTS (counters and histograms only)


def _build_info() -> GaugeMetricFamily:
    g = GaugeMetricFamily("mlfi_build_info", "mlfi build: version and Python version (always 1).",
                          labels=["version", "python_version"])
    g.add_metric([__version__, platform.python_version()], 1.0)
    return g


class MlfiCollector(Collector):
    """Every ``mlfi_`` metric, computed from ``store`` when Prometheus scrapes."""

    def __init__(self, store: Store, *, clock: Any = time.time) -> None:
        self.store = store
        self.clock = clock
        self.samples = SampleCounts()
        self.verdicts = state.VerdictCache()

    def describe(self) -> list[Metric]:
        return []       # metrics are only known at scrape time; registering reads nothing

    def collect(self) -> Iterator[Metric]:
        started = time.perf_counter()
        yield _build_info()
        try:
            families = list(self._families())
            up = 1.0
        except DatabaseError as exc:
            logger.warning(f"/metrics: the store could not be read: {type(exc).__name__}")
            families, up = [], 0.0
        yield from families
        yield GaugeMetricFamily("mlfi_store_up", "1 when the last scrape could read the database, else 0.", value=up)
        yield GaugeMetricFamily("mlfi_scrape_duration_seconds", "Time this scrape spent reading the store.",
                                value=time.perf_counter() - started)

    # ---- families ---------------------------------------------------------------------------
    def _families(self) -> Iterator[Metric]:
        engine = self.store.engine
        eps = state.endpoints(engine)
        named = eps[:state.MAX_ENDPOINTS]
        label = {e.id: e.name for e in named}
        yield from self._endpoint_gauges(named)
        yield from self._sample_families(engine, label)
        yield from self._verdict_families(engine, named)
        yield from self._incident_families(engine, label)
        yield from self._recommendation_families(engine)
        yield from self._watcher_families(engine)

    def _endpoint_gauges(self, eps: list[state.EndpointRow]) -> Iterator[Metric]:
        enabled = GaugeMetricFamily("mlfi_endpoint_enabled", "1 when the watcher probes the endpoint.",
                                    labels=["endpoint"])
        up = GaugeMetricFamily("mlfi_endpoint_up", "1 when the endpoint's last probe succeeded, 0 when it failed.",
                               labels=["endpoint"])
        fails = GaugeMetricFamily("mlfi_endpoint_consecutive_failures", "Failed probes in a row (0 after a success).",
                                  labels=["endpoint"])
        last = GaugeMetricFamily("mlfi_endpoint_last_probe_timestamp_seconds", "Unix time of the last probe.",
                                 labels=["endpoint"])
        for e in eps:
            enabled.add_metric([e.name], 1.0 if e.enabled else 0.0)
            fails.add_metric([e.name], float(e.consecutive_failures))
            if e.last_status is not None:
                up.add_metric([e.name], 1.0 if e.last_status == "ok" else 0.0)
            if e.last_probe_at is not None:
                last.add_metric([e.name], e.last_probe_at)
        yield from (enabled, up, fails, last)

    def _sample_families(self, engine: Any, label: dict[int, str]) -> Iterator[Metric]:
        self.samples.update(engine)
        probes = CounterMetricFamily("mlfi_probes", "Probes sent by the watcher, by outcome (ok or the error kind).",
                                     labels=["endpoint", "outcome"])
        logged = CounterMetricFamily("mlfi_ingested_predictions", "Logged predictions ingested, by outcome.",
                                     labels=["endpoint", "outcome"])
        by: Counter[tuple[str, str, str]] = Counter()
        for (eid, source, outcome), n in self.samples.outcomes.items():
            by[(label.get(eid, OTHER), source, outcome)] += n
        for (name, source, outcome), n in sorted(by.items()):
            (probes if source == "probe" else logged).add_metric([name, outcome], float(n))
        hist = HistogramMetricFamily("mlfi_prediction_latency_seconds",
                                     "Latency of successful predictions (probes and logged ones with a latency).",
                                     labels=["endpoint"])
        merged: dict[str, LatencyHistogram] = {}
        for eid, h in self.samples.latency.items():
            m = merged.setdefault(label.get(eid, OTHER), LatencyHistogram())
            m.buckets = [a + b for a, b in zip(m.buckets, h.buckets, strict=True)]
            m.count += h.count
            m.total_s += h.total_s
        for name, h in sorted(merged.items()):
            hist.add_metric([name], h.cumulative(), h.total_s)
        yield from (probes, logged, hist)

    def _verdict_families(self, engine: Any, eps: list[state.EndpointRow]) -> Iterator[Metric]:
        verdicts = self.verdicts.latest(engine, [e.id for e in eps])
        sev = GaugeMetricFamily("mlfi_verdict_severity", "Severity of the latest analysis (0 none .. 4 critical).",
                                labels=["endpoint"])
        cause = GaugeMetricFamily("mlfi_verdict_root_cause", "1 for the root cause of the latest analysis, else 0.",
                                  labels=["endpoint", "root_cause"])
        det = GaugeMetricFamily("mlfi_detector_verdict",
                                "Worst severity a detector flagged in the latest analysis (0: not flagged).",
                                labels=["endpoint", "detector"])
        at = GaugeMetricFamily("mlfi_last_analysis_timestamp_seconds", "Unix time of the latest analysis.",
                               labels=["endpoint"])
        acc = GaugeMetricFamily("mlfi_accuracy_ratio", "Accuracy on the labelled rows of the latest analysis.",
                                labels=["endpoint"])
        base = GaugeMetricFamily("mlfi_baseline_accuracy_ratio", "Accuracy of the baseline the latest analysis used.",
                                 labels=["endpoint"])
        err = GaugeMetricFamily("mlfi_error_ratio", "Share of failed predictions in the latest analysis window.",
                                labels=["endpoint"])
        known = _detector_names()
        for e in eps:
            v = verdicts.get(e.id)
            if v is None:
                continue
            sev.add_metric([e.name], float(severity_rank(v.severity) if v.severity in SEVERITIES else 0))
            for rc in ROOT_CAUSES:
                cause.add_metric([e.name, rc], 1.0 if rc == v.root_cause else 0.0)
            for d in sorted(set(known) | set(v.detectors)):
                s = v.detectors.get(d)
                det.add_metric([e.name, d], float(severity_rank(s)) if s else 0.0)
            at.add_metric([e.name], v.ts)
            for fam, value in ((acc, v.accuracy), (base, v.baseline_accuracy), (err, v.error_rate)):
                if isinstance(value, (int, float)):
                    fam.add_metric([e.name], float(value))
        yield from (sev, cause, det, at, acc, base, err)

    def _incident_families(self, engine: Any, label: dict[int, str]) -> Iterator[Metric]:
        rows = state.open_incidents(engine)
        count = GaugeMetricFamily("mlfi_incidents_open", "Open incidents per endpoint.", labels=["endpoint"])
        detail = GaugeMetricFamily("mlfi_incident_open", "1 per open incident, with its root cause and severity.",
                                   labels=["endpoint", "root_cause", "severity"])
        per: Counter[str] = Counter({name: 0 for name in label.values()})
        cells: Counter[tuple[str, str, str]] = Counter()
        for eid, rc, sv in rows:
            name = label.get(eid, OTHER)
            per[name] += 1
            cells[(name, rc, sv)] += 1
        for name, n in sorted(per.items()):
            count.add_metric([name], float(n))
        for key, n in sorted(cells.items()):
            detail.add_metric(list(key), float(n))
        opened = CounterMetricFamily("mlfi_incidents_opened", "Incidents opened so far.", labels=["endpoint"])
        total: Counter[str] = Counter()
        for eid, n in state.incidents_opened(engine).items():
            total[label.get(eid, OTHER)] += n
        for name, n in sorted(total.items()):
            opened.add_metric([name], float(n))
        yield from (count, detail, opened)

    def _recommendation_families(self, engine: Any) -> Iterator[Metric]:
        pending = state.pending_recommendations(engine)
        g = GaugeMetricFamily("mlfi_recommendations_pending", "Recommendations awaiting a decision, by priority.",
                              labels=["priority"])
        for p in PRIORITIES:
            g.add_metric([p], float(pending.get(p, 0)))
        yield g

    def _watcher_families(self, engine: Any) -> Iterator[Metric]:
        rows = state.watcher_rows(engine)
        now = self.clock()
        age = GaugeMetricFamily("mlfi_watcher_heartbeat_age_seconds", "Seconds since the watcher's last heartbeat.",
                                labels=["watcher"])
        beat = GaugeMetricFamily("mlfi_watcher_last_heartbeat_timestamp_seconds",
                                 "Unix time of the watcher's last heartbeat.", labels=["watcher"])
        running = GaugeMetricFamily("mlfi_watcher_running", "1 while the watcher says it is running.",
                                    labels=["watcher"])
        for r in rows[:state.MAX_ENDPOINTS]:
            wid = str(r["id"])
            running.add_metric([wid], 1.0 if r.get("status") == "running" else 0.0)
            if r.get("last_beat") is not None:
                age.add_metric([wid], max(0.0, now - float(r["last_beat"])))
                beat.add_metric([wid], float(r["last_beat"]))
        yield from (age, beat, running)


def _detector_names() -> list[str]:
    from app.detection.registry import names

    return names()
