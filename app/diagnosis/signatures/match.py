"""Score every signature on the parsed facts and the measured signals; a match is a cited piece of evidence.

A signature matches when one of its ``requires`` conditions holds, all of its ``needs`` hold and none of its
``against`` conditions does. A matched cause that ``explains`` a category (a concrete leak explains the drop drift
reads as its sign) counts against that category by its own contribution when a drop was seen.
Its strength is 0.7 plus 0.3 times the share of its ``supports`` that hold, so evidence that agrees with the
main symptom counts, and its contribution to the category score is weight x strength, like a taxonomy rule.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from app.diagnosis.record import ExperimentRecord
from app.diagnosis.signatures.facts import read_facts
from app.diagnosis.signatures.library import SIGNATURE_DIR, Signature, holds, load_signatures
from app.diagnosis.signatures.splits import split_facts
from app.diagnosis.taxonomy import FiredRule

__all__ = ["TEXT_LIMIT", "gather", "match_signatures", "score"]

TEXT_LIMIT = 20_000
"""Characters of text the parsers read (the prompt cap); a longer record note is read up to here."""


def score(s: Signature, facts: dict[str, Any]) -> float:
    """0 when the signature does not match, else 0.7 + 0.3 x (share of supports that hold).

    >>> from app.diagnosis.signatures.library import parse_condition as p
    >>> s = Signature(id="x", doc_id="d", section="S", category="overfitting", subtype="t", weight=0.5,
    ...     concrete=False, requires=(p("a"),), supports=(p("b >= 1"), p("c")), against=(p("d"),),
    ...     symptoms="s" * 10, check="c" * 10, fix="f" * 10, source="https://example.org/x")
    >>> score(s, {"a": True}), score(s, {"a": True, "b": 2}), score(s, {"a": True, "d": True}), score(s, {})
    (0.7, 0.85, 0.0, 0.0)
    """
    if (
        not any(holds(c, facts) for c in s.requires)
        or not all(holds(c, facts) for c in s.needs)
        or any(holds(c, facts) for c in s.against)
    ):
        return 0.0
    if not s.supports:
        return 1.0
    return round(0.7 + 0.3 * sum(holds(c, facts) for c in s.supports) / len(s.supports), 6)


def gather(
    text: str | None, rec: ExperimentRecord, signal_values: dict[str, Any], signal_sources: dict[str, str],
    fields: str = "",
) -> tuple[dict[str, Any], dict[str, str]]:
    """Every fact a signature may name: signals, the record's split figures, and what the parsers read.

    ``text`` is the prompt or the record's notes; the record's feature descriptions are read with it, and
    ``fields`` (a record's scalar fields as lines, see ``numbers.record_text``) after them.
    """
    described = [f"{f.name}: {f.description}." for f in rec.features if f.description]
    parsed, parsed_src = read_facts("\n".join([text or "", *described, fields])[:TEXT_LIMIT])
    split, split_src = split_facts(rec)
    facts = {**signal_values, **split, **parsed}
    sources = {**signal_sources, **split_src, **parsed_src}
    if "auc_min" in split and "auc_min" in parsed:
        facts["auc_min"] = min(split["auc_min"], parsed["auc_min"])
    if parsed.get("table_max_drop", 0) >= 0.05 and not parsed.get("said_drop"):  # a table that shows a drop states it
        parsed["said_drop"], parsed_src["said_drop"] = True, parsed_src["table_max_drop"]
    if (parsed.get("said_drop") or parsed.get("error_rise_ratio", 0) >= 1.5) and not split.get("drop_seen"):
        key = "said_drop" if parsed.get("said_drop") else "error_rise_ratio"
        facts["drop_seen"], sources["drop_seen"] = True, parsed_src[key]
    return facts, sources


def match_signatures(facts: dict[str, Any], sources: dict[str, str], root: Path = SIGNATURE_DIR) -> list[FiredRule]:
    """The signatures that match the gathered ``facts``, as fired rules citing their knowledge section."""
    out = []
    for s in load_signatures(root):
        st = score(s, facts)
        if st <= 0:
            continue
        return_conditions = [c for c in (*s.requires, *s.needs, *s.supports) if holds(c, facts)]
        used = {c.fact: facts[c.fact] for c in return_conditions}
        srcs = list(dict.fromkeys(sources[c.fact] for c in return_conditions if c.fact in sources))
        out.append(
            FiredRule(
                rule_id=f"sig.{s.id}",
                category=s.category,
                subtype=s.subtype,
                kind="support",
                concrete=s.concrete,
                weight=s.weight,
                strength=st,
                contribution=round(s.weight * st, 6),
                statement=f"Failure signature '{s.section}' matched ({', '.join(str(c) for c in return_conditions)})."
                f" {s.symptoms}",
                values=used,
                sources=srcs,
                cite_doc=s.doc_id,
                cite_section=s.section,
                action=s.fix,
            )
        )
        if s.explains and facts.get("drop_seen"):
            out += [_explained(s, cat, round(s.weight * st, 6), srcs) for cat in s.explains]
    return out


def _explained(s: Signature, category: str, amount: float, sources: list[str]) -> FiredRule:
    """Counter-evidence against ``category``: the drop it reads as its sign is explained by the cause ``s``."""
    return FiredRule(
        rule_id=f"sig.{s.id}.explains_{category}", category=category, subtype=None, kind="counter",
        concrete=False, weight=s.weight, strength=round(amount / s.weight, 6), contribution=amount,
        statement=f"The drop is explained by '{s.section}', not by {category.replace('_', ' ')}.",
        values={"drop_seen": True}, sources=sources, cite_doc=s.doc_id, cite_section=s.section, action=None,
    )
