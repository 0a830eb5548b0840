"""A sentence that states, as a fact, that the evaluation side and the training side share items (issue 13).

Leakage is named only on concrete evidence. The set-up checks of ``evaluation_setup`` recognise the mechanisms one
phrasing at a time, and on write-ups no rule was written on about half the leakage cases went unnamed because the
mechanism was told in other words: "test files ... are also in the training folder", "the evaluation script loads
that same CSV", "a scaler fitted on the whole cleaned frame, before the train/validation split", "test windows share
samples with training windows".

This module reads the idea instead of a phrasing: one sentence that names

- the evaluation side (test, validation, held-out, evaluation, leaderboard ...),
- the training side (train, training, trained, fit, fitted ...),
- the items (images, rows, patients, windows, files, data ...), and
- a relation of identity or containment between them (the same, also in, overlap, share, duplicate, already seen,
  part of, fitted on the whole / all rows, before the split ...),

stated as a fact: no negation ("none of the test images are in the training set"), no question, no condition or
advice ("if", "should", "must", "whether"), and not by design (cross-validation folds take turns, a final model is
refitted on all the data: ``evaluation_setup.BY_DESIGN``). Processing done "the same way" and a "part of the training
period" share no items. On its own such a sentence is too weak to name leakage:
"both the training and the test loss" or "split from the same raw data" share words with it. It is evidence only where the
learned reader also reads leakage (``app.diagnosis.learned.decide.grounded_leakage``): the reader reads the whole
write-up, this sentence is what the diagnosis quotes and cites.

On the batches no rule was written on (H-U, 1,050 write-ups), a held-out reader's leakage probability of 0.2 or more
together with such a sentence marked 15 leakage write-ups the rules had no concrete evidence for, and one write-up of
another category (session 15).
"""

from __future__ import annotations

import re

from app.diagnosis.text.evaluation_setup import BY_DESIGN

__all__ = ["shared_item_sentence"]

_I = re.IGNORECASE
_EVAL = re.compile(
    r"\b(?:test(?:ing|s)?|validation|valid|val|hold-?out|held-?out|evaluation|eval|dev(?:elopment)?\s+set|"
    r"leaderboard|benchmark)\b", _I)
_TRAIN = re.compile(r"\b(?:(?:pre-?)?train(?:ing|ed)?|fit(?:ted|ting|s)?)\b", _I)
_ITEMS = re.compile(
    r"\b(?:images?|samples?|rows?|patients?|subjects?|participants?|speakers?|users?|customers?|files?|records?|"
    r"examples?|documents?|texts?|sentences?|clips?|chips?|tiles?|patches|slides?|frames?|windows?|recordings?|"
    r"photos?|scans?|items?|molecules?|sequences?|duplicates?|copies|pairs?|individuals?|donors?|animals?|days?|"
    r"dates?|series|sessions?|trials?|stocks?|accounts?|data|datasets?|points|transactions?|videos?|cells?|frame|csv)\b", _I)
_SAME = re.compile(
    r"\bsame\b(?!\s+(?:way|manner|steps?|preprocessing|pipeline|transforms?|settings?|resolution|size|format|"
    r"scale|normali[sz]ation|augmentation|model|architecture|hyper-?parameters?|seed|metric|procedure)\b)|\balso\s+(?:in|appear\w*|present|part|inside|used)\b|\boverlap\w*|\bshared?\b|\bsharing\b|"
    r"\bappear\w*\s+in\b|\bin\s+all\s+(?:three|two|the\s+splits|splits|sets)\b|\bpart\s+of\b|\binside\b|"
    r"\bduplicat\w*|\bidentical\b|\balready\s+(?:in|seen|part|inside|used)\b|<->|"
    r"\bacross\s+(?:the\s+)?(?:splits|sets)\b|\bwhole\b|\bentire\b|\bfull\s+(?:data|dataset|frame|set)\b|"
    r"\ball\s+(?:the\s+)?(?:rows|data|samples)\b|\bbefore\s+(?:the\s+)?(?:[\w/-]+\s+)?split", _I)
_NOT_ITEMS = re.compile(
    r"\b(?:part\s+of|inside|in)\s+(?:the\s+)?(?:pre-?)?train\w*\s+(?:period|process|loop|phase|run|stage|time|"
    r"pipeline|procedure|script|code|repo\w*|budget)\b", _I)
_NOT = re.compile(
    r"\b(?:no|not|none|never|without|nothing|zero|different|separate|disjoint|distinct)\b|n't\b", _I)
_UNSURE = re.compile(r"\b(?:must|should|shall|need\s+to|needs\s+to|would|could|whether|if|asked|ask)\b", _I)
_SENTENCE = re.compile(r"(?<=[.!?;])\s+|\n+")


def _states_sharing(sentence: str) -> bool:
    s = sentence.strip()
    return bool(s and not s.endswith("?") and _EVAL.search(s) and _TRAIN.search(s) and _ITEMS.search(s)
                and _SAME.search(s) and not _NOT.search(s) and not _UNSURE.search(s) and not BY_DESIGN.search(s)
                and not _NOT_ITEMS.search(s))


def shared_item_sentence(text: str) -> str | None:
    """The first sentence of ``text`` that states evaluation and training items are shared (module docstring), or
    None.

    >>> shared_item_sentence("Then I noticed test files such as a.jpg are also in the training folder.")
    'Then I noticed test files such as a.jpg are also in the training folder.'
    >>> shared_item_sentence("The scaler was fitted on the whole frame before the train/validation split.")
    'The scaler was fitted on the whole frame before the train/validation split.'
    >>> shared_item_sentence("None of the test images are in the training set.") is None
    True
    >>> shared_item_sentence("Do the same people appear in both train and test?") is None
    True
    >>> shared_item_sentence("Training and test data must come from the same speaker.") is None
    True
    """
    for sentence in _SENTENCE.split(text or ""):
        if _states_sharing(sentence):
            return sentence.strip()
    return None
