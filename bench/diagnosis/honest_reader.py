"""How rules and the learned reader should be combined, judged on batches the rules were never written on (issue 13).

Batches A-G were read while the rules were written, so the rules' answers on them are in-sample and say nothing about
how far the rules can be trusted against the reader. The "honest" batches are the ones no rule was written or changed
on: H (the held-out batch of session 9, measured once, then used only here), the batches written in session 10
without reading the rules (I, J, K), L and M (held out in session 10, measured once each, training data since) and
N, O, P (written in session 11 without reading the rules). Batch Q (session 11) is held out and never used here.
On those:

- for each honest batch X, the reader (tf-idf + multinomial logistic, as exported) is fitted on every other batch and
  gives its probabilities on X, which it never saw;
- a policy ``(t_unknown, t_over, margin, t_none)`` combines them as ``app.diagnosis.learned.decide`` does: the reader's top
  class replaces the rules' ``unknown`` when its probability is at least ``t_unknown``; it replaces a category the
  rules decided (never concrete leakage) when its probability is at least ``t_over`` and exceeds the reader's
  probability of the rules' category by ``margin`` (``t_over`` None: never); ``t_none``: it withdraws such a category
  (answer ``unknown``) when its top class is ``unknown`` with that probability and the same margin. Only a category
  the rules decided from words can be overruled or withdrawn: never leakage, never one a concrete rule (the failure
  itself shown) or a number supports. The reader never names leakage (not concrete evidence), never a category the
  rules hold counter-evidence against, and stays silent on a write-up the rules read as healthy, on healthy numbers
  (across splits or in an epoch log), on a write-up of a few words and on a bare suspicion of the author's;
- ``nested``: X's policy is chosen on the other honest batches only (most right answers; then fewer wrong hard
  negatives; then the more conservative policy), and applied to X: the honest figure of the whole procedure.

Run (from the repository root):
    PYTHONPATH=$PWD .venv/bin/python bench/diagnosis/honest_reader.py [--honest H I J K] [--json FILE]
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import train_reader as tr

HONEST = tuple("HIJKLMNOP")   # no rule was written on these (see train_reader.ALL_BATCHES)
CACHE = Path(__file__).resolve().parent / ".corpus_cache"
T_UNKNOWN = (0.0, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.5, 1.01)
T_OVER = (None, 0.0, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5, 0.6)
T_NONE = (None, 0.0, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5)
MARGIN = (0.0, 0.05, 0.1, 0.2, 0.3)
GRID = ((3.0, "balanced", 0), (10.0, "balanced", 0), (3.0, "balanced", 2),
        (10.0, "balanced", 2))  # C, class weighting, signature copies (train_reader.signature_rows)


def batch_rows(name: str) -> list[dict[str, Any]]:
    """The corpus rows of one batch (the product's reading, rules-only answers), cached by the file's sha256."""
    path = tr.FIXTURES / tr.ALL_BATCHES[name]
    if not path.is_file():
        return []
    sha = hashlib.sha256(path.read_bytes()).hexdigest()[:16]
    CACHE.mkdir(exist_ok=True)
    cached = CACHE / f"{name}_{sha}_v6.json"
    if cached.is_file():
        return json.loads(cached.read_text(encoding="utf-8"))
    rows = [{"batch": name, **tr.read_case(c)} for c in json.loads(path.read_text(encoding="utf-8"))["cases"]]
    cached.write_text(json.dumps(rows), encoding="utf-8")
    return rows


def answer(row: dict[str, Any], probs: dict[str, float], policy: tuple) -> str:
    """The product's answer under ``policy`` (see the module docstring)."""
    t_unknown, t_over, margin, t_none = policy
    rules = row["rules_primary"]
    top = max(probs, key=lambda c: probs[c])
    p = probs[top]
    overrulable = not (rules in ("unknown", "data_leakage") or row.get("concrete_leakage")
                       or row.get("rules_concrete") or row.get("rules_measured"))
    if (top == "unknown" and overrulable
            and t_none is not None and p >= t_none and p - probs.get(rules, 0.0) >= margin):
        return "unknown"
    if top in ("unknown", "data_leakage") or top in row["countered"] or top == rules:
        return rules
    if rules == "unknown":
        silent = (row.get("healthy") or row.get("numbers_healthy") or row.get("few_words")
                  or top in row.get("bare_worry", []))
        return top if (p >= t_unknown and not silent) else rules
    if t_over is None or not overrulable:
        return rules
    return top if (p >= t_over and p - probs.get(rules, 0.0) >= margin) else rules


def score(rows: list[dict[str, Any]], probs: list[dict[str, float]], policy: tuple) -> tuple[int, int]:
    """(right answers, hard negatives given a failure category)."""
    right = wrong_neg = 0
    for r, p in zip(rows, probs):
        a = answer(r, p, policy)
        right += a == r["label"]
        wrong_neg += r["label"] == "unknown" and a != "unknown"
    return right, wrong_neg


def policies() -> list[tuple[float, float | None, float, float | None]]:
    out = []
    for t_unknown, t_over, margin, t_none in itertools.product(T_UNKNOWN, T_OVER, MARGIN, T_NONE):
        if t_over is None and t_none is None and margin:
            continue
        out.append((t_unknown, t_over, margin, t_none))
    return out


def conservative(policy: tuple) -> tuple:
    """Sort key: higher thresholds first (a tie goes to the policy that lets the reader speak less)."""
    t_unknown, t_over, margin, t_none = policy
    return (t_unknown, 9.0 if t_over is None else t_over, margin, 9.0 if t_none is None else t_none)


def held_out_probs(by_batch: dict[str, list[dict[str, Any]]], target: str, c: float, weight: str | None,
                   features: str, copies: int = 0) -> list[dict[str, float]]:
    """The reader fitted on every batch but ``target`` (and ``copies`` of the signatures), scoring ``target``."""
    train = [r for b, rows in by_batch.items() if b != target for r in rows] + tr.signature_rows(copies)
    model = tr.pipeline_for(features, c, weight).fit([tr.doc_for(r, features) for r in train],
                                                     [r["label"] for r in train])
    proba = model.predict_proba([tr.doc_for(r, features) for r in by_batch[target]])
    return [{str(k): float(v) for k, v in zip(model.classes_, row)} for row in proba]


def run(honest: list[str], features: str = "word") -> dict[str, Any]:
    by_batch = {b: batch_rows(b) for b in tr.ALL_BATCHES}
    by_batch = {b: rows for b, rows in by_batch.items() if rows}
    honest = [b for b in honest if b in by_batch]
    pols = policies()
    out: dict[str, Any] = {}
    for c, weight, copies in GRID:
        probs = {b: held_out_probs(by_batch, b, c, weight, features, copies) for b in honest}
        table = {b: {p: score(by_batch[b], probs[b], p) for p in pols} for b in honest}
        nested = {}
        for b in honest:
            others = [o for o in honest if o != b] or [b]
            pick = max(pols, key=lambda p: (sum(table[o][p][0] for o in others),
                                            -sum(table[o][p][1] for o in others), conservative(p)))
            rules_right = sum(r["rules_primary"] == r["label"] for r in by_batch[b])
            reader_right = sum(max(p, key=p.get) == r["label"] for r, p in zip(by_batch[b], probs[b]))
            nested[b] = {"cases": len(by_batch[b]), "rules": rules_right, "reader_alone": reader_right,
                         "policy": list(pick), "product": table[b][pick][0], "wrong_hard_negatives": table[b][pick][1],
                         "rules_policy_product": table[b][(1.01, None, 0.0, None)][0]}
        best_all = max(pols, key=lambda p: (sum(table[b][p][0] for b in honest),
                                            -sum(table[b][p][1] for b in honest), conservative(p)))
        key = f"{features} C={c:g} {weight or 'unweighted'} signatures x{copies}"
        out[key] = {"features": features, "C": c, "class_weight": weight, "signature_copies": copies,
                    "nested": nested,
                    "total": {k: sum(v[k] for v in nested.values())
                              for k in ("cases", "rules", "reader_alone", "product", "wrong_hard_negatives")},
                    "policy_all": list(best_all),
                    "policy_all_right": sum(table[b][best_all][0] for b in honest)}
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--honest", nargs="+", default=list(HONEST))
    ap.add_argument("--features", nargs="+", default=list(tr.EXPORTABLE))
    ap.add_argument("--json", type=Path, help="also write the full result here")
    args = ap.parse_args(argv)
    res = {}
    for f in args.features:
        res.update(run(args.honest, f))
    for key, r in res.items():
        per = " ".join(f"{b}:{v['product']}/{v['cases']}(rules {v['rules']}, reader {v['reader_alone']}, "
                       f"policy {v['policy']})" for b, v in r["nested"].items())
        t = r["total"]
        print(f"{key}: nested {t['product']}/{t['cases']} (rules {t['rules']}, reader alone {t['reader_alone']}, "
              f"wrong hard negatives {t['wrong_hard_negatives']}); all-batch policy {r['policy_all']} -> "
              f"{r['policy_all_right']}\n   {per}")
    if args.json:
        args.json.write_text(json.dumps(res, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
