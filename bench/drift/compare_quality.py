"""Compare a fresh mlfi quality run (bench_quality.py run --libs mlfi --out DIR) with the committed table.

    python bench/drift/compare_quality.py bench/out/quality_i12/mlfi.jsonl   # -> stdout, markdown

Old rates: the "**mlfi** (defaults)" rows of bench/results/drift_quality.md; new: the run's flags.
"""

from __future__ import annotations

import json
import re
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def old_rates() -> dict[tuple[str, int, int], float]:
    out: dict[tuple[str, int, int], float] = {}
    section, header = "", []
    for line in (ROOT / "bench" / "results" / "drift_quality.md").read_text().splitlines():
        if line.startswith("## "):
            section, header = line[3:].split(" (")[0], []
        elif line.startswith("| detector |"):
            header = [h.strip() for h in line.strip("|").split("|")]
        elif line.startswith("| **mlfi**") and header:
            cells = [c.strip() for c in line.strip("|").split("|")]
            for h, c in zip(header[1:], cells[1:]):
                m = re.match(r"n=([\d,]+) d=(\d+)", h)
                if m and c.endswith("%"):
                    out[(section, int(m.group(1).replace(",", "")), int(m.group(2)))] = float(c[:-1])
    return out


def main() -> None:
    rows = [json.loads(x) for x in Path(sys.argv[1]).read_text().splitlines()]
    new: dict[tuple[str, int, int], list[bool]] = defaultdict(list)
    for r in rows:
        if r["kind"] == "synthetic" and "flag" in r:
            new[(r["shift"], r["n"], r["d"])].append(bool(r["flag"]))
    names = {"none": "no shift", "mean0.2": "mean +0.2 sd on one feature", "mean0.5": "mean +0.5 sd on one feature",
             "var1.5": "variance x1.5 on one feature", "all0.1": "mean +0.1 sd on every numeric feature",
             "cat10": "class proportion 50% -> 60%"}
    old = old_rates()
    print("| shift | n | d | before | now | change |\n|---|---|---|---|---|---|")
    for (shift, n, d), flags in sorted(new.items()):
        now = 100 * sum(flags) / len(flags)
        before = next((v for (sec, nn, dd), v in old.items() if nn == n and dd == d and sec.startswith(
            names[shift].split(" (")[0][:12])), None)
        b = f"{before:.0f} %" if before is not None else "?"
        ch = f"{now - before:+.0f}" if before is not None else ""
        print(f"| {shift} | {n:,} | {d} | {b} | {now:.0f} % ({sum(flags)}/{len(flags)}) | {ch} |")
    none = [f for (shift, _, _), flags in new.items() if shift == "none" for f in flags]
    if none:
        print(f"| none, pooled over {len({k for k in new if k[0] == 'none'})} cells | | | | "
              f"{100 * sum(none) / len(none):.2f} % ({sum(none)}/{len(none)}) | |")
    big: dict[tuple[str, int, int], list[bool]] = defaultdict(list)
    for r in rows:
        if r["kind"] == "big" and "flag" in r:
            big[(r["shift"], r["n"], r["d"])].append(bool(r["flag"]))
    for (shift, n, d), flags in sorted(big.items()):
        before = old.get(("Large windows: no shift and a negligible shift", n, d))
        b = f"{before:.0f} %" if before is not None else "?"
        print(f"| big {shift} | {n:,} | {d} | {b} | {100 * sum(flags) / len(flags):.0f} % "
              f"({sum(flags)}/{len(flags)}) | |")
    real = defaultdict(list)
    for r in rows:
        if r["kind"] == "real" and "flag" in r:
            real[r["shift"]].append(bool(r["flag"]))
    for k, v in sorted(real.items()):
        print(f"| real {k} | | | | {100 * sum(v) / len(v):.0f} % ({sum(v)}/{len(v)}) | |")


if __name__ == "__main__":
    main()
