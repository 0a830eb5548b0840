"""What the Investigation page says about feature attribution: which method, a fitting title, or a note.

The RCA (``app.rca.attribution``) explains a drift with a reference-vs-current classifier and an
accuracy / error / confidence / latency / prediction problem with a *surrogate* model of that
outcome in the current window; each ``rca.features`` item's evidence names the model it came from.
This module reads that evidence, titles the chart after the method actually used, and replaces the
chart with a short note when the attribution carries no signal:

- drift classifier, but no feature was flagged by its drift test (``report.drift["features"]``, or
  "flagged" in the evidence when that table is absent): the bars would rank noise;
- surrogate whose top feature holds a small share (below ``max(0.2, 2.5 / n_features)``; an
  outcome unrelated to the inputs spreads its SHAP over all of them, about 0.1 for 30 features).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

import pandas as pd

from app.schemas import Report
from app.views.verdict import root_cause_label

__all__ = ["AttributionView", "attribution_view", "min_top_share"]

Method = Literal["drift_classifier", "surrogate", "none"]
_SURROGATE = re.compile(r"surrogate model of (?P<what>[^;]+)")


def min_top_share(n_features: int) -> float:
    """Smallest share of the top feature for a surrogate attribution to count as a signal.

    >>> min_top_share(30), min_top_share(5)
    (0.2, 0.5)
    """
    return max(0.2, 2.5 / max(1, n_features))


@dataclass(frozen=True)
class AttributionView:
    """Chart title, x-axis title and frame when meaningful; otherwise ``note`` (and an empty frame)."""

    method: Method
    title: str
    axis: str
    frame: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=["feature", "score", "evidence"]))
    note: str | None = None
    caption: str | None = None

    @property
    def show_chart(self) -> bool:
        return self.note is None and not self.frame.empty


def _frame(report: Report, top: int) -> pd.DataFrame:
    df = pd.DataFrame([{"feature": f.name, "score": float(f.score), "evidence": f.evidence}
                       for f in report.rca.features], columns=["feature", "score", "evidence"])
    return df.sort_values("score", ascending=False, key=abs).head(top).reset_index(drop=True)


def _drift_features(report: Report) -> dict[str, object]:
    feats = report.drift.get("features") if isinstance(report.drift, dict) else None
    return feats if isinstance(feats, dict) else {}


def _n_features(report: Report) -> int:
    # rca.features holds the top 10 at most: without the drift table, assume at least 10 inputs
    return len(_drift_features(report)) or max(10, len(report.rca.features))


def _any_drifted(report: Report, evidence: str) -> bool:
    feats = _drift_features(report)
    if feats:
        return any(isinstance(v, dict) and v.get("drift_detected") for v in feats.values())
    return ", flagged" in evidence


def attribution_view(report: Report | None, *, top: int = 15) -> AttributionView:
    """How to show ``report.rca.features`` (see module doc).

    Examples
    --------
    >>> from app.schemas import RCA, FeatureAttribution, Metrics
    >>> def rep(cause, *feats):
    ...     return Report(endpoint="e", metrics=Metrics(), rca=RCA(root_cause=cause, features=list(feats)))
    >>> v = attribution_view(rep("feature_drift", FeatureAttribution(name="a", score=0.8,
    ...     evidence="ks: D=0.4 (adjusted p 1e-09, flagged); 70% of the mean |SHAP| of a reference-vs-current classifier")))
    >>> v.method, v.show_chart, v.title
    ('drift_classifier', True, 'Which inputs drifted (SHAP on a reference-vs-current classifier)')
    >>> v = attribution_view(rep("accuracy_drop", FeatureAttribution(name="a", score=0.35,
    ...     evidence="60% of the mean |SHAP| of a surrogate model of a wrong answer; median 3 where ...")))
    >>> v.method, v.show_chart, v.title
    ('surrogate', True, 'What a wrong answer depends on (SHAP on a surrogate model)')
    >>> attribution_view(rep("accuracy_drop", FeatureAttribution(name="a", score=0.09,
    ...     evidence="9% of the mean |SHAP| of a surrogate model of a wrong answer; ..."))).show_chart
    False
    >>> attribution_view(rep("accuracy_drop")).note
    'No feature attribution for this incident: Accuracy drop was not explained by the inputs.'
    """
    if report is None:
        return AttributionView("none", "", "", note="No report is stored for this incident.")
    cause = report.rca.root_cause
    label = root_cause_label(cause)
    df = _frame(report, top)
    if df.empty:
        why = {"none": "nothing changed from the baseline.",
               "silent_failure": "constant answers do not depend on the inputs."}.get(
            cause, f"{label} was not explained by the inputs.")
        return AttributionView("none", "", "", note=f"No feature attribution for this incident: {why}")
    evidence = " ".join(str(e) for e in df["evidence"])
    m = _SURROGATE.search(evidence)
    if m is None:   # reference-vs-current (domain) classifier
        title = "Which inputs drifted (SHAP on a reference-vs-current classifier)"
        if not _any_drifted(report, evidence):
            return AttributionView("drift_classifier", title, "", df, note=(
                "No input feature drifted significantly (every per-feature test passed), so the "
                "reference-vs-current classifier's attribution would only rank noise; it is not shown."))
        return AttributionView("drift_classifier", title, "share of the difference (SHAP + drift test)", df,
                               caption="Inputs whose distribution moved away from the baseline, largest part first.")
    what = m.group("what").strip()
    title = f"What {what} depends on (SHAP on a surrogate model)"
    n = _n_features(report)
    if float(df["score"].abs().max()) < min_top_share(n):
        return AttributionView("surrogate", title, "", df, note=(
            f"No input stands out in explaining {what}: the surrogate model's attribution is spread over the "
            f"inputs (top share {float(df['score'].abs().max()):.0%}, below {min_top_share(n):.0%}), so "
            f"{label.lower()} is not tied to particular input values."))
    return AttributionView("surrogate", title, f"share in explaining {what} (SHAP + association)", df,
                           caption=(f"A surrogate model learned {what} from the inputs of the current window; "
                                    "an association, not proof of cause."))
