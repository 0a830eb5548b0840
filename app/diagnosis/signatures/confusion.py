"""Confusion matrices as people paste them: per-class recall and precision, empty columns, majority share.

Rows are the actual classes and columns the predicted ones (scikit-learn's ``confusion_matrix`` order) unless
the row labels say ``predicted``. Three layouts are read: a bracketed array (``[[90 0] [10 0]]``), rows of a
labelled table (``actual fraud  48  12``) and a single labelled row whose class is named in a ``predicted ...``
header, which gives that class's recall.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["Matrix", "confusion_facts", "read_matrices"]

_NUM = r"(?:\d+(?:\.\d+)?|X|Y|\.)"
_BRACKET_ROW = re.compile(r"\[\s*((?:\d+(?:\.\d+)?|[A-Z])\.?(?:[ \t,]+(?:\d+(?:\.\d+)?|[A-Z])\.?){1,19})\s*\]")
_BRACKET = re.compile(r"\[\s*(?:\[[^\[\]\n]{1,200}\]\s*,?\s*){2,20}\]")
_LABEL_ROW = re.compile(r"^[ \t|]*(?P<label>[A-Za-z0-9][\w ()'/-]{0,40}?)[ \t|:]+\[?[ \t]*(?P<nums>\d+(?:[ \t|,]+\d+){1,19})"
                        r"[ \t]*\]?[ \t|]*$")  # "mel 1 1 8 0 31 70 0", "mel [ 1 1 8 0 31 70 0]"
_HEADER_PRED = re.compile(r"predict(?:ed)?[ \t:_-]*([A-Za-z]\w{0,30})", re.IGNORECASE)


@dataclass(frozen=True)
class Matrix:
    """A square confusion matrix (rows actual, columns predicted) or one labelled row of it."""

    rows: tuple[tuple[float, ...], ...]
    labels: tuple[str, ...] = ()
    single_row_class: int | None = None  # the column index of the one actual class given

    def recall(self) -> list[float | None]:
        if self.single_row_class is not None:
            row = self.rows[0]
            total = sum(row)
            return [row[self.single_row_class] / total if total else None]
        return [r[i] / sum(r) if sum(r) else None for i, r in enumerate(self.rows)]

    def precision(self) -> list[float | None]:
        if self.single_row_class is not None:
            return []
        cols = [sum(r[j] for r in self.rows) for j in range(len(self.rows))]
        return [self.rows[j][j] / c if c else None for j, c in enumerate(cols)]

    def empty_columns(self) -> int:
        if self.single_row_class is not None:
            return 0
        return sum(1 for j in range(len(self.rows)) if sum(r[j] for r in self.rows) == 0)

    def majority_share(self) -> float | None:
        if self.single_row_class is not None:
            return None
        sums = [sum(r) for r in self.rows]
        total = sum(sums)
        return max(sums) / total if total else None


# a literal assigned to a variable in code ("x = sp.sparse.csc_matrix(np.array([[0., 1.], ...") is data the code
# builds, not a matrix it printed, unless the variable names a confusion matrix
_ASSIGNED = re.compile(r"\b([A-Za-z_]\w{0,40})\s*=\s*(?:[\w.]{1,40}\(\s*){0,3}$")
_CM_NAME = re.compile(r"cm|conf|matrix|mat\b", re.IGNORECASE)


def _bracketed(text: str) -> list[Matrix]:
    out = []
    for m in _BRACKET.finditer(text):
        line_start = text.rfind("\n", 0, m.start()) + 1
        assigned = _ASSIGNED.search(text[max(line_start, m.start() - 120) : m.start()])
        if assigned and not _CM_NAME.search(assigned.group(1)):
            continue
        rows = []
        for r in _BRACKET_ROW.finditer(m.group(0)):
            cells = [c.rstrip(".") for c in re.split(r"[ \t,]+", r.group(1).strip()) if c]
            rows.append(tuple(float(c) if c[:1].isdigit() else 1.0 for c in cells))  # X, Y: some non-zero count
        if len(rows) >= 2 and all(len(r) == len(rows) for r in rows):
            out.append(Matrix(rows=tuple(rows)))
    return out


def _labelled(text: str) -> list[Matrix]:
    lines = text.splitlines()
    out: list[Matrix] = []
    i = 0
    while i < len(lines):
        block: list[tuple[str, tuple[float, ...]]] = []
        j = i
        while j < len(lines) and (m := _LABEL_ROW.match(lines[j])):
            block.append((m.group("label").strip(), tuple(float(x) for x in re.split(r"[ \t|,]+", m.group("nums")))))
            j += 1
        header = lines[i - 1] if i > 0 else ""
        if len(block) >= 2 and all(len(b[1]) == len(block) for b in block):
            out.append(Matrix(rows=tuple(b[1] for b in block), labels=tuple(b[0] for b in block)))
        elif len(block) == 1 and "actual" in block[0][0].lower():
            preds = [p.lower() for p in _HEADER_PRED.findall(header)]
            cls = block[0][0].lower().replace("actual", "").strip()
            if len(preds) == len(block[0][1]) and cls in preds:
                out.append(Matrix(rows=(block[0][1],), labels=(cls,), single_row_class=preds.index(cls)))
        i = max(j, i + 1)
    return out


def read_matrices(text: str) -> list[Matrix]:
    """Every confusion matrix found in ``text``.

    >>> [m.recall() for m in read_matrices("cm:\\n[[950 0]\\n [50 0]]")]
    [[1.0, 0.0]]
    >>> m = read_matrices("     predicted legit  predicted fraud\\nactual fraud   48   12\\n")[0]
    >>> m.recall()
    [0.2]
    """
    return _bracketed(text) + _labelled(text)


def confusion_facts(text: str) -> dict[str, float | bool]:
    """Facts over all matrices: the worst per-class recall/precision, empty predicted columns, the majority share.

    >>> confusion_facts("[[990, 10], [45, 5]]")["cm_min_recall"]
    0.1
    >>> confusion_facts("cm = np.array([[990, 10], [45, 5]])")["cm_min_recall"]
    0.1
    >>> confusion_facts("x = sp.sparse.csc_matrix(np.array([[0., 1.], [1., 0.]]))")
    {}
    """
    facts: dict[str, float | bool] = {}
    for m in read_matrices(text):
        rec = [r for r in m.recall() if r is not None]
        prec = [p for p in m.precision() if p is not None]
        if rec:
            facts["cm_min_recall"] = round(min(rec + [float(facts.get("cm_min_recall", 1.0))]), 6)
        if prec:
            facts["cm_min_precision"] = round(min(prec + [float(facts.get("cm_min_precision", 1.0))]), 6)
        if m.empty_columns():
            facts["cm_empty_column"] = True
        share = m.majority_share()
        if share is not None:
            facts["cm_majority_share"] = round(max(share, float(facts.get("cm_majority_share", 0.0))), 6)
        facts["cm_found"] = True
    return facts
