"""Measure a frozen diagnosis batch (e.g. tests/fixtures/diagnosis_batch_c.json) the way a user meets the product.

A case with a ``prompt`` goes through ``diagnose(prompt=...)``; a case with a ``record`` is written to a temporary
``FILE.json`` and run through the CLI entry point exactly as ``mlfi diagnose --experiment FILE.json --no-store
--json`` (in-process, so a refusal at intake is the CLI's own one-line error and exit 2). Prints per-category
accuracy, overall accuracy, the cases refused at intake, the safety-rule violations and the failing ids with the
answer given.

Safety rules checked on every case the product did diagnose:

- ``leakage_without_evidence``: primary ``data_leakage`` without an active leakage signal backed by concrete
  evidence;
- ``failure_not_blocked``: a primary category other than ``unknown`` whose gate is not
  ``BLOCKED_PENDING_HUMAN_REVIEW``;
- ``collapse_clear``: gate ``CLEAR`` on a case that is a real failure (expected category other than ``unknown``)
  or that states a large drop between two splits or offline and production (``expect.large_drop``).

Run (from the repository root, with the code to measure first on the path):
    PYTHONPATH=$PWD .venv/bin/python bench/diagnosis/measure_batch.py tests/fixtures/diagnosis_batch_c.json [--json]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

BLOCKED = "BLOCKED_PENDING_HUMAN_REVIEW"
REFUSED = "refused"


def safety_violations(case: dict[str, Any], payload: dict[str, Any]) -> list[str]:
    """The safety rules a diagnosis of this case breaks (empty when it breaks none)."""
    out = []
    primary, gate = payload["primary_category"], payload["deployment_gate"]
    if primary == "data_leakage" and not (
        payload.get("active_leakage_signal") and any(e.get("concrete") for e in payload.get("evidence", []))
    ):
        out.append("leakage_without_evidence")
    if primary != "unknown" and gate != BLOCKED:
        out.append("failure_not_blocked")
    want = case["expect"]
    if gate == "CLEAR" and (want["primary_category"] != "unknown" or want.get("large_drop")):
        out.append("collapse_clear")
    return out


def _run_prompt(prompt: str, retriever: Any) -> tuple[dict[str, Any] | None, str]:
    from app.diagnosis import diagnose
    from app.errors import MlfiError

    try:
        return diagnose(prompt=prompt, retriever=retriever).payload(), ""
    except MlfiError as exc:
        return None, str(exc).splitlines()[0] if str(exc) else type(exc).__name__


def _run_record(record: dict[str, Any], workdir: Path, case_id: str) -> tuple[dict[str, Any] | None, str]:
    """``mlfi diagnose --experiment FILE.json --no-store --json`` in-process: (payload, "") or (None, stderr line)."""
    from app.cli import main

    path = workdir / f"{case_id}.json"
    path.write_text(json.dumps(record, indent=1))
    out, err = io.StringIO(), io.StringIO()
    code = 0
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            main(["diagnose", "--experiment", str(path), "--no-store", "--json"])
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
    if code != 0:
        return None, (err.getvalue().strip().splitlines() or [f"exit {code}"])[0] + f" (exit {code})"
    return json.loads(out.getvalue()), ""


def load_cases(fixture: Path) -> list[dict[str, Any]]:
    """The batch's cases; ValueError naming the first problem when the file is not a batch."""
    try:
        doc = json.loads(fixture.read_text(encoding="utf-8"))
    except UnicodeDecodeError as exc:
        raise ValueError("not UTF-8 text") from exc
    cases = doc.get("cases") if isinstance(doc, dict) else None
    if not isinstance(cases, list) or not cases:
        raise ValueError("expected a JSON object with a non-empty 'cases' list")
    for i, c in enumerate(cases):
        ok = (isinstance(c, dict) and isinstance(c.get("id"), str) and isinstance(c.get("expect"), dict)
              and isinstance(c["expect"].get("primary_category"), str)
              and (isinstance(c.get("prompt"), str) or isinstance(c.get("record"), dict)))
        if not ok:
            raise ValueError(f"case {i} needs an id, expect.primary_category and a prompt or a record")
    return cases


def measure(fixture: Path) -> dict[str, Any]:
    """Run every case of ``fixture`` and return the figures (see the module docstring)."""
    from app.knowledge import build_retriever

    cases = load_cases(fixture)
    retriever = build_retriever()
    started = time.perf_counter()
    old_home = os.environ.get("MLFI_HOME")
    with tempfile.TemporaryDirectory(prefix="mlfi-batch-") as tmp:
        work = Path(tmp)
        os.environ["MLFI_HOME"] = str(work / "home")  # the CLI's state dir (logs) stays in tmp; --no-store saves nothing
        try:
            rows = [_row(case, work, retriever) for case in cases]
        finally:
            if old_home is None:
                os.environ.pop("MLFI_HOME", None)
            else:
                os.environ["MLFI_HOME"] = old_home
    return summarise(fixture, rows, time.perf_counter() - started)


def _row(case: dict[str, Any], work: Path, retriever: Any) -> dict[str, Any]:
    """One case through the product: its answer, gate, refusal and safety violations."""
    if "record" in case:
        payload, refusal = _run_record(case["record"], work, case["id"])
    else:
        payload, refusal = _run_prompt(case["prompt"], retriever)
    want = case["expect"]
    if payload is None:
        return {"id": case["id"], "expected": want["primary_category"], "answer": REFUSED, "gate": None,
                "refusal": refusal, "violations": [], "correct": False, "gate_ok": None}
    return {
        "id": case["id"], "expected": want["primary_category"], "answer": payload["primary_category"],
        "gate": payload["deployment_gate"], "refusal": "", "violations": safety_violations(case, payload),
        "correct": payload["primary_category"] == want["primary_category"],
        "gate_ok": None if "deployment_gate" not in want else payload["deployment_gate"] == want["deployment_gate"],
    }


def summarise(fixture: Path, rows: list[dict[str, Any]], seconds: float) -> dict[str, Any]:
    """Per-category and overall accuracy, refusals, violations and failing ids from the per-case rows."""
    per_cat: dict[str, dict[str, int]] = {}
    for r in rows:
        c = per_cat.setdefault(r["expected"], {"cases": 0, "correct": 0, "refused": 0})
        c["cases"] += 1
        c["correct"] += r["correct"]
        c["refused"] += r["answer"] == REFUSED
    diagnosed = [r for r in rows if r["answer"] != REFUSED]
    violations = Counter(v for r in rows for v in r["violations"])
    gated = [r for r in rows if r["gate_ok"] is not None]
    return {
        "fixture": str(fixture),
        "cases": len(rows),
        "correct": sum(r["correct"] for r in rows),
        "accuracy": round(sum(r["correct"] for r in rows) / len(rows), 4) if rows else 0.0,
        "diagnosed": len(diagnosed),
        "correct_of_diagnosed": sum(r["correct"] for r in diagnosed),
        "refused_at_intake": len(rows) - len(diagnosed),
        "refused_by_category": {k: v["refused"] for k, v in sorted(per_cat.items()) if v["refused"]},
        "per_category": {k: {**v, "accuracy": round(v["correct"] / v["cases"], 4)} for k, v in sorted(per_cat.items())},
        "safety_violations": dict(sorted(violations.items())),
        "safety_violation_ids": {r["id"]: r["violations"] for r in rows if r["violations"]},
        "expected_gate_mismatches": [
            {"id": r["id"], "gate": r["gate"]} for r in gated if r["gate_ok"] is False and r["answer"] != REFUSED
        ],
        "expected_gates_checked": len([r for r in gated if r["answer"] != REFUSED]),
        "failing": [
            {"id": r["id"], "expected": r["expected"], "answer": r["answer"], "gate": r["gate"],
             **({"refusal": r["refusal"]} if r["refusal"] else {})}
            for r in rows if not r["correct"]
        ],
        "seconds": round(seconds, 1),
    }


def render(s: dict[str, Any]) -> str:
    """The summary as plain text for a terminal."""
    lines = [
        (f"{s['fixture']}: {s['correct']}/{s['cases']} primary categories right ({100 * s['accuracy']:.1f} %); "
         f"{s['refused_at_intake']} refused at intake; {s['correct_of_diagnosed']}/{s['diagnosed']} right among the "
         f"diagnosed; {s['seconds']} s"),
        "",
        f"{'category':<22}{'cases':>6}{'right':>7}{'refused':>9}{'accuracy':>10}",
    ]
    for cat, v in s["per_category"].items():
        lines.append(f"{cat:<22}{v['cases']:>6}{v['correct']:>7}{v['refused']:>9}{100 * v['accuracy']:>9.1f}%")
    lines += ["", "safety violations: " + (", ".join(f"{k} {v}" for k, v in s["safety_violations"].items()) or "none")]
    lines += [f"  {i}: {', '.join(v)}" for i, v in s["safety_violation_ids"].items()]
    lines.append(f"expected gate mismatches (diagnosed cases with an expected gate, "
                 f"{len(s['expected_gate_mismatches'])}/{s['expected_gates_checked']}):")
    lines += [f"  {m['id']}: {m['gate']}" for m in s["expected_gate_mismatches"]]
    lines.append("failing cases (expected -> answer [gate]):")
    for f in s["failing"]:
        tail = f"  ({f['refusal']})" if "refusal" in f else f" [{f['gate']}]"
        lines.append(f"  {f['id']}: {f['expected']} -> {f['answer']}{tail}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("fixture", type=Path, help="batch JSON with a top-level 'cases' list")
    ap.add_argument("--json", action="store_true", help="print the figures as one JSON document")
    args = ap.parse_args(argv)
    try:
        load_cases(args.fixture)
    except (OSError, ValueError) as exc:
        print(f"Error: cannot read batch {args.fixture}: {exc}", file=sys.stderr)
        return 2
    summary = measure(args.fixture)
    print(json.dumps(summary, indent=1) if args.json else render(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
