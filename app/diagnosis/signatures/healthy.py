"""A healthy write-up: the author states that the numbers are normal or match a reference, and nothing fails.

Hard negatives are real: "validation accuracy is a little above training; it comes from the augmentation",
"the mAP matches the fp32 run", "any number around 63.5 is a successful run". Two statement cues read that (a
question such as "is this normal?" does not count, and neither does a negated sentence), and ``healthy`` holds
only when one of them does and no failure cue, failure signature, collapse or large drop is present. A healthy
write-up may be CLEAR although it voices a worry or gives one split only (see ``pipeline.deployment_gate``); a
collapse never is.
"""

from __future__ import annotations

from typing import Any

from app.diagnosis.signatures.prose import _cue, cue_facts

__all__ = ["HEALTHY_CUES", "healthy", "healthy_facts"]

_NEGATED = r"\b(?:can ?not|can'?t|could ?n[o']t|unable|fail\w*|does ?n[o']t|did ?n[o']t|is ?n[o']t|are ?n[o']t|not|" \
    r"never|far (?:below|from|lower|worse)|un(?:expected|healthy))\b"

HEALTHY_CUES = (
    _cue("said_matches_reference",
         r"\b(?:match(?:es|ed|ing)?|same as|close to|in line with|consistent with|on par with|(?:same )?ballpark|"
         r"within (?:noise|run-to-run|the seed)|agrees? with)\b",
         r"\b(?:paper|reported|reference|fp32|float32|published|original|official|released (?:weights|model|"
         r"checkpoints?)|single-precision|full-precision)\b",
         unless=_NEGATED),
    _cue("said_expected_behaviour",
         r"\b(?:is|are|looks?|seems?|was|were|'s) (?:perfectly |completely |quite |entirely )?(?:normal|expected|"
         r"fine|healthy)\b|\bexpected behaviou?r\b|\bha(?:s|ve) ?n[o']t (?:yet )?started overfitting\b|"
         r"\b(?:comes?|came|stems?) from (?:the )?(?:augment\w*|dropout|regulari[sz]\w*|random crops?|"
         r"spectral augment\w*)|\b(?:explained|caused) by (?:the )?(?:augment\w*|dropout|regulari[sz]\w*|"
         r"different (?:thresholds?|operating points?|seeds?))|\b(?:both )?(?:are )?computed correctly\b|"
         r"\bsuccessful (?:run|training)\b|\bunderstated\b[^.;]{0,60}\brather than inflat\w+",
         unless=r"\b(?:is ?n[o']t|are ?n[o']t|not) (?:normal|expected|fine|healthy)\b|\bun(?:expected|healthy)\b"),
    # held-out better than training, explained by what only training sees (dropout, augmentation): the textbook
    # healthy gap, not a failure
    _cue("said_regularised_gap",
         r"\b(?:validation|val|valid|test|dev)\w* (?:loss|error|perplexity|ppl)\w*[^.;]{0,50}\b(?:below|lower than|"
         r"smaller than|"
         r"under)\b[^.;]{0,20}\btrain|\b(?:validation|val|valid|test|dev)\w* (?:accuracy|acc|f1|score|auc)[^.;]{0,50}"
         r"\b(?:above|higher than|better than|over)\b[^.;]{0,20}\btrain|\btrain\w* (?:loss|error|perplexity|ppl)\w*"
         r"[^.;]{0,30}"
         r"\b(?:above|larger than|higher than|bigger than)\b[^.;]{0,20}\b(?:validation|val|test)|\btrain\w* "
         r"(?:accuracy|acc)[^.;]{0,30}\b(?:trails|below|lower than|under)\b[^.;]{0,20}\b(?:validation|val|test)",
         r"\b(?:dropout|augment\w*|randomresizedcrop|random(?:ly)? (?:crop\w*|flip\w*)|horizontalflip|noise|"
         r"regulari[sz]\w*|label smoothing|weight decay)\b",
         unless=_NEGATED, window=2),
)

_FAILURE_PREFIXES = ("said_", "code_", "log_loss_", "cm_empty")
_WEAK = frozenset({"said_drop"})  # "a bit lower" is a word, not a drop: stated drops are judged as observations


def healthy_facts(text: str) -> dict[str, str]:
    """Healthy cue name -> the first sentence that states it.

    >>> healthy_facts("The loss keeps going down and the evaluation mAP matches the fp32 run. Is this normal?")
    {'said_matches_reference': 'The loss keeps going down and the evaluation mAP matches the fp32 run.'}
    >>> healthy_facts("Is this normal? I cannot reproduce the paper's numbers.")
    {}
    """
    return cue_facts(text, HEALTHY_CUES)


def healthy(text_facts: dict[str, str], facts: dict[str, Any], matched: int, collapse: bool, large_drop: bool) -> bool:
    """A healthy cue holds, and no failure cue or fact, matched signature, collapse or large drop is present.

    >>> healthy({"said_expected_behaviour": "..."}, {"log_acc_gap_last": -0.05}, 0, False, False)
    True
    >>> healthy({"said_expected_behaviour": "..."}, {"said_nan_or_explosion": True}, 0, False, False)
    False
    """
    if not text_facts or matched or collapse or large_drop:
        return False
    return not any(k.startswith(_FAILURE_PREFIXES) and k not in _WEAK and v for k, v in facts.items())
