"""Training stated in the text: NaN loss, divergence, spikes, oscillation, curves, seed scores, split sizes.

Each pattern is named after what it reads; the doctest of the function that reads it shows a sentence it matches.
"""

from __future__ import annotations

import re

from app.diagnosis.text.fragments import LINK, PCT, Facts, N, negated, num, number_run
from app.diagnosis.text.scan import Scan

__all__ = [
    "CURVE_NAME",
    "DIVERGENCE",
    "LOSS_JUMPS_TO",
    "LOSS_SPIKES",
    "NAN_LOSS",
    "OSCILLATION",
    "RUN_TO_RUN",
    "SCORE_RANGE",
    "SEED_STD",
    "SIZED_SPLIT",
    "SIZE_BEFORE_SPLIT",
    "SIZE_OF_SPLIT",
    "training_facts",
]

_I = re.IGNORECASE

# -- training failures ------------------------------------------------------------------------------------------

NAN_LOSS = re.compile(r"\b(?:loss|gradients?|weights?|outputs?)\b[^.;]{0,40}?\b(?:nan|inf|infinity)\b|\bnan\s+loss", _I)
"""A loss or gradient gone non-finite: "the loss became NaN after epoch 3"."""

DIVERGENCE = re.compile(
    r"\bloss\b[^.;]{0,40}?\b(?:explod\w*|diverg\w*|blew up|blows up|shot up)|\b(?:training|optimi[sz]ation|"
    r"optimi[sz]er|model|run)\s+(?:\w+\s+)?diverg\w*|never recover\w*",
    _I,
)
"""A run that diverged: "the loss exploded", "training quickly diverged"."""

VAL_LOSS_DIVERGES = re.compile(
    r"^(?!.*\b(?:nan|inf|infinity|explod\w*|blows? up|blew up|overflow\w*)\b)"
    r"(?!.*\b(?:both|train(?:ing)?(?: loss)? and (?:the )?(?:val|validation|test|dev|eval\w*))\b)"
    r".*\b(?:val|validation|held-?out|test|dev|eval|evaluation)[ _-]?(?:set[ _-])?(?:loss|error)\w*\b[^.;]{0,30}"
    r"\bdiverg\w*",
    _I | re.DOTALL,
)
"""A held-out loss that "diverges" with nothing non-finite said: the validation curve turning up while training goes
on, the textbook overfitting picture (Goodfellow et al., Deep Learning, 7.8 early stopping), not a run that blew up:
"training loss keeps going down, but the validation loss diverges".

>>> [bool(VAL_LOSS_DIVERGES.search(x)) for x in ("the validation loss diverges after epoch 5",
...     "val_loss diverged while train loss fell", "the loss diverges", "validation loss diverges to NaN",
...     "in PPO the value loss diverges", "both training and validation loss diverge after warm-up")]
[True, True, False, False, False, False]
"""

LOSS_SPIKES = re.compile(r"\bloss\b[^.;]{0,30}?\bspik\w*|\bspikes? in (?:the )?loss", _I)
"""Spikes in the loss: "the loss spikes every few hundred steps"."""

LOSS_JUMPS_TO = re.compile(r"\bloss\b[^.;]{0,30}?\b(?:jump\w*|shoot\w*|shot|climb\w*|soar\w*)\s+(?:up\s+)?to\b", _I)
"""A sudden jump of the loss to a value: "the loss jumps up to 9.1"."""

OSCILLATION = re.compile(
    r"\b(?:loss|accuracy|metric|score|training)\b[^.;]{0,30}?\b(?:oscillat\w*|fluctuat\w*|swing\w*|bounc\w*|"
    r"zig-?zag\w*)|\b(?:oscillat\w*|fluctuat\w*)\s+(?:\w+\s+){0,2}?(?:loss|accuracy)",
    _I,
)
"""A metric that oscillates: "validation accuracy keeps bouncing around"."""

# -- curves and seeds -------------------------------------------------------------------------------------------

_EPOCHS = re.compile(r"\bepochs?\b|\bper epoch\b|\bsteps\b", _I)
_SEEDS = re.compile(r"\bseeds?\b", _I)
_SEEDS_OR_RUNS = re.compile(r"\bseeds?\b|\bruns\b|\brestarts\b", _I)
_NUMBER = re.compile(N + PCT)
_COUNT_UNIT = re.compile(r"\s*(?:seeds?|runs?|times|epochs?)\b", _I)

CURVE_NAME = re.compile(r"\b(train\w*|val\w*|validation|dev|test)\b[^.;\d]{0,25}?\b(loss|accuracy|acc|auc|f1)\b", _I)
"""The curve a run of numbers belongs to: "val loss per epoch: 0.9, 0.7, 0.8" (groups: split, metric)."""

SCORE_RANGE = re.compile(r"(?:from|between)\s+" + N + PCT + r"\s+(?:to|and)\s+" + N + PCT, _I)
"""Scores across seeds as a range: "between 0.61 and 0.74 across seeds" (groups: low, percent, high, percent)."""

RUN_TO_RUN = re.compile(
    r"one run|next run|another run|each run|second run|different runs?|per seed|different seeds?|"
    r"except the (?:random )?seed|chang\w+ the (?:random )?seed|depending on the (?:random )?seed",
    _I,
)
"""Two scores of two runs: "one run got 0.81 and another run 0.64"."""

SEED_STD = re.compile(r"(?:std|standard deviation|\bsd\b|±|\+/-)" + LINK + N + PCT, _I)
"""The spread across seeds: "std of 0.04 over 5 seeds" (groups: value, percent)."""

# -- split sizes ------------------------------------------------------------------------------------------------

SIZE_OF_SPLIT = re.compile(
    r"(test|validation|holdout|eval\w*)\s+(?:set|split|data)?(?:\s*(?:of|has|with|contains|containing|is|was|"
    r"had|only|just|about|around|=|:|n\s*=))*\s*(\d+)\s+(?:examples|samples|rows|records|images|cases|patients|"
    r"items|points|instances|observations|documents|users)",
    _I,
)
"""A split followed by its size: "the test set has 120 examples" (groups: split, size)."""

SIZE_BEFORE_SPLIT = re.compile(
    r"(\d+)\s+(test|validation|holdout)\s+(?:examples|samples|rows|records|images|cases|patients|items|"
    r"points|instances)",
    _I,
)
"""A size followed by its split: "only 80 validation samples" (groups: size, split)."""

SIZED_SPLIT = re.compile(
    r"(\d+)[- ](?:row|example|sample|image|item|record|case|patient|point)s?\s+(test|validation|holdout)", _I
)
"""A size as an adjective of the split: "a 200-row test set" (groups: size, split)."""


def _issues(masked: str, s: int, seg: str, issues: list[str]) -> None:
    """Training failures named in one sentence.

    >>> [p.search(x).group(0) for p, x in ((NAN_LOSS, "the loss became NaN"), (DIVERGENCE, "the loss exploded"),
    ...     (LOSS_SPIKES, "the loss spikes often"), (LOSS_JUMPS_TO, "the loss jumps up to 9.1"),
    ...     (OSCILLATION, "validation accuracy keeps bouncing"))]
    ['loss became NaN', 'loss exploded', 'loss spikes', 'loss jumps up to', 'accuracy keeps bouncing']
    """
    if NAN_LOSS.search(seg):
        issues.append("nan_loss")
    if (DIVERGENCE.search(seg) and not negated(masked, s, s + seg.lower().find("loss"))
            and not VAL_LOSS_DIVERGES.search(seg)):
        issues.append("divergence")
    if LOSS_SPIKES.search(seg):
        issues.append("loss_spikes")
    if LOSS_JUMPS_TO.search(seg):
        issues.append("loss_spikes")
    if OSCILLATION.search(seg):
        issues.append("oscillation")


def _fraction(match: re.Match[str], as_score: bool = True) -> float:
    """A listed number as a fraction: percentages and numbers above 1 are divided by 100 (scores only)."""
    value = float(match.group(1))
    return value / (100.0 if (match.group(2) or value > 1) and as_score else 1.0)


def _curve(seg: str, s: int, quote: str, out: Facts) -> None:
    """A run of three or more numbers per epoch, put on the curve its words name.

    >>> CURVE_NAME.search("val loss per epoch: 0.9, 0.7, 0.8").group(1, 2)
    ('val', 'loss')
    """
    listed = number_run(seg)
    named = CURVE_NAME.search(seg)
    if len(listed) >= 3 and named:
        word = named.group(1).lower()
        split = "train" if word.startswith("train") else "test" if word == "test" else "validation"
        metric = {"acc": "accuracy", "auc": "roc_auc"}.get(named.group(2).lower(), named.group(2).lower())
        values = [_fraction(x, as_score=metric != "loss") for x in listed]
        out.put(f"curves.{split}_{metric}", values, quote, *[s + x.start(1) for x in listed])


def _seeds(masked: str, s: int, e: int, quote: str, out: Facts) -> None:
    """Scores across seeds: a listed run, a range, or two runs compared; and their standard deviation.

    >>> SCORE_RANGE.search("between 0.61 and 0.74 across seeds").group(1, 3)
    ('0.61', '0.74')
    >>> RUN_TO_RUN.search("one run got 0.81 and another run 0.64").group(0)
    'one run'
    >>> SEED_STD.search("std of 0.04 over 5 seeds").group(1)
    '0.04'
    """
    seg = masked[s:e]
    listed = number_run(seg)
    if len(listed) >= 3 and "seed_scores" not in out.values:
        out.put("seed_scores", [_fraction(x) for x in listed], quote, *[s + x.start(1) for x in listed])
    scores_range = None if "seed_scores" in out.values else SCORE_RANGE.search(masked, s, e)
    pair = [x for x in _NUMBER.finditer(seg) if not _COUNT_UNIT.match(seg[x.end() :])]
    if not scores_range and "seed_scores" not in out.values and len(pair) == 2 and RUN_TO_RUN.search(seg):
        out.put("seed_scores", [num(x, 1, 2) for x in pair], quote, *[s + x.start(1) for x in pair])
    if scores_range:
        low, high = num(scores_range, 1, 2), num(scores_range, 3, 4)
        out.put("seed_scores", [min(low, high), max(low, high)], quote, scores_range.start(1), scores_range.start(3))
    std = SEED_STD.search(masked, s, e)
    if std:
        out.put("seed_std", num(std, 1, 2), quote, std.start(1))


def _split_sizes(masked: str, s: int, e: int, quote: str, out: Facts) -> None:
    """The size of the test or validation split.

    >>> SIZE_OF_SPLIT.search("the test set has 120 examples").group(1, 2)
    ('test', '120')
    >>> SIZE_BEFORE_SPLIT.search("only 80 validation samples").group(1, 2)
    ('80', 'validation')
    >>> SIZED_SPLIT.search("a 200-row test set").group(1, 2)
    ('200', 'test')
    """
    found = (
        (SIZE_OF_SPLIT.search(masked, s, e), 2, 1),
        (SIZE_BEFORE_SPLIT.search(masked, s, e), 1, 2),
        (SIZED_SPLIT.search(masked, s, e), 1, 2),
    )
    for match, size_group, split_group in found:
        if match:
            split = {"holdout": "validation"}.get(match.group(split_group).lower(), match.group(split_group).lower())
            split = "validation" if split.startswith("eval") else split
            out.put(f"split_sizes.{split}", int(match.group(size_group)), quote, match.start(size_group))


def training_facts(scan: Scan, s: int, e: int, out: Facts) -> None:
    """Training failures, per-epoch curves, scores across seeds and split sizes stated in one sentence.

    >>> from app.diagnosis.text.scan import scan as scan_text
    >>> facts, sc = Facts(), scan_text("Across seeds we got 0.71, 0.84, 0.62 and the loss became NaN.")
    >>> training_facts(sc, 0, len(sc.masked), facts)
    >>> facts.values
    {'training_issues': ['nan_loss'], 'seed_scores': [0.71, 0.84, 0.62]}
    """
    masked, quote = scan.masked, scan.quote(s, e)
    seg = masked[s:e]
    issues = list(out.values.get("training_issues", []))
    _issues(masked, s, seg, issues)
    if issues:
        out.put("training_issues", sorted(set(issues)), quote)
    if _EPOCHS.search(seg) and not _SEEDS.search(seg):
        _curve(seg, s, quote, out)
    if _SEEDS_OR_RUNS.search(seg):
        _seeds(masked, s, e, quote, out)
    _split_sizes(masked, s, e, quote, out)
