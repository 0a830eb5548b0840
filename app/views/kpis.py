"""Endpoint KPIs (current window vs baseline) and the small reads that feed them."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Literal

from app.schemas import Metrics
from app.storage import Store

__all__ = ["KPI_SPECS", "MAE_SPEC", "Kpi", "baseline_metrics", "endpoint_task", "kpi_of_cause", "kpis",
           "practical_threshold", "window_metrics"]

Better = Literal["higher", "lower", "neutral"]

# key, short label, which direction is better, kind of number (ratio / ms / score / count), description
KPI_SPECS: tuple[tuple[str, str, Better, str, str], ...] = (
    ("avg_confidence", "Confidence", "higher", "score", "Average confidence of successful answers"),
    ("confidence_std", "Conf. std", "neutral", "score", "Standard deviation of the confidence"),
    ("error_rate", "Error rate", "lower", "ratio", "Share of probes that failed (timeouts, HTTP errors, bad bodies)"),
    ("latency_p50_ms", "p50 latency", "lower", "ms", "Median response time"),
    ("latency_p95_ms", "p95 latency", "lower", "ms", "95th-percentile response time"),
    ("accuracy", "Accuracy", "higher", "ratio", "Share of labelled probes answered correctly"),
    ("total_samples", "Window", "neutral", "count", "Samples in the current window"),
)
# regression endpoints (numeric predictions): the accuracy tile becomes the mean absolute error
MAE_SPEC: tuple[str, str, Better, str, str] = (
    "mae", "MAE", "lower", "value", "Mean absolute error of the numeric predictions on labelled probes")


def practical_threshold(kind: str, baseline: float | None) -> float:
    """Smallest change of a KPI worth colouring: smaller ones are noise and are shown in grey.

    Shares (error rate, accuracy): 1 percentage point; latencies: 10 % of the baseline and at least
    2 ms; scores (confidence): 0.01.

    Plain values (a regression's MAE): 5 % of the baseline.

    >>> practical_threshold("ratio", 0.0), practical_threshold("ms", 3.0), practical_threshold("ms", 80.0)
    (0.01, 2.0, 8.0)
    >>> practical_threshold("value", 40.0)
    2.0
    """
    if kind == "ratio":
        return 0.01
    if kind == "value":
        return max(1e-9, 0.05 * abs(baseline or 0.0))
    if kind == "ms":
        return max(2.0, 0.1 * abs(baseline or 0.0))
    return 0.01


@dataclass(frozen=True)
class Kpi:
    """One KPI tile: current value, baseline value, change and whether the change is good."""

    key: str
    label: str
    description: str
    kind: str
    better: Better
    value: float | None
    baseline: float | None
    delta: float | None

    @property
    def value_text(self) -> str:
        return _fmt(self.value, self.kind)

    @property
    def baseline_text(self) -> str:
        return _fmt(self.baseline, self.kind)

    @property
    def meaningful(self) -> bool:
        """Whether the change vs baseline is large enough to matter (see :func:`practical_threshold`)."""
        return self.delta is not None and abs(self.delta) >= practical_threshold(self.kind, self.baseline)

    @property
    def delta_color(self) -> str:
        """``st.metric`` colour: red only for a meaningful worsening, green for an improvement, else grey.

        >>> Kpi("error_rate", "Error rate", "", "ratio", "lower", 0.0004, 0.0, 0.0004).delta_color
        'off'
        >>> Kpi("error_rate", "Error rate", "", "ratio", "lower", 0.2, 0.0, 0.2).delta_color
        'inverse'
        """
        if not self.meaningful or self.better == "neutral":
            return "off"
        return "normal" if self.better == "higher" else "inverse"

    @property
    def delta_text(self) -> str | None:
        if self.delta is None:
            return None
        if not self.meaningful:
            return "no change"
        if self.kind == "ratio":
            return f"{self.delta * 100:+.1f} pp"
        if self.kind == "ms":
            return f"{self.delta:+.1f} ms"
        if self.kind == "count":
            return f"{self.delta:+,.0f}"
        if self.kind == "value":
            return f"{self.delta:+.4g}"
        return f"{self.delta:+.3f}"


def _fmt(v: float | None, kind: str) -> str:
    """Human text of a KPI value.

    >>> _fmt(0.1234, "ratio"), _fmt(12.345, "ms"), _fmt(0.87654, "score"), _fmt(1200, "count"), _fmt(None, "ms")
    ('12.3%', '12.3 ms', '0.877', '1,200', '—')
    >>> _fmt(43.21789, "value")
    '43.22'
    """
    if v is None:
        return "—"
    if kind == "ratio":
        return f"{v * 100:.1f}%"
    if kind == "ms":
        return f"{v:.1f} ms"
    if kind == "count":
        return f"{v:,.0f}"
    if kind == "value":
        return f"{v:.4g}"
    return f"{v:.3f}"


def kpis(current: Metrics, baseline: Metrics | None) -> list[Kpi]:
    """KPI tiles for ``current`` with the change against ``baseline`` (``None`` deltas without one).

    Examples
    --------
    >>> cur = Metrics(avg_confidence=0.70, error_rate=0.10, total_samples=150)
    >>> base = Metrics(avg_confidence=0.90, error_rate=0.0, total_samples=200)
    >>> k = {x.key: x for x in kpis(cur, base)}
    >>> round(k["avg_confidence"].delta, 3), k["error_rate"].delta_text, k["accuracy"].value_text
    (-0.2, '+10.0 pp', '—')
    >>> kpis(Metrics(error_rate=0.0004), Metrics(error_rate=0.0))[2].delta_text
    'no change'
    >>> kpis(cur, None)[0].delta is None
    True
    >>> reg = {x.key: x for x in kpis(Metrics(task="regression", mae=52.0), Metrics(task="regression", mae=40.0))}
    >>> "accuracy" in reg, reg["mae"].value_text, reg["mae"].delta_text, reg["mae"].delta_color
    (False, '52', '+12', 'inverse')
    """
    regression = "regression" in (current.task, baseline.task if baseline is not None else None)
    specs = [MAE_SPEC if regression and spec[0] == "accuracy" else spec for spec in KPI_SPECS]
    out = []
    for key, label, better, kind, description in specs:
        v = getattr(current, key)
        b = getattr(baseline, key) if baseline is not None else None
        delta = None if v is None or b is None or key == "total_samples" else float(v) - float(b)
        out.append(Kpi(key=key, label=label, description=description, kind=kind, better=better,
                       value=None if v is None else float(v), baseline=None if b is None else float(b), delta=delta))
    return out


def kpi_of_cause(root_cause: str | None, tiles: list[Kpi]) -> str | None:
    """Key of the tile behind a verdict (the root cause's key metric), when that tile is shown.

    >>> t = kpis(Metrics(accuracy=0.5), Metrics(accuracy=0.9))
    >>> kpi_of_cause("accuracy_drop", t), kpi_of_cause("feature_drift", t), kpi_of_cause(None, t)
    ('accuracy', None, None)
    """
    from app.governance.incidents import KEY_METRIC

    if not root_cause or root_cause not in KEY_METRIC:
        return None
    key = KEY_METRIC[root_cause]
    keys = {k.key for k in tiles}
    if key == "accuracy" and "accuracy" not in keys:
        key = "mae"
    return key if key in keys else None


def endpoint_task(store: Store, name: str) -> str | None:
    """The task recorded with the endpoint's active baseline (``None``: no baseline, or one older than tasks)."""
    versions = store.baseline_versions(name)
    active = [r for r in versions if r["active"]] or versions
    if not active:
        return None
    try:
        summary = json.loads(active[-1]["summary_json"])
    except (KeyError, TypeError, ValueError):
        return None
    task = summary.get("task") or (summary.get("metrics") or {}).get("task")
    return str(task) if task else None


def window_metrics(store: Store, name: str, *, last_n: int) -> Metrics:
    """Metrics of the newest ``last_n`` samples (inputs not loaded: a cheap, bounded read).

    Regression endpoints (task of the active baseline, else decided from the window's predictions)
    get MAE / RMSE / R² instead of an accuracy.
    """
    from app.detection.metrics import compute_metrics
    from app.detection.task import infer_task

    samples = store.recent_samples(name, last_n=last_n, with_inputs=False)
    task = endpoint_task(store, name) or infer_task([s.prediction for s in samples if s.ok and s.prediction is not None])
    return compute_metrics(samples, task=task)


def baseline_metrics(store: Store, name: str) -> tuple[Metrics | None, int | None]:
    """(metrics, version) of the endpoint's active baseline, or (None, None) when none is stored.

    Read from the baseline index (a small summary row), not from the baseline file. Falls back to
    the ``baseline_metrics`` carried by the newest report (endpoints fed by ``compare``).
    """
    versions = store.baseline_versions(name)
    active = [r for r in versions if r["active"]] or versions
    if active:
        row = active[-1]
        try:
            return Metrics.model_validate(json.loads(row["summary_json"])["metrics"]), int(row["version"])
        except (KeyError, TypeError, ValueError):
            pass
    rep = store.latest_report(name)
    if rep is not None and rep.baseline_metrics is not None:
        return rep.baseline_metrics, rep.baseline_version
    return None, None
