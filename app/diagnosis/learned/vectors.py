"""The reader's document (text plus parsed-evidence tokens) and its exported linear model, scored without sklearn.

The model is fitted offline (``bench/diagnosis/train_reader.py``, scikit-learn ``TfidfVectorizer`` with sublinear tf,
then multinomial ``LogisticRegression``) and exported to ``reader_model.json``: analyser, vocabulary, idf,
coefficients and intercepts. Two analysers are exported: ``word`` (word 1-2 grams, scikit-learn's default token
pattern) and, since session 10, ``char_wb`` (character n-grams inside word boundaries, each word padded with a space:
on the batches the rules never saw it reads 248 of 395 write-ups right against 231 for word n-grams; a likely
reason, not measured, is that it matches inflections and identifiers such as ``val_loss`` by their parts). Since
session 14, with 1,350 write-ups to learn from (A-S), word n-grams are exported again: 692 of 950 on H-S against
678 for ``char_wb`` (the reader alone, each batch scored by a reader fitted without it). Scoring
here repeats the vectoriser exactly (same n-grams, lowercase, ``1 + log tf``, idf, l2 norm) so ``mlfi diagnose``
never imports scikit-learn.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from functools import lru_cache
from itertools import pairwise
from pathlib import Path
from typing import Any

__all__ = ["MODEL_PATH", "ReaderModel", "char_wb_tokens", "document", "evidence_tokens", "load_model", "tokens"]

MODEL_PATH = Path(__file__).with_name("reader_model.json")
_TOKEN = re.compile(r"(?u)\b\w\w+\b")  # scikit-learn's default token_pattern


def evidence_tokens(facts: dict[str, Any]) -> list[str]:
    """One token per parsed fact that holds (true, or a number was read): ``fx_<fact name>``, sorted.

    >>> evidence_tokens({"said_nan": True, "gap_train_heldout": 0.2, "said_drop": False, "x": None})
    ['fx_gap_train_heldout', 'fx_said_nan']
    """
    out = []
    for k, v in facts.items():
        if v is True or (isinstance(v, (int, float)) and not isinstance(v, bool)):
            out.append("fx_" + re.sub(r"\W", "_", str(k)).lower())
    return sorted(set(out))


def document(text: str, facts: dict[str, Any]) -> str:
    """What the reader reads: the write-up's text, then its evidence tokens."""
    return f"{text}\n{' '.join(evidence_tokens(facts))}"


def tokens(doc: str) -> list[str]:
    """Unigrams and bigrams as scikit-learn's word analyser makes them (lowercase, default token pattern).

    >>> tokens("Loss is NaN")
    ['loss', 'is', 'nan', 'loss is', 'is nan']
    """
    words = _TOKEN.findall(doc.lower())
    return words + [f"{a} {b}" for a, b in pairwise(words)]


def char_wb_tokens(doc: str, lo: int = 3, hi: int = 5) -> list[str]:
    """Character n-grams inside word boundaries, as scikit-learn's ``char_wb`` analyser makes them (lowercase).

    >>> char_wb_tokens("NaN x", 3, 4)
    [' na', 'nan', 'an ', ' nan', 'nan ', ' x ']
    """
    out: list[str] = []
    for w in doc.lower().split():
        w = f" {w} "
        for n in range(lo, hi + 1):
            offset = 0
            out.append(w[:n])
            while offset + n < len(w):
                offset += 1
                out.append(w[offset:offset + n])
            if offset == 0:  # a short word counts once
                break
    return out


@dataclass(frozen=True)
class ReaderModel:
    """An exported multinomial logistic model over tf-idf vectors, with its abstention threshold."""

    classes: tuple[str, ...]
    vocabulary: dict[str, int]
    idf: tuple[float, ...]
    coef: tuple[dict[int, float], ...]
    intercept: tuple[float, ...]
    threshold: float
    meta: dict[str, Any]
    # overruling a category the rules decided on words (see decide.py): the reader's top probability must reach
    # ``overrule_at`` and exceed its probability of the rules' category by ``overrule_margin``; None: never
    overrule_at: float | None = None
    overrule_margin: float = 0.0
    # withdrawing a category the rules decided on words: the reader's top class is ``unknown`` (no failure) with at
    # least ``withdraw_at`` probability, ``overrule_margin`` above its probability of the rules' category; None: never
    withdraw_at: float | None = None
    # since session 14: overruling or withdrawing a category a number or a concrete rule supports (never leakage)
    # needs ``overrule_measured_at``; naming a category the rules hold counter-evidence against needs ``counter_at``
    # (None: never, the behaviour before)
    overrule_measured_at: float | None = None
    counter_at: float | None = None
    # since session 15: ``overrule_measured_at`` applies only to a write-up of at least ``measured_words`` words (a
    # short one's numbers decide what they support); a sentence stating a leakage mechanism
    # (``decide.grounding_sentence``) is concrete leakage evidence where the reader's leakage probability reaches
    # ``grounded_leakage_at`` (None: never)
    measured_words: int = 0
    grounded_leakage_at: float | None = None
    analyzer: str = "word"  # or "char_wb"
    ngram_range: tuple[int, int] = (1, 2)

    def tokens(self, doc: str) -> list[str]:
        """The n-grams the exported vectoriser counts in ``doc``."""
        if self.analyzer == "char_wb":
            return char_wb_tokens(doc, *self.ngram_range)
        return tokens(doc)

    def vector(self, doc: str) -> dict[int, float]:
        """The l2-normalised sublinear tf-idf vector of ``doc`` (sparse: index -> weight)."""
        counts: dict[int, int] = {}
        for t in self.tokens(doc):
            i = self.vocabulary.get(t)
            if i is not None:
                counts[i] = counts.get(i, 0) + 1
        vec = {i: (1.0 + math.log(c)) * self.idf[i] for i, c in counts.items()}
        norm = math.sqrt(sum(w * w for w in vec.values())) or 1.0
        return {i: w / norm for i, w in vec.items()}

    def probabilities(self, doc: str) -> dict[str, float]:
        """Class probabilities (softmax of the linear scores) for ``doc``."""
        vec = self.vector(doc)
        scores = [b + sum(w * c.get(i, 0.0) for i, w in vec.items()) for c, b in zip(self.coef, self.intercept)]
        top = max(scores)
        exp = [math.exp(s - top) for s in scores]
        total = sum(exp)
        return {k: e / total for k, e in zip(self.classes, exp)}


@lru_cache(maxsize=4)
def load_model(path: Path = MODEL_PATH) -> ReaderModel | None:
    """The exported reader model, or None when the file is absent (the rules then decide alone)."""
    if not path.is_file():
        return None
    raw = json.loads(path.read_text(encoding="utf-8"))
    vocab = {t: i for i, t in enumerate(raw["terms"])}
    coef = tuple({int(i): float(w) for i, w in row.items()} if isinstance(row, dict)  # sparse (v1) or dense rows
                 else {i: float(w) for i, w in enumerate(row) if w} for row in raw["coef"])
    return ReaderModel(
        classes=tuple(raw["classes"]), vocabulary=vocab, idf=tuple(raw["idf"]), coef=coef,
        intercept=tuple(raw["intercept"]), threshold=float(raw["threshold"]), meta=raw.get("meta", {}),
        overrule_at=None if raw.get("overrule_at") is None else float(raw["overrule_at"]),
        overrule_margin=float(raw.get("overrule_margin", 0.0)),
        withdraw_at=None if raw.get("withdraw_at") is None else float(raw["withdraw_at"]),
        overrule_measured_at=None if raw.get("overrule_measured_at") is None else float(raw["overrule_measured_at"]),
        counter_at=None if raw.get("counter_at") is None else float(raw["counter_at"]),
        measured_words=int(raw.get("measured_words") or 0),
        grounded_leakage_at=None if raw.get("grounded_leakage_at") is None else float(raw["grounded_leakage_at"]),
        analyzer=raw.get("analyzer", "word"), ngram_range=tuple(raw.get("ngram_range", (1, 2))),
    )
