"""A sentence that states, as a fact, that the label reaches the model's inputs (issue 13, session 16).

The third leakage mechanism the learned reader may ground (``app.diagnosis.learned.decide.grounding_sentence``),
beside shared evaluation and training items (``shared_items``) and look-ahead (``future_information``): target
leakage. The set-up check ``TARGET_IN_FEATURES`` and the cue ``said_target_copy`` know a few phrasings ("we kept the
label column in the features", "a feature computed from the label"); write-ups no rule was written on tell it in
other words: "the resulting feature frame contains the ground-truth column itself", "metadata columns (fraud_target,
...) were left in the feature vector and gave the model a shortcut to the answer", "the late-delivery label is
computed from those columns", "the generated identifiers and balances give the label away".

The idea, read instead of a phrasing: the label side (label, target, outcome, ground truth, answer) and the input
side (features, inputs, columns, predictors, the feature frame) bound by one of

- the inputs contain or hold the label column (or the label itself: "the outcome of the previous season" is a lag);
- the label left, kept, still or back among the inputs;
- the label computed, derived or defined from the inputs (or the inputs from the label);
- the inputs give the label away, or are a shortcut to it.

The sentence must state what happened (``stated.states_fact`` on the clause that holds the relation), not negate it,
and not describe a safeguard, the concept or a fixed leak (``safeguards.describes_no_leak``). Like the other two it
is evidence only where the learned reader also reads leakage.
"""

from __future__ import annotations

import re

from app.diagnosis.text.safeguards import describes_no_leak
from app.diagnosis.text.stated import first_sentence, stated_match

__all__ = ["target_in_inputs_sentence"]

_I = re.IGNORECASE
_LABEL = r"(?:labels?|targets?|outcomes?|ground[- ]truth|answers?|class\s+column|y\s+column)"
_INPUTS = (r"(?:features?|inputs?|predictors?|columns?|feature\s+(?:vector|set|matrix|frame|table)|X|x_train|"
           r"model\s+inputs?|node\s+features?)")
_RELATION = re.compile(
    r"\b" + _INPUTS + r"\b[^.;]{0,60}?\b(?:contains?|contained|includes?|included|holds?|held)\s+(?:\w+\s+){0,2}?"
    + _LABEL + r"\s+(?:column|field|variable|itself)\b|"
    r"\b" + _LABEL + r"\b[^.;]{0,60}?\b(?:left|kept|remains?|remained|still|back|ended\s+up|ends\s+up)\s+"
    r"(?:\w+\s+){0,2}?(?:in|among|inside|into)\s+(?:the\s+|its\s+|their\s+)?(?:\w+\s+)?" + _INPUTS + r"\b|"
    r"\b" + _INPUTS + r"\b[^.;]{0,60}?\b(?:left|kept|remain\w*)\s+in\s+(?:the\s+)?(?:\w+\s+)?" + _INPUTS +
    r"\b[^.;]{0,60}?\b(?:shortcut|answer|label|target)\b|"
    r"\b" + _LABEL + r"\s+(?:\w+\s+){0,2}?(?:is|was|are|were)\s+(?:\w+\s+){0,2}?(?:computed|derived|calculated|"
    r"defined|built|made)\s+(?:directly\s+)?from\s+(?:the\s+|those\s+|these\s+|its\s+)?(?:same\s+)?(?:[\w-]+\s+)?"
    r"(?:columns?|features?|inputs?|predictors?)\b|"
    r"\b" + _INPUTS + r"\s+(?:\w+\s+){0,2}?(?:is|was|are|were)\s+(?:\w+\s+){0,2}?(?:computed|derived|calculated|"
    r"built|made)\s+(?:directly\s+)?from\s+(?:the\s+)?" + _LABEL + r"\b|"
    r"\bg[ai]ve?s?n?\s+(?:\w+\s+){0,2}?" + _LABEL + r"\s+away\b|\bshortcut\s+to\s+(?:the\s+)?" + _LABEL + r"\b", _I)
_NOT = re.compile(r"\b(?:no|not|never|without|none)\b|n't\b", _I)


def _states_target(sentence: str) -> bool:
    s = sentence.strip()
    return not describes_no_leak(s) and stated_match(s, _RELATION, _NOT)


def target_in_inputs_sentence(text: str) -> str | None:
    """The first sentence of ``text`` that states the label reaches the model's inputs (module docstring), or None.

    >>> target_in_inputs_sentence("The resulting 9-column feature frame contains the ground-truth column itself.")
    'The resulting 9-column feature frame contains the ground-truth column itself.'
    >>> target_in_inputs_sentence("The late-delivery label is computed from those columns, so the model restates it.")
    'The late-delivery label is computed from those columns, so the model restates it.'
    >>> target_in_inputs_sentence("We made sure the label column is not in the features.") is None
    True
    >>> target_in_inputs_sentence("Does the feature set contain the target?") is None
    True
    """
    return first_sentence(text, _states_target)
