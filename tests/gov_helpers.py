"""Hand-built monitoring reports for the governance tests (shapes of app.schemas, numbers of a real window)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

from app.schemas import RCA, Anomaly, FeatureAttribution, Metrics, Report

EP = "http://127.0.0.1:9/predict"


def make_report(root_cause: str = "accuracy_drop", severity: str = "high", *, endpoint: str = EP,
                accuracy: float | None = 0.62, confidence: float = 0.71, features: tuple[str, ...] = ("mean radius",),
                error_rate: float = 0.0, error_kinds: dict[str, int] | None = None, latency_p95: float = 5.0,
                anomalies: tuple[str, ...] = (), created_at: float | None = None, **extra: Any) -> Report:
    """A report as analyze_window would produce it; ``root_cause='none'`` gives a healthy one."""
    healthy = root_cause == "none"
    drift = {
        "confidence_distribution": {"method": "ks", "statistic": 0.31, "p_value": 2e-6, "effect_size": 0.31,
                                    "drift_detected": not healthy and root_cause == "confidence_drop"},
        "prediction_distribution": {"method": "chi2", "statistic": 1.2, "p_value": 0.27, "effect_size": 0.05,
                                    "drift_detected": False},
        "features": {f: {"method": "ks", "statistic": 0.44, "p_value": 3.2e-9, "p_value_adjusted": 9.6e-8,
                         "effect_size": 0.44, "drift_detected": not healthy} for f in features},
    }
    return Report(
        endpoint=endpoint,
        metrics=Metrics(avg_confidence=0.93 if healthy else confidence, confidence_std=0.05,
                        error_rate=0.0 if healthy else error_rate, latency_p50_ms=3.0,
                        latency_p95_ms=5.0 if healthy else latency_p95,
                        accuracy=0.95 if healthy and accuracy is not None else accuracy, total_samples=150,
                        labelled_samples=150 if accuracy is not None else 0, error_kinds=error_kinds or {}),
        baseline_metrics=Metrics(avg_confidence=0.93, confidence_std=0.05, error_rate=0.0, latency_p50_ms=3.0,
                                 latency_p95_ms=5.0, accuracy=0.95 if accuracy is not None else None,
                                 total_samples=150),
        drift=drift,
        anomalies=[Anomaly(detector=a, severity="high", message=f"{a} fired") for a in anomalies],
        rca=RCA(root_cause=root_cause, severity="none" if healthy else severity,  # type: ignore[arg-type]
                failure_reason="No significant change from the baseline." if healthy else f"{root_cause} detected",
                features=[] if healthy else [FeatureAttribution(name=f, score=0.6, evidence="domain classifier")
                                             for f in features]),
        samples_collected=150, alert=not healthy, created_at=created_at, **extra)


def release_together(procs: list[subprocess.Popen[str]], go: Path) -> list[dict[str, Any]]:
    """Wait until every racing worker printed ``ready``, release them at once (touch ``go``), and return each
    worker's last stdout line as JSON (a worker that fails fails the test with its stderr)."""
    for p in procs:
        assert p.stdout is not None and p.stdout.readline().strip() == "ready", p.stderr.read() if p.stderr else ""
    go.touch()
    out = []
    for p in procs:
        so, se = p.communicate(timeout=120)
        assert p.returncode == 0, se[-2000:]
        out.append(json.loads(so.strip().splitlines()[-1]))
    return out
