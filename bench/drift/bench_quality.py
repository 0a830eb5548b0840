"""Drift-detection quality benchmark: false/true-positive rates and first-rank accuracy, mlfi vs peers.

Run (from the repository root, in the bench environment made by scripts/bench_env.sh):

    bench/.venv-peers/bin/python bench/drift/bench_quality.py run --libs mlfi,ks,alibi,evidently,nannyml
    bench/.venv-peers/bin/python bench/drift/bench_quality.py report

``run`` appends one JSON line per (library variant, cell, repetition) to bench/out/quality/<family>.jsonl
and skips what is already there, so it can be interrupted and resumed; ``report`` turns every file
there into bench/results/drift_quality.md. Windows depend only on (cell, repetition), so all
libraries see the same rows whichever environment or process runs them.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Iterator
from multiprocessing import get_context
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path[:0] = [str(HERE), str(ROOT)]

NS = (50, 200, 1000, 5000, 100_000)
DS = (5, 30)
GRID_SHIFTS = ("none", "mean0.2", "mean0.5", "var1.5", "all0.1", "cat10")
BIG = ((1_000_000, 5, "none"), (1_000_000, 5, "tiny0.02"), (100_000, 5, "tiny0.02"))
SLOW = ("evidently", "nannyml")  # families whose reps are capped at n >= 100000 (see --slow-large-reps)
OUT = ROOT / "bench" / "out" / "quality"

Task = tuple[str, str, str, int, int, int]  # family, kind, shift, n, d, rep


def tasks(args: argparse.Namespace, family: str) -> Iterator[Task]:
    """Every (cell, repetition) to run for one family, small cells first."""
    for n in args.ns:
        reps = args.reps
        if family in SLOW and n >= 100_000:
            reps = min(reps, args.slow_large_reps)
        for d in args.ds:
            for shift in args.shifts:
                for rep in range(args.first_rep, args.first_rep + reps):
                    yield (family, "synthetic", shift, n, d, rep)
    if args.real:
        from datasets import REAL_SETS

        for name in REAL_SETS:
            for bias in ("bias", "none"):
                for rep in range(args.reps):
                    yield (family, "real", f"{name}:{bias}", 0, 0, rep)
    if args.big and family in args.big_libs:
        # the 1M-row cells are costly for every peer (a KS peer takes ~10 s per check there): peers get
        # --slow-large-reps repetitions, mlfi (whose targets are judged there) gets --big-reps
        big_reps = args.big_reps if family == "mlfi" else min(args.big_reps, args.slow_large_reps)
        for n, d, shift in BIG:
            for rep in range(big_reps):
                yield (family, "big", shift, n, d, rep)


SNAPSHOT = ROOT / "bench" / "out" / "mlfi_snapshot"


def snapshot_app() -> str:
    """Copy app/ to bench/out/mlfi_snapshot/app and return its source hash.

    The workers import mlfi from this frozen copy, so a long run measures ONE version of the code
    even while app/ is being edited (workers are recycled every 200 tasks and would otherwise pick
    up whatever is on disk at that moment).
    """
    import shutil

    target = SNAPSHOT / "app"
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(ROOT / "app", target, ignore=shutil.ignore_patterns("__pycache__"))
    return code_version(target)


def _init_worker(app_dir: str | None = None) -> None:
    if app_dir:
        sys.path.insert(0, app_dir)
        os.environ["MLFI_BENCH_APP_DIR"] = app_dir
    # one BLAS/OpenMP thread per worker: the 2 workers share 2 cores without oversubscription
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = "1"
    import warnings

    warnings.filterwarnings("ignore")
    import logging

    logging.disable(logging.WARNING)


_CODE: dict[str, str] = {}


def code_version(app_dir: Path | None = None) -> str:
    """Short hash of mlfi's detection sources (results of different versions must not be pooled;
    the report warns when they are)."""
    if app_dir is None:
        app_dir = Path(os.environ.get("MLFI_BENCH_APP_DIR", str(ROOT))) / "app"
    key = str(app_dir)
    if key not in _CODE:
        import hashlib

        h = hashlib.sha256()
        for path in sorted((app_dir / "detection").glob("*.py")):
            h.update(path.name.encode() + path.read_bytes())
        _CODE[key] = h.hexdigest()[:10]
    return _CODE[key]


def run_one(task: Task) -> list[dict[str, object]]:
    """Generate the window for one task, run the family on it, score every variant."""
    from datasets import selection_bias_window, synthetic_window
    from peers import get_family

    family, kind, shift, n, d, rep = task
    if kind == "real":
        name, bias = shift.split(":")
        window = selection_bias_window(name, bias == "bias", rep)
    else:
        window = synthetic_window(shift, n, d, rep)
    start = time.perf_counter()
    try:
        decisions = get_family(family)(window.reference, window.current, window.categorical)
        error = None
    except Exception as exc:  # a peer crashing on a cell is a result too; record it and go on
        decisions, error = {}, f"{type(exc).__name__}: {exc}"[:300]
    seconds = time.perf_counter() - start
    base = {"code": code_version() if family == "mlfi" else None, "family": family, "kind": kind, "shift": shift, "n": n or len(window.current), "d": d or window.reference.shape[1], "rep": rep}
    if error is not None:
        return [{**base, "variant": family, "error": error, "seconds": seconds}]
    rows = []
    for variant, dec in decisions.items():
        top = dec.ranking[0] if dec.ranking else None
        rows.append(
            {
                **base,
                "variant": variant,
                "flag": dec.flag,
                "top": top,
                "rank1_ok": (top in window.accepted_first) if window.accepted_first and top is not None else None,
                "seconds": round(seconds, 4),
            }
        )
    return rows


def _done(path: Path) -> set[tuple]:
    done: set[tuple] = set()
    if path.exists():
        for line in path.read_text().splitlines():
            r = json.loads(line)
            done.add((r["family"], r["kind"], r["shift"], r["n"] if r["kind"] != "real" else 0, r["d"] if r["kind"] != "real" else 0, r["rep"]))
    return done


def cmd_run(args: argparse.Namespace) -> None:
    args.out.mkdir(parents=True, exist_ok=True)
    todo: list[Task] = []
    for family in args.libs:
        done = _done(args.out / f"{family}.jsonl")
        todo += [t for t in tasks(args, family) if t not in done]
    print(f"{len(todo)} tasks to run with {args.jobs} workers", flush=True)
    files = {f: (args.out / f"{f}.jsonl").open("a") for f in args.libs}
    start, count = time.time(), 0
    app_dir = None
    if "mlfi" in args.libs and args.snapshot:
        version = snapshot_app()
        app_dir = str(SNAPSHOT)
        print(f"mlfi from a frozen copy of app/ in {app_dir} (detection source hash {version})", flush=True)
    with get_context("spawn").Pool(args.jobs, initializer=_init_worker, initargs=(app_dir,),
                                   maxtasksperchild=200) as pool:
        for rows in pool.imap_unordered(run_one, todo, chunksize=1):
            fh = files[rows[0]["family"]]
            for r in rows:
                fh.write(json.dumps(r) + "\n")
            fh.flush()
            count += 1
            if count % 100 == 0 or count == len(todo):
                print(f"  {count}/{len(todo)} in {time.time() - start:.0f} s", flush=True)
    for fh in files.values():
        fh.close()


def cmd_report(args: argparse.Namespace) -> None:
    from report_quality import write_report

    text = write_report(sorted(args.out.glob("*.jsonl")), command=args.command_line)
    args.md.parent.mkdir(parents=True, exist_ok=True)
    args.md.write_text(text)
    print(f"wrote {args.md}")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    run = sub.add_parser("run", help="run the grid (resumable)")
    run.add_argument("--libs", default="mlfi,ks,alibi,evidently,nannyml", type=lambda s: s.split(","))
    run.add_argument("--ns", default=",".join(map(str, NS)), type=lambda s: [int(x) for x in s.split(",")])
    run.add_argument("--ds", default=",".join(map(str, DS)), type=lambda s: [int(x) for x in s.split(",")])
    run.add_argument("--shifts", default=",".join(GRID_SHIFTS), type=lambda s: s.split(","))
    run.add_argument("--reps", type=int, default=50)
    run.add_argument("--first-rep", type=int, default=0,
                     help="first repetition index of the synthetic cells (fresh seeds for a re-check)")
    run.add_argument("--slow-large-reps", type=int, default=20, help="reps for Evidently/NannyML at n >= 100000")
    run.add_argument("--no-real", dest="real", action="store_false", help="skip the selection-bias cells")
    run.add_argument("--no-big", dest="big", action="store_false", help="skip the n = 1M / negligible-shift cells")
    run.add_argument("--big-libs", default="mlfi,ks,alibi,nannyml", type=lambda s: s.split(","))
    run.add_argument("--big-reps", type=int, default=50)
    run.add_argument("--jobs", type=int, default=2)
    run.add_argument("--no-snapshot", dest="snapshot", action="store_false",
                     help="import mlfi from the live app/ instead of a frozen copy")
    run.add_argument("--out", type=Path, default=OUT)
    rep = sub.add_parser("report", help="write the markdown tables")
    rep.add_argument("--out", type=Path, default=OUT)
    rep.add_argument("--md", type=Path, default=ROOT / "bench" / "results" / "drift_quality.md")
    rep.add_argument("--command-line", default="bench/.venv-peers/bin/python bench/drift/bench_quality.py run && "
                     "bench/.venv-peers/bin/python bench/drift/bench_quality.py report")
    args = ap.parse_args(argv)
    {"run": cmd_run, "report": cmd_report}[args.cmd](args)


if __name__ == "__main__":
    main()
