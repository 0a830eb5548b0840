"""Seed a state directory with realistic monitoring data for the dashboard tests and benchmark.

Data: the breast-cancer features of sklearn's bundled dataset as probe inputs, a logistic model's
predictions and confidences, a learned baseline, stored reports (one drifting), incidents and
recommendations. Everything goes through ``Store`` / ``app.storage.baselines`` like the real pipeline.
"""

from __future__ import annotations

import functools
import json
import time
from typing import Any

import numpy as np

from app.config import Settings
from app.schemas import (
    RCA,
    Anomaly,
    DriftResult,
    EstimatedPerformance,
    FeatureAttribution,
    Metrics,
    Report,
    Sample,
    Segment,
)
from app.storage import Store
from app.storage import tables as t

__all__ = ["ENDPOINT", "add_recommendation", "bulk_samples", "model_samples", "seed"]

ENDPOINT = "http://127.0.0.1:9/predict"


@functools.lru_cache(maxsize=1)
def _model() -> tuple[Any, np.ndarray, np.ndarray, list[str]]:
    from sklearn.datasets import load_breast_cancer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    ds = load_breast_cancer()
    clf = make_pipeline(StandardScaler(), LogisticRegression(max_iter=500)).fit(ds.data, ds.target)
    return clf, ds.data, ds.target, list(ds.feature_names)


def model_samples(name: str, n: int, *, start: float, step: float, shift: float = 0.0, seed: int = 0,
                  error_every: int = 0) -> list[Sample]:
    """``n`` samples of the real model; ``shift`` adds that many std to 'mean radius' (drift)."""
    clf, x, y, feats = _model()
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, len(x), n)
    xs = x[idx].copy()
    xs[:, 0] += shift * x[:, 0].std()
    proba = clf.predict_proba(xs)
    out = []
    for i in range(n):
        ts = start + i * step
        if error_every and i % error_every == 0:
            out.append(Sample(endpoint=name, ts=ts, error_kind="http_error", status_code=500, latency_ms=3.0,
                              error_detail="internal error"))
            continue
        k = int(proba[i].argmax())
        out.append(Sample(endpoint=name, ts=ts, inputs={f: float(v) for f, v in zip(feats[:5], xs[i, :5])},
                          prediction=str(k), confidence=float(proba[i, k]), label=str(int(y[idx[i]])),
                          latency_ms=float(2.0 + rng.gamma(2.0, 1.0)),
                          probabilities={"0": float(proba[i, 0]), "1": float(proba[i, 1])}))
    return out


def _estimate(cal: Any, samples: list[Sample], drift: bool) -> EstimatedPerformance:
    """The window's real label-free accuracy estimate; a drifted window's inputs left the reference support."""
    from app.detection.cbpe import SupportEvidence, estimate_accuracy

    conf = np.array([s.confidence for s in samples if s.confidence is not None])
    right = np.array([float(s.correct) for s in samples if s.correct is not None])
    est = estimate_accuracy(cal, conf, right, support=SupportEvidence(auc=0.999, drift_detected=True) if drift else None)
    return EstimatedPerformance.model_validate(est.to_dict())


def _report(name: str, ts: float, samples: list[Sample], base: Metrics, *, drift: bool, cal: Any = None) -> Report:
    from app.detection.metrics import compute_metrics

    feats = {"mean radius": DriftResult(method="ks", statistic=0.62 if drift else 0.05, p_value=1e-9 if drift else 0.7,
                                        effect_size=0.62 if drift else 0.05, drift_detected=drift),
             "mean texture": DriftResult(method="ks", statistic=0.04, p_value=0.8, effect_size=0.04)}
    rca = (RCA(root_cause="feature_drift", severity="high", failure_reason="The input 'mean radius' moved far "
               "from its baseline distribution; confidence fell with it.",
               features=[FeatureAttribution(name="mean radius", score=0.61, evidence="KS 0.62"),
                         FeatureAttribution(name="mean texture", score=0.05, evidence="KS 0.04")],
               segments=[Segment(description="mean radius > 17.2", share=0.31, metric="accuracy", value=0.71)],
               evidence=["KS on mean radius: D=0.62, p<1e-9"]) if drift else RCA())
    return Report(endpoint=name, metrics=compute_metrics(samples), baseline_metrics=base, baseline_version=1,
                  drift={"confidence_distribution": DriftResult(method="ks", statistic=0.3 if drift else 0.05,
                                                                effect_size=0.3 if drift else 0.05,
                                                                drift_detected=drift).model_dump(),
                         "features": {k: v.model_dump() for k, v in feats.items()}},
                  anomalies=[Anomaly(detector="isolation_forest", severity="medium", message="18% outliers",
                                     value=0.18, threshold=0.05)] if drift else [],
                  rca=rca, samples_collected=len(samples), created_at=ts, alert=drift,
                  estimated_performance=_estimate(cal, samples, drift) if cal is not None else None)


def seed(settings: Settings, store: Store, *, name: str = ENDPOINT, n: int = 600, now: float | None = None
         ) -> dict[str, Any]:
    """One endpoint with a baseline, ``n`` samples over the last ~hour (drift in the last quarter),
    reports every 50 samples, an open incident and two pending recommendations."""
    from app.detection.baseline import learn_baseline
    from app.detection.cbpe import ConfidenceCalibrator
    from app.storage.baselines import save_baseline

    now = time.time() if now is None else now
    store.upsert_endpoint(name, url=name, protocol="generic", headers={"Authorization": "Bearer SECRET-TOKEN"},
                          interval_s=5.0, label_column="target")
    base = save_baseline(settings, store, learn_baseline(name, model_samples(name, 150, start=now - 7200, step=1.0)))
    cal = ConfidenceCalibrator(min_labels=50, min_wrong=0).fit(*np.asarray(base.calibration_pairs, dtype=float).T)
    step = 3000.0 / n
    normal = model_samples(name, n * 3 // 4, start=now - 3000, step=step, seed=1)
    drifted = model_samples(name, n - len(normal), start=now - 3000 + len(normal) * step, step=step, shift=2.5,
                            seed=2, error_every=10)
    store.add_samples(normal + drifted)
    allsamp = normal + drifted
    report_ids, incident_id = [], None
    for j in range(50, len(allsamp) + 1, 50):
        window = allsamp[j - 50:j]
        rep = _report(name, window[-1].ts, window, base.metrics, drift=j > len(normal), cal=cal)
        rid = store.save_report(rep)
        report_ids.append(rid)
        if rep.alert:
            incident_id = _incident(store, name, rid, incident_id, rep)
    store.record_probe_status(int(store.get_endpoint(name).id), now - 1, "ok", 0)
    sfx = "" if name == ENDPOINT else f"-{store.get_endpoint(name).id}"
    recs = [add_recommendation(store, name, "rec-retrain" + sfx, "Retrain the model on recent data", "HIGH", incident_id,
                               report_ids[-1]),
            add_recommendation(store, name, "rec-check-pipeline" + sfx, "Check the feature pipeline of 'mean radius'",
                               "CRITICAL", incident_id, report_ids[-1])]
    return {"name": name, "baseline": base, "report_ids": report_ids, "incident_id": incident_id, "recs": recs}


def _incident(store: Store, name: str, rid: int, incident_id: int | None, rep: Report) -> int:
    eid = int(store.get_endpoint(name).id)
    ts = rep.created_at or time.time()
    with store.engine.begin() as conn:
        if incident_id is None:
            res = conn.execute(t.incidents.insert().values(
                endpoint_id=eid, root_cause=rep.rca.root_cause, severity=rep.rca.severity, status="open",
                opened_at=ts, updated_at=ts, first_report_id=rid, last_report_id=rid, alert_count=1,
                features_json=json.dumps([f.name for f in rep.rca.features]), summary=rep.rca.failure_reason))
            return int(res.inserted_primary_key[0])
        conn.execute(t.incidents.update().where(t.incidents.c.id == incident_id).values(
            updated_at=ts, last_report_id=rid, alert_count=t.incidents.c.alert_count + 1))
    return incident_id


def add_recommendation(store: Store, name: str, rec_id: str, action: str, priority: str, incident_id: int | None,
                       report_id: int | None, *, rule_id: str = "seed") -> str:
    """Insert a pending recommendation row (as governance's ``on_report`` would)."""
    eid = int(store.get_endpoint(name).id)
    with store.engine.begin() as conn:
        conn.execute(t.recommendations.insert().values(
            id=rec_id, endpoint_id=eid, incident_id=incident_id, report_id=report_id, rule_id=rule_id, action=action,
            action_type="notify", priority=priority, rationale=f"because {rule_id}", status="pending",
            created_at=time.time(), payload_json=json.dumps({"id": rec_id, "action": action})))
    return rec_id


def bulk_samples(store: Store, name: str, n: int, *, start: float, step: float, batch: int = 50_000,
                 seed: int = 0) -> None:
    """Insert ``n`` synthetic-but-plausible samples fast (executemany), for the 1M-sample benchmark."""
    eid = int(store.get_endpoint(name).id) if store.find_endpoint(name) else \
        int(store.upsert_endpoint(name, url=name, protocol="generic").id)
    rng = np.random.default_rng(seed)
    done = 0
    while done < n:
        m = min(batch, n - done)
        conf = np.clip(rng.normal(0.9, 0.05, m), 0.5, 1.0)
        lat = 2.0 + rng.gamma(2.0, 1.0, m)
        err = rng.random(m) < 0.01
        correct = (rng.random(m) < 0.95).astype(int)
        ts = start + (done + np.arange(m)) * step
        rows = [{"endpoint_id": eid, "ts": float(ts[i]), "source": "probe",
                 "prediction": None if err[i] else "1", "confidence": None if err[i] else float(conf[i]),
                 "label": "1", "correct": None if err[i] else int(correct[i]), "latency_ms": float(lat[i]),
                 "error_kind": "timeout" if err[i] else None, "error_detail": None, "status_code": None,
                 "inputs_json": None, "probs_json": None} for i in range(m)]
        with store.engine.begin() as conn:
            conn.execute(t.samples.insert(), rows)
        done += m
