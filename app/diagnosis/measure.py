"""Measure the data instead of guessing: leaking columns, train/test duplicates, imbalance, shift, missing values."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, Field

from app.diagnosis.record import DatasetRef
from app.errors import InputError

__all__ = [
    "LEAK_POWER",
    "LEAK_STANDOUT",
    "SHIFT_EFFECT_FLOOR",
    "DatasetMeasurements",
    "FeatureStat",
    "benjamini_hochberg",
    "measure_dataset",
    "single_feature_power",
]

LEAK_POWER = 0.99  # single-feature AUC (or |Spearman rho|) at or above which a column almost encodes the target
LEAK_STANDOUT = (0.95, 0.15)  # ... or >= 0.95 while beating the next-best column by >= 0.15
SHIFT_EFFECT_FLOOR = 0.1  # KS statistic / Cramer's V below which a significant shift is called trivial


class FeatureStat(BaseModel):
    """What was measured about one column."""

    name: str
    kind: Literal["numeric", "categorical"]
    power_train: float | None = Field(None, description="single-feature AUC (max(auc, 1-auc)) or |Spearman rho|")
    power_test: float | None = None
    power_metric: str = "roc_auc"
    missing_train: float = 0.0
    missing_test: float = 0.0
    shift_method: str | None = None
    shift_statistic: float | None = None
    shift_p_value: float | None = None
    shift_p_adjusted: float | None = None
    shift_detected: bool = False


class DatasetMeasurements(BaseModel):
    """Measurements of a train/test pair; the evidence names the columns."""

    train_csv: str
    test_csv: str
    target: str
    task: Literal["binary_classification", "multiclass_classification", "regression"]
    n_train: int
    n_test: int
    train_sha256: str
    test_sha256: str
    class_distribution_train: dict[str, float] = Field(default_factory=dict)
    class_distribution_test: dict[str, float] = Field(default_factory=dict)
    features: list[FeatureStat] = Field(default_factory=list)
    leaking_columns: list[str] = Field(default_factory=list)
    leak_power_max: float | None = None
    overlap_rows: int = 0
    overlap_fraction: float = 0.0
    duplicate_fraction_train: float = 0.0
    shifted_columns: list[str] = Field(default_factory=list)
    shifted_fraction: float = 0.0
    missing_columns: dict[str, float] = Field(default_factory=dict)
    missing_max: float = 0.0


def benjamini_hochberg(p_values: list[float]) -> list[float]:
    """Benjamini-Hochberg adjusted p-values (same order as the input), as scipy's false_discovery_control.

    >>> [round(p, 4) for p in benjamini_hochberg([0.01, 0.04, 0.03, 0.2])]
    [0.04, 0.0533, 0.0533, 0.2]
    """
    p = np.asarray(p_values, dtype=float)
    n = len(p)
    if n == 0:
        return []
    order = np.argsort(p)
    ranked = p[order] * n / np.arange(1, n + 1)
    adj = np.minimum.accumulate(ranked[::-1])[::-1]
    out = np.empty(n)
    out[order] = np.clip(adj, 0, 1)
    return [float(x) for x in out]


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _read(path: Path, label: str) -> Any:
    import pandas as pd

    if not path.is_file():
        raise InputError(f"{label} not found: {path}")
    try:
        df = pd.read_csv(path)
    except (ValueError, UnicodeDecodeError, OSError) as exc:
        raise InputError(f"cannot read {label} {path.name}: {str(exc).splitlines()[0]}") from None
    if df.empty or df.shape[1] < 2:
        raise InputError(f"{label} {path.name} needs at least one feature column, a target column and one row")
    return df


def _task(y: Any) -> Literal["binary_classification", "multiclass_classification", "regression"]:
    n = y.nunique(dropna=True)
    if n <= 2:
        return "binary_classification"
    if y.dtype.kind in "fc" and n > 20:
        return "regression"
    return "multiclass_classification" if n <= 50 else "regression"


def single_feature_power(x: Any, y: Any, task: str, encoding: dict[Any, float] | None = None) -> float | None:
    """How well one column alone orders the target: max(AUC, 1 - AUC), mean one-vs-rest AUC, or |Spearman rho|.

    >>> import pandas as pd
    >>> single_feature_power(pd.Series([1, 2, 3, 4, 5, 6]), pd.Series([0, 0, 0, 1, 1, 1]), "binary_classification")
    1.0
    """
    import pandas as pd
    from scipy.stats import spearmanr
    from sklearn.metrics import roc_auc_score

    if encoding is not None:
        x = x.map(encoding)
    x = pd.to_numeric(x, errors="coerce")
    mask = x.notna() & y.notna()
    x, y = x[mask].to_numpy(dtype=float), y[mask]
    if len(x) < 5 or np.unique(x).size < 2:
        return None
    if task == "regression":
        rho = spearmanr(x, y.to_numpy(dtype=float)).statistic
        return None if not np.isfinite(rho) else float(abs(rho))
    classes = sorted(y.unique(), key=str)
    aucs = []
    for c in classes[1:] if len(classes) == 2 else classes:
        yy = (y == c).to_numpy()
        if 0 < yy.sum() < len(yy):
            a = roc_auc_score(yy, x)
            aucs.append(max(a, 1.0 - a))
    return float(np.mean(aucs)) if aucs else None


def _target_encoding(x: Any, y: Any, task: str) -> dict[Any, float]:
    """Category -> mean of the (first non-reference class indicator or numeric) target, learned on train."""
    yy = y if task == "regression" else (y == sorted(y.unique(), key=str)[-1]).astype(float)
    return yy.groupby(x.astype(str)).mean().to_dict()


def _shift(a: Any, b: Any, kind: str) -> tuple[str, float, float]:
    from scipy.stats import chi2_contingency, ks_2samp

    if kind == "numeric":
        r = ks_2samp(a.dropna().to_numpy(dtype=float), b.dropna().to_numpy(dtype=float))
        return "ks", float(r.statistic), float(r.pvalue)
    cats = sorted(set(a.dropna().astype(str)) | set(b.dropna().astype(str)))
    table = np.array([[int((a.astype(str) == c).sum()) for c in cats], [int((b.astype(str) == c).sum()) for c in cats]])
    table = table[:, table.sum(axis=0) > 0]
    if table.shape[1] < 2:
        return "chi2", 0.0, 1.0
    chi2, p, _, _ = chi2_contingency(table)
    v = float(np.sqrt(chi2 / (table.sum() * (min(table.shape) - 1))))  # Cramer's V as the effect size
    return "chi2", v, float(p)


def measure_dataset(ref: DatasetRef, base_dir: Path, alpha: float = 0.05) -> DatasetMeasurements:
    """Read the train/test CSVs named by ``ref`` (relative to ``base_dir``) and measure them."""
    train_path, test_path = (base_dir / ref.train_csv), (base_dir / ref.test_csv)
    train, test = _read(train_path, "train_csv"), _read(test_path, "test_csv")
    for label, df in (("train_csv", train), ("test_csv", test)):
        if ref.target not in df.columns:
            cols = ", ".join(map(str, list(df.columns)[:12]))
            raise InputError(f"target column {ref.target!r} not found in {label} (columns: {cols})")
    y_tr, y_te = train[ref.target], test[ref.target]
    if y_tr.isna().all():
        raise InputError(f"target column {ref.target!r} is empty in train_csv")
    task = _task(y_tr)
    feats = [c for c in train.columns if c != ref.target and c in test.columns]
    stats: list[FeatureStat] = []
    for c in feats:
        kind: Literal["numeric", "categorical"] = "numeric" if train[c].dtype.kind in "biuf" else "categorical"
        enc = _target_encoding(train[c], y_tr, task) if kind == "categorical" else None
        method, stat, p = _shift(train[c], test[c], kind)
        stats.append(
            FeatureStat(
                name=str(c),
                kind=kind,
                power_metric="abs_spearman" if task == "regression" else "roc_auc",
                power_train=single_feature_power(train[c], y_tr, task, enc),
                power_test=single_feature_power(test[c], y_te, task, enc),
                missing_train=float(train[c].isna().mean()),
                missing_test=float(test[c].isna().mean()),
                shift_method=method,
                shift_statistic=stat,
                shift_p_value=p,
            )
        )
    for s, padj in zip(stats, benjamini_hochberg([s.shift_p_value or 1.0 for s in stats])):
        s.shift_p_adjusted = padj
        s.shift_detected = padj < alpha and (s.shift_statistic or 0.0) >= SHIFT_EFFECT_FLOOR
    powers = sorted(((s.power_train or 0.0), s.name) for s in stats)[::-1]
    leaking = [n for pw, n in powers if pw >= LEAK_POWER]
    if (
        not leaking
        and len(powers) >= 2
        and powers[0][0] >= LEAK_STANDOUT[0]
        and powers[0][0] - powers[1][0] >= LEAK_STANDOUT[1]
    ):
        leaking = [powers[0][1]]
    train_keys = set(map(tuple, train[feats].astype(str).itertuples(index=False)))
    test_keys = list(map(tuple, test[feats].astype(str).itertuples(index=False)))
    overlap = sum(k in train_keys for k in test_keys)
    missing = {
        s.name: round(max(s.missing_train, s.missing_test), 6)
        for s in stats
        if max(s.missing_train, s.missing_test) > 0
    }
    shifted = [s.name for s in sorted(stats, key=lambda s: -(s.shift_statistic or 0.0)) if s.shift_detected]

    def dist(y: Any) -> dict[str, float]:
        return {str(k): round(float(v), 6) for k, v in y.value_counts(normalize=True).sort_index().items()}

    return DatasetMeasurements(
        train_csv=ref.train_csv,
        test_csv=ref.test_csv,
        target=ref.target,
        task=task,
        n_train=len(train),
        n_test=len(test),
        train_sha256=_sha256(train_path),
        test_sha256=_sha256(test_path),
        class_distribution_train=dist(y_tr) if task != "regression" else {},
        class_distribution_test=dist(y_te) if task != "regression" else {},
        features=stats,
        leaking_columns=leaking,
        leak_power_max=powers[0][0] if powers else None,
        overlap_rows=overlap,
        overlap_fraction=overlap / len(test) if len(test) else 0.0,
        duplicate_fraction_train=float(train[feats].astype(str).duplicated().mean()),
        shifted_columns=shifted,
        shifted_fraction=len(shifted) / len(stats) if stats else 0.0,
        missing_columns=missing,
        missing_max=max(missing.values(), default=0.0),
    )
