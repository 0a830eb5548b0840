"""Does the product answer exactly as the policy ``honest_reader.py`` judged? (issue 13, session 14)

``bench/diagnosis/honest_reader.py`` chooses the reader's policy with its own ``answer(row, probs, policy)``; the
figures it reports describe the product only if ``mlfi diagnose`` gives that same answer. This script runs every
write-up of the stored corpus (``reader_corpus.json``) through ``app.diagnosis.diagnose`` and compares it with
``answer`` under the exported model's policy and probabilities. ``tests/test_diag_reader.py`` checks every 9th.

Run (from the repository root):
    PYTHONPATH=$PWD .venv/bin/python bench/diagnosis/policy_parity.py
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import honest_reader as hr
import train_reader as tr


def policy_of(m: Any) -> tuple:
    """The exported model's policy, in ``honest_reader.answer``'s order."""
    return (m.threshold, m.overrule_at, m.overrule_margin, m.withdraw_at, m.overrule_measured_at, m.counter_at,
            m.measured_words, m.grounded_leakage_at)


def disagreements(rows: list[dict[str, Any]], m: Any) -> list[tuple[dict[str, Any], str, str]]:
    """(row, product's answer, policy's answer) for every corpus row where the two differ."""
    from app.diagnosis import diagnose

    cases = {}
    for f in tr.ALL_BATCHES.values():
        cases.update({c["id"]: c for c in json.loads((tr.FIXTURES / f).read_text(encoding="utf-8"))["cases"]})
    out = []
    for r in rows:
        c = cases[r["id"]]
        got = diagnose(prompt=c.get("prompt"), experiment=c.get("record")).payload()["primary_category"]
        want = hr.answer(r, m.probabilities(r["doc"]), policy_of(m))
        if got != want:
            out.append((r, got, want))
    return out


def main() -> int:
    from app.diagnosis.learned import load_model

    m = load_model()
    if m is None:
        print("no exported reader model", file=sys.stderr)
        return 2
    rows = json.loads(tr.CORPUS.read_text(encoding="utf-8"))["rows"]
    bad = disagreements(rows, m)
    for r, got, want in bad:
        print(f"{r['id']}: product {got}, policy {want} (rules {r['rules_primary']}, label {r['label']})")
    print(f"policy {policy_of(m)}: {len(rows) - len(bad)} of {len(rows)} corpus write-ups answered as the policy "
          "answers")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
