"""The exported reader at several thresholds on a set of write-ups it was not fitted on: right answers and hard
negatives (expected ``unknown``) given a failure category.

Default set: ``bench/diagnosis/own_examples_s9.json`` (63 short write-ups of session 9, 7 hard negatives; see its
description). Used beside ``lobo_reader.py`` to choose the exported threshold (``bench/results/diagnosis_session9.md``).

Run (from the repository root):
    PYTHONPATH=$PWD .venv/bin/python bench/diagnosis/threshold_check.py [FILE.json]
"""

from __future__ import annotations

import dataclasses
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
THRESHOLDS = (0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.7, 1.01)


def main(argv: list[str] | None = None) -> int:
    from app.diagnosis import diagnose
    from app.diagnosis.learned import decide
    from app.diagnosis.learned.vectors import load_model

    args = sys.argv[1:] if argv is None else argv
    cases = json.loads(Path(args[0] if args else HERE / "own_examples_s9.json").read_text(encoding="utf-8"))["cases"]
    base = load_model()
    if base is None:
        print("Error: no exported reader model", file=sys.stderr)
        return 2
    for tau in THRESHOLDS:
        model = dataclasses.replace(base, threshold=tau)
        decide.load_model = lambda m=model: m  # type: ignore[assignment]
        answers = [(c["expect"]["primary_category"], diagnose(prompt=c["prompt"]).payload()["primary_category"])
                   for c in cases]
        neg = [a for want, a in answers if want == "unknown"]
        label = "no reader" if tau > 1 else f"threshold {tau:.2f}"
        print(f"{label:<16} right {sum(w == a for w, a in answers)}/{len(answers)}  hard negatives given a failure "
              f"category {sum(a != 'unknown' for a in neg)}/{len(neg)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
