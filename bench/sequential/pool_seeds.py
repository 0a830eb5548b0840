"""Pool the per-stream delays that ``matched.py --delays`` wrote for several seeds (and, optionally, the same
seeds run on an earlier commit) into one Markdown table: per mode, each detector's median / p95 delay per seed and
over every stream of every seed.

    PYTHONPATH=. .venv/bin/python bench/sequential/pool_seeds.py --after A11.json A21.json ... \
        [--before B11.json B21.json ...] [--out FILE]

The peers' delays must be the same in both sets (same seeds, same streams): checked, and said when they differ.
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

import numpy as np

MLFI = "mlfi stated h"     # the product's detector in matched.py


def _stat(xs: list) -> tuple[float, float, int]:
    v = np.array([math.inf if x is None else x for x in xs], dtype=float)
    missed = int(np.isinf(v).sum())
    with np.errstate(invalid="ignore"):       # inf - inf between two missed streams: the percentile is inf
        p95 = float(np.nan_to_num(np.percentile(v, 95), nan=math.inf))
    return float(np.median(v)), p95, missed


def _cell(xs: list) -> str:
    med, p95, missed = _stat(xs)
    f = (lambda x: "inf" if math.isinf(x) else f"{x:.0f}")
    return f"{f(med)} / {f(p95)}" + (f" ({missed} missed)" if missed else "")


def pool(after: list[dict], before: list[dict] | None) -> list[str]:
    seeds = [r["seed"] for r in after]
    peers = [n for n in after[0]["delays"][next(iter(after[0]["delays"]))] if n.startswith("river")]
    lines = ["| mode | detector | " + " | ".join(f"seed {s}" for s in seeds) + " | all streams |",
             "|---|---|" + "---|" * (len(seeds) + 1)]
    notes = []
    for mode in after[0]["delays"]:
        rows = ([("mlfi product, before", before)] if before else []) + [("mlfi product, after", after)]
        rows += [(p, after) for p in peers]
        for label, runs in rows:
            name = MLFI if label.startswith("mlfi") else label
            per = [r["delays"][mode][name] for r in runs]
            lines.append(f"| {mode} | {label} | " + " | ".join(_cell(x) for x in per)
                         + f" | **{_cell([d for x in per for d in x])}** |")
        if before:
            for p in peers:
                if any(b["delays"][mode][p] != a["delays"][mode][p] for a, b in zip(after, before, strict=True)):
                    notes.append(f"{p} on {mode}: the two sets saw different streams")
    return lines + ([""] + notes if notes else [])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--after", nargs="+", type=Path, required=True)
    ap.add_argument("--before", nargs="+", type=Path)
    ap.add_argument("--out", type=Path)
    a = ap.parse_args()
    after = [json.loads(p.read_text()) for p in a.after]
    before = [json.loads(p.read_text()) for p in a.before] if a.before else None
    if before and [r["seed"] for r in before] != [r["seed"] for r in after]:
        raise SystemExit("--before and --after must list the same seeds in the same order")
    src = ", ".join(sorted({r["source"] for r in (before or []) + after}))
    text = "\n".join([f"Median / p95 delay in samples (sources: {src}); 'all streams' pools every stream of every seed.",
                      "", *pool(after, before), ""])
    if a.out:
        a.out.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
