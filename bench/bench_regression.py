"""Regression endpoints: false-alarm rate and detection of broken regressors with `compare_frames` on the
diabetes data scikit-learn bundles (Ridge model fitted on every other row, scored on all 442).

Each repetition draws a fresh random half as reference and the other half as current, then applies one
change to the current half: none, an output offset of +0.5 / +0.25 sd of the predictions, a x1.2 rescale,
Gaussian noise with sd 60 / 30 added to the predictions (the model's MAE is about 44), or `bmi` shifted by
+0.6 / +0.3 sd. Writes bench/results/regression.md.

Run: .venv/bin/python bench/bench_regression.py [--healthy 100] [--reps 25]
"""

from __future__ import annotations

import argparse
import time
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.datasets import load_diabetes
from sklearn.linear_model import Ridge

from app.analysis.compare import compare_frames

OUT = Path(__file__).resolve().parent / "results" / "regression.md"
CHANGES = {  # name -> (expected root cause, function of (current half, full data, rng))
    "offset +0.5 sd": ("prediction_drift", lambda c, d, r: c.assign(p=c["p"] + 0.5 * d["p"].std())),
    "offset +0.25 sd": ("prediction_drift", lambda c, d, r: c.assign(p=c["p"] + 0.25 * d["p"].std())),
    "rescale x1.2": ("prediction_drift", lambda c, d, r: c.assign(p=c["p"] * 1.2)),
    "noise sd 60": ("accuracy_drop", lambda c, d, r: c.assign(p=c["p"] + r.normal(0, 60.0, len(c)))),
    "noise sd 30": ("accuracy_drop", lambda c, d, r: c.assign(p=c["p"] + r.normal(0, 30.0, len(c)))),
    "bmi +0.6 sd": ("feature_drift", lambda c, d, r: c.assign(bmi=c["bmi"] + 0.6 * d["bmi"].std())),
    "bmi +0.3 sd": ("feature_drift", lambda c, d, r: c.assign(bmi=c["bmi"] + 0.3 * d["bmi"].std())),
}


def data() -> pd.DataFrame:
    x, y = load_diabetes(return_X_y=True, as_frame=True)
    return x.assign(y=y, p=Ridge(alpha=0.1).fit(x.iloc[::2], y.iloc[::2]).predict(x))


def halves(df: pd.DataFrame, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    idx = np.random.default_rng(seed).permutation(len(df))
    return df.iloc[idx[:221]].reset_index(drop=True), df.iloc[idx[221:]].reset_index(drop=True)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--healthy", type=int, default=100)
    ap.add_argument("--reps", type=int, default=25)
    args = ap.parse_args()
    df, t0 = data(), time.time()
    mae = float(np.abs(df["p"] - df["y"]).mean())
    healthy = Counter(compare_frames(*halves(df, 1000 + i), target="y", prediction_column="p").rca.root_cause
                      for i in range(args.healthy))
    alerts = args.healthy - healthy["none"]
    rows = []
    for name, (expected, change) in CHANGES.items():
        seen: Counter[str] = Counter()
        first = 0
        for i in range(args.reps):
            ref, cur = halves(df, 2000 + i)
            rep = compare_frames(ref, change(cur, df, np.random.default_rng(i)), target="y", prediction_column="p")
            seen[rep.rca.root_cause] += 1
            first += bool(expected == "feature_drift" and rep.rca.features and rep.rca.features[0].name == "bmi")
        rows.append((name, expected, seen[expected], dict(seen), first))
    lines = ["# Regression endpoints: false alarms and broken regressors (`mlfi compare` logic)", "",
             (f"Command: `.venv/bin/python bench/bench_regression.py --healthy {args.healthy} --reps {args.reps}` "
             f"({time.time() - t0:.0f} s). Data: scikit-learn's diabetes, Ridge fitted on every other row "
             f"(MAE {mae:.1f}), reference and current = random halves of 221 rows each."), "",
             (f"**Healthy: {alerts} alerts in {args.healthy} comparisons ({alerts / args.healthy:.0%})**; "
             f"root causes {dict(healthy)}."), "",
             "| change to the current half | expected root cause | right | runs | root causes seen | `bmi` first |",
             "|---|---|---|---|---|---|"]
    for name, expected, right, seen, first in rows:
        lines.append(f"| {name} | {expected} | {right} | {args.reps} | {seen} | "
                     f"{first if expected == 'feature_drift' else ''} |")
    OUT.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
