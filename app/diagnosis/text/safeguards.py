"""A sentence that names a leakage mechanism without stating a leak in this experiment (issue 13, session 16).

The leakage checks read a mechanism from a sentence: evaluation and training share patients, duplicates cross the
split, a feature holds future information. Write-ups also name those mechanisms when they describe the safeguard
that keeps them out, explain the concept, or report a leak that is already fixed. An independent review (session 15,
``tests/fixtures/diagnosis_review_s15.json``) wrote healthy write-ups of each kind, and the older checks named leakage
on them:

- a safeguard: "each patient appears in exactly one of the train, validation and test splits", "we grouped by
  patient to avoid that", "we oversample by duplicating training samples after the train/test split", "test images
  remain original";
- the concept: "leakage happens when the same patients appear in train and test";
- a leak already removed: "the leak where test images appeared in the training set was fixed last week", "so we
  removed those columns before training", "we found a leak (the chargeback_date column ...) and removed it before
  these runs" (a fresh user test, session 16: a feature named in such a sentence is no longer an input);
- the forecast target, not an input: "a 30-day lookback window to forecast future values of demand";
- sameness across runs, not across the split: "test rows stay identical across runs";
- a choice made by design: "the target is defined from the sensor columns by design" (from the second review,
  ``tests/fixtures/diagnosis_review_s16.json``).

Such a sentence is not evidence of a current leak (``describes_no_leak``). Across the 1,450 write-ups of batches
A-U, no sentence that a leakage check read matches this pattern, so no answer there changes.
"""

from __future__ import annotations

import re

__all__ = ["NO_CURRENT_LEAK", "REMOVED", "describes_no_leak", "without_batch_shuffle"]

# ``model.fit(X_tr, y_tr, shuffle=True)``, ``DataLoader(train_ds, shuffle=True)``, ``ds.shuffle(1000)``: the order of
# the batches inside the training set, not a random split of time-ordered rows (session 18: a chronological split was
# read as a random one). The word is replaced by one of the same length, so offsets and sentences still match.
_BATCH_CALL = re.compile(r"\b(?:fit|fit_generator|DataLoader|flow|flow_from_\w+|batch\w*)\(", re.IGNORECASE)
_SHUFFLE_ARG = re.compile(r"\bshuffle(?=\s*=\s*True\b)", re.IGNORECASE)
_DATASET_SHUFFLE = re.compile(r"\.shuffle(?=\(\s*(?:\d|buffer_size\b))", re.IGNORECASE)
# told in prose: "I also pass shuffle=True to fit so the batches are mixed"
_TOLD_SHUFFLE = re.compile(r"\bshuffle(?=\s*=\s*True\s+(?:to|in|into|for)\s+(?:the\s+)?(?:model\.)?(?:fit|fit_generator|"
                           r"DataLoader|loader|data ?loader|training loop|trainer)\b)", re.IGNORECASE)


def without_batch_shuffle(text: str) -> str:
    """``text`` with the ``shuffle=True`` arguments of training and loader calls (brackets balanced) and a tf.data
    ``.shuffle(buffer)`` written as batch order, same length.

    >>> without_batch_shuffle("model.fit(X[:-24], y[:-24], epochs=1, shuffle=True)")
    'model.fit(X[:-24], y[:-24], epochs=1, b_order=True)'
    >>> without_batch_shuffle("DataLoader(ds, collate_fn=partial(pad, value=f(0)), shuffle=True)")
    'DataLoader(ds, collate_fn=partial(pad, value=f(0)), b_order=True)'
    >>> without_batch_shuffle("KFold(n_splits=5, shuffle=True); np.random.shuffle(rows); ds.shuffle(1000)")
    'KFold(n_splits=5, shuffle=True); np.random.shuffle(rows); ds.b_order(1000)'
    """
    out = list(text)
    for m in _BATCH_CALL.finditer(text):
        depth, i = 1, m.end()
        while i < len(text) and depth and i - m.end() < 2000:
            depth += {"(": 1, ")": -1}.get(text[i], 0)
            i += 1
        for arg in _SHUFFLE_ARG.finditer(text, m.end(), i):
            out[arg.start() : arg.end()] = "b_order"
    return _TOLD_SHUFFLE.sub("b_order", _DATASET_SHUFFLE.sub(".b_order", "".join(out)))

_ENTITY = (r"(?:patient|subject|user|speaker|participant|customer|person|donor|animal|household|device|driver|"
           r"individual|group|family|families|site|hospital)")
NO_CURRENT_LEAK = re.compile(
    # a safeguard: one side only, a grouped split, a step after the split, an untouched evaluation side
    r"\bexactly one\b|\bonly one of\b|\bnever (?:in|appears? in) both\b|"
    r"\b(?:to|so as to|in order to) (?:avoid|prevent|rule out|stop)\b|\bavoid(?:ed|ing|s)?\b|\bprevent(?:ed|ing|s)?\b|"
    r"\b(?:group(?:ed|ing)?|split(?:ting)?|partition(?:ed|ing)?|stratif\w+)\s+(?:\w+\s+)?by\s+(?:the\s+)?"
    + _ENTITY + r"s?\b|"
    r"\b(?:oversampl|duplicat|augment)\w*\b.*\bafter (?:the )?(?:[\w/-]+ )?split\w*\b|"
    r"\b(?:test|validation|val|held-?out|evaluation)\s+(?:\w+\s+){0,2}(?:remain|remains|stay|stays|are kept|is kept|"
    r"kept)\s+(?:original|untouched|unchanged|unseen|separate)\b|"
    # the concept explained, or a choice made by design ("the target is defined from the sensor columns by design")
    r"\b(?:happens|occurs|arises) (?:when|if)\b|\bby design\b|"
    # a leak already removed
    r"\b(?:was|were|has been|have been|got|is now|are now) (?:\w+ )?(?:fixed|resolved|corrected|eliminated)\b|"
    r"\bso we (?:removed|dropped|excluded)\b|\b(?:removed|dropped|excluded) (?:those|these|them|it)\b|"
    # the future as the forecast target, sameness across runs
    r"\b(?:forecast|predict)\w*\s+(?:the\s+)?(?:\w+\s+)?future (?:values?|demand|prices?|sales|load|steps?)\b|"
    r"\bacross (?:runs|seeds|experiments|restarts|trials)\b",
    re.IGNORECASE,
)
"""What keeps a sentence that names a leakage mechanism from stating a current leak (module docstring)."""


REMOVED = re.compile(r"\b(?:removed|dropped|excluded)\b", re.IGNORECASE)
"""A sentence that describes no current leak and says a step removed something: the features it names are gone."""


def describes_no_leak(sentence: str) -> bool:
    """True for a sentence that names a leakage mechanism as a safeguard, a concept, a fixed leak, the forecast
    target or a sameness across runs (``NO_CURRENT_LEAK``).

    >>> [describes_no_leak(s) for s in (
    ...     "Each patient appears in exactly one of the train, validation and test splits.",
    ...     "Leakage happens when the same patients appear in train and test; we grouped by patient to avoid that.",
    ...     "The leak where test images appeared in the training set was fixed last week.",
    ...     "The model uses a 30-day lookback window to forecast future values of demand.")]
    [True, True, True, True]
    >>> [describes_no_leak(s) for s in (
    ...     "Then I noticed test files are also in the training folder.",
    ...     "The same patients appear in both the train and the test split.",
    ...     "We scaled the features on the whole dataset before the split.")]
    [False, False, False]
    """
    return bool(NO_CURRENT_LEAK.search(sentence))
