"""Before/after and split-comparison tables as people paste them: the largest drop between two columns.

A table is a header line naming two or more columns (``| metric | before | after |``, ``metric  offline  live``)
followed by rows of a name and numbers. Columns are read left to right as earlier to later; a metric whose name
says lower is better (loss, error, rmse, mae) counts a rise as the drop. Values above 1 are read as percents.
"""

from __future__ import annotations

import re

__all__ = ["table_facts"]

_I = re.IGNORECASE
_HEADER = re.compile(r"\b(?:before|after|baseline|train(?:ing)?|val(?:idation)?|dev|test|holdout|offline|online|"
                     r"live|prod(?:uction)?|cv|old|new|last (?:month|week|year)|this (?:month|week))\b", _I)
_ROW = re.compile(r"^[ \t|]*([A-Za-z][\w .@()/-]{0,40}?)[ \t|:]+(-?\d+(?:\.\d+)?%?(?:[ \t|]+-?\d+(?:\.\d+)?%?){1,8})[ \t|]*$")
_LOWER_BETTER = re.compile(r"loss|error|rmse|mae|mse|mape|wer|cer|perplexity", _I)
_RULE = re.compile(r"^[ \t|:-]+$")


def _value(cell: str) -> float:
    v = float(cell.rstrip("%"))
    return v / 100.0 if cell.endswith("%") or v > 1.0 else v


def table_facts(text: str) -> dict[str, float]:
    """``table_max_drop``: the largest fall of a bounded metric from an earlier to a later column.

    >>> table_facts("| metric | offline | live |\\n|---|---|---|\\n| f1 | 0.97 | 0.41 |")
    {'table_max_drop': 0.56}
    >>> table_facts("metric  before  after\\nrecall  0.80  0.83")
    {'table_max_drop': 0.0}
    """
    lines = text.splitlines()
    best: float | None = None
    for i, line in enumerate(lines):
        if len(_HEADER.findall(line)) < 2 or _ROW.match(line):
            continue
        for row in lines[i + 1 : i + 30]:
            if _RULE.match(row) or not row.strip():
                continue
            m = _ROW.match(row)
            if not m:
                break
            cells = re.split(r"[ \t|]+", m.group(2).strip())
            if any(float(c.rstrip("%")) > 100 or float(c.rstrip("%")) < 0 for c in cells):
                continue
            vals = [_value(c) for c in cells]
            sign = -1.0 if _LOWER_BETTER.search(m.group(1)) else 1.0
            if sign < 0:
                continue  # an error metric's scale is unknown: not a bounded drop
            drop = max(sign * (vals[a] - vals[b]) for a in range(len(vals)) for b in range(a + 1, len(vals)))
            best = drop if best is None else max(best, drop)
    return {} if best is None else {"table_max_drop": round(max(best, 0.0), 6)}
