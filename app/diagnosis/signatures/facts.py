"""One pass of every parser over a write-up: the facts signatures are scored on, and the quote behind each."""

from __future__ import annotations

import re
from typing import Any

from app.diagnosis.signatures.code import code_facts
from app.diagnosis.signatures.concepts import concept_facts
from app.diagnosis.signatures.confusion import confusion_facts
from app.diagnosis.signatures.epochs import epoch_facts
from app.diagnosis.signatures.logs import log_facts
from app.diagnosis.signatures.numbers import number_facts
from app.diagnosis.signatures.prose import prose_facts
from app.diagnosis.signatures.report import report_facts
from app.diagnosis.signatures.tables import table_facts

__all__ = ["read_facts", "stated_auc_min"]

_AUC = re.compile(r"\b(?:roc[ _-]?)?auc\b[^\d\n.;]{0,25}(0?\.\d+|[01]\.\d+)", re.IGNORECASE)
# a concept fact that states an existing fact in other words: one item with two labels is conflicting labels, one
# answer for every input is a single-class answer, a metric stated very low is a drop said in words
_CONCEPT_IMPLIES = (("said_item_two_labels", "said_conflicting_labels"), ("said_one_answer_for_all", "said_single_class"),
                    ("said_metric_low", "said_drop"))


def stated_auc_min(text: str) -> float | None:
    """The lowest ROC AUC written in ``text`` ("AUC is 0.13", "roc_auc 0.3212"), if any.

    >>> stated_auc_min("ROC AUC of 0.13 next to an accuracy of 0.87"), stated_auc_min("PR AUC 0.4")
    (0.13, 0.4)
    """
    vals = [float(m.group(1)) for m in _AUC.finditer(text)]
    vals = [v for v in vals if 0.0 <= v <= 1.0]
    return min(vals) if vals else None


def read_facts(text: str) -> tuple[dict[str, Any], dict[str, str]]:
    """(facts, sources): parsed facts from confusion matrices, logs, code, tables and prose cues.

    >>> facts, src = read_facts("[[98, 2], [9, 1]]\\nThe loss became nan at step 3.")
    >>> facts["cm_min_recall"], src["said_nan_or_explosion"]
    (0.1, 'prompt: "The loss became nan at step 3."')
    """
    facts: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for name, reader in (("confusion matrix", confusion_facts), ("log", log_facts), ("code", code_facts),
                         ("table", table_facts), ("classification report", report_facts),
                         ("epoch log", epoch_facts)):
        for k, v in reader(text).items():
            facts[k] = v
            sources[k] = f"parsed {name}"
    auc = stated_auc_min(text)
    if auc is not None:
        facts["auc_min"], sources["auc_min"] = auc, "parsed prose: a stated ROC AUC"
    for k, v in number_facts(text).items():
        facts[k], sources[k] = v, f"parsed prose: a stated {k.replace('_', ' ')}"
    for k, quote in prose_facts(text).items():
        facts[k] = True
        sources[k] = f'prompt: "{quote}"'
    if facts.pop("said_half_precision", None):  # fp16 overflows at the first step too: a NaN there is no sign of data
        sources.pop("said_half_precision", None)
        if facts.pop("said_nan_from_start", None):
            sources.pop("said_nan_from_start", None)
    found, found_src = concept_facts(text)
    for k, v in found.items():
        facts[k], sources[k] = v, found_src[k]
    for concept, fact in _CONCEPT_IMPLIES:
        if facts.get(concept) and not facts.get(fact):
            facts[fact], sources[fact] = True, found_src[concept]
    rate = facts.get("stated_detect_rate")
    if rate is not None and rate < facts.get("stated_recall_min", 2.0):  # "detects k of n" is a recall
        facts["stated_recall_min"], sources["stated_recall_min"] = rate, found_src["stated_detect_rate"]
    return facts, sources
