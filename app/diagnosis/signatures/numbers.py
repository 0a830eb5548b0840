"""Numbers stated in prose or in a record's field names: the lowest recall, an audited label error rate and an
error metric that multiplied between two figures.

Each reader looks for a metric name followed, within a few words, by a value (``0.15``, ``15 %``); the patterns
are bounded, so a scan is linear in the text.
"""

from __future__ import annotations

import re
from collections import defaultdict
from typing import Any

from app.diagnosis.text.data_checks import MODEL_AGREEMENT

__all__ = ["number_facts", "record_text"]

_I = re.IGNORECASE
_VALUE = r"(\d{1,3}(?:\.\d+)?\s?%|[01]?\.\d+|[01](?:\.0+)?\b)"
_RECALL = re.compile(r"\b(?:recall|sensitivity|detection rate|true positive rate|tpr)\b[^\d\n;]{0,30}?" + _VALUE, _I)
_TRAIN = re.compile(r"\btrain\w*\W{0,3}$", _I)
_LABEL_ERR = re.compile(r"\blabel\w* (?:error|noise|disagreement|mistake)\w*(?: rate| share)?\b[^\d\n;]{0,30}?"
                        + _VALUE, _I)
_AGREEMENT = re.compile(r"\b(?:kappa|krippendorff'?s? alpha|inter-?annotator agreement|(?:annotators?|labell?ers?|"
                        r"raters?) agree(?:ment|d)?)\b[^\d\n;]{0,40}?" + _VALUE, _I)
_ANNOTATOR_ACC = re.compile(r"\b(?:annotators?|labell?ers?|raters?|graders?|crowd ?workers?)\b[^\d\n;]{0,40}?"
                            r"(?:\baccura\w*[^\d\n;]{0,20}?" + _VALUE + r"|" + _VALUE + r" ?accura\w*)", _I)
_ERROR = re.compile(r"\b(mape|smape|rmse|mae|mse|wer|cer|error rate)\b[^\d\n;]{0,40}?(\d+(?:\.\d+)?)\s?%?", _I)


def _line_of(text: str, i: int) -> str:
    """The line (or sentence, whichever is shorter) around position ``i``, at most 300 characters either side (a
    text without breaks would make every match read the whole text)."""
    lo, hi = max(0, i - 300), min(len(text), i + 300)
    a = max(text.rfind("\n", lo, i), text.rfind(". ", lo, i), lo - 1) + 1
    ends = [j for j in (text.find("\n", i, hi), text.find(". ", i, hi)) if j >= 0]
    return text[a:min(ends) if ends else hi]


def _fraction(v: str) -> float | None:
    v = v.replace(" ", "")
    x = float(v[:-1]) / 100 if v.endswith("%") else float(v)
    return x if 0.0 <= x <= 1.0 else None


def number_facts(text: str) -> dict[str, Any]:
    """``stated_recall_min``, ``label_error_rate``, ``annotator_agreement`` (kappa, alpha or percent agreement),
    ``annotator_accuracy`` (annotators against gold items) and ``error_rise_ratio`` (largest / smallest value of one error
    metric, when it is named twice or more).

    >>> number_facts("Accuracy 0.95; class 1 recall is 0.15 while class 0 recall is 1.00.")
    {'stated_recall_min': 0.15}
    >>> number_facts("train recall 0.95 on positives, val recall 0.20")
    {'stated_recall_min': 0.2, 'stated_recall_gap': 0.75}
    >>> number_facts("backtest MAPE 3.1%, first month in production MAPE 11%")
    {'error_rise_ratio': 3.548387}
    >>> number_facts("audited label error rate 0.06")
    {'label_error_rate': 0.06}
    >>> number_facts("Cohen's kappa 0.41 between two annotators; labelers averaged about 80 % accuracy on gold items")
    {'annotator_agreement': 0.41, 'annotator_accuracy': 0.8}
    """
    out: dict[str, Any] = {}
    recalls, train = [], []
    for m in _RECALL.finditer(text):
        f = _fraction(m.group(1))
        if f is not None:
            (train if _TRAIN.search(text[max(0, m.start() - 12) : m.start()]) else recalls).append(f)
    if recalls:
        out["stated_recall_min"] = min(recalls)
        if train:  # a recall high on train and low held out is a generalisation gap, not an ignored class
            out["stated_recall_gap"] = round(max(train) - min(recalls), 6)
    errs = [f for f in (_fraction(m.group(1)) for m in _LABEL_ERR.finditer(text)) if f is not None]
    if errs:
        out["label_error_rate"] = max(errs)
    agree = [f for f in (_fraction(m.group(1)) for m in _AGREEMENT.finditer(text)
                         if not MODEL_AGREEMENT.search(_line_of(text, m.start()))) if f is not None]
    if agree:
        out["annotator_agreement"] = min(agree)
    acc = [f for f in (_fraction(m.group(1) or m.group(2)) for m in _ANNOTATOR_ACC.finditer(text)) if f is not None]
    if acc:
        out["annotator_accuracy"] = min(acc)
    by_metric: dict[str, list[float]] = defaultdict(list)
    for m in _ERROR.finditer(text):
        by_metric[m.group(1).lower()].append(float(m.group(2)))
    ratios = [max(v) / min(v) for v in by_metric.values() if len(v) >= 2 and min(v) > 0]
    if ratios:
        out["error_rise_ratio"] = round(max(ratios), 6)
    return out


def record_text(raw: Any, prefix: str = "", depth: int = 0) -> str:
    """A record's scalar fields as lines ``path words value`` (underscores read as spaces), so the readers of
    prose also see figures under field names the schema does not know (``fraud_recall``, ``test_sensitivity``).

    >>> record_text({"metrics": {"test": {"fraud_recall": 0.04}}, "notes": "x"})
    'metrics test fraud recall 0.04'
    """
    if depth > 6:
        return ""
    lines: list[str] = []
    if isinstance(raw, dict):
        for k, v in raw.items():
            if k == "notes":
                continue
            lines.append(record_text(v, f"{prefix} {str(k).replace('_', ' ')}".strip(), depth + 1))
    elif isinstance(raw, (int, float)) and not isinstance(raw, bool):
        lines.append(f"{prefix} {raw:g}")
    return "\n".join(x for x in lines if x)
