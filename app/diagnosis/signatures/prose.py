"""Prose cues: one named idea per cue, found when every part of it occurs in the same sentence.

A cue is an idea an ML engineer recognises ("the validation set is built from the training data"), written as
two or three small alternations of the words people use for each part, not as one pattern per phrasing. A
sentence that negates the first part ("no duplicates across the splits") or only asks or worries about it
does not count: the cue needs a statement. All patterns are bounded (no nested repetition), so the scan is
linear in the text length.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import pairwise

from app.diagnosis.text.safeguards import describes_no_leak, without_batch_shuffle
from app.diagnosis.text.training import VAL_LOSS_DIVERGES

__all__ = ["CUES", "LEAK_CUES", "Cue", "cue_facts", "prose_facts", "sentences"]

_I = re.IGNORECASE
_HEDGE = re.compile(r"\b(?:worr\w+|suspect\w*|maybe|might|could|perhaps|wonder\w*|whether|not sure|afraid|"
                    r"should I|is it|are there|can it)\b|\?\s*$", _I)
_QUESTION = re.compile(r"\?\s*$")
_NEG_BEFORE = re.compile(r"\b(?:no|not|never|without|ruled out|free of|none of the)\b[^.;]{0,25}$", _I)
_NONE_AFTER = re.compile(r"^[^.;]{0,40}\b(?:found none|none found|found no|were none|was none|is clean|"
                         r"no overlap|zero overlap|0 overlap)\b", _I)
_SPLIT_SENT = re.compile(r"(?<=[.!?])\s+(?=[A-Z(\"'])|\n+")

SPLITS_BOTH = r"(?:\btrain[_/ -]?(?:val|test|dev)\w*|both (?:sides|splits|sets|folds)|both (?:the )?train\w* (?:and|&) "\
    r"(?:the )?(?:test|val\w*|holdout|dev)|across (?:the )?(?:splits|folds|train\w* and)|" \
    r"(?:in|into|on) (?:the )?(?:train\w*|training set) and (?:the )?(?:test|val\w*|holdout)|" \
    r"(?:train\w*|training set)[^.;]{0,25}(?:and|while|but)[^.;]{0,25}(?:test|val\w*|holdout)|different folds)"
DROP = r"(?:drop\w*|fell|falls?|lower|worse|worst|collaps\w+|degrad\w+|plummet\w*|loses?|lost|poor\w*|barely|" \
    r"fail\w*|down to|decline\w*|suffer\w*|(?:error|loss|mape|rmse|mae|wer)\w*[^.;]{0,25}\b(?:grew|rose|increased|" \
    r"climbed|went up|doubled|tripled))"


@dataclass(frozen=True)
class Cue:
    """A named idea: every pattern in ``parts`` must occur in one sentence; ``statement``: hedges do not count."""

    name: str
    parts: tuple[re.Pattern[str], ...]
    statement: bool = True
    unless: re.Pattern[str] | None = None  # a sentence that also matches this does not state the idea
    window: int = 1  # 2: the parts may be spread over two consecutive sentences

    @property
    def leak(self) -> bool:
        """A leakage mechanism: a sentence that names it as a safeguard, a concept or a fixed leak does not state it
        (``text.safeguards.describes_no_leak``)."""
        return self.name in LEAK_CUES


def _cue(name: str, *parts: str, statement: bool = True, unless: str | None = None, window: int = 1) -> Cue:
    return Cue(name, tuple(re.compile(p, _I) for p in parts), statement,
               re.compile(unless, _I) if unless else None, window)


LEAK_CUES = frozenset({
    "said_eval_on_train", "said_state_across_folds", "said_selection_on_all", "said_preprocess_on_all",
    "said_dupes_across", "said_entity_both_sides", "said_slices_split_randomly", "said_future_info",
    "said_target_copy", "said_id_predictive", "said_random_split_time",
})
"""The cues that name a leakage mechanism."""


# "I get the same picture": the same outcome, not the same image
_SAME_OUTCOME = (r"\b(?:get|gets|got|getting|see|sees|saw|seeing|gives?|gave|shows?|showed|paints?)\s+(?:\w+\s+)?"
                 r"the same (?:picture|image)\b(?!\s+(?:appears?|is|was|in|twice))")
CUES: tuple[Cue, ...] = (
    _cue("said_eval_on_train",
         r"\b(?:val\w*|test\w*|eval\w*|dev)\b[^.;]{0,40}\b(?:wraps?|built (?:on|from)|(?:comes?|drawn|taken|"
         r"computed|made|created) (?:from|on)|reads?|uses?|is|are|was|were)\b (?:the |a )?(?:very )?(?:same |original )?"
         r"(?:train\w*|training) (?:set|data|dataset|split|images|samples|loader|filter)|\bsame (?:data|images|"
         r"samples|set|getBatch|loader|filter|sampler) as (?:the )?train|\b(?:val\w*|test\w*|eval\w*)\b[^.;]{0,40}"
         r"\bon (?:almost )?the same data as (?:the )?train|\b(?:val\w*|test\w*)_?(?:loader|set|ds)\W{1,4}\w*\(?"
         r"\w*\(train"),
    _cue("said_state_across_folds",
         r"\b(?:weights?|model|network|net|state|optimi[sz]er|parameters|checkpoint|estimator)\b[^.;]{0,60}\b(?:not "
         r"(?:freshly |newly )?(?:re-?)?initiali[sz]\w*|never (?:re-?)?initiali[sz]\w*|not (?:re-?)?set|not reset|"
         r"carried over|carries over|carry over|continues? (?:training )?from|continued (?:training )?from|re-?used|"
         r"kept training|warm[- ]start\w*)|\b(?:keeps?|kept|reuses?|re-?used|carries|carried)\s+(?:over\s+)?"
         r"(?:the\s+)?(?:same\s+)?(?:weights|model|network|state|parameters|optimi[sz]er)\b|\b(?:compiled|built|"
         r"created|instantiated|defined)\s+once\b[^.;]{0,40}\b(?:outside|before)\b",
         r"\b(?:previous|prior|last|earlier|other|next) (?:folds?|splits?|subjects?)\b|\b(?:across|between) "
         r"(?:the )?folds\b|\b(?:each|every) fold\b|\b(?:cv|cross-?validation) loop\b",
         # negated carrying ("not carried over", "never reused") and a fresh start per fold state no leak
         unless=r"\b(?:not|never|n't|no longer)\s+(?:\w+\s+){0,2}?(?:carried|carry|carries|re-?used|reuse|kept|keep|"
                r"continued|continue|shared|warm[- ]start\w*)\b|\bfrom scratch\b|\b(?:fresh|new|re-?initiali[sz]ed) "
                r"(?:model|network|weights|estimator)? ?(?:for|in|at) (?:each|every) fold\b|\bclone\w*\b"),
    _cue("said_selection_on_all",
         r"\b(?:select\w*|picked|chose|chosen|screen\w*|genetic algorithm|t-?tests?|feature importances?|"
         r"top[- ]?\d+ (?:features|genes|markers)|filter\w* (?:the )?(?:features|genes))",
         r"\b(?:(?:whole|all|entire|complete|full) (?:data|data ?set|sample|samples|rows|subjects|cohort|set)|"
         r"all (?:\d+ )?(?:rows|samples|subjects|patients)|before (?:the )?(?:split|cross-?validation|cv)|"
         r"(?:on|with|using) (?:the )?(?:whole|complete|full|entire) )",
         # choosing a model, a checkpoint or hyperparameters is not selecting features
         unless=r"\b(?:model|hyperparameter|checkpoint) selection\b|\b(?:select\w*|picked|chose|chosen)\s+(?:the\s+)?"
                r"(?:best\s+|final\s+)?(?:model|checkpoint|hyperparameters?|epoch|configuration|config)\b"),
    _cue("said_preprocess_on_all",
         r"\b(?:scal\w+|normali[sz]\w+|standardi[sz]\w+|imput\w+|target[- ]encod\w+|encod\w+|smote|"
         r"oversampl\w+|upsampl\w+|pca|vectori[sz]\w+|fit_transform|tf-?idf|rolling|moving averages?|lag features?|"
         r"aggregat\w+)",
         r"\b(?:(?:whole|all|entire|full|complete) (?:data|data ?set|rows|corpus|sample|history|series)|including the "
         r"(?:test|validation|holdout|evaluation) (?:period|rows|set|data)|before (?:the )?"
         r"(?:train[/ -]test )?split\w*|before (?:cross-?validation|cv))"),
    # the classes balanced before the split: the test set no longer has the class mix the model will meet
    _cue("said_undersampled_before_split",
         r"\b(?:under-?sampl\w+|down-?sampl\w+|balanc(?:ed|ing) (?:the|our|my) (?:classes|data ?set|data))\b",
         r"\bbefore (?:the )?(?:train[/ -]test )?split\w*|\b(?:and|then) (?:then )?split\w*\b|\bboth (?:the )?"
         r"train\w* and (?:the )?(?:test|validation|held-?out)|\b(?:test|validation|held-?out) (?:set|data|split)s? "
         r"(?:is|are|was|were) (?:also |now )?(?:balanced|undersampled|downsampled)|\bbalanced test\b"),
    _cue("said_dupes_across",
         r"\b(?:duplicat\w+|identical|near-duplicates?|copies|same (?:image|photo|picture|record|row|sample|file|"
         r"scan|sentence|text)s?|byte-identical|repeated (?:images|rows|records)|(?:images?|photos?|pictures?|rows|"
         r"records|samples|files|texts|sentences|items|scans)\b[^.;]{0,30}\b(?:appear|occur|show up|are present|"
         r"exist|sit|land)\w*)",
         SPLITS_BOTH + r"|\bin both\b|\bone (?:copy )?in (?:the )?train\w*",
         unless=_SAME_OUTCOME),
    _cue("said_entity_both_sides",
         r"\b(?:same|each|individual|one) (?:patient|subject|user|customer|person|speaker|participant|animal|"
         r"household|device|driver|player|account|company|store|site|mouse|donor|individual)s?\b|"
         r"\b(?:patients?|subjects?|users?|customers?|speakers?|participants?) (?:appear|occur|sit|are|land)|"
         r"\b(?:several|some|many|multiple|most|\d+) (?:of the )?(?:patients|subjects|users|customers|speakers|"
         r"participants|animals|donors|individuals|households|devices|drivers) (?:have|had|contribute\w*|with)\b",
         SPLITS_BOTH + r"|\bon both\b|\bin both\b"),
    _cue("said_slices_split_randomly",
         r"\b(?:slices|frames|patches|windows|crops|segments|tiles|clips|beats|time slices)\b",
         r"\b(?:random\w*|shuffl\w+)\b", r"\b(?:split|divided|assigned|partition\w*|land|folds?)\b"),
    _cue("said_future_info",
         r"\b(?:after (?:the )?(?:outcome|event|decision|prediction|discharge|transaction|fact|label|target|"
         r"diagnosis|default|churn|purchase|moment|sale)|from the future|joined from the future|future "
         r"(?:data|values|information|rows)|processing time instead of event time|only (?:known|available|booked|"
         r"recorded|filled|entered|set|updated) (?:\w+ )?after|not (?:yet )?(?:known|available) at "
         r"(?:prediction|scoring|inference|decision) time|hour after the|(?:filled|updated|recorded) (?:in )?"
         r"after|only exists? (?:once|after)|(?:has|have) not (?:yet )?happened|not happened yet|"
         r"after (?:each|every) (?:scored |predicted |labell?ed )?(?:impression|payment|prediction|transaction|event|order|"
         r"request|decision|visit|session|application|claim|loan|sale|scoring|click)s?\b|"
         r"(?:window|aggregate|average|mean|feature)\w*\b[^.;]{0,60}\b(?:includ\w+|contain\w*|cover\w*) (?:the |that )?"
         r"(?:very |same |current |own )?(?:day|bar|row|step|period|hour|event|target|outcome|label|price)\w*"
         r"[^.;]{0,40}(?:predict\w*|target|label|outcome|built|own)|(?:train\w*|data) (?:on|from) [^.;]{0,30}after "
         r"the (?:period|time|date)s? (?:it is |they are )?(?:validated|tested|predicted|evaluated))"),
    _cue("said_target_copy",
         r"\b(?:(?:computed|derived|calculated|built|made) (?:directly )?from (?:the )?(?:label|target|outcome)|"
         r"cop(?:y|ies) of the (?:label|target)|perfectly correlated with "
         r"the (?:target|label)|(?:encodes|reveals|restates) the (?:label|target|outcome))"),
    # "the target itself" among the inputs or as what a column is (not "one axis of the plot is the target itself")
    _cue("said_target_copy",
         r"\b(?:the label itself|the target itself)\b",
         r"\b(?:features?|inputs?|columns?|predictors?|variables?|fed|feeds?|X)\b|\bi\.e\.|\b(?:that is|which is|"
         r"is just|is simply|equals?|same as)\b"),
    _cue("said_id_predictive",
         r"\b(?:id|ids|identifier|id number|row number|record number|index|file ?name|patient number)\b",
         r"\b(?:predict\w*|important|top feature|most (?:important|predictive)|leans on|signal|split on)\b"),
    _cue("said_random_split_time",
         r"\b(?:random\w*|shuffl\w+|ordinary k-?fold|k-?fold|kfold|train_test_split)\b",
         r"\b(?:time[- ]series|time-ordered|over time|timestamps?|daily|days|dates?|history|chronolog\w*|trading|"
         r"forecast\w*|temporal|monthly|weekly|hourly|sensor readings|ordered in time)\b",
         r"\b(?:split|folds?|drawn|partition\w*|validat\w+|cross-?validat\w+|trains? on)\b|\btrain_test_split\b|"
         r"\bshuffle ?= ?true\b"),
    _cue("said_drop", r"\b" + DROP + r"\b"),
    _cue("said_auc_wrong_input",
         r"(?:\b|_)(?:auc|roc)(?:\b|_)",
         r"\b(?:hard (?:labels|predictions|classes)|thresholded|y_pred\b|predicted labels|instead of "
         r"(?:predict_proba|probabilit\w+|scores)|swapped|wrong column|read incorrectly|max softmax|"
         r"(?:labels|classes) (?:were |are )?(?:flipped|inverted|reversed)|1 ?- ?0?\.\d+|swapping (?:the )?"
         r"classes)", window=2),
    _cue("said_test_reused_for_selection",
         r"\b(?:public leaderboard|private leaderboard|leaderboard (?:score|rank|position)|(?:lb|leaderboard) "
         r"shake-?up)"),
    _cue("said_single_class",
         r"\b(?:(?:predicts?|outputs?|labels?|classif\w+|returns?|says?|answers?)\b[^.;]{0,40}\b(?:same|one|single|"
         r"majority|negative|non-?\w+)\b[^.;]{0,15}\b(?:class|label|category)|never (?:be )?predict\w*|"
         r"is never predicted|always (?:answer\w*|predict\w*|say\w*|output\w*)|all zeros|"
         r"catch\w* (?:almost )?nothing|(?:second|minority) column is empty|almost every \w+ (?:as )?non-?\w+|"
         r"almost never (?:predicted|recovered|flagged|caught)|rare side)",
         unless=r"^(?!.*\b(?:predict\w*|outputs?|classif\w*|labels?|answers?)\b).*\b(?:inputs?|pixels?|images?|"
                r"readings?|arrays?|x_?train|x_?test|frames?|spectrograms?|tensors?)\b[^.;]{0,20}\b(?:is|are|were|was|"
                r"became|come out as|came out as)\s+(?:all\s+)?zeros?\b"),  # blank inputs, nothing predicted
    _cue("said_minority_missed",
         r"\b(?:minority|rare|fraud\w*|positive|defect\w*|fall\w*|attack\w*|anomal\w+|disease\w*|churn\w*|1s)\b",
         r"\b(?:(?:let|slipped|went|got) through|never (?:found|detected|caught)|went through unflagged|missed|unflagged|not (?:caught|detected|flagged)|recall (?:is |of )?"
         r"(?:very )?low|low recall|almost never|rarely (?:caught|detected|flagged)|false alarms)"),
    _cue("said_loss_at_chance",
         r"\b(?:stuck|stays?|stayed|plateau\w*|never (?:goes|moves|drops|gets|gets off|changes)|does ?n[o']t "
         r"(?:move|change|decrease)|stops? at|flat|freez\w*|settled|identical from|same from|constant|never moves|not moving)\b",
         r"(?:0\.69\d*|ln\(\d+\)|\bchance\b|0\.5\b|50 ?%|random guess\w*|\bidentical\b|\bsame\b|0\.50|(?:predictions?|outputs?) (?:are|is|stay\w*) "
         r"constant|constant predictions?|predicting the mean)"),
    _cue("said_high_error_everywhere",
         r"\b(?:both|alike|train\w* and (?:the )?(?:validation|test|val))\b",
         r"\b(?:high|poor|low r|stay(?:s|ed)? high|plateau\w*|never (?:got|reached|gets)|underfit\w*|"
         r"same high|similar(?:ly)? (?:high|poor|bad)|converge\w* (?:quickly )?to the same)"),
    _cue("said_linear_on_nonlinear",
         r"\b(?:linear (?:model|regression|classifier|svm)|straight line|least squares|logistic regression|"
         r"single (?:small )?(?:hidden )?layer|too (?:simple|small|shallow))\b",
         r"\b(?:curved|non-?linear|quadratic|u shape|u-shaped|bent|log curve|polynomial|complex|interactions?|"
         r"cannot (?:get|fit)|never got|high (?:mse|error|bias)|plateau\w*)", window=2),
    _cue("said_nan_or_explosion",
         r"\b(?:loss|gradients?|weights|activations|outputs?)\w*\b",
         r"\b(?:nan|inf|infinity|explod\w*|diverg\w+|blows? up|blew up|overflow\w*|shoots? up|jumps? (?:from|to)|"
         r"spik\w+|jump\w* (?:from|to))\b",
         unless=r"\b(?:skipping step|reducing loss scale|loss scaler?\b[^.;]{0,20}\b(?:reduc|lower|halv)\w*)|"
                r"^\W*gradient overflow\W*$|"  # the dynamic loss scaler's routine message, not a divergence
                + VAL_LOSS_DIVERGES.pattern),   # a held-out loss that "diverges" (turns up): overfitting
    # NaN before any update could diverge: the first forward pass already meets a non-finite input, label or log(0)
    # ("the first epoch" is many updates, so it does not count)
    _cue("said_nan_from_start",
         r"\b(?:loss|outputs?|predictions?|logits|values?)\w*\b",
         r"\b(?:nan|inf|infinity|non-?finite)\b",
         r"\b(?:from the (?:very )?(?:start|beginning|outset|first (?:step|batch|iteration|update|forward pass))|"
         r"(?:at|on|in|after|during) the (?:very )?first (?:step|batch|iteration|update|forward pass|mini-?batch)|"
         r"(?:for |at |on )?every (?:single )?(?:step|batch|iteration|epoch)|right away|immediately|straight away|"
         r"at (?:step|iteration) [01]\b|before (?:any|a single) (?:update|step|epoch)|from (?:step|iteration) [01]\b)"),
    _cue("said_half_precision",
         r"\b(?:fp16|float16|half[- ]precision|mixed[- ]precision|use_fp16|amp|bf16|bfloat16|autocast|gradscaler|"
         r"precision[:=]? ?16)\b", statement=False),
    _cue("said_seed_variance",
         r"\b(?:seeds?|runs?|restarts?|re-?runs?)\b",
         r"\b(?:(?:more than |over |by )?\d+(?:\.\d+)? ?(?:percentage )?points|\d+ ?pp|half of (?:my|the) runs|"
         r"never get off|some runs|wildly|a lot|significantly|large(?:ly)?|hugely|unstable|from \d+(?:\.\d+)? ?%? "
         r"to \d+)",
         r"\b(?:seed|same (?:data|config\w*|hyper\w*|code|split)|identical)\b",
         unless=r"\b(?:slight(?:ly)?|at most|tiny|minor|small|negligible|within \d)"),
    _cue("said_other_population",
         r"\b(?:different|another|other|new|independent|second|external|fresh|unseen|foreign)\b[^.;]{0,20}\b"
         r"(?:labs?|sites?|hospitals?|stud(?:y|ies)|domains?|compan\w+|data ?sets?|collections?|populations?|"
         r"countr\w+|regions?|cameras?|devices?|seasons?|batch\w*|sources?|cohorts?|scanners?|vendors?|"
         r"markets?|users?|customers?|topics?|vocabular\w+|accents?|sensors?|machines?|plants?|test ?sets?)\b|"
         r"\b(?:never (?:had|saw|seen|contained)|absent from the train\w*|not (?:present|seen) in (?:the )?train\w*)",
         # a new machine to install on, not new data: "on the new machine (Python 3.11) pip just says ERROR: ..."
         unless=r"\b(?:pip|conda|ImportError|ModuleNotFoundError|DLL|wheels?|requirements\.txt|requirements file|"
                r"dependenc(?:y|ies) (?:conflict|error|hell)|python \d|virtualenv|venv|segfault\w*)\b|\binstall\w* "
                r"(?:of |the )?(?:package|library|libraries|tensorflow|torch|pytorch|cuda|python)\b"),
    # adversarial validation: a classifier tells the training rows from the test (or production) rows
    _cue("said_train_test_separable",
         r"\badversarial (?:validation|auc|classifier)|\b(?:classifier|model|lightgbm|xgboost|catboost)\b[^.;]{0,30}"
         r"\bto (?:tell|distinguish|separate|discriminate|predict)\b[^.;]{0,30}\b(?:train\w*|test\w*|production|live|"
         r"is_test)\b|\btrain-?(?:vs-?|versus-?)test classifier|\bdomain classifier|\bcan (?:easily )?tell (?:the )?"
         r"(?:train\w*|test\w*) (?:rows |data |set )?(?:and|from) (?:the )?(?:train\w*|test\w*)|\bis_test\b",
         # it separates them: a high AUC attached to the classifier's statement, or in words
         r"\b(?:auc|roc auc|auroc)\b\W{0,12}(?:of\s+|is\s+|=\s*|around\s+|about\s+)?(?:0?\.(?:[89]\d*)|1\.0+)\b|"
         r"(?<![\d.])(?:0?\.(?:[89]\d*)|1\.0+)\s*(?:auc|roc auc|auroc)\b|"
         r"\bseparat\w+ (?:them |the (?:two )?sets )?(?:almost |nearly )?(?:perfectly|easily|cleanly|well)|"
         r"\b(?:easily|almost perfectly|nearly perfectly)\b|\btell\w* (?:them )?apart\b",
         unless=r"\b(?:I read|read that|reading about|tutorial|article|blog post|should I|how (?:does|do|to|can)|"
                r"what is|would it)\b"),
    # the software failed, not the model (an install, import, memory or deadlock failure): outside the categories
    _cue("said_environment_failure",
         r"\b(?:ImportError|ModuleNotFoundError|DLL load failed|No module named|Could not find a version|"
         r"No matching distribution|undefined symbol|Illegal instruction|segmentation fault|segfault\w*|core dumped|"
         r"deadlock\w*|CUDA out of memory|device-side assert\w*|killed by signal|cannot open shared object|"
         r"failed to build|(?:cannot|can'?t) import)\b|"
         r"\b(?:training|process|run|job|script|loader|dataloader)\w* (?:just )?(?:hangs?|hung|freezes|froze)\b",
         statement=False,
         unless=r"\b(?:nan|inf|explod\w*|diverg\w*)\b"),  # "the loss becomes nan and then the process hangs"
    _cue("said_world_changed",
         r"\b(?:season\w*|redesign\w*|new (?:ui|layout|product|policy|market|pricing|campaign|app version)|"
         r"traffic (?:mix|pattern\w*|sources?)|user behaviou?r|covid|pandemic|(?:interest )?rates? (?:rose|rise)|"
         r"recalibrat\w+|ambient|over time|since (?:launch|deployment|the (?:\w+ )?(?:launch|release))|trend\w*|"
         r"(?:product|feature) launch\w*|market (?:cooled|crashed|turned|shifted|changed)|(?:after|since) (?:the |a |our )?"
         r"(?:\w+ ){0,3}(?:launch(?:ed)?|release[sd]?|rolled out|went live|introduc\w+)|"
         r"(?:trained|fine-tuned) on [^.;]{0,60}(?:applied|tested|evaluated|deployed|zero-shot) (?:on|to)|"
         r"zero-shot on|inflation|holiday|marketing|mix (?:changed|shifted))\b"),
    _cue("said_upstream_change",
         r"\b(?:upstream|pipeline|schema|etl|firmware|units?|timezone|time zone|utc|local time|encoding|"
         r"format|column order|logging|sdk|client version|api version|collector)\b",
         r"\b(?:chang\w+|convert\w+|differ\w*|off by|mismatch\w*|switch\w*|broke\w*|renamed|swapped|now (?:sends|"
         r"reports|logs|writes)|altered|update\w*|from \w+ to \w+)\b"),
    _cue("said_missing_values",
         r"\b(?:missing|nulls?|nan|empty|gaps?|blank|unpopulated|not populated|forward-?fill\w*|zero-?fill\w*)\b",
         r"\b(?:share|rows|values|field|feature|column|%|percent|readings?|entries|records|cells?)\b"),
    # gaps in what the model is fed, in a sentence that is not about the loss or the outputs ("the CSV has empty cells
    # where a reading was missed"; not "the loss prints nan after 2000 rows")
    _cue("said_missing_inputs",
         r"\b(?:missing|nulls?|empty|blank|gaps?|unpopulated|nan values?|nans?)\b",
         r"\b(?:cells?|values|readings?|entries|rows|columns?|fields?|csv|features?|inputs?)\b|\b(?:nulls?|nans?) in\b",
         unless=r"\b(?:loss|gradients?|weights?|outputs?|predictions?|logits)\b|\b(?:no|zero|none of the) (?:missing|"
                r"nulls?|nans?|empty|gaps|blank)\b|\bnot? (?:missing|empty)\b|\b(?:dropped|removed|excluded|deleted|"
                r"cleaned)\s+(?:every|all|any|the|those)?\s*(?:rows?|records?|samples?|entries)\b|"
                r"\b(?:imputed|filled(?: in)?)\b"),
    _cue("said_row_explosion",
         r"\b(?:(?:join|merge)\w*\b[^.;]{0,40}\b(?:twice|double|\d+ ?(?:x|times)) (?:the )?(?:size|rows|as many)|"
         r"many-to-many|rows? (?:multiplied|exploded|duplicated)|\d+x the expected rows|three times|"
         r"twice as many rows|not unique)\b"),
    _cue("said_dupes_within",
         r"\b(?:duplicat\w+|byte-identical|identical (?:copies|files|images|rows)|same picture|copies)\b",
         unless=_SAME_OUTCOME),
    _cue("said_bad_values",
         r"(?:(?<![\d.])-9{3,}(?:\.0+)?\b|\bplaceholder|\b(?:absurd|impossible|sentinel|99999\d*|outliers?|meter reset|negative (?:age|price|count)|"
         r"out of range|corrupt\w*|garbage|truncated|malformed)\b)"),
    _cue("said_conflicting_labels",
         r"\b(?:same|identical|byte-identical|duplicate)\b[^.;]{0,60}\b(?:both labels|two labels|different "
         r"labels|both (?:classes|folders|categories)|under both|contradict\w*|opposite labels?)"),
    _cue("said_wrong_labels",
         r"\b(?:mislabel\w*|wrong(?:ly)? (?:label\w*|class\w*)|label (?:errors?|noise|mistakes?)|noisy labels?|"
         r"labels? (?:\w+ ){0,2}(?:is|are|were) wrong|annotators? (?:disagree\w*|let)|inter-?annotator|"
         r"confident learning|cleanlab|filed under|incorrect(?:ly)? (?:label\w*|annotat\w*)|reviewers? let|"
         r"(?:annotated|labell?ed|tagged) (?:wrongly|incorrectly|wrong)|text-?mined|label\w* [^.;]{0,20}disagree\w* "
         r"with|annotation (?:mistakes?|errors?)|(?:errors?|mistakes?) in the (?:gold|ground[ -]truth|annotations?|"
         r"reference labels?)|(?:gold|ground[ -]truth) (?:labels? |annotations? |standard |file )?(?:is|are|was|were) "
         r"(?:the problem|wrong|incorrect|inconsistent))"),
    _cue("said_heuristic_labels",
         r"\b(?:labels?|labell?ed|labell?ing|annotations?|ground truth|targets?)\b",
         r"\b(?:regex\w*|regular expressions?|heuristic\w*|keyword (?:rules?|match\w*|lists?)|rule-?based|"
         r"labell?ing functions?|weak(?:ly)?[ -]supervis\w+|distant(?:ly)?[ -]supervis\w+|auto-?labell?\w*|"
         r"automatically (?:labell?ed|generated|assigned|derived)|pseudo-?labels?|silver[ -](?:labels?|standard)|"
         r"string match\w*)"),
    _cue("said_annotator_disagreement",
         r"\b(?:annotators?|labell?ers?|raters?|coders?|graders?|crowd ?workers?|turkers?|reviewers?)\b",
         r"\b(?:disagree\w*|inconsisten\w*|by some\b[^.;]{0,40}\bby others|differently|low agreement|"
         r"agreement (?:is |was )?(?:low|poor)|not consistent|conflicting)",
         unless=r"\b(?:do(?:es)? ?n[o']t|did ?n[o']t|never|rarely|seldom|no longer) (?:\w+ )?(?:disagree|conflict)|"
                r"\bhigh agreement|\bagree\w* (?:well|strongly|closely|almost always)"),
    _cue("said_rare_class",
         r"\b(?:far|much|many times|\d+ ?(?:x|times)) fewer\b|\b(?:rare|minority|under-?represented) "
         r"(?:class|category|label|event|outcome|cases?)\b|\bonly (?:about |around |roughly )?\d+(?:\.\d+)? ?% "
         r"(?:are |of (?:the )?)?(?:positives?|fraud\w*|defects?|events?|rows|samples|cases)",
         r"\b(?:accuracy|recall|f1|precision|false negatives?|missed|detect\w*|found|flagged|caught)\b", window=2),
    _cue("said_eval_mode_missing",
         r"(?:\b(?:without|never|not|no|forgot\w*|missing)\b[^;]{0,30}\beval\(\)|\beval\(\)[^;]{0,30}\b(?:never|not|"
         r"missing)\b|\bbatch ?norm\w*\b[^.;]{0,60}\bstatistics of the (?:current )?(?:validation|test|eval\w*) batch|"
         r"\btrain(?:ing)? mode (?:during|for|in) (?:the )?(?:validation|evaluation|test\w*))",
         statement=False, unless=r"\?\s*$"),
    _cue("said_train_serve_skew",
         r"\b(?:serving|inference|deployed|deployment|online|production|the service|at serve)\b",
         r"\b(?:preprocess\w*|transforms?|normali[sz]\w*|encod\w+|fill\w*|imput\w+|resiz\w+|tokeni[sz]\w+|"
         r"channel order|rgb|bgr|lookup table|written twice|feature (?:code|pipeline|logic))\b",
         r"\b(?:differ\w*|instead|mismatch\w*|skips?|skipped|whereas|another|other|twice|not the same|"
         r"without)\b", window=2),
    _cue("said_metric_counts_trivial",
         r"\b(?:metric|accuracy|score|f1|precision|recall)\b[^.;]{0,40}\b(?:counts?|includ\w+|averag\w+ over)\b"
         r"[^.;]{0,30}\b(?:padding|pad tokens?|padded positions|background pixels|trivial\w*|ignored (?:tokens|labels))"),
    _cue("said_cannot_fit_train",
         r"\b(?:can ?not|could ?n[o']t|unable to|fails? to|did ?n[o']t|never) (?:even )?(?:over)?fit\b"),
    _cue("said_train_perfect_test_poor",
         r"(?:\b(?:100|99\.\d+) ?%|\bperfect\b|\b0?\.99\d*\b|\b1\.0\b)[^.;]{0,30}\btrain\w*|\btrain\w*[^.;]{0,30}"
         r"\b(?:100 ?%|perfect|0?\.99\d*|1\.0|climb\w*|pull\w* away)",
         r"\b(?:fails?|poor|low|bad|does ?n[o']t generali[sz]e|(?:validation|test)\b[^.;]{0,30}(?:not follow|"
         r"stays?|flat|lower|drop\w*|worse)|not follow|only (?:reach|get|scor|manag|hit)\w*)"),
)


def sentences(text: str) -> list[str]:
    """Sentences and lines of ``text``.

    >>> sentences("Loss is NaN. Val set\\n```\\nis train. Done?")
    ['Loss is NaN.', 'Val set', 'is train.', 'Done?']
    """
    return [s.strip() for s in _SPLIT_SENT.split(text) if s.strip().strip("`")]


def _holds(cue: Cue, sentence: str) -> bool:
    first = cue.parts[0].search(sentence)
    rest = [p.search(sentence) for p in cue.parts[1:]]
    if first is None or any(m is None for m in rest):
        return False
    if cue.unless is not None and cue.unless.search(sentence):
        return False
    if cue.leak and describes_no_leak(sentence):
        return False
    if not cue.statement:
        return True
    # a hedge counts where it governs the idea: before or inside it, or a question; one after the idea is
    # stated ("..., and it barely moves whether I train on 10 % or 100 %") leaves the statement standing
    stated_to = max([first.end(), *(m.end() for m in rest if m is not None)])
    if _HEDGE.search(sentence[:stated_to]) or _QUESTION.search(sentence) \
            or _NEG_BEFORE.search(sentence[max(0, first.start() - 60) : first.start()]):
        return False
    return _NONE_AFTER.search(sentence[first.end() :]) is None


def prose_facts(text: str) -> dict[str, str]:
    """Cue name -> the first sentence that states it.

    >>> prose_facts("The test loader wraps the training dataset, so accuracy is on seen images.")
    {'said_eval_on_train': 'The test loader wraps the training dataset, so accuracy is on seen images.'}
    >>> prose_facts("We checked for duplicate images across the splits and found none.")
    {}
    """
    return cue_facts(text, CUES)


def cue_facts(text: str, cues: tuple[Cue, ...]) -> dict[str, str]:
    """Cue name -> the first sentence (or pair of sentences, for a cue with ``window`` 2) where ``cues`` hold."""
    out: dict[str, str] = {}
    said = sentences(text)
    sents = sentences(without_batch_shuffle(text))  # read with batch shuffling as batch order, quoted as written
    if len(sents) != len(said):
        said = sents
    pairs = [(f"{a} {b}", f"{c} {d}") for (a, b), (c, d) in zip(pairwise(sents), pairwise(said), strict=True)]
    for cue in cues:
        for s, quote in [*zip(sents, said, strict=True), *(pairs if cue.window > 1 else [])]:
            if _holds(cue, s):
                out[cue.name] = quote[:200]
                break
    return out
