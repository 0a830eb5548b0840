"""Build the worked example: two models on scikit-learn's breast-cancer data, scored on a held-out split.

``python -m app.evaluation.sample [OUT.csv]`` writes ``data/samples/eval_breast_cancer.csv``: one row per
(test case, model) with ``label`` (1 = malignant, the positive class), ``score`` (predicted probability of
malignant), the slice columns ``size_bucket`` (mean radius below / between / above the training-set
terciles) and ``texture_bucket`` (mean texture below / above the training median), and the ten
"mean ..." features. Everything is seeded, so the file is reproducible bit for bit.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

from app.config import REPO_ROOT

__all__ = ["SAMPLE_PATH", "SEED", "build_breast_cancer_example", "main"]

SAMPLE_PATH = REPO_ROOT / "data" / "samples" / "eval_breast_cancer.csv"
SEED = 42
FEATURES = [
    "mean radius",
    "mean texture",
    "mean perimeter",
    "mean area",
    "mean smoothness",
    "mean compactness",
    "mean concavity",
    "mean concave points",
    "mean symmetry",
    "mean fractal dimension",
]


def build_breast_cancer_example(seed: int = SEED) -> pd.DataFrame:
    """Train logistic regression and gradient boosting on 60 % of the data; score the other 40 %."""
    from sklearn.datasets import load_breast_cancer
    from sklearn.ensemble import GradientBoostingClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import train_test_split
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    ds = load_breast_cancer(as_frame=True)
    x, y = ds.data, 1 - ds.target  # sklearn codes malignant as 0; make malignant the positive class
    x_tr, x_te, y_tr, y_te = train_test_split(x, y, test_size=0.4, stratify=y, random_state=seed)
    models = {
        "logistic_regression": make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000, random_state=seed)),
        "gradient_boosting": GradientBoostingClassifier(random_state=seed),
    }
    lo, hi = np.quantile(x_tr["mean radius"], [1 / 3, 2 / 3])
    size = np.where(x_te["mean radius"] <= lo, "small", np.where(x_te["mean radius"] <= hi, "medium", "large"))
    texture = np.where(x_te["mean texture"] <= x_tr["mean texture"].median(), "low", "high")
    frames = []
    for name, model in models.items():
        score = model.fit(x_tr, y_tr).predict_proba(x_te)[:, 1]
        part = pd.DataFrame(
            {
                "case_id": x_te.index,
                "model": name,
                "label": y_te.to_numpy(),
                "score": np.round(score, 6),
                "size_bucket": size,
                "texture_bucket": texture,
            }
        )
        frames.append(pd.concat([part, x_te[FEATURES].reset_index(drop=True).set_axis(part.index)], axis=1))
    return pd.concat(frames, ignore_index=True)


def main(argv: list[str] | None = None) -> None:
    """Write the example CSV (default: data/samples/eval_breast_cancer.csv)."""
    args = sys.argv[1:] if argv is None else argv
    out = Path(args[0]) if args else SAMPLE_PATH
    out.parent.mkdir(parents=True, exist_ok=True)
    build_breast_cancer_example().to_csv(out, index=False)
    print(out)


if __name__ == "__main__":  # pragma: no cover
    main()
