"""When the rules abstain (``unknown``), let the learned reader speak.

- Rules say ``unknown``: if the reader's most probable class is a failure category with probability at or above
  the model's threshold (chosen by cross-validation on the development batches, see ``reader_model.json``), that
  category gets one piece of evidence, scored like a rule (weight 1, strength = the probability) and citing the
  failure signature of that category nearest to the text. If the reader leans towards a failure below the
  threshold it abstains: the answer stays ``unknown`` and the gate can no longer be CLEAR (``doubt``).
- Rules that decided (a close call included) are left alone: on a close call the deciding number is usually
  measured (a PSI, a gap), and a tie-break by the reader's words overturned such a decision on the acceptance cases
  (an upstream schema change with PSI 0.6 is drift, the words said data quality).
- A category the rules hold counter-evidence against (a counter-rule fired, e.g. a small train/validation gap
  against overfitting) gets nothing from the reader: measured numbers win over words.
- Otherwise the rules decide alone. The reader's evidence is never concrete, so it can never make leakage the
  primary category on its own (``taxonomy.classify`` requires concrete leakage evidence).
"""

from __future__ import annotations

import math
from typing import Any

from app.diagnosis.learned.vectors import ReaderModel, document, load_model
from app.diagnosis.rules import RuleSet
from app.diagnosis.signatures.library import Signature, load_signatures
from app.diagnosis.taxonomy import FiredRule, TaxonomyResult

__all__ = ["nearest_signature", "reader_evidence", "revise"]


def nearest_signature(model: ReaderModel, category: str, doc: str) -> Signature | None:
    """The signature of ``category`` whose section text is most similar (tf-idf cosine) to ``doc``."""
    vec = model.vector(doc)
    best, best_sim = None, -1.0
    for s in load_signatures():
        if s.category != category:
            continue
        sv = model.vector(f"{s.section}. {s.symptoms} {s.check}")
        sim = sum(w * sv.get(i, 0.0) for i, w in vec.items())
        if sim > best_sim + 1e-12:
            best, best_sim = s, sim
    return best


def reader_evidence(
    tax: TaxonomyResult, text: str, facts: dict[str, Any], model: ReaderModel | None = None
) -> tuple[FiredRule | None, bool]:
    """(evidence to add or None, doubt): see the module docstring."""
    m = model if model is not None else load_model()
    if m is None:
        return None, False
    if tax.primary != "unknown":
        return None, False
    allowed = [c for c in m.classes if c != "unknown"]
    doc = document(text, facts)
    probs = m.probabilities(doc)
    top = max(m.classes, key=lambda c: (probs[c], -m.classes.index(c)))
    p = probs[top]
    if any(s.category == top and s.counter > 0 for s in tax.scores):
        return None, False  # the numbers argue against that category: they win over the words
    if top not in allowed or p < m.threshold:
        return None, tax.primary == "unknown" and top != "unknown"
    sig = nearest_signature(m, top, doc)
    if sig is None or math.isnan(p):
        return None, tax.primary == "unknown"
    rule = FiredRule(
        rule_id="learned.reader",
        category=top,
        subtype=sig.subtype,
        kind="support",
        concrete=False,
        weight=1.0,
        strength=round(p, 6),
        contribution=round(p, 6),
        statement=(
            f"Learned reader: the write-up reads most like '{top}' (probability {p:.2f}, threshold "
            f"{m.threshold:.2f}; a linear model over {m.meta.get('n_cases', '?')} development write-ups); "
            f"nearest failure signature: '{sig.section}'. {sig.symptoms}"
        ),
        values={"probability": round(p, 6), "threshold": m.threshold},
        sources=["text (learned reader)"],
        cite_doc=sig.doc_id,
        cite_section=sig.section,
        action=sig.fix,
    )
    return rule, False


def revise(
    tax: TaxonomyResult, rules: RuleSet, text: str, facts: dict[str, Any], reclassify: Any,
    model: ReaderModel | None = None,
) -> tuple[TaxonomyResult, bool]:
    """The taxonomy result after the reader's evidence (``reclassify(extra)`` re-scores with it), and doubt."""
    del rules  # the thresholds live in the taxonomy result already (close call) and in the model (abstention)
    rule, doubt = reader_evidence(tax, text, facts, model)
    if rule is None:
        return tax, doubt
    revised = reclassify(rule)
    return revised, doubt or revised.primary == "unknown"
