"""Similar past diagnoses from storage (team memory), ranked by overlap of category, subtype and fired rules."""

from __future__ import annotations

import datetime as dt
from typing import Any

from app.diagnosis.models import SimilarDiagnosis

__all__ = ["fingerprint_tokens", "heatmap_counts", "jaccard", "similar_diagnoses"]


def fingerprint_tokens(payload: dict[str, Any]) -> set[str]:
    """The tokens compared between diagnoses: category, subtype, secondary risks and fired rule ids."""
    toks = {f"cat:{payload.get('primary_category')}", f"sub:{payload.get('subtype')}"}
    toks |= {f"sec:{c}" for c in payload.get("secondary_risks", [])}
    toks |= {f"rule:{e.get('rule_id')}" for e in payload.get("evidence", []) if e.get("rule_id")}
    return toks


def jaccard(a: set[str], b: set[str]) -> float:
    """|a & b| / |a | b| (0 for two empty sets).

    >>> jaccard({"a", "b"}, {"b", "c"})
    0.3333333333333333
    """
    return len(a & b) / len(a | b) if a | b else 0.0


def similar_diagnoses(
    store: Any, payload: dict[str, Any], *, limit: int = 5, min_similarity: float = 0.2
) -> list[SimilarDiagnosis]:
    """Stored diagnoses most similar to ``payload`` (excluding itself), newest first among equals."""
    mine = fingerprint_tokens(payload)
    scored = []
    for row in store.list_diagnoses(limit=500):
        if row["id"] == payload.get("diagnosis_id"):
            continue
        other = row["payload"]
        sim = jaccard(mine, fingerprint_tokens(other))
        if sim >= min_similarity:
            scored.append((sim, row))
    scored.sort(key=lambda t: (-t[0], -float(t[1]["created_at"]), t[1]["id"]))
    return [
        SimilarDiagnosis(
            diagnosis_id=r["id"],
            primary_category=r["primary_category"],
            subtype=r["payload"].get("subtype"),
            team=r.get("team"),
            created_at=dt.datetime.fromtimestamp(float(r["created_at"]), dt.timezone.utc).isoformat(),
            similarity=round(s, 4),
            payload_hash=r["payload_hash"],
        )
        for s, r in scored[:limit]
    ]


def heatmap_counts(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Stored diagnoses counted per (category, team, month) for the dashboard heatmap.

    >>> heatmap_counts([{"primary_category": "overfitting", "team": None, "created_at": 0.0},
    ...                 {"primary_category": "overfitting", "team": None, "created_at": 60.0}])
    [{'category': 'overfitting', 'team': '(no team)', 'month': '1970-01', 'count': 2}]
    """
    counts: dict[tuple[str, str, str], int] = {}
    for r in rows:
        month = dt.datetime.fromtimestamp(float(r["created_at"]), dt.timezone.utc).strftime("%Y-%m")
        key = (str(r["primary_category"]), str(r.get("team") or "(no team)"), month)
        counts[key] = counts.get(key, 0) + 1
    return [{"category": c, "team": t, "month": m, "count": n} for (c, t, m), n in sorted(counts.items())]
