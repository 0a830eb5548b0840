"""Concept detectors: ideas an ML engineer recognises whatever the phrasing, read as small reusable facts.

- Class counts: two counts of different classes in one sentence ("714 ham and 36 spam", "8,400 are label 0 and
  450 are label 1") give the minority's share, ``count_minority_share``.
- "Detects k of n": a detection stated as a count ("only catches 3 of the 36 fraud cases") is a recall, folded
  into ``stated_recall_min``.
- Prose concepts (``CONCEPT_CUES``, read like ``prose.CUES``: every part in one sentence, hedges and negations
  do not count): the data met differs from the data trained or validated on; the train/held-out gap widens; the
  training metric itself is stuck low; one category is written several ways; values and their names are
  misaligned; a split reported as another; a model no better than always answering the majority class; a metric
  stated low in words; one item carrying two labels.

Every pattern is bounded (no nested repetition), so a scan is linear in the text length.
"""

from __future__ import annotations

import re
from typing import Any

from app.diagnosis.signatures.prose import Cue, _cue, cue_facts, sentences

__all__ = ["CONCEPT_CUES", "class_count_share", "concept_facts", "detect_rate"]

_I = re.IGNORECASE
_NUM = r"(\d{1,3}(?:,\d{3})+|\d{1,7})(?![\d.,]*\d|\s?%|\s?x\b|\.\d)"
_PRE = r"(?:(?:about|around|roughly|approximately|only|just|some|nearly|~)\s+)?"
_HEAD = r"(?:(?:are|were|is|was)\s+)?(?:(?:labell?ed|marked|tagged|class|label)\s+)?([a-z][\w-]*|==\s?\w+)"
_COUNTS = re.compile(
    rf"(?<![\w.,]){_PRE}{_NUM}\s+{_HEAD}[^.;]{{0,40}}?\b(?:and|vs\.?|versus|against|but|while|compared to)\s+"
    rf"(?:only\s+)?{_PRE}{_NUM}\s+{_HEAD}", _I)
# words after a count that name a unit, a split or a model part, not a class
# "positives: 120, negatives: 9,880": class names with their counts, read only next to a class word
_NAMED_COUNT = re.compile(rf"\b([a-z][\w-]*)\s?[:=]\s?{_NUM}", _I)
_CLASS_WORDS = re.compile(r"\b(?:class\w*|labels?|positives?|negatives?|minority|majority|counts?|distribution|"
                          r"imbalance\w*|balance)\b", _I)
_UNITS = frozenset({
    "epoch", "epochs", "step", "steps", "iteration", "iterations", "layer", "layers", "feature", "features",
    "column", "columns", "second", "seconds", "minute", "minutes", "hour", "hours", "day", "days", "week", "weeks",
    "month", "months", "year", "years", "ms", "gb", "mb", "kb", "tb", "images", "image", "samples", "sample", "rows",
    "row", "examples", "example", "records", "record", "files", "file", "items", "item", "tokens", "token", "words",
    "word", "sentences", "documents", "classes", "class", "categories", "labels", "label", "train", "training",
    "test", "testing", "val", "validation", "dev", "holdout", "folds", "fold", "runs", "run", "seeds", "seed",
    "trees", "estimators", "neurons", "units", "parameters", "params", "gpus", "gpu", "cores", "batches", "batch",
    "times", "subjects", "patients", "users", "people", "texts", "pixels", "channels", "dimensions", "dims",
    "points", "percent", "per", "of", "in", "on", "at", "for", "to", "the", "a", "an", "with", "from", "by", "total",
    "more", "fewer", "less", "than", "out",
})
_DETECT = re.compile(
    rf"\b(?:detect\w*|catch\w*|caught|find\w*|found|flag\w*|recover\w*|identif\w*|recogni[sz]\w*|spot\w*|"
    rf"correctly (?:predict\w*|classif\w*|label\w*))\s+(?:only\s+|just\s+)?{_NUM}\s+(?:out\s+)?of\s+"
    rf"(?:the\s+|all\s+|those\s+)?{_NUM}\b", _I)


def class_count_share(text: str) -> tuple[float, str] | None:
    """(smallest share, sentence) over the pairs of class counts stated in one sentence, or None.

    >>> class_count_share("The training set has 714 ham and 36 spam emails.")[0]
    0.048
    >>> class_count_share("Positives: 120, negatives: 9,880.")[0]
    0.012
    >>> class_count_share("Trained for 10 epochs and 500 steps on 2086 train and 2084 validation rows.") is None
    True
    """
    best: tuple[float, str] | None = None
    for s in sentences(text):
        if len(s) > 600:
            continue
        for m in _COUNTS.finditer(s):
            a, b = int(m.group(1).replace(",", "")), int(m.group(3).replace(",", ""))
            ha, hb = m.group(2).lower().replace(" ", ""), m.group(4).lower().replace(" ", "")
            if ha in _UNITS or hb in _UNITS or (ha == hb and not ha.startswith("==")) or min(a, b) < 1:
                continue
            if a + b < 20 or 1900 <= a <= 2100 or 1900 <= b <= 2100:  # too few to weigh, or years
                continue
            share = round(min(a, b) / (a + b), 4)
            if best is None or share < best[0]:
                best = (share, s[:200])
        named = [(m.group(1).lower(), int(m.group(2).replace(",", ""))) for m in _NAMED_COUNT.finditer(s)]
        named = [(h, n) for h, n in named if h not in _UNITS and not 1900 <= n <= 2100]
        if len(named) >= 2 and _CLASS_WORDS.search(s) and sum(n for _, n in named) >= 20:
            share = round(min(n for _, n in named) / sum(n for _, n in named), 4)
            if best is None or share < best[0]:
                best = (share, s[:200])
    return best


def detect_rate(text: str) -> tuple[float, str] | None:
    """(k / n, sentence) for the lowest "detects k of n" stated, or None.

    >>> detect_rate("It only detects 3 of the 36 spam emails.")[0]
    0.0833
    """
    best: tuple[float, str] | None = None
    for s in sentences(text):
        for m in _DETECT.finditer(s[:600]):
            k, n = int(m.group(1).replace(",", "")), int(m.group(2).replace(",", ""))
            if n < 5 or k > n:
                continue
            rate = round(k / n, 4)
            if best is None or rate < best[0]:
                best = (rate, s[:200])
    return best


_DATA = r"(?:data|dataset|data set|set|cohort|population|distribution|domain|corpus|images|text|inputs?|samples|" \
        r"traffic|patients|customers|users|case mix|hospital|site|sensors?)"
# the training split itself: "the scaler is fitted on the training rows only" is how a leak is kept out, not a model
# that has seen one kind of data only ("trained only on the training data from 2019" still is)
_TRAIN_SPLIT = (r"(?:the |our |its )?train(?:ing)?(?:[- ](?:rows|set|split|data|folds?|portion|part|samples|partition|"
                r"subset|examples))?")
_NOT_TRAIN_SPLIT = r"(?! " + _TRAIN_SPLIT + r"\s*(?:[,.;:)]|$|\b(?:and|then|before|after|so|to)\b))"
CONCEPT_CUES: tuple[Cue, ...] = (
    _cue("said_data_differs",
         r"\b(?:differs?|different|differ(?:ed|ing)|dissimilar|unlike|mismatch\w*|shift\w*)\b[^.;]{0,40}\b"
         r"(?:from|to|than|between)\b|\bnot (?:\w+ )?representative of\b|\b(?:looks?|is|are|was|were) nothing like\b|"
         r"\b(?:trained|fine-?tuned|fitted)\b[^.;]{0,30}\bon (?!" + _TRAIN_SPLIT + r" only\b)[^.;]{0,40}\bonly\b|"
         r"\b(?:distribution|vocabulary|language|"
         r"slang|mix|behaviou?r|population|demographics?|user base|customer base|case mix)\b[^.;]{0,30}\b(?:has |have |had )?"
         r"(?:changed|shifted|evolved|drifted)\b|\b(?:only|exclusively|solely) "
         r"(?:been )?(?:trained|fine-?tuned|pre-?trained|fitted) on\b" + _NOT_TRAIN_SPLIT +
         r"|\b(?:trained|fine-?tuned|fitted) (?:only|exclusively|solely) on\b" + _NOT_TRAIN_SPLIT +
         r"|\b(?:other|different|new) (?:kinds?|types?|sorts?|styles?) of\b|"
         r"\bout[- ]of[- ](?:domain|distribution)\b|\b(?:domain|distribution|covariate|dataset) (?:shift|gap|"
         r"mismatch)\b|\bcase mix\b",
         _DATA + r"|\b(?:training|trained|test|validation|production|live|deploy\w*|reviews|emails|scans|photos|"
         r"reports|speech|tweets|recordings|transactions|devices|cameras|sources?|vocabulary|language|tickets|queries|"
         r"requests|messages|posts|documents|articles)\b"),
    _cue("said_gap_widens",
         r"\b(?:gap|difference|divergence|distance|spread)\b",
         r"\b(?:widen\w*|grow\w*|grew|increas\w*|keeps? (?:getting )?(?:bigger|larger|wider)|opens? up|opening)\b",
         r"\b(?:train\w*|validation|val|test|held-?out)\b"),
    _cue("said_val_loss_rises",
         r"\b(?:val\w*|validation|held-?out|test|dev)\b[^.;]{0,12}\b(?:loss|error)\b[^.;]{0,30}\b(?:increas\w*|"
         r"ris(?:es|ing)|rose|goes up|went up|climb\w*|grow\w*|turns? up|diverg\w*|starts? (?:to )?(?:increase|rise|go up|"
         r"climb|diverge))",
         r"\btrain\w*\b"),
    _cue("said_train_metric_stuck",
         r"\btrain(?:ing)?\b[^.;]{0,25}\b(?:acc\w*|loss|error|score|f1|auc|r2|metric)\b",
         r"\b(?:never (?:gets|goes|rises|climbs|improves|exceeds|reaches|passes)|stuck|plateau\w*|won'?t (?:go|get|"
         r"rise)|can ?not (?:get|go) (?:past|above|below|beyond)|can'?t (?:get|go) (?:past|above|below|beyond)|"
         r"does ?n[o']t (?:improve|go (?:up|down|past|above|below)|rise|drop below)|stays? (?:at|around|near|"
         r"below|above)|tops? out)\b",
         # the training figure is said to move and a held-out figure is what stays ("the training loss goes down
         # towards zero ..., but validation accuracy stays around 55%"): the stuck figure is not the training one
         unless=r"(?=.*\btrain(?:ing)?\b[^.;]{0,30}\b(?:goes down|went down|decreas\w*|drops?|dropp\w*|falls?|fell|"
                r"(?:towards?|to) (?:~|about |almost |nearly |near )?(?:zero|0)\b|(?:near|close to|almost) (?:zero|0)\b|"
                r"approach\w* (?:zero|0|100)|reach\w* (?:100|99)|keeps? (?:going down|improving|decreasing|dropping|"
                r"falling|rising|climbing)))(?=.*\b(?:val\w*|validation|test\w*|dev|held-?out)\b[^.;,]{0,30}\b(?:never|"
                r"stuck|plateau\w*|won'?t|can'?t|can ?not|does ?n[o']t|stays?|tops? out)\b)"),
    _cue("said_category_spelt_apart",
         r"\b(?:labels?|columns?|fields?|categor\w+|class(?:es)?|values?|levels?|codes?)\b",
         r"\b\d+ (?:unique|distinct|different) (?:values|labels|classes|categories|levels)\b[^.;]{0,30}\b(?:instead "
         r"of|rather than|not|where)\b|\b(?:trailing|leading|extra) (?:dot|period|space|whitespace|blank|comma)s?\b|"
         r"\b(?:spelt|spelled|written|coded|encoded|capitali[sz]ed) (?:in )?(?:\w+ )?(?:differently|"
         r"inconsistently|two ways|several ways)\b|\binconsistent(?:ly)? (?:spell\w*|capitali[sz]\w*|coding|"
         r"codes|categories|case)\b"),
    _cue("said_inputs_blank",
         r"\b(?:inputs?|pixels?|images?|input (?:data|arrays?|tensors?|features?|files?)|x_?train|x_?test|"
         r"features?|frames?|readings?|fields?|arrays?|tensors?|channels?|samples?|spectrograms?)\b",
         r"\b(?:(?:are|is|were|was|became|becomes|come out as|came out as|end(?:s|ed)? up|turn(?:s|ed)? into)\s+"
         r"(?:(?:all|entirely|only|just)\s+(?:zeros?|0s?|0\.0|nans?|blank|black|empty)|zeros? everywhere|blank|black|"
         r"empty|all[- ]nans?)\b|\ball[- ]zeros?\b|\bevery (?:single )?(?:pixel|value|entry|element|row|reading)\b"
         r"[^.;]{0,40}\b(?:is|was|are|were|became|comes? out|came out)\s+(?:as\s+)?(?:0|zero|nan|blank)\b)",
         # zeros that belong to what the model produces or is trained towards, not to what it is fed
         unless=r"\b(?:predict\w*|outputs?|logits|gradients?|masks?|labels?|y_?train|y_?test|targets?|one-hot|"
                r"embeddings?|activations|weights)\b[^.;,]{0,40}\b(?:all[- ]zeros?|(?:is|are|were|was|became) (?:all )?"
                r"(?:zeros?|0|nans?|blank|black|empty))\b|\bpadd\w*|\bzero[- ]pad\w*"),
    _cue("said_values_misaligned",
         r"\b(?:misalign\w*|out of (?:order|sync|step|alignment)|shifted by one|off by one (?:row|column)|"
         r"(?:do|does) ?n[o']t line up|wrong order|in (?:a )?different orders?)\b",
         r"\b(?:columns?|names?|headers?|values?|features?|rows?|fields?|labels?|indices|index|ids?)\b"),
    _cue("said_split_reported_as_other",
         r"\b(?:report\w*|scor\w+|evaluat\w+|us(?:es|ed|ing)|treat\w*|pass\w*|load\w*|comput\w+)\b[^.;]{0,30}\b"
         r"(?:validation|val|dev|training|train) (?:set|split|data|loader|fold)\b[^.;]{0,12}\bas (?:the |a )?"
         r"(?:test|held-?out|holdout|evaluation)\b"),
    _cue("said_majority_beats",
         r"\b(?:(?:label\w*|predict\w*|call\w*|classif\w*|answer\w*|say\w*|mark\w*|output\w*) (?:every|each|all)\b|"
         r"always (?:predict\w*|answer\w*|say\w*|output\w*|label\w*)|majority(?:[- ]class)? (?:baseline|classifier|"
         r"vote|guess)|(?:constant|trivial|dummy|null) (?:model|classifier|baseline|predictor))",
         r"\b(?:would (?:score|get|reach|achieve|have)|scores? (?:the same|as (?:high|well|much))|better than "
         r"(?:ours|our|the model|my|the classifier)|beats? (?:ours|our|the model|my)|as good as|same accuracy)"),
    _cue("said_one_answer_for_all",
         r"\b(?:predict\w*|output\w*|answer\w*|label\w*|say\w*|says|return\w*|classif\w*|flag\w*)\b[^.;]{0,30}"
         r"\b(?:every (?:time|input|case|sample|image|row|example|email|transaction|record|item|instance|one|"
         r"patient|user|customer|text|document)|for (?:every|all|each)(?: \w+)?|everything|anything)\b",
         unless=r"\b(?:value|number|forecast\w*|regress\w*|mse|rmse|mae|mean|average|price|amount)s?\b"),
    _cue("said_constant_output",
         r"\b(?:predict\w*|output\w*|forecast\w*|return\w*|gives?|produces?)\b[^.;]{0,30}\b(?:(?:almost |nearly |"
         r"roughly |about )?the same (?:value|number|output|prediction|curve)|constant (?:values?|outputs?|"
         r"predictions?)|the (?:mean|average)(?: value)?|(?:a |an )?(?:almost |nearly )?(?:flat|straight|horizontal) "
         r"line)\b"),
    _cue("said_metric_low",
         r"\b(?:precision|recall|f1|f-?score|accuracy|auc|dice|iou|map|bleu|score|scores|performance)\b[^.;]{0,40}\b"
         r"(?:(?:extremely|very|really|terribly|abysmally|surprisingly) (?:low|poor|bad)|near(?:ly)? zero|close to "
         r"zero|collaps\w+)\b"),
    _cue("said_item_two_labels",
         r"\b(?:same|identical|duplicat\w+|one|each) (?:\w+ ){0,2}(?:image|picture|photo|item|row|record|sample|"
         r"text|sentence|file|id|example|document|face|clip|scan)s?\b|\b(?:more than once|twice|several times)\b",
         r"\bboth (?:label|class)\w* \w+ and\b|\b(?:two|different|conflicting|contradictory|opposite) (?:\w+ )?"
         r"(?:labels|classes|annotations|categories)\b|\b(?:labell?ed|annotated|tagged|marked) as (?:two|both|"
         r"different)\b|\blabels? (?:disagree|conflict)\w*"),
)


def concept_facts(text: str) -> tuple[dict[str, Any], dict[str, str]]:
    """(facts, sources) from the concept detectors.

    >>> f, _ = concept_facts("The validation set is not representative of the test distribution.")
    >>> f
    {'said_data_differs': True}
    >>> concept_facts("We have 900 negatives and 100 positives; it catches 2 of 100 positives.")[0]
    {'count_minority_share': 0.1, 'stated_detect_rate': 0.02}
    """
    facts: dict[str, Any] = {}
    src: dict[str, str] = {}
    share = class_count_share(text)
    if share is not None:
        facts["count_minority_share"], src["count_minority_share"] = share[0], f'prompt: "{share[1]}"'
    rate = detect_rate(text)
    if rate is not None:
        facts["stated_detect_rate"], src["stated_detect_rate"] = rate[0], f'prompt: "{rate[1]}"'
    for k, quote in cue_facts(text, CONCEPT_CUES).items():
        facts[k], src[k] = True, f'prompt: "{quote}"'
    return facts, src
