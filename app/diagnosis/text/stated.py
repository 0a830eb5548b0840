"""Is a sentence a statement of fact about this experiment, or something else (issue 13, session 15)?

The two leakage sentence readers (``shared_items``, ``future_information``) may ground leakage only on a sentence that
states what happened in this experiment. An independent review wrote sentences that share the words of such a
statement but are not one, of these kinds, and each kind is recognised here:

- a question, also without its question mark ("Do the same patients appear in train and test");
- a hedge, a guess or someone else's claim ("maybe", "I suspect", "my guess", "a colleague claimed", "the blog post
  says", "Kaggle discussions mention");
- a condition, a plan or advice ("if", "should", "must", "will", "next sprint");
- a check, a fix or a safeguard ("I ruled out", "we dropped all test rows that ...", "was fixed", "to avoid",
  "we guard against", "dedupe", "split by patient", "exactly one of", "disjoint");
- an explanation of the concept ("leakage happens when", "typical leakage:", "a classic mistake", "I know ... cause").
"""

from __future__ import annotations

import re
from collections.abc import Callable

__all__ = ["first_sentence", "stated_match", "stated_part", "states_fact"]

_I = re.IGNORECASE
_QUESTION = re.compile(
    r"^\s*(?:(?:so|and|but|also|then|now),?\s+)?(?:do|does|did|is|are|was|were|could|can|should|would|has|have|will|"
    r"might|may|am)\b", _I)
_HEDGE = re.compile(
    r"\b(?:maybe|perhaps|possibl[ey]|might|may|suspect\w*|guess\w*|think|thought|believe\w*|not\s+sure|unsure|"
    r"wonder\w*|probably|likely|unless|claim\w*|mention\w*|says|said|according\s+to|reported|blog|discussions?|"
    r"paper\s+says|hypothes\w+|whether|if|should|must|shall|need\s+to|needs\s+to|would|could|will|plan\w*|"
    r"next\s+(?:sprint|week|step|time)|asked|ask)\b", _I)
_REMEDY = re.compile(
    r"\b(?:rul(?:e|ed|ing)\s+out|drop(?:ped|ping)?|remov\w+|fix\w*|avoid\w*|guard\w*|exclud\w+|de-?dup\w*|"
    r"check\w*|verif\w+|hash(?:ed|ing)|group(?:ed|ing)?\s+by|split(?:ting)?\s+by|exactly\s+one|disjoint|"
    r"prevent\w*|to\s+stop|instead|correct(?:ed|ly)|clean|strictly|only\s+on\s+(?:the\s+)?train\w*|"
    r"train\w*\s+(?:\w+\s+)?only|after\s+the\s+(?:\w+\s+)?split|augment\w*|oversampl\w*)\b", _I)
_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n+")
_CONCEPT = re.compile(
    r"\b(?:happens\s+when|typical|classic|for\s+example|e\.g\.|i\s+know|known\s+to|textbook|in\s+general|"
    r"is\s+a\s+(?:common|well-known)|standard)\b", _I)


def states_fact(sentence: str) -> bool:
    """True for a sentence that states, without doubt, condition, remedy or theory, what happened.

    >>> states_fact("Then I noticed test files are also in the training folder.")
    True
    >>> [states_fact(s) for s in ("Do the same patients appear in train and test",
    ...  "Maybe the test rows overlap with the training rows.", "We dropped all test rows that also appeared in "
    ...  "the training data.", "Leakage happens when the same patients appear in train and test.")]
    [False, False, False, False]
    """
    s = sentence.strip()
    return bool(s) and not s.endswith("?") and not any(p.search(s) for p in (_QUESTION, _HEDGE, _REMEDY, _CONCEPT))


_CLAUSE_END = re.compile(r",\s+(?:and|so)\s|;\s", _I)


def stated_part(sentence: str, end: int) -> str:
    """``sentence`` up to the end of the clause that holds position ``end`` (the end of what a reader matched).

    A hedge, question word, plan or remedy governs what comes after it in a sentence, not what came before: in "every
    row it scored was part of the training data, and even with a clean split the model would have seen the
    documents", the stated fact is the first clause. The clause ends at ", and", ", so" or a semicolon (what follows
    ", but" or ", which" qualifies it: "..., but in different years", "..., which is standard for BPE"). A fix or a
    safeguard anywhere in the sentence still takes it back (the readers check ``safeguards.describes_no_leak`` on the
    whole sentence, semicolons included: "the label was kept in the features; that was fixed in v2").

    >>> stated_part("The test rows were also in training, and a clean split would fix it.", 30)
    'The test rows were also in training'
    >>> stated_part("Maybe the test rows overlap with the training rows.", 20)
    'Maybe the test rows overlap with the training rows.'
    """
    m = _CLAUSE_END.search(sentence, end)
    return sentence[: m.start()] if m else sentence


def stated_match(sentence: str, relation: re.Pattern[str], negation: re.Pattern[str],
                 binds: Callable[[re.Match[str]], bool] | None = None) -> bool:
    """Does some match of ``relation`` in ``sentence`` (one ``binds`` accepts, if given) sit in a clause that states a
    fact (``stated_part``, ``states_fact``) without ``negation``? The leakage sentence readers' shared test of a
    relation they found.

    >>> stated_match("The test rows were also in training, and a clean split would fix it.",
    ...              re.compile(r"also in"), re.compile(r"\\bnot\\b"))
    True
    """
    for m in relation.finditer(sentence):
        if binds is not None and not binds(m):
            continue
        part = stated_part(sentence, m.end())
        if states_fact(part) and not negation.search(part):
            return True
    return False


def first_sentence(text: str, states: Callable[[str], bool]) -> str | None:
    """The first sentence of ``text`` (split after . ! ? and at line breaks) for which ``states`` holds, stripped;
    None when there is none (the leakage sentence readers' shared loop)."""
    for sentence in _SENTENCE.split(text or ""):
        if states(sentence):
            return sentence.strip()
    return None
