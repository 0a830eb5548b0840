"""scikit-learn ``classification_report`` text as people paste it: per-class precision, recall, f1 and support.

A report is a header line naming ``precision`` and ``recall`` followed by one row per class (a label, three
numbers in [0, 1] and an integer support) and the summary rows (``accuracy``, ``macro avg``, ``weighted avg``,
``micro avg``, ``samples avg`` and the older ``avg / total``), which are not classes. Facts: the lowest recall of
a class with support, and how far the recall of the smallest class falls below the recall of the largest one.
Every pattern is bounded, so a scan is linear in the text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["ReportRow", "read_report", "report_facts"]

_HEADER = re.compile(r"\bprecision\b[ \t|]+\brecall\b", re.IGNORECASE)
_NUM = r"(\d?\.\d+|[01](?:\.0+)?)"
_ROW = re.compile(r"^[ \t|]*(?P<label>\S[^\t|]{0,40}?)[ \t|]+" + _NUM + r"[ \t|]+" + _NUM + r"[ \t|]+" + _NUM
                  + r"[ \t|]+(?P<support>\d{1,9})[ \t|]*$")
_SUMMARY = re.compile(r"^(?:accuracy|macro avg|weighted avg|micro avg|samples avg|avg ?/ ?total)$", re.IGNORECASE)


@dataclass(frozen=True)
class ReportRow:
    """One class row of a classification report."""

    label: str
    precision: float
    recall: float
    f1: float
    support: int


def read_report(text: str) -> list[ReportRow]:
    """The class rows of the first classification report in ``text`` (empty when there is none).

    >>> [r.label for r in read_report("  precision recall f1-score support\\n0 0.9 1.0 0.95 50\\n1 0.0 0.0 0.0 18\\n"
    ...                               "accuracy 0.74 68\\nmacro avg 0.45 0.5 0.47 68")]
    ['0', '1']
    """
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if len(line) > 300 or not _HEADER.search(line):
            continue
        rows: list[ReportRow] = []
        for row in lines[i + 1 : i + 200]:
            if not row.strip():
                continue
            m = _ROW.match(row) if len(row) <= 300 else None
            if m is None:
                if rows and not _SUMMARY.match(row.strip().split("  ")[0].strip()):
                    break
                continue
            label = m.group("label").strip()
            if _SUMMARY.match(label):
                continue
            p, r, f = (float(m.group(k)) for k in (2, 3, 4))
            if max(p, r, f) <= 1.0:
                rows.append(ReportRow(label, p, r, f, int(m.group("support"))))
        if len(rows) >= 2:
            return rows
    return []


def report_facts(text: str) -> dict[str, float]:
    """``report_classes``, ``report_min_recall`` (over classes with support), ``report_minority_share`` (smallest
    support / total) and ``report_minority_recall_gap`` (recall of the largest class minus that of the smallest,
    when their supports differ).

    >>> report_facts("precision recall f1-score support\\n0 0.74 1.00 0.85 50\\n1 0.00 0.00 0.00 18\\n")
    {'report_classes': 2, 'report_min_recall': 0.0, 'report_minority_share': 0.264706, 'report_minority_recall_gap': 1.0}
    >>> report_facts("precision recall f1-score support\\ncat 0.91 0.90 0.90 100\\ndog 0.90 0.91 0.90 100")["report_min_recall"]
    0.9
    """
    rows = [r for r in read_report(text) if r.support > 0]
    if len(rows) < 2:
        return {}
    total = sum(r.support for r in rows)
    small = min(rows, key=lambda r: r.support)
    large = max(rows, key=lambda r: r.support)
    out: dict[str, float] = {
        "report_classes": len(rows),
        "report_min_recall": min(r.recall for r in rows),
        "report_minority_share": round(small.support / total, 6),
    }
    if small.support < large.support:
        out["report_minority_recall_gap"] = round(large.recall - small.recall, 6)
    return out
