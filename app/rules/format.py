"""The one message formatter: ``str.format`` templates filled from facts, forgiving missing values."""

from __future__ import annotations

import re
import string
from collections.abc import Mapping
from typing import Any

__all__ = ["render"]

_OPTIONAL = re.compile(r"\[\[(.*?)\]\]")
_ABSENT = object()


class _Fill(string.Formatter):
    def __init__(self, facts: Mapping[str, Any], missing: str, none: str) -> None:
        self.facts, self.missing, self.none = facts, missing, none

    def get_value(self, key: Any, args: Any, kwargs: Any) -> Any:
        return self.facts.get(key, _ABSENT)

    def format_field(self, value: Any, format_spec: str) -> str:
        if value is _ABSENT:
            return self.missing
        if value is None:
            return self.none
        try:
            return format(value, format_spec)
        except (TypeError, ValueError):
            return str(value)


def _names(template: str) -> list[str]:
    return [f for _, f, _, _ in string.Formatter().parse(template) if f]


def render(template: str, facts: Mapping[str, Any], missing: str = "?", none: str | None = None) -> str:
    """Fill ``template`` from ``facts``.

    A missing fact reads ``missing``, a ``None`` fact ``none`` (by default the same); a format that
    does not fit the value falls back to ``str``; an optional ``[[...]]`` part is dropped when a fact
    it names is missing or ``None``.

    >>> render("{a:.0%} of {b}, {c}", {"a": 0.5, "b": "x"})
    '50% of x, ?'
    >>> render("gap {gap:.3f}, jump {jump:+.2f}[[, drop {drop:.2f}]]", {"gap": 0.28, "jump": "big"}, missing="n/a")
    'gap 0.280, jump big'
    >>> render("{a}/{b}", {"a": None}), render("{a}/{b}", {"a": None}, none="None")
    ('?/?', 'None/?')
    """
    fill = _Fill(facts, missing, missing if none is None else none)

    def _optional(m: re.Match[str]) -> str:
        return fill.format(m.group(1)) if all(facts.get(n) is not None for n in _names(m.group(1))) else ""

    return fill.format(_OPTIONAL.sub(_optional, template) if "[[" in template else template)
