"""Okapi BM25 over tokenised passages (pure numpy), with a small deterministic tokenizer."""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from functools import lru_cache

import numpy as np

__all__ = ["BM25", "STOPWORDS", "stem", "tokenize"]

_STOP = (
    "a an and are as at be been but by for from has have how i if in into is it its of on or our that the their then "
    "there these this to was we were what when which while with you your not no can do does"
)
STOPWORDS = frozenset(_STOP.split())  # noqa: SIM905
_SUFFIXES = (
    "ational",
    "ization",
    "ations",
    "ation",
    "ings",
    "ing",
    "ness",
    "ment",
    "ages",
    "age",
    "ies",
    "ed",
    "es",
    "s",
    "e",
)
_TOKEN = re.compile(r"[a-z0-9]+")


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """Strip one common English suffix (a light, deterministic stemmer).

    >>> [stem(w) for w in ("leakage", "leaking", "leaks", "overfitting", "overfit", "imbalanced", "imbalance")]
    ['leak', 'leak', 'leak', 'overfit', 'overfit', 'imbalanc', 'imbalanc']
    """
    for suf in _SUFFIXES:
        if suf == "s" and word.endswith(("ss", "us", "is")):
            continue
        if word.endswith(suf) and len(word) - len(suf) >= 3:
            word = word[: -len(suf)]
            if suf in ("ing", "ings", "ed") and len(word) > 3 and word[-1] == word[-2] and word[-1] not in "aeiouls":
                word = word[:-1]
            break
    return word


def tokenize(text: str) -> list[str]:
    """Lower-case, split on non-alphanumerics (so snake_case splits), drop stop words, stem.

    >>> tokenize("Validation AUC jumped after adding `renewal_status_after_30d`")
    ['valid', 'auc', 'jump', 'after', 'add', 'renewal', 'status', 'after', '30d']
    """
    return [stem(t) for t in _TOKEN.findall(text.lower()) if t not in STOPWORDS]


class BM25:
    """Okapi BM25 (Robertson and Zaragoza, 2009) with the non-negative idf ln(1 + (N - n + 0.5) / (n + 0.5)).

    Parameters
    ----------
    k1 : float
        Term-frequency saturation (>= 0).
    b : float
        Length normalisation in [0, 1].

    Examples
    --------
    >>> m = BM25().fit([["leak", "feature"], ["overfit", "gap"], ["leak", "leak", "split"]])
    >>> [round(float(s), 3) for s in m.scores(["leak"])]
    [0.502, 0.0, 0.615]
    """

    def __init__(self, k1: float = 1.5, b: float = 0.75) -> None:
        if k1 < 0:
            raise ValueError(f"k1 must be >= 0, got {k1}")
        if not 0.0 <= b <= 1.0:
            raise ValueError(f"b must be in [0, 1], got {b}")
        self.k1 = k1
        self.b = b

    def fit(self, docs: Sequence[Sequence[str]]) -> BM25:
        """Learn document frequencies and lengths from tokenised documents."""
        self.n_docs_ = len(docs)
        self.tfs_ = [Counter(d) for d in docs]
        self.lengths_ = np.array([len(d) for d in docs], dtype=float)
        self.avgdl_ = float(self.lengths_.mean()) if len(docs) and self.lengths_.sum() > 0 else 1.0
        df: Counter[str] = Counter()
        for tf in self.tfs_:
            df.update(tf.keys())
        self.idf_ = {t: math.log(1.0 + (self.n_docs_ - n + 0.5) / (n + 0.5)) for t, n in df.items()}
        self._tf_cache: dict[str, np.ndarray] = {}  # term -> its count in every document, built on first use
        return self

    def scores(self, query: Sequence[str]) -> np.ndarray:
        """BM25 score of every fitted document for the query tokens (repeated query terms count once)."""
        if not hasattr(self, "idf_"):
            raise RuntimeError("BM25.scores called before fit")
        out = np.zeros(self.n_docs_, dtype=float)
        norm = self.k1 * (1.0 - self.b + self.b * self.lengths_ / self.avgdl_)
        for term in dict.fromkeys(query):
            idf = self.idf_.get(term)
            if idf is None:
                continue
            tf = self._tf_cache.get(term)
            if tf is None:
                tf = self._tf_cache[term] = np.array([d.get(term, 0) for d in self.tfs_], dtype=float)
            out += idf * tf * (self.k1 + 1.0) / (tf + norm)
        return out
