"""When the rules abstain (``unknown``), or decided on weak grounds, let the learned reader speak.

- Rules say ``unknown``: if the reader's most probable class is a failure category with probability at or above
  the model's threshold (chosen on the batches the rules were never written on, see ``reader_model.json`` and
  ``bench/diagnosis/honest_reader.py``), that category gets one piece of evidence, scored like a rule (weight 1,
  strength = the probability) and citing the failure signature of that category nearest to the text. If the reader
  leans towards a failure below the threshold it abstains: the answer stays ``unknown`` and the gate can no longer be
  CLEAR (``doubt``).
- Rules decided a category from words (``overrulable``: never leakage, never one a concrete rule or a number
  supports): the reader overrules them only when the model carries an ``overrule_at`` level, its top class is
  another failure category with at least that probability, and that probability exceeds the reader's probability
  of the rules' category by ``overrule_margin``. The rules' category stays listed as a secondary risk and the
  overruling is recorded as a conflict. Both levels are chosen on the
  batches the rules never saw, where the rules' own errors are out-of-sample (on the batches they were written on
  the rules are nearly always right, so only there can the trade be judged).
- Rules decided a category from words and the reader reads no failure at all (its top class is ``unknown``) with
  at least the model's ``withdraw_at`` probability, ``overrule_margin`` above the rules' category: the category is
  withdrawn, the answer is ``unknown`` with the rules' reading kept as a secondary risk and a conflict, and the gate
  is REVIEW_RECOMMENDED (a person decides; never CLEAR). On the batches the rules never saw, many hard negatives
  the rules mistook for a failure are of this kind.
- A category a number or a concrete rule supports (``measured``; never leakage) is overruled or withdrawn only at
  the model's ``overrule_measured_at`` (None: never; since session 14). On the batches the rules never saw, where the
  reader read another failure than such a category, the reader was right far more often than the rules (session 14:
  19 against 4 of 31 at probability 0.4 or more): the number parsing misreads real write-ups. On ``unknown`` the
  reader stays silent on healthy numbers (``numbers_healthy``); it names nothing in fewer than
  ``MIN_WORDS`` words and only doubts a bare suspicion of the author's (``bare_suspicion``) or a write-up that
  states a software failure (``environment_failure``, since session 18). On a write-up the rules
  read as healthy from words only, a failure the reader reads keeps the gate from CLEAR (``reader_doubts``).
- A category the rules hold counter-evidence against (a counter-rule fired, e.g. a small train/validation gap
  against overfitting) gets the reader's word only at the model's ``counter_at`` (None: never; since session 14).
- Every level is chosen by nested leave-one-batch-out on the batches the rules were never written on
  (``bench/diagnosis/honest_reader.py``), and when the reader speaks its category is the answer (the policy those
  figures judge), even where its one piece of evidence alone would not reach the taxonomy's primary threshold.
- The reader's own evidence is never concrete, so it can never make leakage the primary category on its own
  (``taxonomy.classify`` requires concrete leakage evidence) and never overrules a leakage reading; only a sentence
  that states the mechanism can (below).
- Since session 15: ``overrule_measured_at`` applies only to a write-up of at least the model's ``measured_words``
  words (``measured_level``). And a sentence that states a leakage mechanism as a fact (evaluation and training
  items are shared, ``app.diagnosis.text.shared_items``; information from after the prediction time reaches the
  model, ``app.diagnosis.text.future_information``; since session 16 also the label reaches the model's inputs,
  ``app.diagnosis.text.target_in_inputs``) becomes concrete leakage evidence where the reader's leakage
  probability reaches the model's ``grounded_leakage_at`` (``grounded_leakage``, behind the same guards as the
  reader: ``grounding_level``): the reader reads the whole write-up, the quoted sentence is the evidence, and leakage
  is the answer (a category the rules read is kept as a secondary risk and a conflict). Without such a sentence
  leakage stays unnamed, whatever the reader's probability.
"""

from __future__ import annotations

import math
import re
from typing import Any

from app.diagnosis.learned.vectors import ReaderModel, document, load_model
from app.diagnosis.rules import RuleSet
from app.diagnosis.signatures.library import Signature, load_signatures
from app.diagnosis.taxonomy import Conflict, FiredRule, TaxonomyResult
from app.diagnosis.text.future_information import future_information_sentence
from app.diagnosis.text.shared_items import shared_item_sentence
from app.diagnosis.text.target_in_inputs import target_in_inputs_sentence

__all__ = [
    "bare_suspicion",
    "basis",
    "countered",
    "environment_failure",
    "few_words",
    "grounded_leakage",
    "grounding_level",
    "grounding_sentence",
    "measured",
    "measured_level",
    "named",
    "nearest_signature",
    "numbers_healthy",
    "overrulable",
    "overrule_level",
    "overruled",
    "reader_doubts",
    "reader_evidence",
    "revise",
    "withdraw_level",
    "withdrawn",
    "withdraws",
    "word_count",
]


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


def _top(m: ReaderModel, probs: dict[str, float]) -> str:
    """The reader's most probable class (a tie goes to the class listed first)."""
    return max(m.classes, key=lambda c: (probs[c], -m.classes.index(c)))


HEALTHY_SPLIT_DROP = 0.03
"""Two or more splits whose figures differ by at most this much (bounded metrics) read as healthy numbers."""


def numbers_healthy(facts: dict[str, Any]) -> bool:
    """Measured numbers that the reader's words do not overrule, with no drop stated: one metric on two or more
    splits, none lower than another by more than ``HEALTHY_SPLIT_DROP``; or an epoch log whose training and held-out
    accuracy stay within that distance on every epoch, ending at 0.8 or more (curves together at a low level are
    underfitting, which the reader may still name)."""
    if facts.get("drop_seen") or facts.get("said_drop"):
        return False
    drop = facts.get("max_split_drop")
    if (facts.get("n_splits_with_metric") or 0) >= 2 and isinstance(drop, (int, float)) and drop <= HEALTHY_SPLIT_DROP:
        return True
    gap, last = facts.get("log_acc_gap_max"), facts.get("log_train_acc_last")
    return ((facts.get("log_acc_pairs") or 0) >= 2 and isinstance(gap, (int, float)) and abs(gap) <= HEALTHY_SPLIT_DROP
            and isinstance(last, (int, float)) and last >= 0.8)


def measured(tax: TaxonomyResult) -> bool:
    """A support rule of the rules' category fired on a number (a PSI, a gap, a production drop), not on words."""
    return any(f.category == tax.primary and f.kind == "support"
               and any(isinstance(v, (int, float)) and not isinstance(v, bool) for v in f.values.values())
               for f in tax.fired)


MIN_WORDS = 16
"""The reader names nothing in a write-up of fewer words than this ("Validation accuracy 0.9.", "We trained a
gradient-boosted model on the churn table last week."): too little text to tell a failure from a description, so it
would only repeat its prior (a one-line description read as drift at p 0.33). On the nine batches no rule was written
on (H-P, 803 write-ups), no write-up under 16 words was one the reader named a category for (session 11; it was 6)."""


def word_count(text: str) -> int:
    """The words of two letters or more in ``text`` (numbers and symbols do not count)."""
    return len(re.findall(r"[^\W\d_]{2,}", text))


def few_words(text: str) -> bool:
    """Fewer than ``MIN_WORDS`` words (``word_count``)."""
    return word_count(text) < MIN_WORDS


BARE_WORDS = 20
"""A write-up of at most this many words that only voices a suspicion describes nothing the reader could confirm."""


def bare_suspicion(tax: TaxonomyResult, category: str, text: str) -> bool:
    """A short write-up (``BARE_WORDS``) whose only support for ``category`` is the author's stated suspicion (a
    ``*.worry`` rule): "I think we might have overfitting, not sure". Naming the category would only echo it.
    (On the batches the rules never saw, no write-up the reader got right is of this kind.)"""
    rules = [f.rule_id for f in tax.fired if f.category == category and f.kind == "support"]
    return (bool(rules) and all(r.endswith(".worry") for r in rules)
            and len(re.findall(r"\w+", text)) <= BARE_WORDS)


def environment_failure(facts: dict[str, Any]) -> bool:
    """The write-up states that the software failed (an install or import error, CUDA out of memory, a deadlock or a
    hang: the ``said_environment_failure`` cue). That is outside the failure categories, so on a write-up the rules
    leave ``unknown`` the reader names none of them either (session 18: an install failure read as data quality, a
    DataLoader deadlock as training instability); the gate stays REVIEW_RECOMMENDED."""
    return bool(facts.get("said_environment_failure"))


def reader_doubts(text: str, facts: dict[str, Any], model: ReaderModel | None = None) -> bool:
    """On a write-up the rules read as healthy: does the reader read a failure at or above its threshold? Then the
    gate is not CLEAR (the category stays the rules' ``unknown``: healthy numbers are not overruled by words)."""
    m = model if model is not None else load_model()
    if m is None or numbers_healthy(facts):
        return False
    probs = m.probabilities(document(text, facts))
    top = _top(m, probs)
    return top != "unknown" and probs[top] >= m.threshold


def overrulable(tax: TaxonomyResult) -> bool:
    """A category the rules decided from words only: not leakage, no rule that fired on a number supports it
    (``measured``: numbers win over words), and no concrete rule (one that shows the failure itself) does."""
    return (tax.primary not in ("unknown", "data_leakage") and not tax.concrete_leakage and not measured(tax)
            and not any(f.concrete and f.kind == "support" and f.category == tax.primary for f in tax.fired))


def _fixed(tax: TaxonomyResult) -> bool:
    """Nothing for the reader to overrule or withdraw: ``unknown``, leakage, or any concrete leakage evidence."""
    return tax.primary in ("unknown", "data_leakage") or tax.concrete_leakage


def measured_level(m: ReaderModel, text: str) -> float | None:
    """``overrule_measured_at`` where it applies: on a write-up of at least the model's ``measured_words`` words. In a
    short write-up the numbers are the message and decide what they support; in a long narrative many numbers are
    counts, settings and dates, and the rules' reading of them was right less often than the reader (session 14)."""
    return m.overrule_measured_at if word_count(text) >= m.measured_words else None


def overrule_level(m: ReaderModel, tax: TaxonomyResult, text: str) -> float | None:
    """The probability the reader needs to overrule the rules' category; None: it may not (``_fixed``, or the model
    carries no level for how the category was decided)."""
    if _fixed(tax):
        return None
    return m.overrule_at if overrulable(tax) else measured_level(m, text)


def withdraw_level(m: ReaderModel, tax: TaxonomyResult, text: str) -> float | None:
    """The reader's probability of ``unknown`` needed to withdraw the rules' category: ``withdraw_at`` for one read
    from words; for one a number or a concrete rule supports also ``measured_level``; None: never."""
    if m.withdraw_at is None or _fixed(tax):
        return None
    if overrulable(tax):
        return m.withdraw_at
    level = measured_level(m, text)
    return None if level is None else max(m.withdraw_at, level)


def _cited(sig: Signature, rule_id: str, category: str, p: float, threshold: float | None, *, concrete: bool,
           source: str, statement: str) -> FiredRule:
    """The reader's evidence for ``category`` at probability ``p``, scored like a rule (weight 1, strength = p) and
    citing the failure signature ``sig`` (its section, and its fix as the action)."""
    return FiredRule(
        rule_id=rule_id, category=category, subtype=sig.subtype, kind="support", concrete=concrete, weight=1.0,
        strength=round(p, 6), contribution=round(p, 6), statement=statement,
        values={"probability": round(p, 6), "threshold": threshold}, sources=[source],
        cite_doc=sig.doc_id, cite_section=sig.section, action=sig.fix,
    )


def grounding_level(m: ReaderModel, tax: TaxonomyResult, text: str) -> float | None:
    """The reader's leakage probability at which a stated mechanism is concrete leakage evidence; None: the model
    carries no such level, the rules already read leakage or hold concrete leakage evidence, the write-up is too short
    to read (``few_words``), or a number supports the rules' category in a write-up too short for the reader to
    overrule it (``measured_level``). (A write-up the rules read as healthy never reaches the reader at all.)"""
    if m.grounded_leakage_at is None or tax.primary == "data_leakage" or tax.concrete_leakage or few_words(text):
        return None
    if tax.primary != "unknown" and not overrulable(tax) and measured_level(m, text) is None:
        return None
    return m.grounded_leakage_at


def grounding_sentence(text: str, facts: dict[str, Any]) -> tuple[str, str] | None:
    """(what it states, the sentence) for the first sentence that may ground leakage: evaluation and training items
    are shared (``text.shared_items``), information from after the prediction time reaches the model
    (``text.future_information``), or the label reaches the model's inputs (``text.target_in_inputs``). Where the
    rules read the share of evaluation rows found in training (``overlap_fraction``), that number decides instead
    ("0.3% of test rows also appear in the training set" is not leakage, 25% is)."""
    shared = None if facts.get("overlap_fraction") is not None else shared_item_sentence(text)
    if shared is not None:
        return "evaluation and training items are shared", shared
    future = future_information_sentence(text)
    if future is not None:
        return "information from after the prediction time reaches the model", future
    target = target_in_inputs_sentence(text)
    return None if target is None else ("the label reaches the model's inputs", target)


def grounded_leakage(m: ReaderModel, stated: tuple[str, str], probs: dict[str, float], level: float
                     ) -> FiredRule | None:
    """Concrete leakage evidence: the write-up states a leakage mechanism (``stated``: what, and the sentence, from
    ``grounding_sentence``) and the reader reads leakage with at least ``level`` probability; None otherwise. The
    sentence is quoted and the leakage signature nearest to it is cited."""
    what, sentence = stated
    p = probs.get("data_leakage", 0.0)
    sig = nearest_signature(m, "data_leakage", sentence) if p >= level else None
    if sig is None or math.isnan(p):
        return None
    return _cited(sig, "learned.grounded_leakage", "data_leakage", p, level, concrete=True, source="text", statement=(
        f"The write-up states that {what}: \"{sentence[:300]}\". The learned reader reads leakage with probability "
        f"{p:.2f} (grounded at {level:.2f}); nearest failure signature: '{sig.section}'. {sig.symptoms}"))


def countered(m: ReaderModel, tax: TaxonomyResult, category: str, p: float) -> bool:
    """The rules hold counter-evidence against ``category`` and the reader's ``p`` is below the model's
    ``counter_at`` (or it has none): the numbers win."""
    return (any(s.category == category and s.counter > 0 for s in tax.scores)
            and (m.counter_at is None or p < m.counter_at))


def reader_evidence(
    tax: TaxonomyResult, text: str, facts: dict[str, Any], model: ReaderModel | None = None,
    probs: dict[str, float] | None = None,
) -> tuple[FiredRule | None, bool]:
    """(evidence to add or None, doubt): see the module docstring. ``probs``: the reader's probabilities of this
    write-up when the caller has them already."""
    m = model if model is not None else load_model()
    if m is None:
        return None, False
    decided = tax.primary != "unknown"
    level = overrule_level(m, tax, text) if decided else None
    if decided and level is None:
        return None, False
    doc = document(text, facts)
    probs = probs if probs is not None else m.probabilities(doc)
    top = _top(m, probs)
    p = probs[top]
    if countered(m, tax, top, p):
        return None, False  # the numbers argue against that category: they win over the words
    if decided:
        if (top in ("unknown", "data_leakage", tax.primary) or level is None or p < level
                or p - probs.get(tax.primary, 0.0) < m.overrule_margin):
            return None, False
    elif numbers_healthy(facts):
        return None, False  # healthy numbers across splits: the words do not overrule them
    elif few_words(text):
        return None, top != "unknown"  # too little text to read: a doubt at most
    elif environment_failure(facts):
        return None, True  # the software failed, not the model: outside the categories
    elif top == "unknown" or p < m.threshold:
        return None, top != "unknown"
    elif bare_suspicion(tax, top, text):
        return None, True  # the reader would echo the author's own suspicion: a doubt, not a finding
    sig = nearest_signature(m, top, doc)
    if sig is None or math.isnan(p):
        return None, not decided
    why = (f"probability {p:.2f}, threshold {m.threshold:.2f}" if not decided else
           f"probability {p:.2f} against {probs.get(tax.primary, 0.0):.2f} for the rules' reading "
           f"'{tax.primary}', overruling at {level:.2f} with a margin of {m.overrule_margin:.2f}")
    rule = _cited(sig, "learned.reader", top, p, m.threshold if not decided else level, concrete=False,
                  source="text (learned reader)", statement=(
                      f"Learned reader: the write-up reads most like '{top}' ({why}; a linear model over "
                      f"{m.meta.get('n_cases', '?')} development write-ups); nearest failure signature: "
                      f"'{sig.section}'. {sig.symptoms}"))
    return rule, False


def withdraws(tax: TaxonomyResult, text: str, facts: dict[str, Any], model: ReaderModel | None = None,
              probs: dict[str, float] | None = None) -> float | None:
    """The reader's probability of ``unknown`` when it withdraws the rules' category (module docstring), else None."""
    m = model if model is not None else load_model()
    level = withdraw_level(m, tax, text) if m is not None else None
    if level is None:
        return None
    probs = probs if probs is not None else m.probabilities(document(text, facts))
    top = _top(m, probs)
    p = probs[top]
    if top != "unknown" or p < level or p - probs.get(tax.primary, 0.0) < m.overrule_margin:
        return None
    return p


def basis(tax: TaxonomyResult) -> str:
    """What the rules read their category from, in words."""
    return "the write-up's words" if overrulable(tax) else "numbers or a rule that shows the failure"


def withdrawn(tax: TaxonomyResult, p_none: float) -> TaxonomyResult:
    """``tax`` with its category withdrawn to ``unknown``: kept as a secondary risk and a conflict."""
    conflict = Conflict(
        categories=[tax.primary], scores=[tax.primary_score],
        reason=(f"the rules read '{tax.primary}' (score {tax.primary_score:.2f}) from {basis(tax)}, but the "
                f"learned reader reads no failure (probability {p_none:.2f}): left to a person to decide"),
    )
    secondary = [tax.primary] + [c for c in tax.secondary_risks if c != tax.primary]
    return tax.model_copy(update={"primary": "unknown", "subtype": None, "secondary_risks": secondary,
                                  "runner_up_score": tax.primary_score, "conflicts": [*tax.conflicts, conflict]})


def named(revised: TaxonomyResult, rule: FiredRule) -> TaxonomyResult:
    """``revised`` with the reader's category as primary where the rules had none: its one piece of evidence may not
    reach the taxonomy's primary threshold on its own, but the policy the reader's levels were chosen for names it."""
    if revised.primary == rule.category or (rule.category == "data_leakage" and not revised.concrete_leakage):
        return revised  # leakage stays unnamed without concrete evidence
    return revised.model_copy(update={
        "primary": rule.category, "subtype": rule.subtype,
        "primary_score": max(revised.score_of(rule.category), rule.contribution),
        "runner_up_score": max((c.score for c in revised.scores if c.category != rule.category), default=0.0),
        "secondary_risks": [c for c in revised.secondary_risks if c != rule.category],
    })


def overruled(revised: TaxonomyResult, rule: FiredRule, rules_primary: str, rules_score: float,
              read_from: str = "the write-up's words") -> TaxonomyResult:
    """``revised`` with the reader's category as primary and the rules' one kept as a secondary risk and a conflict
    (also when the reader's evidence already made its category primary). ``read_from``: what the rules read it from
    (``basis``)."""
    secondary = [rules_primary] + [c for c in revised.secondary_risks if c not in (rules_primary, rule.category)]
    conflict = Conflict(
        categories=[rule.category, rules_primary], scores=[rule.contribution, rules_score],
        reason=(f"the learned reader overruled the rules' reading '{rules_primary}' (score {rules_score:.2f}, "
                f"from {read_from}): it reads '{rule.category}' with probability {rule.contribution:.2f}"),
    )
    update: dict[str, Any] = {"secondary_risks": secondary, "conflicts": [*revised.conflicts, conflict]}
    if revised.primary != rule.category:
        update.update({"primary": rule.category, "subtype": rule.subtype, "primary_score": rule.contribution,
                       "runner_up_score": max(revised.primary_score, revised.runner_up_score)})
    return revised.model_copy(update=update)


def revise(
    tax: TaxonomyResult, rules: RuleSet, text: str, facts: dict[str, Any], reclassify: Any,
    model: ReaderModel | None = None,
) -> tuple[TaxonomyResult, bool]:
    """The taxonomy result after the reader's evidence (``reclassify(extra)`` re-scores with it), and doubt."""
    del rules  # the thresholds live in the taxonomy result already (close call) and in the model (abstention)
    m = model if model is not None else load_model()
    if m is None:
        return tax, False
    # scored once for both questions (withdraw, then evidence), and only when one of them can use it
    grounded_at = grounding_level(m, tax, text)
    stated = grounding_sentence(text, facts) if grounded_at is not None else None
    speaks = (tax.primary == "unknown" or stated is not None or overrule_level(m, tax, text) is not None
              or withdraw_level(m, tax, text) is not None)
    probs = m.probabilities(document(text, facts)) if speaks else None
    grounded = (grounded_leakage(m, stated, probs, grounded_at)
                if stated is not None and probs is not None and grounded_at is not None else None)
    if grounded is not None:
        revised = reclassify(grounded)
        if tax.primary != "unknown":
            return overruled(revised, grounded, tax.primary, tax.primary_score, basis(tax)), False
        return named(revised, grounded), False
    p_none = withdraws(tax, text, facts, m, probs)
    if p_none is not None:
        return withdrawn(tax, p_none), True
    rule, doubt = reader_evidence(tax, text, facts, m, probs)
    if rule is None:
        return tax, doubt
    revised = reclassify(rule)
    if tax.primary != "unknown":
        return overruled(revised, rule, tax.primary, tax.primary_score, basis(tax)), doubt
    revised = named(revised, rule)
    return revised, doubt or revised.primary == "unknown"
