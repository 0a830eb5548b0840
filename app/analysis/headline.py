"""The headline of a watcher report: the worst finding active now, with every "also changed" finding listed.

A window report names the first firing rule as its root cause. In the watcher a window can still hold a
change that ended (errors that stopped minutes ago) while the sequential tests say what is failing now.
:func:`headline` reorders a report's findings: a finding whose signal the sequential monitor watches and
finds healthy now is not active; among the active ones the most severe becomes the root cause (ties keep
the rules' order). The others stay in ``rca.contributing`` and are listed, additively, in the report key
``also_changed`` (``[{"root_cause", "severity", "active"}]``). Findings no sequential signal covers
(feature drift, data quality) count as active.
"""

from __future__ import annotations

import re
from typing import Any

from app.schemas import Report, severity_rank

__all__ = ["ALARM_OPENS", "SIGNAL_CAUSES", "alarm_evidence", "findings", "headline"]

# sequential signal -> the root causes it stands for
SIGNAL_CAUSES: dict[str, tuple[str, ...]] = {
    "errors": ("error_spike",),
    "correctness": ("accuracy_drop",),
    "confidence": ("confidence_drop", "silent_failure"),
    "latency": ("latency_degradation",),
    "class_mix": ("prediction_drift", "silent_failure"),
}
# signals whose alarm alone opens an incident: the Bernoulli charts (rates floored at 1 %). The quantile-based
# charts (confidence, latency, class mix) compare with quantiles of a 150-sample baseline, whose estimation
# error the budget does not cover: on the demo model one confidence "scale x1.5" alarm came after 196 healthy
# samples (1 of 5 bench runs), so their alarms still need the window's confirmation to open one.
ALARM_OPENS = ("errors", "correctness")
_RULE = re.compile(r"^rule \S+ -> (\w+) \((\w+)\)$")


def findings(report: Report) -> list[tuple[str, str]]:
    """(root cause, severity) of every distinct finding, in the rules' order (from ``rca.evidence``)."""
    out: dict[str, str] = {}
    for line in report.rca.evidence:
        m = _RULE.match(line)
        if m and m.group(1) != "none":
            out.setdefault(m.group(1), m.group(2))
    if report.rca.root_cause != "none":
        out.setdefault(report.rca.root_cause, report.rca.severity)
        for c in report.rca.contributing:
            out.setdefault(c, report.rca.severity)
    return list(out.items())


def _active(cause: str, watched: set[str], failing: set[str]) -> bool:
    signals = {s for s, causes in SIGNAL_CAUSES.items() if cause in causes and s in watched}
    return not signals or bool(signals & failing)


def headline(report: Report, *, watched: set[str], failing: set[str]) -> Report:
    """Make the worst finding active now the report's root cause; list the others in ``also_changed``.

    >>> from app.schemas import RCA, Metrics
    >>> r = Report(endpoint="e", metrics=Metrics(), rca=RCA(root_cause="error_spike", severity="medium",
    ...            contributing=["latency_degradation"], evidence=["rule e1 -> error_spike (medium)",
    ...            "rule l1 -> latency_degradation (high)"]))
    >>> r = headline(r, watched={"errors", "latency"}, failing={"latency"})
    >>> r.rca.root_cause, r.rca.severity, r.rca.contributing, [a["active"] for a in r.also_changed]
    ('latency_degradation', 'high', ['error_spike'], [False])
    """
    found = findings(report)
    if not found:
        return report
    active = [(c, s) for c, s in found if _active(c, watched, failing)]
    pool = active or found
    best = max(range(len(pool)), key=lambda i: (severity_rank(pool[i][1]), -i))
    cause, sev = pool[best]
    rca = report.rca
    if cause != rca.root_cause:
        old = rca.root_cause
        rca.root_cause, rca.severity = cause, sev  # type: ignore[assignment]
        rca.contributing = [old, *[c for c in rca.contributing if c not in (cause, old)]]
        rca.failure_reason = (f"{cause.replace('_', ' ').capitalize()} ({sev}) is the worst change active now. "
                              f"Earlier in the window: {rca.failure_reason}")
    also: list[dict[str, Any]] = [{"root_cause": c, "severity": s, "active": _active(c, watched, failing)}
                                  for c, s in found if c != cause]
    report.also_changed = also  # type: ignore[attr-defined]
    return report


def alarm_evidence(report: Report, *, signal: str, statement: str) -> Report:
    """A change alarm is evidence by itself: record it, and make it the finding when the window shows none.

    The alarm of an ``ALARM_OPENS`` signal opens the incident; the windowed suite (a short window since the
    change point) refines it. Without this, an alarm whose window the suite does not confirm yet opened
    nothing until later.

    >>> from app.schemas import Metrics
    >>> r = alarm_evidence(Report(endpoint="e", metrics=Metrics()), signal="correctness", statement="CUSUM 12 >= h 11")
    >>> r.rca.root_cause, r.rca.severity, r.rca.evidence
    ('accuracy_drop', 'medium', ['sequential correctness: CUSUM 12 >= h 11'])
    """
    rca = report.rca
    rca.evidence.append(f"sequential {signal}: {statement}")
    causes = SIGNAL_CAUSES.get(signal)
    if rca.root_cause == "none" and causes and signal in ALARM_OPENS:
        rca.root_cause, rca.severity = causes[0], "medium"  # type: ignore[assignment]
        rca.failure_reason = (f"{causes[0].replace('_', ' ').capitalize()}: the sequential test on {signal} "
                              f"alarmed ({statement}); the window since the change point does not show it yet.")
    return report
