"""The detection suite: run every applicable detector on two windows, then one verdict step.

Families and multiplicity
-------------------------
The tests of one variable (KS, Welch and Brown-Forsythe on a feature; KS and spread on the
confidence) form one hypothesis: their p-values are merged by the Cauchy combination test, which
is valid whatever their dependence, so a feature costs one hypothesis however many tests look at
it. The cheap joint tests (Hotelling's T^2 and the correlation-change test) are two tests of one
hypothesis too -- "the rows' joint distribution of the numeric features is unchanged" -- and are
Cauchy-combined into one: as two BH hypotheses they raised the family from d + 1 to d + 3 members
for d features, which cut the first BH step from alpha/(d+1) to alpha/(d+3) (d = 5: 0.0083 ->
0.0063) and cost the single-feature shifts at small n their power (class shift n = 200: 32 -> 24 %,
mean +0.5 sd n = 50: 42 -> 36 %, on the quality benchmark's seeds); as one hypothesis they cost
alpha/(d+2) and those cells are back at 32 % and 44 %. Hypotheses fall into two families: *outputs* (confidence KS and spread, predicted classes,
accuracy, error rate, latency, silent failure) and *inputs* (every feature, the multivariate
domain classifier, the Isolation Forest on the joint rows, data quality). When both are present
each gets alpha/2 (Bonferroni across the two) and Benjamini-Hochberg runs within each family, so
under "nothing changed" the chance of any alert stays <= alpha however many features there are,
and a clear behaviour change is not diluted by thirty feature tests. With one family (``mlfi
compare`` on features only, ``feature_drift``) it gets alpha.

Measured (``feature_drift`` at alpha=0.05, no-drift windows, seeds independent of the
benchmark's): dataset flag in 3% (n=200, d=5; 200 windows), 4% (n=1000, d=30; 200), 7% (n=50,
d=30; 100), 2% (n=200, d=30; 100), 5% (n=1000, d=5; 100) -- 4.3% pooled, i.e. alpha, and it does
not grow with n (1M rows stay quiet: the floors). Halving alpha for features alone was measured
too: false alarms fell to ~2% but the true-positive rate dropped below KS+Bonferroni's on several
shifts (selection bias on breast_cancer 78% vs 86%, +0.1 sd on all 5 features 68% vs 80%).

Regression endpoints (``WindowData.task == "regression"``, decided at baseline time): the
predicted-class chi-square and the 1/0 accuracy test are replaced by KS + normalised Wasserstein
on the numeric predictions (one hypothesis, like a feature's tests), ``error_rise`` on the
absolute errors and ``correlation_drop`` on (prediction, label) -- all in the outputs family, with
the same BH step and effect floors. Confidence tests run only when the endpoint reports one.

A test is flagged when its hypothesis' BH-adjusted p < its family's alpha, its own p < alpha,
AND its effect >= its floor (see ``app.detection.base.decide``).

Cost: only the tests whose answer can change the verdict run. Every column's KS, Welch and
Brown-Forsythe come from one sort per side (:mod:`app.detection.columns`); the cheap joint tests
(Hotelling's T^2 on the mean vector, the correlation-change test) run on every window; the
domain classifier (~0.1-1 s) runs per ``DetectionConfig.classifier``: ``on_flag`` (default) only
after a cheaper input test flagged, to describe the change for the root-cause analysis (never in
``feature_drift``, whose verdict is then already decided -- BH is monotone, so a further hypothesis
can add flags but never remove one); ``always`` is the backstop for changes only a classifier
sees (non-linear dependence), e.g. on a cadence chosen per endpoint.

Large windows: above ``max_rows`` rows per side the per-feature tests use a seeded uniform
subsample (default 100,000; ``max_rows=None`` tests every row), a stated option, not the source
of the speed: with every row tested a check costs about what sorting the columns costs.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from app.detection import registry
from app.detection.base import Detector, TestResult, blas_single_threaded, decide
from app.detection.columns import SortedColumns
from app.detection.frames import ColumnPlan, category_codes, category_matrix, numeric_matrix, plan_columns, subsample

__all__ = ["OUTPUT_GROUPS", "REGRESSION_PREDICTION_TESTS", "DetectionConfig", "SuiteResult", "WindowData", "run_suite"]

# groups whose tests of one variable form one hypothesis (Cauchy-combined before BH)
COMBINED = ("features", "confidence", "predictions", "joint")
INPUT_GROUPS = ("features", "joint", "multivariate", "data_quality", "isolation_forest")
OUTPUT_GROUPS = ("confidence", "predictions", "accuracy", "errors", "latency", "silent")
# regression endpoints: the numeric predictions' distribution (one hypothesis, Cauchy-combined)
REGRESSION_PREDICTION_TESTS = ("ks", "wasserstein")


class DetectionConfig(BaseModel):
    """Tunable knobs of the suite (per endpoint via ``baseline.notes["detection"]``)."""

    model_config = ConfigDict(extra="forbid")

    alpha: float = Field(default=0.05, gt=0, lt=1)
    numeric_tests: list[str] = Field(default_factory=lambda: ["ks", "welch", "variance"])
    categorical_tests: list[str] = Field(default_factory=lambda: ["chi2"])
    multivariate: bool = True
    joint_tests: list[str] = Field(default_factory=lambda: ["hotelling", "correlation"],
                                   description="cheap multivariate tests run on every window")
    classifier: Literal["on_flag", "always", "never"] = Field(
        default="on_flag", description="domain classifier: after a cheaper input test flagged, on every window, never")
    isolation_forest: bool = True
    data_quality: bool = True
    floors: dict[str, float] = Field(default_factory=dict, description="detector name -> effect floor")
    params: dict[str, dict[str, Any]] = Field(default_factory=dict, description="detector name -> parameters")
    max_rows: int | None = Field(default=100_000, ge=100)
    seed: int = 0
    task: Literal["auto", "classification", "regression"] = Field(
        default="auto", description="override of the task decided from the predictions at baseline time")


@dataclass
class WindowData:
    """One window as arrays; ``None`` where the window has no such data."""

    features: pd.DataFrame | None = None
    confidence: np.ndarray | None = None
    predictions: np.ndarray | None = None
    correct: np.ndarray | None = None
    errors: np.ndarray | None = None
    latency: np.ndarray | None = None
    error_kinds: dict[str, int] = field(default_factory=dict)
    outcomes: pd.DataFrame | None = None  # per feature row: correct, confidence, latency_ms, error, prediction
    # regression endpoints: numeric predictions, residuals (prediction - label) and the aligned labels
    task: str = "classification"
    pred_values: np.ndarray | None = None
    residuals: np.ndarray | None = None
    label_values: np.ndarray | None = None


@dataclass
class SuiteResult:
    """Decided results, grouped: ``groups[name]`` is a list of results (see OUTPUT_GROUPS, features...)."""

    groups: dict[str, list[TestResult]]
    plan: ColumnPlan
    alpha: float
    n_tests: int
    task: str = "classification"

    def first(self, group: str) -> TestResult | None:
        res = self.groups.get(group) or []
        return res[0] if res else None

    def flagged(self, group: str) -> list[TestResult]:
        return [r for r in self.groups.get(group, []) if r.drift_detected]

    @property
    def all(self) -> list[TestResult]:
        return [r for rs in self.groups.values() for r in rs]


def _make(config: DetectionConfig, name: str, **extra: Any) -> Any:
    params = {**config.params.get(name, {}), **extra}
    if name in config.floors:
        params["effect_floor"] = config.floors[name]
    params.setdefault("seed", config.seed)
    return registry.create(name, **params)


def _run(config: DetectionConfig, name: str, ref: Any, cur: Any, names: list[str] | None = None,
         **extra: Any) -> list[TestResult]:
    det: Detector = _make(config, name, **extra)
    return det.fit(ref, names=names).score(cur)


def _finite_rows(x: np.ndarray | None) -> bool:
    return x is not None and np.isfinite(np.asarray(x, dtype=float)).sum() >= 2


def _regression_tests(ref: WindowData, cur: WindowData, config: DetectionConfig) -> dict[str, list[TestResult]]:
    """Numeric predictions: KS + normalised Wasserstein (one hypothesis); labels: error rise, correlation drop."""
    g: dict[str, list[TestResult]] = {}
    if _finite_rows(ref.pred_values) and _finite_rows(cur.pred_values):
        g["predictions"] = [r for t in REGRESSION_PREDICTION_TESTS
                            for r in _run(config, t, ref.pred_values, cur.pred_values, ["prediction"])]
    if ref.residuals is not None and cur.residuals is not None and _finite_rows(ref.residuals) \
            and _finite_rows(cur.residuals):
        acc = _run(config, "error_rise", ref.residuals, cur.residuals, ["absolute error"])
        if ref.label_values is not None and cur.label_values is not None \
                and len(ref.label_values) == len(ref.residuals) and len(cur.label_values) == len(cur.residuals):
            pairs_r = np.column_stack([ref.residuals + ref.label_values, ref.label_values])
            pairs_c = np.column_stack([cur.residuals + cur.label_values, cur.label_values])
            acc += _run(config, "correlation_drop", pairs_r, pairs_c, ["prediction", "label"])
        g["accuracy"] = acc
    return g


def _output_tests(ref: WindowData, cur: WindowData, config: DetectionConfig) -> dict[str, list[TestResult]]:
    g: dict[str, list[TestResult]] = {}
    if _finite_rows(ref.confidence) and _finite_rows(cur.confidence):
        g["confidence"] = [r for t in ("ks", "variance") for r in _run(config, t, ref.confidence, cur.confidence,
                                                                         ["confidence"])]
    if ref.task == "regression":
        g.update(_regression_tests(ref, cur, config))
    elif ref.predictions is not None and cur.predictions is not None and len(ref.predictions) and len(cur.predictions):
        g["predictions"] = _run(config, "chi2", np.asarray(ref.predictions, dtype=object),
                                np.asarray(cur.predictions, dtype=object), ["prediction"])
    if ref.task != "regression" and ref.correct is not None and cur.correct is not None \
            and len(ref.correct) and len(cur.correct):
        g["accuracy"] = _run(config, "accuracy_drop", ref.correct, cur.correct, ["accuracy"])
    if ref.errors is not None and cur.errors is not None and len(ref.errors) and len(cur.errors):
        g["errors"] = _run(config, "error_rate", ref.errors, cur.errors, ["error_rate"])
    if _finite_rows(ref.latency) and _finite_rows(cur.latency):
        g["latency"] = _run(config, "latency_shift", ref.latency, cur.latency, ["latency_ms"])
    if ref.predictions is not None and cur.predictions is not None and len(cur.predictions) >= 5:
        def outputs(w: WindowData) -> np.ndarray:
            preds = np.asarray(w.predictions, dtype=object)
            conf = w.confidence if w.confidence is not None and len(w.confidence) == len(preds) \
                else np.full(len(preds), np.nan)
            return np.column_stack([preds, np.asarray(conf, dtype=object)])
        if len(ref.predictions) >= 5:
            g["silent"] = _run(config, "silent_failure", outputs(ref), outputs(cur), ["prediction", "confidence"])
    return g


def _feature_tests(ref: pd.DataFrame, cur: pd.DataFrame, plan: ColumnPlan, config: DetectionConfig,
                   extra_ref: np.ndarray | None, extra_cur: np.ndarray | None
                   ) -> tuple[dict[str, list[TestResult]], tuple[np.ndarray, np.ndarray]]:
    """Per-feature tests, the cheap joint tests, Isolation Forest, data quality; plus the joint rows."""
    g: dict[str, list[TestResult]] = {}
    seed = config.seed
    r_sub, c_sub = subsample(ref, config.max_rows, seed), subsample(cur, config.max_rows, seed + 1)
    feats: list[TestResult] = []
    xr = numeric_matrix(r_sub, plan.numeric)
    xc = numeric_matrix(c_sub, plan.numeric)
    if plan.numeric:
        sr, sc = SortedColumns.from_matrix(xr), SortedColumns.from_matrix(xc)  # sorted once for every test
        for t in config.numeric_tests:
            shared = registry.get(t).sorted_input
            feats.extend(_run(config, t, sr if shared else xr, sc if shared else xc, plan.numeric))
    cat_r = category_matrix(r_sub, plan.categorical) if plan.categorical else None
    cat_c = category_matrix(c_sub, plan.categorical) if plan.categorical else None
    if plan.categorical:
        for t in config.categorical_tests:
            extra = {"effect": "psi"} if t == "chi2" and "effect" not in config.params.get(t, {}) else {}
            feats.extend(_run(config, t, cat_r, cat_c, plan.categorical, **extra))
    g["features"] = feats
    if config.multivariate and len(plan.numeric) >= 2 and min(len(xr), len(xc)) >= 10:
        g["joint"] = [r for t in config.joint_tests for r in _run(config, t, xr, xc, plan.numeric)]
    joint_r, joint_c = _joint(xr, xc, cat_r, cat_c)
    if config.isolation_forest and min(len(joint_r), len(joint_c)) >= 10:
        ir = joint_r if extra_ref is None else np.column_stack([joint_r, extra_ref[: len(joint_r)]])
        ic = joint_c if extra_cur is None else np.column_stack([joint_c, extra_cur[: len(joint_c)]])
        if ir.shape[1]:
            label = "features+confidence jointly" if extra_ref is not None else "features jointly"
            g["isolation_forest"] = [replace(r, name=label) for r in _run(config, "isolation_forest", ir, ic, None)]
    if config.data_quality:
        g["data_quality"] = _run(config, "data_quality", ref, cur, None)
    return g, (joint_r, joint_c)


def _classifier(config: DetectionConfig, joint: tuple[np.ndarray, np.ndarray]) -> list[TestResult] | None:
    joint_r, joint_c = joint
    if not joint_r.shape[1] or min(len(joint_r), len(joint_c)) < 10:
        return None
    return [replace(r, name="all features jointly") for r in _run(config, "domain_classifier", joint_r, joint_c, None)]


def _joint(jr: np.ndarray, jc: np.ndarray, cat_r: np.ndarray | None,
           cat_c: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    if cat_r is not None and cat_c is not None:
        levels = [sorted({v for v in cat_r[:, j] if v is not None}) for j in range(cat_r.shape[1])]
        jr = np.column_stack([jr, category_codes(cat_r, levels)])
        jc = np.column_stack([jc, category_codes(cat_c, levels)])
    return jr, jc


def _row_confidence(w: WindowData, config: DetectionConfig) -> np.ndarray | None:
    """Per-feature-row confidence (for the Isolation Forest), when the window has it and is small."""
    if w.outcomes is None or "confidence" not in w.outcomes or w.features is None:
        return None
    if len(w.outcomes) != len(w.features) or len(w.features) > (config.max_rows or len(w.features)):
        return None
    conf = w.outcomes["confidence"].to_numpy(dtype=float, na_value=np.nan)
    return conf.reshape(-1, 1) if np.isfinite(conf).sum() >= 10 else None


def _decide_all(groups: dict[str, list[TestResult]], alpha: float,
                sensitivity: dict[str, float] | None) -> dict[str, list[TestResult]]:
    """BH within the outputs and inputs families (alpha/2 each when both are present)."""
    fam_in = [k for k in groups if k in INPUT_GROUPS]
    fam_out = [k for k in groups if k not in INPUT_GROUPS]
    alpha_each = alpha / 2 if fam_in and fam_out else alpha
    decided: dict[str, list[TestResult]] = {}
    for family in (fam_out, fam_in):
        flat = [(k, r) for k in family for r in groups[k]]
        if not flat:
            continue
        keys = [(k, r.name) if k in COMBINED else (k, r.name, r.method, i) for i, (k, r) in enumerate(flat)]
        out = decide([r for _, r in flat], alpha_each, sensitivity, hypotheses=keys)
        for (k, _), r in zip(flat, out):
            decided.setdefault(k, []).append(r)
    return {k: decided.get(k, []) for k in groups}


def run_suite(ref: WindowData, cur: WindowData, config: DetectionConfig | None = None,
              sensitivity: dict[str, float] | None = None, *, verdict_only: bool = False) -> SuiteResult:
    """Run every applicable detector and decide all verdicts (Cauchy per variable, BH within families, floors).

    When both windows carry per-row confidence (``outcomes``), the Isolation Forest looks at the
    features and the confidence jointly. The domain classifier follows ``config.classifier``;
    ``verdict_only`` (``feature_drift``) skips it in ``on_flag`` mode, where it cannot change the
    verdict.
    """
    config = config or DetectionConfig.model_validate({})
    groups = _output_tests(ref, cur, config)
    plan = ColumnPlan()
    joint: tuple[np.ndarray, np.ndarray] | None = None
    if ref.features is not None and cur.features is not None and ref.features.shape[1] and len(cur.features):
        common = [c for c in ref.features.columns if c in cur.features.columns]
        plan = plan_columns(subsample(ref.features, 20_000, config.seed), common)
        extra_r = _row_confidence(ref, config)
        extra_c = _row_confidence(cur, config) if extra_r is not None else None
        if extra_c is None:
            extra_r = None
        with blas_single_threaded():
            feature_groups, joint = _feature_tests(ref.features, cur.features, plan, config, extra_r, extra_c)
        groups.update(feature_groups)
    ordered = _decide_all(groups, config.alpha, sensitivity)
    if joint is not None and config.multivariate and config.classifier != "never":
        flagged = any(r.drift_detected for k in ("features", "joint") for r in ordered.get(k, []))
        if config.classifier == "always" or (flagged and not verdict_only):
            mv = _classifier(config, joint)
            if mv is not None:
                groups["multivariate"] = mv
                ordered = _decide_all(groups, config.alpha, sensitivity)
    return SuiteResult(groups=ordered, plan=plan, alpha=config.alpha,
                       n_tests=sum(1 for rs in ordered.values() for r in rs if r.p_value is not None), task=ref.task)
