"""A sentence that states, as a fact, that the evaluation side and the training side share items (issue 13).

Leakage is named only on concrete evidence. The set-up checks of ``evaluation_setup`` recognise the mechanisms one
phrasing at a time, and on write-ups no rule was written on about half the leakage cases went unnamed because the
mechanism was told in other words: "test files ... are also in the training folder", "test windows share samples
with training windows", "a scaler fitted on the whole cleaned frame, before the train/validation split".

This module reads the idea instead of a phrasing: one sentence that names the evaluation side (test, validation,
held-out, evaluation, leaderboard ...) and the training side (train, training, trained, fit ...), and binds them by a
relation between *items* (patients, images, rows, windows, files ...):

- the same items ("the same patients", "the same 40 slides");
- items also / already in, part of or seen in training ("test files are also in the training folder", "part of the
  pretraining corpus");
- items appearing in both or all splits;
- items that overlap, are shared, duplicated or identical across the sides;
- a preprocessing step (scaler, normalisation, encoder, vocabulary, feature selection, PCA, bins ...) fitted on the
  whole / entire / full data or all rows.

"The same distribution", "the same source", "share the feature schema", "the same way" and "part of the training
period" relate no items. The sentence must state what happened (``stated.states_fact``: no question, hedge, claim,
condition, plan, check, fix, safeguard or explanation of the concept; an independent review wrote 110 sentences that
share these words and are none of that), with no negation, not cross-validation by design
(``evaluation_setup.BY_DESIGN``). Even so such a sentence is evidence only where the learned reader also reads
leakage (``app.diagnosis.learned.decide.grounded_leakage``): the reader reads the whole write-up, this sentence is
what the diagnosis quotes and cites.
"""

from __future__ import annotations

import re

from app.diagnosis.text.evaluation_setup import BY_DESIGN
from app.diagnosis.text.safeguards import describes_no_leak
from app.diagnosis.text.stated import first_sentence, stated_match

__all__ = ["ITEMS", "shared_item_sentence"]

_I = re.IGNORECASE
_EVAL = re.compile(
    r"\b(?:test(?:ing|s)?|validation|valid|val|hold-?out|held-?out|evaluation|eval|dev(?:elopment)?\s+set|"
    r"leaderboard|benchmark)\b", _I)
_TRAIN = re.compile(r"\b(?:(?:pre-?)?train(?:ing|ed)?|fit(?:ted|ting|s)?|fine-?tun(?:e|ed|ing))\b", _I)
ITEMS = (
    r"(?:images?|photos?|scans?|slides?|patients?|subjects?|participants?|speakers?|users?|customers?|individuals?|"
    r"donors?|animals?|rows?|records?|samples?|examples?|documents?|texts?|sentences?|clips?|chips?|tiles?|patches|"
    r"recordings?|videos?|files?|items?|molecules?|sequences?|windows?|frames?|songs?|peptides?|pieces?|fragments?|"
    r"duplicates?|copies|transactions?|accounts?|trials?|sessions?|cells?|questions?|queries|prompts?|tweets?|"
    r"reviews?|articles?|pages?|persons?|people|visits?|encounters?|admissions?|compounds?|households?|families|"
    r"proteins?|genes?|structures?|graphs?|utterances?|conversations?|dialogues?)"
)
"""Items an evaluation set and a training set can share (not "data", "distribution" or "source")."""
_ANY_ITEM = re.compile(r"\b" + ITEMS + r"\b", _I)
_TRAIN_SIDE = r"(?:(?:pre-?)?train\w*|fine-?tun\w*)"  # "part of the fine-tuning corpus" is a training side too
_RELATION = re.compile(
    r"\bsame\s+(?:\d[\d,]*\s+)?(?:[\w-]+\s+)?" + ITEMS + r"\b|"
    r"\b(?:also|already)\s+(?:\w+\s+){0,2}?(?:in|inside|part\s+of|present\s+in|appear\w*\s+in|seen|used\s+"
    r"(?:in|for|during)\s+(?:the\s+)?(?:pre-?)?train\w*)\b|"
    r"\bappear\w*\s+(?:again\s+)?in\s+(?:both|all\b)|\bin\s+(?:both|all\s+(?:three|two|the))\s+(?:splits|sets)\b|"
    r"\bpart\s+of\s+(?:the\s+|its\s+|their\s+)?" + _TRAIN_SIDE + r"\s+(?:data|set|corpus|folder|split|pool|list)\b|"
    # evaluation items (nearly) identical to training items: ">80% identical to some training sequence"
    r"\b(?:identical|near-?identical|nearly\s+identical|homologous|near-?duplicates?|near\s+copies)\s+(?:to|of|with)\s+"
    r"(?:some|a|an|the|their|its|one|any)?\s*(?:of\s+the\s+)?" + _TRAIN_SIDE + r"\s+(?:[\w-]+\s+)?" + ITEMS + r"\b|"
    r"\bshar(?:e|es|ing)\s+(?:\w+\s+){0,3}?" + ITEMS + r"\b|\b" + ITEMS + r"\s+(?:\w+\s+){0,3}?(?:are|were|is|was)\s+"
    r"shared\b|\boverlap\w*|\bduplicat\w*|\bcopies\s+of\b|<->|\bacross\s+(?:the\s+)?(?:splits|sets)\b|"
    r"\b(?:included|contained|present)\s+in\s+(?:the\s+)?" + _TRAIN_SIDE +
    r"\s+(?:data|set|folder|corpus|split|list)\b|"
    r"\b(?:train\w*\s+and\s+test|test\s+and\s+train\w*)\s+(?:data\s+|sets?\s+)?(?:combined|together|jointly)\b|"
    # a preprocessing step (also inside an identifier: StandardScaler) fitted on the whole data
    r"(?:(?-i:(?<=[a-z])(?:Scaler|Imputer|Encoder|Vectori[sz]er|PCA))|\b(?:scaler|normali[sz]\w*|standardi[sz]\w*|"
    r"encod\w*|vocabulary|tokeni[sz]er|pca|selection|selected|imputer|statistics|bins|binning|discreti[sz]\w*|"
    r"min-?max))\b[^.;]{0,80}\b(?:whole|entire|full|all\s+(?:the\s+)?(?:rows|"
    r"data|samples))\b|"
    # the training side has already learned the evaluation items, or holds them
    r"\b(?:already|previously)\s+(?:been\s+)?(?:trained|fine-?tuned|fit(?:ted)?|learned)\s+(?:on|from)\b|"
    r"\b(?:contain(?:s|ed|ing)?|includ(?:es|ed|ing))\s+(?:[\w'-]+\s+){0,2}?(?:the\s+)?(?:held-?out|test(?:ing)?|"
    r"validation|evaluation)\s+"
    r"(?:[\w-]+\s+){0,2}?" + ITEMS + r"\b|"
    # items on both sides: "rows from 2021 to 2025 mixed into both train and test", "in the training folds and in the
    # held-out fold" (classes "spread across both train and test" is a stratified split)
    r"\bmixed\s+(?:\w+\s+)?into\s+both\s+(?:the\s+)?train\w*\s+"
    r"(?:\w+\s+)?(?:and|&)\s+(?:the\s+)?(?:val\w*|test\w*|held-?out)|"
    r"\bin\s+(?:the\s+)?train\w*\s+(?:\w+\s+)?and\s+in\s+(?:the\s+)?(?:held-?out|test\w*|val\w*)\b", _I)
_NEEDS_ITEM = re.compile(r"overlap|duplicat|copies|<->|across|mixed|in\s", _I)
_POPULATION = re.compile(r"\b(?:from|of)\s+the\s+$", _I)  # "drawn from the same users": a population, not items
_PEOPLE = re.compile(r"\b(?:patients?|subjects?|participants?|speakers?|users?|customers?|individuals?|donors?|"
                     r"animals?)\b", _I)
_NOT_ITEMS = re.compile(
    r"\b(?:part\s+of|inside|in)\s+(?:the\s+)?(?:pre-?)?train\w*\s+(?:period|process|loop|phase|run|stage|time|"
    r"pipeline|procedure|script|code|repo\w*|budget)\b", _I)
_NOT = re.compile(
    r"\b(?:no|not|none|never|without|nothing|zero|unlike)\b|n't\b|"
    r"\b(?:different|separate|disjoint|distinct)\b(?!\s+(?:file\s*)?(?:names?|filenames?|ids?|paths?)\b)", _I)
"""A negation; "different", "separate" ... negate unless they describe only a name ("the same images under different
file names" are the same items)."""


def _states_sharing(sentence: str) -> bool:
    s = sentence.strip()
    if not (_EVAL.search(s) and _TRAIN.search(s)) or BY_DESIGN.search(s) or _NOT_ITEMS.search(s) \
            or describes_no_leak(s):  # a fix, a safeguard or the concept anywhere in the sentence
        return False
    # every relation is tried ("same patient" may be a population, a later one items), each judged on its own clause
    # (what follows does not take it back: "..., and a clean split would fix it")
    return stated_match(s, _RELATION, _NOT, lambda m: _binds_items(s, m))


def _binds_items(s: str, m: re.Match[str]) -> bool:
    """The relation ``m`` binds items of the two sides (not a population, not a bare overlap of curves)."""
    if _NEEDS_ITEM.match(m.group(0)) and not _ANY_ITEM.search(s):
        return False
    return not (m.group(0).lower().startswith("same") and _POPULATION.search(s[: m.start()])
                and _PEOPLE.search(m.group(0)))


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
    >>> shared_item_sentence("Validation images come from the same distribution as training.") is None
    True
    """
    return first_sentence(text, _states_sharing)
