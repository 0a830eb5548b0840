"""Code snippets as people paste them: the evaluation and preprocessing mistakes visible in the code itself.

Each fact is a position test on the snippet, not a reading of prose:

- ``code_eval_on_train``: a validation/test loader or dataset is built from a training variable or split
  (``test_loader = DataLoader(train_ds)``, ``val_loader = dataset(train=True)``);
- ``code_fit_before_split``: a scaler, imputer, encoder, selector or resampler is fit on the data before the
  first split or cross-validation call;
- ``code_fit_on_eval``: a transformer or resampler is fit on the evaluation split itself
  (``scaler.fit_transform(test)``, ``imputer.fit(X_val)``): its statistics come from the rows being scored;
- ``code_select_before_cv``: feature selection (``SelectKBest``, ``RFE``, importances, a t-test) before it;
- ``code_shuffled_time_split``: ``KFold(shuffle=True)``/``train_test_split`` on rows that are time-ordered;
- ``code_auc_on_labels``: ``roc_auc_score`` given predicted labels or its arguments swapped;
- ``code_unshuffled_validation_split``: Keras ``validation_split`` on rows said to be sorted;
- ``code_window_includes_target``: a ``.rolling(...)`` window with no ``.shift(...)`` on a column the target is
  built from, so each row's feature contains the value being predicted;
- ``code_centered_window``: a ``.rolling(..., center=True)`` feature (or a rolling one shifted backwards,
  ``.shift(-3)``) on time-ordered rows: each row's window holds the values after it, so the feature sees the future
  it is used to predict;
- ``code_accuracy_on_regression``: one ``compile(...)`` call with a regression loss (``loss='mse'``) and
  ``metrics=['accuracy']``, on no classification task (a softmax, one-hot targets):
  accuracy counts exact matches, which a continuous target almost never has (or always has, when the values are
  rounded), so the number says nothing about the fit.
"""

from __future__ import annotations

import re

__all__ = ["code_facts"]

_I = re.IGNORECASE
_EVAL_ON_TRAIN = re.compile(
    r"\b(?:val\w{0,12}|test\w{0,12}|eval\w{0,12}|dev\w{0,12})[ \t]{0,4}[=:][ \t]{0,4}[\"']?[\w.]{0,40}\([ \t]{0,4}"
    r"(?:[\w.]{0,40}=[ \t]{0,4})?(?:train\w{0,20}\b|[\w.]{0,30}train[ \t]{0,2}=[ \t]{0,2}True)",
    _I,
)
_SPLIT = re.compile(r"\b(?:train_test_split|cross_val\w{0,12}|KFold|StratifiedKFold|GroupKFold|LeaveOneOut|"
                    r"GridSearchCV|RandomizedSearchCV|TimeSeriesSplit|\.split\(|\w{0,20}CV\(|"
                    r"\w{0,20}[cC]ross[vV]al\w{0,12}\()|\btrain\w{0,8}[ \t]{0,2},[ \t]{0,2}"
                    r"(?:test|val)\w{0,8}[ \t]{0,2}=[ \t]{0,2}[\w.]{1,40}\[:", _I)
_TRANSFORM = re.compile(r"\b(?:fit_transform|fit_resample)\([ \t]{0,4}(?!\w{0,8}(?:train|_tr\b))[A-Za-z_][\w.]{0,40}|"
                        r"\b(?:StandardScaler|MinMaxScaler|RobustScaler|SimpleImputer|PCA|TfidfVectorizer|"
                        r"OneHotEncoder|SMOTE)\([^)\n]{0,80}\)\.fit\w{0,10}\([ \t]{0,4}(?:X|df|data)\b", _I)
# a preprocessing fit whose first argument is the evaluation split ("the model" fits use .fit(X, y) on training data)
_FIT_ON_EVAL = re.compile(r"\b(?:scaler|imputer|encoder|vectori[sz]er|normali[sz]er|pca|transformer|sc|ss|mms|std|"
                          r"StandardScaler\(\)|MinMaxScaler\(\)|RobustScaler\(\)|\w{0,20}_scaler)\w{0,12}\s?\.\s?"
                          r"(?:fit|fit_transform)\([ \t]{0,4}(?:[xX]_?|df_?|data_?)?(?:test|val|valid|validation|dev|"
                          r"holdout|eval)\w{0,12}\b", _I)
_SELECT = re.compile(r"\b(?:SelectKBest|SelectPercentile|RFE|RFECV|VarianceThreshold|mutual_info_\w+|"
                     r"f_classif|ttest_ind|feature_importances\w{0,4})\b[^\n]{0,80}?\b(?:X|df|data)\b|"
                     # a selector object fit on everything: "rfe.train(data)", "selector.fit(X, y)"
                     r"\b(?:rfe|rfecv|selector|sel|skb|kbest|fs)\w{0,8}\.(?:fit|train|fit_transform)\([ \t]{0,4}"
                     r"(?:X|df|data)\b", _I)
_ALL_ROWS = re.compile(r"#[^\n]{0,60}\b(?:all|whole|entire|full|complete)\b", _I)
_SHUFFLED = re.compile(r"\bKFold\([^)\n]{0,80}shuffle[ \t]{0,2}=[ \t]{0,2}True|\bShuffleSplit\(", _I)
_TIME = re.compile(r"\b(?:time[- ]?series|time[- ]ordered|daily|hourly|timestamp|date|forecast\w*|stock|trading|"
                   r"prices?|sensor readings|chronolog\w+)\b", _I)
_AUC_LABELS = re.compile(r"\broc_auc_score\([ \t]{0,4}(?:\w{0,12}pred\w{0,12}[ \t]{0,4},|[\w.\[\]'\"]{0,40},[ \t]{0,4}"
                         r"[\w.]{0,12}(?:predict\(|y_pred\b|preds?\b))", _I)
_VAL_SPLIT = re.compile(r"\bvalidation_split[ \t]{0,2}=", _I)
_SORTED = re.compile(r"\b(?:sorted|original order|ordered by|not shuffled|without shuffling|last \d+ ?%)", _I)


_ROLLING = re.compile(r"\[[ \t]{0,2}['\"](\w{1,40})['\"][ \t]{0,2}\]\.rolling\(", _I)
_TARGET_LINE = re.compile(r"\b(?:target|label|y)\w{0,10}['\"]?[ \t]{0,2}\]?[ \t]{0,2}=[^\n]{0,200}", _I)


# a window that reaches past the current row: centred, or a rolling statistic shifted backwards (.shift(-3))
_CENTERED = re.compile(r"\.rolling\([^)\n]{0,80}\bcenter[ \t]{0,2}=[ \t]{0,2}True|"
                       r"\.rolling\([^\n]{0,80}\.shift\([ \t]{0,2}-[ \t]{0,2}\d", _I)
_COMPILE = re.compile(r"\.compile\(", _I)
_REGRESSION_LOSS = re.compile(r"\bloss[ \t]{0,2}=[ \t]{0,2}(?:[\"']|[\w.]{0,40}\.)?(?:mse|mae|mape|msle|"
                              r"mean_squared_error|mean_absolute_error|mean_squared_logarithmic_error|huber\w{0,6}|"
                              r"logcosh|MeanSquaredError|MeanAbsoluteError|Huber)\b", _I)
_ACCURACY_METRIC = re.compile(r"\bmetrics[ \t]{0,2}=[ \t]{0,2}\[[^\]\n]{0,80}[\"'](?:acc|accuracy)[\"']", _I)
# a regression task named in prose
_REGRESSION = re.compile(r"\b(?:regression|regressor|linear (?:output|activation|unit)|continuous (?:target|value|"
                         r"output)|prices?|forecast\w*|predict\w* (?:the )?(?:value|amount|price|temperature|count))\b",
                         _I)
# a classifier trained with a squared loss: accuracy is meaningful there (one-hot targets, a softmax output)
_CLASSES = re.compile(r"\b(?:softmax|sigmoid|one-?hot|to_categorical|categorical|classes|class labels|classif\w*|"
                      r"mnist|cifar)\b", _I)


def _call_body(text: str, start: int) -> str:
    """The argument text of the call whose ``(`` is at ``start - 1`` (brackets balanced, at most 2,000 chars)."""
    depth, i = 1, start
    while i < len(text) and i - start < 2000 and depth:
        depth += {"(": 1, ")": -1}.get(text[i], 0)
        i += 1
    return text[start : i - 1]


def _accuracy_on_regression(text: str) -> bool:
    """One ``compile(...)`` call with a regression loss and accuracy among its metrics, on no classification task."""
    if _CLASSES.search(text):
        return False
    bodies = [_call_body(text, m.end()) for m in _COMPILE.finditer(text)]
    if bodies:
        return any(_REGRESSION_LOSS.search(b) and _ACCURACY_METRIC.search(b) for b in bodies)
    # told in prose: "a linear output unit, loss='mse', and I passed metrics=['accuracy'] to compile"
    loss = _REGRESSION_LOSS.search(text)
    metric = _ACCURACY_METRIC.search(text)
    return bool(loss and metric and abs(loss.start() - metric.start()) <= 200 and _REGRESSION.search(text))


def _first(p: re.Pattern[str], text: str) -> int | None:
    m = p.search(text)
    return m.start() if m else None


def code_facts(text: str) -> dict[str, bool]:
    """The code-level facts visible in ``text`` (see the module docstring).

    >>> code_facts("train_loader = DataLoader(train_ds)\\ntest_loader = DataLoader(train_ds, batch_size=64)")
    {'code_eval_on_train': True}
    >>> sorted(code_facts("sel = SelectKBest(f_classif, k=20).fit(X, y)\\ncross_val_score(SVC(), X, y)"))
    ['code_fit_before_split', 'code_select_before_cv']
    >>> code_facts("X_tr, X_te = train_test_split(X)\\nsc = StandardScaler().fit(X_tr)")
    {}
    >>> code_facts("train = scaler.fit_transform(train)\\ntest = scaler.fit_transform(test)")
    {'code_fit_on_eval': True}
    """
    facts: dict[str, bool] = {}
    if _EVAL_ON_TRAIN.search(text):
        facts["code_eval_on_train"] = True
    split = _first(_SPLIT, text)
    if split is not None:
        sel = _first(_SELECT, text)
        fit = _first(_TRANSFORM, text)
        if sel is not None and sel < split:
            facts["code_select_before_cv"] = True
            facts["code_fit_before_split"] = True
        if fit is not None and fit < split:
            facts["code_fit_before_split"] = True
    if _FIT_ON_EVAL.search(text):
        facts["code_fit_on_eval"] = True
    if _SHUFFLED.search(text) and _TIME.search(text):
        facts["code_shuffled_time_split"] = True
    if _AUC_LABELS.search(text):
        facts["code_auc_on_labels"] = True
    if _VAL_SPLIT.search(text) and _SORTED.search(text):
        facts["code_unshuffled_validation_split"] = True
    rolled = {m.group(1) for m in _ROLLING.finditer(text)}
    targets = " ".join(m.group(0) for m in _TARGET_LINE.finditer(text))
    if any(f"'{c}'" in targets or f'"{c}"' in targets for c in rolled):
        facts["code_window_includes_target"] = True
    if _CENTERED.search(text) and _TIME.search(text):
        facts["code_centered_window"] = True
    if _accuracy_on_regression(text):
        facts["code_accuracy_on_regression"] = True
    if _ALL_ROWS.search(text) and _first(_SELECT, text) is not None and split is not None:
        facts["code_select_before_cv"] = True
    return facts
