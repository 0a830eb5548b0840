"""Leave-one-batch-out (LOBO) measure of the learned reader and of rules + reader (issue 13, session 9).

For each configuration (features, C, class weighting) and each batch X of A-G, the reader is fitted on the other
six batches only and gives its probabilities on the cases of X, which it never saw: every one of the 400 cases
gets a held-out probability vector. From those:

- ``rules``: cases the rules alone get right (the rules were written on A-G, so this part is not held out);
- ``curve``: for each threshold, the product's right answers (rules, then the reader on what they leave
  ``unknown``, as ``app.diagnosis.learned.decide`` does, ``train_reader.combined``) and the hard negatives
  (expected ``unknown``) it gets wrong;
- ``nested``: the threshold for batch X chosen on the other six batches' held-out probabilities (most right answers,
  no more wrong hard negatives than the rules alone make there, the higher threshold on a tie), then applied to X:
  the LOBO figure of the whole procedure, per batch and in total.

The configuration to export is the one with the most ``nested`` right answers; its threshold is then chosen the same
way on all seven batches. The corpus is the one ``train_reader.py`` writes (the product's own reading of every case,
rules-only answers kept), so run ``train_reader.py --corpus-only`` first after any change of the rules.

``--features``: ``word`` (the exported vectoriser: word 1-2 grams), ``word+char`` (plus character 3-5 grams within
words) and ``+neg`` (the three words after a negation marked ``neg_``, ``mark_negations``).

Run (from the repository root; about 2-4 minutes of CPU per feature set):
    PYTHONPATH=$PWD .venv/bin/python bench/diagnosis/lobo_reader.py [--features word word+neg word+char] [--json]
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import train_reader as tr

_NEGATION = re.compile(r"\b(?:no|not|never|without|none|nothing|cannot|can't|don't|doesn't|didn't|isn't|aren't|"
                       r"wasn't|weren't|won't|neither|nor)\b((?:\W+\w+){1,3})", re.IGNORECASE)
_WORD = re.compile(r"\w+")


def mark_negations(text: str) -> str:
    """The up to three words after a negation, prefixed ``neg_`` ("no duplicates" reads unlike "duplicates").

    >>> mark_negations("We found no duplicates across splits. Leakage is present.")
    'We found no neg_duplicates neg_across neg_splits. Leakage is present.'
    """
    def _mark(m: re.Match[str]) -> str:
        head = m.group(0)[: len(m.group(0)) - len(m.group(1))]
        tail = re.split(r"[.;:!?,]", m.group(1), maxsplit=1)[0]
        return head + _WORD.sub(lambda w: "neg_" + w.group(0), tail) + m.group(1)[len(tail):]

    return _NEGATION.sub(_mark, text)


GRID = ((3.0, None), (10.0, None), (30.0, None), (3.0, "balanced"), (10.0, "balanced"), (30.0, "balanced"))


def held_out_proba(rows: list[dict[str, Any]], c: float, weight: str | None) -> tuple[list[str], Any]:
    """Class order and, for every case, the probabilities of a reader fitted without its batch."""
    import numpy as np

    classes = sorted({r["label"] for r in rows})
    proba = np.zeros((len(rows), len(classes)))
    for held in sorted({r["batch"] for r in rows}):
        train = [i for i, r in enumerate(rows) if r["batch"] != held]
        test = [i for i, r in enumerate(rows) if r["batch"] == held]
        model = tr._pipeline(c, weight).fit([rows[i]["doc"] for i in train], [rows[i]["label"] for i in train])
        cols = [classes.index(k) for k in model.classes_]
        proba[np.ix_(test, cols)] = model.predict_proba([rows[i]["doc"] for i in test])
    return classes, proba


def _scores(rows: list[dict[str, Any]], classes: list[str], proba: Any, tau: float) -> tuple[int, int]:
    """(right answers, wrong hard negatives) of rules + reader at threshold ``tau``."""
    neg = [i for i, r in enumerate(rows) if r["label"] == "unknown"]
    right = tr.combined(rows, classes, proba, tau)
    neg_right = tr.combined([rows[i] for i in neg], classes, proba[neg], tau) if neg else 0
    return right, len(neg) - neg_right


def pick_threshold(rows: list[dict[str, Any]], classes: list[str], proba: Any) -> float:
    """Most right answers without more wrong hard negatives than the rules alone; the higher threshold on a tie."""
    rules_wrong_neg = sum(r["label"] == "unknown" and r["rules_primary"] != "unknown" for r in rows)
    best = (1.01, -1)
    for tau in tr.THRESHOLDS:
        right, wrong_neg = _scores(rows, classes, proba, tau)
        if wrong_neg <= rules_wrong_neg and (right > best[1] or (right == best[1] and tau > best[0])):
            best = (tau, right)
    return best[0]


def evaluate(rows: list[dict[str, Any]], classes: list[str], proba: Any) -> dict[str, Any]:
    """The threshold curve and the nested per-batch figures for one configuration."""
    import numpy as np

    curve = []
    for tau in tr.THRESHOLDS:
        right, wrong_neg = _scores(rows, classes, proba, tau)
        curve.append({"threshold": tau, "right": right, "wrong_hard_negatives": wrong_neg})
    nested: dict[str, Any] = {}
    for held in sorted({r["batch"] for r in rows}):
        other = [i for i, r in enumerate(rows) if r["batch"] != held]
        mine = [i for i, r in enumerate(rows) if r["batch"] == held]
        tau = pick_threshold([rows[i] for i in other], classes, proba[other])
        sub = [rows[i] for i in mine]
        right, wrong_neg = _scores(sub, classes, proba[mine], tau)
        nested[held] = {"cases": len(mine), "rules": sum(r["rules_primary"] == r["label"] for r in sub),
                        "product": right, "threshold": tau, "wrong_hard_negatives": wrong_neg,
                        "reader_alone": int(sum(classes[int(np.argmax(proba[i]))] == rows[i]["label"] for i in mine))}
    total = {k: sum(v[k] for v in nested.values())
             for k in ("cases", "rules", "product", "wrong_hard_negatives", "reader_alone")}
    return {"curve": curve, "nested": nested, "total": total, "threshold_all": pick_threshold(rows, classes, proba)}


def run(rows: list[dict[str, Any]], features: list[str]) -> dict[str, Any]:
    out = {}
    for feat in features:
        tr.FEATURES = feat.replace("+neg", "")
        docs = [{**r, "doc": mark_negations(r["doc"])} for r in rows] if feat.endswith("+neg") else rows
        for c, w in GRID:
            classes, proba = held_out_proba(docs, c, w)
            out[f"{feat} C={c:g} {w or 'unweighted'}"] = {"features": feat, "C": c, "class_weight": w,
                                                          **evaluate(docs, classes, proba)}
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--features", nargs="+", default=["word"],
                    choices=sorted([*tr.VECTORISERS, *(f"{v}+neg" for v in tr.VECTORISERS)]))
    ap.add_argument("--corpus", type=Path, default=tr.CORPUS)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    res = run(json.loads(args.corpus.read_text())["rows"], args.features)
    if args.json:
        print(json.dumps(res, indent=1))
        return 0
    for name, r in res.items():
        t = r["total"]
        per = " ".join(f"{k}:{v['product']}/{v['cases']}" for k, v in r["nested"].items())
        print(f"{name:<32} rules {t['rules']}/{t['cases']}  nested LOBO product {t['product']}/{t['cases']} "
              f"(wrong hard negatives {t['wrong_hard_negatives']})  reader alone {t['reader_alone']}  "
              f"threshold on all {r['threshold_all']}  [{per}]")
    return 0


if __name__ == "__main__":
    sys.exit(main())
