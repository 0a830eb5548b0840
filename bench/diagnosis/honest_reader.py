"""How rules and the learned reader should be combined, judged on batches the rules were never written on (issue 13).

Batches A-G were read while the rules were written, so the rules' answers on them are in-sample and say nothing about
how far the rules can be trusted against the reader. The "honest" batches are the ones no rule was written or changed
on: H (the held-out batch of session 9, measured once, then used only here), the batches written in session 10
without reading the rules (I, J, K), L and M (held out in session 10, measured once each, training data since) and
N, O, P (written in session 11 without reading the rules); since session 14 also Q (held out in session 11), R and S
(held out in session 13; Q and R then gave a few rule fixes, so the rules lean in-sample there); since session 15
also T and U (held out in session 14; T then gave one concept, and the two leakage sentences of session 15 were
written looking at leakage write-ups of H-U). V and W (session 15) are held out and never used here.
On those:

- for each honest batch X, the reader (tf-idf + multinomial logistic, as exported) is fitted on every other batch and
  gives its probabilities on X, which it never saw;
- a policy ``(t_unknown, t_over, margin, t_none, t_measured, t_counter, measured_words, t_grounded)`` combines
  them as ``app.diagnosis.learned.decide`` does: the reader's top class replaces the rules' ``unknown`` when its
  probability is at least ``t_unknown``; it replaces a category the rules decided when its probability is at least
  the level for how that category was decided and exceeds the reader's probability of the rules' category by ``margin``:
  ``t_over`` for a category read from words, ``t_measured`` (since session 14) for one a number or a concrete rule
  (the failure itself shown) supports; None: never. Leakage the rules decided, and any write-up with concrete leakage
  evidence, is never overruled or withdrawn. ``t_none``: the reader withdraws a category (answer ``unknown``) when
  its top class is ``unknown`` with at least that probability (for a category a number or a concrete rule supports,
  also at least ``t_measured``) and the same margin. Since session 15 ``t_measured`` applies only to a write-up of
  at least ``measured_words`` words (0: any), and where a sentence states a leakage mechanism as a fact (shared
  evaluation and training items, or information from after the prediction time: ``decide.grounding_sentence``) and
  the reader's leakage probability is at least ``t_grounded`` (None: never), the answer is leakage. Otherwise the
  reader never names leakage (not concrete evidence); it names a category the rules hold counter-evidence against
  only at ``t_counter`` or more (None: never; since session 14); it stays silent on a write-up the rules read as
  healthy, on healthy numbers (across splits or in an epoch log), on a write-up of a few words and on a bare
  suspicion of the author's;
- guard (since session 14): a policy is admissible only if it keeps every case of ``diagnosis_cases.json`` (the
  README's worked examples, the acceptance cases and the groups with the same words and different numbers) right
  when those are scored by the same reader; without it the best policy let the words overrule numbers the rules
  read correctly in 28 of those 170 write-ups;
- ``nested``: X's policy is chosen on the other honest batches only (most right answers; then fewer wrong hard
  negatives; then the more conservative policy), and applied to X: the honest figure of the whole procedure.

Run (from the repository root):
    PYTHONPATH=$PWD .venv/bin/python bench/diagnosis/honest_reader.py [--honest H I J K] [--features word char]
        [--session13-policy] [--c 10] [--measured-words 0 100] [--no-grounding] [--json FILE]
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import itertools
import json
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import train_reader as tr

HONEST = (*"HIJKLMNOPQRSTUVWXYZ", "AA")   # (almost) no rule was written on these (see train_reader.ALL_BATCHES)
CACHE = Path(__file__).resolve().parent / ".corpus_cache"
T_UNKNOWN = (0.0, 0.1, 0.2, 0.3, 1.01)
T_OVER = (None, 0.0, 0.1, 0.2, 0.3)
T_NONE = (None, 0.0, 0.2, 0.3, 0.4)
MARGIN = (0.0, 0.05)
T_MEASURED = (None, 0.0, 0.2, 0.3, 0.4, 0.5)
T_COUNTER = (None, 0.0, 0.3, 0.4, 0.5)
MEASURED_WORDS = (0, 100, 150)
T_GROUNDED = (None, 0.2, 0.3, 0.4)
RULES_ONLY = (1.01, None, 0.0, None, None, None, 0, None)
GUARD = "diagnosis_cases.json"  # the README's worked examples and the acceptance cases: a policy must keep them all
GRID = ((3.0, "balanced", 0), (10.0, "balanced", 0), (30.0, "balanced", 0))  # C, class weighting, signature copies


@functools.cache
def reading_version() -> str:
    """A hash of everything the product reads a write-up with (the diagnosis code, its rules and the failure
    signatures): a cached corpus row is stale as soon as any of it changes (before session 14 the cache was keyed by
    the fixture alone, and a rule change silently kept the old reading)."""
    root = tr.ROOT
    files = sorted([*(root / "app" / "diagnosis").rglob("*.py"), *(root / "app" / "diagnosis").rglob("*.toml"),
                    *(root / "knowledge").rglob("*.md"), *(root / "app" / "rules").rglob("*.py"),
                    Path(tr.__file__)])  # read_case decides which fields a row carries
    h = hashlib.sha256()
    for f in files:
        h.update(str(f.relative_to(root)).encode())
        h.update(f.read_bytes())
    return h.hexdigest()[:12]


def _cached_rows(tag: str, path: Path) -> list[dict[str, Any]]:
    """The product's reading of every case in ``path`` (a record may be under ``record`` or ``experiment``), cached by
    the file's sha256 and the reading's version."""
    sha = hashlib.sha256(path.read_bytes()).hexdigest()[:16]
    CACHE.mkdir(exist_ok=True)
    cached = CACHE / f"{tag}_{sha}_{reading_version()}.json"
    if cached.is_file():
        return json.loads(cached.read_text(encoding="utf-8"))
    cases = json.loads(path.read_text(encoding="utf-8"))["cases"]
    rows = [{"batch": tag, **tr.read_case({**c, "record": c["experiment"]} if "experiment" in c else c)}
            for c in cases]
    cached.write_text(json.dumps(rows), encoding="utf-8")
    return rows


def batch_rows(name: str) -> list[dict[str, Any]]:
    """The corpus rows of one batch (the product's reading, rules-only answers)."""
    path = tr.FIXTURES / tr.ALL_BATCHES[name]
    return _cached_rows(name, path) if path.is_file() else []


def answer(row: dict[str, Any], probs: dict[str, float], policy: tuple) -> str:
    """The product's answer under ``policy`` (see the module docstring)."""
    t_unknown, t_over, margin, t_none, t_measured, t_counter, measured_words, t_grounded = policy
    if row.get("words", 0) < measured_words:
        t_measured = None  # a short write-up: its numbers decide what they support
    rules = row["rules_primary"]
    numbers_decide = (rules != "unknown" and (row.get("rules_concrete") or row.get("rules_measured"))
                      and t_measured is None)  # a number's category the reader may not overrule here
    if (t_grounded is not None and row.get("shared_items") and rules != "data_leakage"
            and not row.get("concrete_leakage") and not row.get("healthy") and not row.get("few_words")
            and not numbers_decide and probs.get("data_leakage", 0.0) >= t_grounded):
        return "data_leakage"  # a sentence states a leakage mechanism and the reader reads leakage: concrete evidence
    top = max(probs, key=lambda c: probs[c])
    p = probs[top]
    withdraw = None
    if rules == "unknown" or rules == "data_leakage" or row.get("concrete_leakage"):
        level = None  # nothing to overrule, or leakage with concrete evidence: never overruled or withdrawn
    elif row.get("rules_concrete") or row.get("rules_measured"):
        level = t_measured
        withdraw = None if t_none is None or t_measured is None else max(t_none, t_measured)
    else:
        level, withdraw = t_over, t_none
    if top == "unknown":
        if withdraw is not None and p >= withdraw and p - probs.get(rules, 0.0) >= margin:
            return "unknown"
        return rules
    if top == rules or (top == "data_leakage" and not (rules == "unknown" and row.get("concrete_leakage"))):
        return rules  # leakage only where concrete evidence exists (then the product names it, as the rules would)
    if top in row["countered"] and (t_counter is None or p < t_counter):
        return rules
    if rules == "unknown":
        silent = (row.get("healthy") or row.get("numbers_healthy") or row.get("few_words")
                  or row.get("environment") or top in row.get("bare_worry", []))
        return top if (p >= t_unknown and not silent) else rules
    if level is None:
        return rules
    return top if (p >= level and p - probs.get(rules, 0.0) >= margin) else rules


def score(rows: list[dict[str, Any]], probs: list[dict[str, float]], policy: tuple) -> tuple[int, int]:
    """(right answers, hard negatives given a failure category)."""
    right = wrong_neg = 0
    for r, p in zip(rows, probs):
        a = answer(r, p, policy)
        right += a == r["label"]
        wrong_neg += r["label"] == "unknown" and a != "unknown"
    return right, wrong_neg


def keeps(rows: list[dict[str, Any]], probs: list[dict[str, float]], policy: tuple) -> bool:
    """Every one of ``rows`` answered right under ``policy`` (stops at the first wrong one)."""
    return all(answer(r, p, policy) == r["label"] for r, p in zip(rows, probs))


def policies() -> list[tuple]:
    out = []
    for pol in itertools.product(T_UNKNOWN, T_OVER, MARGIN, T_NONE, T_MEASURED, T_COUNTER, MEASURED_WORDS,
                                 T_GROUNDED):
        _, t_over, margin, t_none, t_measured, _, words, _ = pol
        if t_over is None and t_none is None and t_measured is None and margin:
            continue
        if t_measured is None and words:
            continue
        out.append(pol)
    return out


def conservative(policy: tuple) -> tuple:
    """Sort key: higher thresholds first (a tie goes to the policy that lets the reader speak less)."""
    return tuple(9.0 if v is None else v for v in policy)


def guard_rows() -> list[dict[str, Any]]:
    """The worked examples and acceptance cases (``GUARD``) read by the product."""
    return _cached_rows("guard", tr.FIXTURES / GUARD)


def held_out_probs(by_batch: dict[str, list[dict[str, Any]]], target: str, c: float, weight: str | None,
                   features: str, copies: int = 0, also: list[dict[str, Any]] | None = None) -> Any:
    """The reader fitted on every batch but ``target`` (and ``copies`` of the signatures), scoring ``target``
    (with ``also``: and those rows too, returned second; a ``target`` that is no batch: the reader that ships)."""
    train = [r for b, rows in by_batch.items() if b != target for r in rows] + tr.signature_rows(copies)
    model = tr.pipeline_for(features, c, weight).fit([tr.doc_for(r, features) for r in train],
                                                     [r["label"] for r in train])

    def scored(rows: list[dict[str, Any]]) -> list[dict[str, float]]:
        proba = model.predict_proba([tr.doc_for(r, features) for r in rows])
        return [{str(k): float(v) for k, v in zip(model.classes_, row)} for row in proba]

    mine = scored(by_batch[target]) if target in by_batch else []
    return mine if also is None else (mine, scored(also))


def run(honest: list[str], features: str = "word") -> dict[str, Any]:
    by_batch = {b: batch_rows(b) for b in tr.ALL_BATCHES}
    by_batch = {b: rows for b, rows in by_batch.items() if rows}
    honest = [b for b in honest if b in by_batch]
    guard = guard_rows()
    out: dict[str, Any] = {}
    for c, weight, copies in GRID:
        both = {b: held_out_probs(by_batch, b, c, weight, features, copies, also=guard) for b in honest}
        probs = {b: v[0] for b, v in both.items()}
        # a policy is admissible in fold b when the reader fitted without b keeps every guard case right under it
        admissible = {b: [p for p in policies() if keeps(guard, both[b][1], p)] for b in honest}
        # the exported policy must keep the guard under the reader that ships (fitted on every batch)
        shipped = held_out_probs(by_batch, "", c, weight, features, copies, also=guard)[1]
        final = [p for p in policies() if keeps(guard, shipped, p)]
        pols = sorted({p for b in honest for p in admissible[b]} | set(final), key=conservative)
        table = {b: {p: score(by_batch[b], probs[b], p) for p in pols} for b in honest}
        nested = {}
        for b in honest:
            others = [o for o in honest if o != b] or [b]
            pick = max(admissible[b], key=lambda p: (sum(table[o][p][0] for o in others),
                                            -sum(table[o][p][1] for o in others), conservative(p)))
            rules_right = sum(r["rules_primary"] == r["label"] for r in by_batch[b])
            reader_right = sum(max(p, key=p.get) == r["label"] for r, p in zip(by_batch[b], probs[b]))
            nested[b] = {"cases": len(by_batch[b]), "rules": rules_right, "reader_alone": reader_right,
                         "policy": list(pick), "product": table[b][pick][0], "wrong_hard_negatives": table[b][pick][1],
                         "rules_policy_product": score(by_batch[b], probs[b], RULES_ONLY)[0],
                         "admissible_policies": len(admissible[b])}
        best_all = max(final, key=lambda p: (sum(table[b][p][0] for b in honest),
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
    ap.add_argument("--session13-policy", action="store_true",
                    help="the policy space before session 14: no counter-evidence level, never overrule numbers")
    ap.add_argument("--c", type=float, nargs="+", help="only these C values (balanced classes, no signature copies)")
    ap.add_argument("--measured-words", type=int, nargs="+", help="only these minimum lengths for t_measured")
    ap.add_argument("--no-grounding", action="store_true", help="no grounded-leakage level (before session 15)")
    args = ap.parse_args(argv)
    global T_MEASURED, T_COUNTER, GRID, MEASURED_WORDS, T_GROUNDED
    if args.session13_policy:
        T_MEASURED, T_COUNTER, MEASURED_WORDS, T_GROUNDED = (None,), (None,), (0,), (None,)
    if args.no_grounding:
        T_GROUNDED = (None,)
    if args.measured_words:
        MEASURED_WORDS = tuple(args.measured_words)
    if args.c:
        GRID = tuple((c, "balanced", 0) for c in args.c)
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
