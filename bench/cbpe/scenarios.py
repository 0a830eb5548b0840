"""Datasets, models and shifted windows for the label-free accuracy benchmark (same rows for every method).

Per dataset (sklearn's breast-cancer, binary; wine, 3 classes) and repetition: a seeded split into
train / reference / analysis pool, a standardised logistic regression fitted on train, and windows
drawn *with replacement* from the analysis pool (wine has 178 rows in all, so windows re-use rows):

- ``none``: uniform draws;
- ``covariate s``: selection bias, P(row) ~ exp(s * z), z the standardised first principal component
  of the reference. P(y | x) is unchanged: the case CBPE is built for;
- ``inputs +k sd``: the three features the model leans on most are moved by k reference standard
  deviations, labels kept: inputs leave the reference support (a broken pipeline, a new sensor);
- ``concept``: half of the rows with z above the pool's median get another label (binary: flipped;
  multiclass: the next class); inputs unchanged, so no label-free method can see it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["SCENARIOS", "Split", "Window", "make_split", "make_window"]

SCENARIOS = ("none", "covariate 1", "covariate 2", "covariate 3", "inputs +1 sd", "inputs +3 sd", "concept")


@dataclass
class Split:
    dataset: str
    model: object
    x_ref: np.ndarray
    y_ref: np.ndarray
    x_pool: np.ndarray
    y_pool: np.ndarray
    z_pool: np.ndarray          # standardised first principal component (reference scale)
    top: np.ndarray             # indices of the three features with the largest coefficients
    sd: np.ndarray              # reference standard deviation per feature
    classes: np.ndarray


@dataclass
class Window:
    scenario: str
    x: np.ndarray
    y: np.ndarray


def _load(dataset: str) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_breast_cancer, load_wine

    ds = load_breast_cancer() if dataset == "breast_cancer" else load_wine()
    return ds.data.astype(float), ds.target


def make_split(dataset: str, rep: int) -> Split:
    """Seeded split 30 % train / 35 % reference / 35 % analysis pool, and the fitted model."""
    from sklearn.decomposition import PCA
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    x, y = _load(dataset)
    idx = np.random.default_rng(1000 + rep).permutation(len(y))
    a, b = int(0.3 * len(y)), int(0.65 * len(y))
    tr, ref, pool = idx[:a], idx[a:b], idx[b:]
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=5000)).fit(x[tr], y[tr])
    scaler = StandardScaler().fit(x[ref])
    pca = PCA(n_components=1, random_state=rep).fit(scaler.transform(x[ref]))
    zr = pca.transform(scaler.transform(x[ref]))[:, 0]
    z = (pca.transform(scaler.transform(x[pool]))[:, 0] - zr.mean()) / zr.std()
    coef = np.abs(model[-1].coef_).max(axis=0)
    return Split(dataset, model, x[ref], y[ref], x[pool], y[pool], z, np.argsort(-coef)[:3], x[ref].std(axis=0),
                 model.classes_)


def make_window(sp: Split, scenario: str, n: int, rng: np.random.Generator) -> Window:
    """One window of ``n`` rows for ``scenario`` (see the module docstring)."""
    w = np.ones(sp.z_pool.size)
    if scenario.startswith("covariate"):
        w = np.exp(float(scenario.split()[1]) * sp.z_pool)
    i = rng.choice(sp.z_pool.size, n, replace=True, p=w / w.sum())
    x, y = sp.x_pool[i].copy(), sp.y_pool[i].copy()
    if scenario.startswith("inputs"):
        k = float(scenario.split()[1].lstrip("+"))
        x[:, sp.top] += k * sp.sd[sp.top]
    if scenario == "concept":
        hit = (sp.z_pool[i] > np.median(sp.z_pool)) & (rng.uniform(size=n) < 0.5)
        pos = np.searchsorted(sp.classes, y[hit])
        y[hit] = sp.classes[(pos + 1) % sp.classes.size]
    return Window(scenario, x, y)
