"""Leave-one-batch-out (LOBO) measure of the learned reader and of rules + reader (issue 13, session 9).

For each batch X of A-G: the reader is fitted on the other six batches only, with its C, class weighting and
threshold chosen there (``train_reader.select``: 5-fold cross-validation inside those six batches), and then
scores the cases of X it never saw. Reported per left-out batch:

- ``rules``: cases the rules alone get right (the rules were written on A-G, so this part is not held out);
- ``product``: rules, then the reader on what they leave ``unknown`` (``train_reader.combined``, as
  ``app.diagnosis.learned.decide`` does), with the threshold chosen without X;
- ``reader_alone``: the reader's top class on every case of X;
- ``wrong_calls_on_negatives``: hard negatives (expected ``unknown``) the product gets wrong.

The corpus is the one ``train_reader.py`` writes (read by the product's own parsers, rules-only answers kept),
so run ``train_reader.py`` first after any change of the rules. ``--features`` picks the vectoriser to compare.

Run (from the repository root):
    PYTHONPATH=$PWD .venv/bin/python bench/diagnosis/lobo_reader.py [--features word|word+char] [--json]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import train_reader as tr  # noqa: E402


def lobo(rows: list[dict[str, Any]], features: str) -> dict[str, Any]:
    """Per left-out batch figures and their totals (see the module docstring)."""
    tr.FEATURES = features
    out: dict[str, Any] = {"features": features, "batches": {}}
    for held in sorted({r["batch"] for r in rows}):
        train = [r for r in rows if r["batch"] != held]
        test = [r for r in rows if r["batch"] == held]
        cv = tr.select(train)
        model = tr._pipeline(cv["chosen"]["C"], cv["chosen"]["class_weight"]).fit(
            [r["doc"] for r in train], [r["label"] for r in train])
        classes = [str(c) for c in model.classes_]
        proba = model.predict_proba([r["doc"] for r in test])
        neg = [(r, p) for r, p in zip(test, proba) if r["label"] == "unknown"]
        out["batches"][held] = {
            "cases": len(test), "rules": sum(r["rules_primary"] == r["label"] for r in test),
            "product": tr.combined(test, classes, proba, cv["threshold"]),
            "reader_alone": sum(classes[int(p.argmax())] == r["label"] for r, p in zip(test, proba)),
            "wrong_calls_on_negatives": len(neg) - tr.combined([r for r, _ in neg], classes, [p for _, p in neg],
                                                               cv["threshold"]),
            "threshold": cv["threshold"], "C": cv["chosen"]["C"], "class_weight": cv["chosen"]["class_weight"],
        }
    b = out["batches"].values()
    out["total"] = {k: sum(v[k] for v in b) for k in ("cases", "rules", "product", "reader_alone",
                                                       "wrong_calls_on_negatives")}
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--features", default=tr.FEATURES, choices=sorted(tr.VECTORISERS))
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    res = lobo(json.loads(tr.CORPUS.read_text())["rows"], args.features)
    if args.json:
        print(json.dumps(res, indent=1))
        return 0
    print(f"features: {res['features']}")
    print(f"{'left out':<9}{'cases':>6}{'rules':>7}{'product':>9}{'reader':>8}{'neg wrong':>10}{'tau':>6}{'C':>6}")
    for k, v in {**res["batches"], "all": res["total"]}.items():
        print(f"{k:<9}{v['cases']:>6}{v['rules']:>7}{v['product']:>9}{v['reader_alone']:>8}"
              f"{v['wrong_calls_on_negatives']:>10}{v.get('threshold', ''):>6}{v.get('C', ''):>6}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
