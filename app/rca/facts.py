"""Flatten decided detector results into the named facts the RCA rules test.

Facts (``None`` when the window has no such data, which satisfies no condition):

``silent_flagged/effect/detail``; ``err_flagged/before/after/kind/kind_text``;
``dq_flagged/count/max_effect/detail``; ``feat_flagged/count/total/top/top_detail/top_strength``;
``mv_flagged/auc/effect``; ``pred_flagged/tv/detail/explains_acc``;
``acc_flagged/before/after/drop/context``; ``conf_flagged/before/after/delta/drop/detail/tv``;
``lat_flagged/ratio/detail``; ``if_flagged/effect/detail/uses_outputs``; ``consequence``; ``task``.

Regression endpoints use their own names so no classification rule (class mix, accuracy) fires on
them: ``reg_pred_flagged/d/detail`` (KS + Wasserstein on the numeric predictions; ``d`` is the KS
distance), ``reg_err_flagged/mae_before/mae_after/mae_rise/err_detail`` (absolute errors),
``reg_corr_flagged/r_before/r_after/corr_detail`` (Pearson r of prediction and label) and
``reg_shift_explains``: the predictions moved and the error grew while r did not drop, i.e. the
outputs were offset or rescaled (prediction drift) rather than degraded (accuracy drop).

``pred_explains_acc``: the predicted-class mix moved by at least half the accuracy lost (total
variation >= 0.5 x drop). A model that now answers one class far more often loses accuracy
exactly through that shift (prediction drift); a model that errs at random keeps its class mix
(accuracy drop).
"""

from __future__ import annotations

from typing import Any

from app.detection.base import TestResult
from app.detection.drift import feature_results, rank_features
from app.detection.suite import SuiteResult
from app.schemas import Metrics

__all__ = ["ERROR_KIND_TEXT", "extract_facts"]

ERROR_KIND_TEXT = {
    "malformed_response": "malformed responses (HTTP success with a body that cannot be read as a prediction)",
    "http_error": "HTTP errors",
    "timeout": "timeouts",
    "connection_error": "refused or dropped connections",
    "protocol_error": "answers that do not follow the endpoint's protocol",
}


def _flag(rs: list[TestResult]) -> bool:
    return any(r.drift_detected for r in rs)


def extract_facts(suite: SuiteResult, metrics: Metrics, baseline: Metrics | None) -> dict[str, Any]:
    """All facts of one analysis (see the module docstring)."""
    s: dict[str, Any] = {}
    g = suite.groups
    sil = g.get("silent", [])
    if sil:
        s.update(silent_flagged=_flag(sil), silent_effect=sil[0].effect_size, silent_detail=sil[0].detail)
    err = g.get("errors", [])
    if err:
        kinds = metrics.error_kinds
        top = max(kinds, key=lambda k: kinds[k]) if kinds else "unknown"
        after = err[0].statistic
        s.update(err_flagged=_flag(err), err_before=None if after is None else after - (err[0].delta or 0.0),
                 err_after=after, err_kind=top,
                 err_kind_text=ERROR_KIND_TEXT.get(top, top.replace("_", " ")))
    dq = [r for r in g.get("data_quality", []) if r.drift_detected]
    s.update(dq_flagged=bool(dq), dq_count=len(dq))
    if dq:
        worst = max(dq, key=lambda r: r.effect_size or 0.0)
        s.update(dq_max_effect=worst.effect_size, dq_detail="; ".join(
            f"'{r.name}' {r.method.split('.')[-1].replace('_', ' ')}: {r.detail}" for r in dq[:3])
            + (f" (+{len(dq) - 3} more)" if len(dq) > 3 else ""))
    per = feature_results(suite)
    if per:
        ranking = rank_features(per)
        flagged = [n for n in ranking if _flag(per[n])]
        s.update(feat_flagged=bool(flagged), feat_count=len(flagged), feat_total=len(per))
        if flagged:
            head = per[flagged[0]][0]
            s.update(feat_top=flagged[0], feat_top_detail=head.detail,
                     feat_top_strength=max(t.strength for t in per[flagged[0]] if t.drift_detected))
    mv = g.get("multivariate", [])
    if mv:
        s.update(mv_flagged=_flag(mv), mv_auc=mv[0].statistic, mv_effect=mv[0].effect_size)
    acc = g.get("accuracy", [])
    acc_now = acc[0].statistic if acc else None
    if acc and acc_now is not None:
        acc_then = acc_now - (acc[0].delta or 0.0)
        s.update(acc_flagged=acc[0].drift_detected, acc_before=acc_then, acc_after=acc_now, acc_drop=acc_then - acc_now)
    pred = g.get("predictions", [])
    if pred and pred[0].effect_size is not None:
        p = pred[0]
        s.update(pred_flagged=p.drift_detected, pred_tv=p.effect_size, pred_detail=p.detail)
        drop = s.get("acc_drop")
        s["pred_explains_acc"] = bool(drop is not None and drop > 0 and p.effect_size >= 0.5 * drop)
    conf = g.get("confidence", [])
    if conf:
        ks = next((r for r in conf if r.method == "ks"), conf[0])
        c_then = baseline.avg_confidence if baseline else None
        c_now = metrics.avg_confidence
        delta = (c_now - c_then) if (c_then is not None and c_now is not None) else ks.delta
        s.update(conf_flagged=_flag(conf), conf_before=c_then, conf_after=c_now, conf_delta=delta,
                 conf_drop=-delta if delta is not None else None, conf_tv=ks.effect_size,
                 conf_detail="; ".join(r.detail or "" for r in conf if r.drift_detected) or ks.detail)
    lat = g.get("latency", [])
    if lat and lat[0].statistic is not None:
        r = lat[0]
        p95_then = baseline.latency_p95_ms if baseline else None
        p95_now = metrics.latency_p95_ms
        ratio = (p95_now / p95_then) if p95_then and p95_now is not None and p95_then > 0 else None
        s.update(lat_flagged=r.drift_detected, lat_ratio=ratio, lat_detail=r.detail)
    iso = g.get("isolation_forest", [])
    if iso:
        s.update(if_flagged=_flag(iso), if_effect=iso[0].effect_size, if_detail=iso[0].detail,
                 if_uses_outputs="confidence" in iso[0].name)
    s["task"] = suite.task
    if suite.task == "regression":
        s.update(_regression_facts(suite))
    s["consequence"] = _consequence(s)
    s["reg_context"] = ("; the predictions still follow the target as closely as before" if s.get("reg_corr_flagged") is False
                        else "; the predictions follow the target less closely, so the model itself degraded"
                        if s.get("reg_corr_flagged") else "")
    s["acc_context"] = ("; the predicted-class mix and the confidence are unchanged, so the model now errs "
                        "on inputs it used to get right") if not s.get("pred_flagged") and not s.get("conf_flagged") else ""
    return s


def _regression_facts(suite: SuiteResult) -> dict[str, Any]:
    s: dict[str, Any] = {}
    g = suite.groups
    pred = g.get("predictions", [])
    if pred:
        ks = next((r for r in pred if r.method == "ks"), pred[0])
        flagged = [r for r in pred if r.drift_detected]
        s.update(reg_pred_flagged=bool(flagged), reg_pred_d=ks.effect_size,
                 reg_pred_detail="; ".join(r.detail or "" for r in (flagged or [ks])))
    acc = g.get("accuracy", [])
    err = next((r for r in acc if r.method == "error_rise"), None)
    if err is not None and err.statistic is not None:
        s.update(reg_err_flagged=err.drift_detected, reg_mae_after=err.statistic,
                 reg_mae_before=err.statistic - (err.delta or 0.0), reg_mae_rise=err.effect_size,
                 reg_err_detail=err.detail)
    corr = next((r for r in acc if r.method == "correlation_drop"), None)
    if corr is not None and corr.statistic is not None:
        s.update(reg_corr_flagged=corr.drift_detected, reg_r_after=corr.statistic,
                 reg_r_before=corr.statistic - (corr.delta or 0.0), reg_corr_detail=corr.detail)
    elif err is not None:
        s["reg_corr_flagged"] = False
    s["reg_shift_explains"] = bool(s.get("reg_pred_flagged") and s.get("reg_err_flagged")
                                   and s.get("reg_corr_flagged") is False)
    return s


def _consequence(s: dict[str, Any]) -> str:
    parts = []
    if s.get("reg_err_flagged"):
        parts.append(f"the mean absolute error rose {s['reg_mae_before']:.4g} -> {s['reg_mae_after']:.4g}")
    if s.get("reg_pred_flagged"):
        parts.append(f"the predictions moved ({s['reg_pred_detail']})")
    if s.get("acc_flagged"):
        parts.append(f"accuracy fell {s['acc_before']:.1%} -> {s['acc_after']:.1%}")
    if s.get("pred_flagged"):
        parts.append(f"the predicted-class mix moved ({s['pred_detail']})")
    if s.get("conf_flagged") and s.get("conf_before") is not None and s.get("conf_after") is not None:
        parts.append(f"mean confidence {s['conf_before']:.3f} -> {s['conf_after']:.3f}")
    return ("; as a consequence " + ", ".join(parts)) if parts else ""
