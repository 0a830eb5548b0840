"""Null calibration of the drift suite, component by component, on many no-shift windows.

For every no-shift cell of the quality benchmark (n rows x d N(0,1) features + one binary
categorical column, both windows from the same distribution) this runs ``feature_drift`` at its
defaults on ``--reps`` fresh windows (seeds disjoint from the benchmark's: repetitions start at
``--first-rep``) and records, per window, the p-value of every component the verdict is built from:

- each feature's KS, Welch and Brown-Forsythe p-values and their Cauchy combination (one hypothesis);
- the categorical column's chi-square / Fisher p-value;
- Hotelling's T^2, the correlation-change test and their Cauchy combination (one hypothesis);
- the dataset flag and which hypothesis raised it.

A component is calibrated when ``P(p < a) <= a`` (up to sampling noise) at the levels that matter:
0.05, 0.01 and the first BH step ``alpha / m`` (m = d + 2 hypotheses). The report gives each rate
over its nominal level, with a binomial p-value of the count if the true rate were the nominal one.

    PYTHONPATH=. .venv/bin/python bench/drift/null_calibration.py --reps 2000 --out bench/out/null_cal.json
    PYTHONPATH=. .venv/bin/python bench/drift/null_calibration.py --report bench/out/null_cal.json
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
from collections import defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parents[1])]

ALPHA = 0.05


def one_window(n: int, d: int, rep: int) -> dict[str, object]:
    """Every component's p-value on one no-shift window."""
    from datasets import synthetic_window

    from app.detection.base import cauchy_combination
    from app.detection.drift import feature_drift

    w = synthetic_window("none", n, d, rep)
    fd = feature_drift(w.reference, w.current)
    suite = fd.suite
    assert suite is not None
    per: dict[str, dict[str, float]] = defaultdict(dict)
    for r in suite.groups.get("features", []):
        if r.p_value is not None:
            per[r.name][r.method] = r.p_value
    joint = {r.method: r.p_value for r in suite.groups.get("joint", []) if r.p_value is not None}
    flagged = [r.name + ":" + r.method for k in ("features", "joint") for r in suite.groups.get(k, [])
               if r.drift_detected]
    out: dict[str, object] = {"n": n, "d": d, "rep": rep, "flag": bool(fd.dataset_drift), "flagged": flagged}
    out["features"] = {name: {**tests, "combined": cauchy_combination(list(tests.values()))}
                       for name, tests in per.items() if name != "cat"}
    out["cat"] = per.get("cat", {}).get("chi2")
    if joint:
        out["joint"] = {**joint, "combined": cauchy_combination(list(joint.values()))}
    return out


def run(args: argparse.Namespace) -> None:
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    rows = []
    t0, c0 = time.time(), time.process_time()
    for n in args.ns:
        for d in args.ds:
            t1 = time.time()
            for rep in range(args.first_rep, args.first_rep + args.reps):
                rows.append(one_window(n, d, rep))
            print(f"n={n} d={d}: {args.reps} windows in {time.time() - t1:.0f} s", flush=True)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    meta = {"reps": args.reps, "first_rep": args.first_rep, "wall_s": round(time.time() - t0, 1),
            "cpu_s": round(time.process_time() - c0, 1), "maxrss_mb": usage.ru_maxrss // 1024,
            "load": os.getloadavg()}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"meta": meta, "rows": rows}))
    print(f"wrote {args.out} ({meta})")


def _binom_p(k: int, n: int, p: float) -> float:
    from scipy import stats

    return float(stats.binom.sf(k - 1, n, p))


def report(path: Path) -> str:
    data = json.loads(path.read_text())
    rows = data["rows"]
    cells = sorted({(r["n"], r["d"]) for r in rows})
    lines = [f"Null calibration, {data['meta']}", "",
             "| n | d | component | draws | P(p<0.05)/0.05 | P(p<0.01)/0.01 | P(p<a1)/a1 | p (binom, a1) |",
             "|---|---|---|---|---|---|---|---|"]
    flags = total = 0
    for n, d in cells:
        sel = [r for r in rows if r["n"] == n and r["d"] == d]
        a1 = ALPHA / (d + 2)
        comps: dict[str, list[float]] = defaultdict(list)
        for r in sel:
            for tests in r["features"].values():
                for k, v in tests.items():
                    comps[f"feature {k}"].append(v)
            if r["cat"] is not None:
                comps["cat chi2"].append(r["cat"])
            for k, v in (r.get("joint") or {}).items():
                comps[f"joint {k}"].append(v)
        for name, ps in comps.items():
            m = len(ps)
            rates = [sum(p < a for p in ps) / m / a for a in (0.05, 0.01, a1)]
            k1 = sum(p < a1 for p in ps)
            lines.append(f"| {n} | {d} | {name} | {m} | " + " | ".join(f"{x:.2f}" for x in rates)
                         + f" | {_binom_p(k1, m, a1):.3f} |")
        f = sum(r["flag"] for r in sel)
        flags += f
        total += len(sel)
        by: dict[str, int] = defaultdict(int)
        for r in sel:
            for key in {x.split(":")[0] if not x.startswith("rows") else "joint" for x in r["flagged"]}:
                by["joint" if key == "joint" else ("cat" if key == "cat" else "feature")] += 1
        lines.append(f"| {n} | {d} | **dataset flag** | {len(sel)} | {f / len(sel):.4f} (rate) | "
                     f"{dict(by)} | | {_binom_p(f, len(sel), ALPHA):.3f} |")
    lines += ["", (f"Pooled dataset flag: {flags}/{total} = {flags / total:.4f} "
                  f"(one-sided binomial p at 5 %: {_binom_p(flags, total, ALPHA):.3f})")]
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ns", type=lambda s: [int(x) for x in s.split(",")], default=[50, 200, 1000, 5000])
    ap.add_argument("--ds", type=lambda s: [int(x) for x in s.split(",")], default=[5, 30])
    ap.add_argument("--reps", type=int, default=2000)
    ap.add_argument("--first-rep", type=int, default=100_000)
    ap.add_argument("--out", type=Path, default=HERE.parents[1] / "bench" / "out" / "null_cal.json")
    ap.add_argument("--report", type=Path, default=None, help="print the table of a finished run")
    args = ap.parse_args()
    if args.report:
        print(report(args.report))
    else:
        run(args)


if __name__ == "__main__":
    main()
