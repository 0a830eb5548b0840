"""Build the shipped logged-prediction samples for `mlfi compare` / `mlfi ingest` (deterministic).

    .venv/bin/python scripts/make_monitoring_samples.py

From scikit-learn's bundled breast-cancer data: a logistic regression trained on 40 % of the rows scores
the rest; the scored rows are split into a reference and a current window. Files (data/samples/):
- logged_reference.csv        reference window: 30 features + prediction, confidence, label
- logged_current_ok.csv       current window, unchanged traffic
- logged_current_shifted.csv  the same rows with an upstream bug: `mean radius` arrives scaled by 1.35
                              (the model is re-scored on the broken inputs, as it would be in production)
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

OUT = Path(__file__).resolve().parents[1] / "data" / "samples"


def _score(model: object, X: pd.DataFrame, y: pd.Series) -> pd.DataFrame:
    proba = model.predict_proba(X)  # type: ignore[attr-defined]
    out = X.round(5).copy()
    out["prediction"] = proba.argmax(axis=1)
    out["confidence"] = proba.max(axis=1).round(5)
    out["label"] = y.to_numpy()
    return out


def main() -> None:
    data = load_breast_cancer(as_frame=True)
    X, y = data.data, data.target
    X_tr, X_rest, y_tr, y_rest = train_test_split(X, y, train_size=0.4, random_state=7, stratify=y)
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000)).fit(X_tr, y_tr)
    X_ref, X_cur, y_ref, y_cur = train_test_split(X_rest, y_rest, train_size=0.5, random_state=7, stratify=y_rest)
    _score(model, X_ref, y_ref).to_csv(OUT / "logged_reference.csv", index=False)
    _score(model, X_cur, y_cur).to_csv(OUT / "logged_current_ok.csv", index=False)
    X_bad = X_cur.copy()
    X_bad["mean radius"] = X_bad["mean radius"] * 1.35
    _score(model, X_bad, y_cur).to_csv(OUT / "logged_current_shifted.csv", index=False)
    print(f"wrote {len(X_ref)} reference and {len(X_cur)} current rows to {OUT}")


if __name__ == "__main__":
    main()
