"""Generate the shipped sample experiments: a dataset case with a planted leaking column (sklearn's diabetes data)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["LEAK_COLUMN", "MISSING_COLUMN", "make_leakage_dataset", "write_leakage_sample"]

LEAK_COLUMN = "progression_score_at_followup"
MISSING_COLUMN = "s4"


def make_leakage_dataset(seed: int = 0, leak: bool = True) -> tuple[Any, Any]:
    """Diabetes progression as a binary task (above-median progression), with a planted leak.

    The planted column is the one-year follow-up measurement the target is derived from, plus noise: a classic
    future-information leak. ``MISSING_COLUMN`` gets 8% missing values. Returns (train, test) DataFrames.
    """
    import pandas as pd
    from sklearn.datasets import load_diabetes
    from sklearn.model_selection import train_test_split

    data = load_diabetes(as_frame=True)
    df = data.frame.copy()
    rng = np.random.default_rng(seed)
    progression = df.pop("target")
    df["high_progression"] = (progression > progression.median()).astype(int)
    if leak:
        df[LEAK_COLUMN] = (progression + rng.normal(0.0, 4.0, len(df))).round(1)
    df[MISSING_COLUMN] = df[MISSING_COLUMN].mask(rng.random(len(df)) < 0.08)
    train, test = train_test_split(df, test_size=0.3, random_state=seed, stratify=df["high_progression"])
    return pd.DataFrame(train).reset_index(drop=True), pd.DataFrame(test).reset_index(drop=True)


def _scores(train: Any, test: Any, target: str, seed: int) -> dict[str, dict[str, float]]:
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import cross_val_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X, y = train.drop(columns=[target]), train[target]
    model = make_pipeline(SimpleImputer(), StandardScaler(), LogisticRegression(max_iter=1000))
    cv = float(cross_val_score(model, X, y, cv=5, scoring="roc_auc").mean())
    model.fit(X, y)
    tr = float(roc_auc_score(y, model.predict_proba(X)[:, 1]))
    te = float(roc_auc_score(test[target], model.predict_proba(test.drop(columns=[target]))[:, 1]))
    return {
        "train": {"roc_auc": round(tr, 4)},
        "validation": {"roc_auc": round(cv, 4)},
        "test": {"roc_auc": round(te, 4)},
    }


def write_leakage_sample(out_dir: Path, seed: int = 0, stem: str = "experiment_leakage_dataset") -> Path:
    """Write ``<stem>_train.csv``, ``<stem>_test.csv`` and ``<stem>.json`` (metrics from a real fitted model)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    train, test = make_leakage_dataset(seed)
    train.to_csv(out_dir / f"{stem}_train.csv", index=False)
    test.to_csv(out_dir / f"{stem}_test.csv", index=False)
    record = {
        "schema_version": 1,
        "experiment_id": "diabetes-progression-v7",
        "title": "Disease progression classifier: validation AUC jumped after adding the follow-up score",
        "team": "clinical-ml",
        "task": "binary_classification",
        "platform": "sklearn",
        "primary_metric": "roc_auc",
        "metrics": _scores(train, test, "high_progression", seed),
        "split_sizes": {"train": len(train), "test": len(test)},
        "features": [{"name": c} for c in train.columns if c != "high_progression"],
        "history": [
            {
                "change": f"before adding {LEAK_COLUMN}",
                "metrics": _scores(
                    train.drop(columns=[LEAK_COLUMN]), test.drop(columns=[LEAK_COLUMN]), "high_progression", seed
                ),
            }
        ],
        "notes": f"Logistic regression. Adding {LEAK_COLUMN} lifted cross-validated AUC; reviewers found the result "
        "too good for this problem.",
        "dataset": {"train_csv": f"{stem}_train.csv", "test_csv": f"{stem}_test.csv", "target": "high_progression"},
    }
    path = out_dir / f"{stem}.json"
    path.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    return path
