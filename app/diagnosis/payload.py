"""Canonical JSON, the SHA-256 payload hash (run-specific fields excluded) and the one confidence formula."""

from __future__ import annotations

import hashlib
import json
import math
from typing import Any

__all__ = ["CONFIDENCE_FORMULA", "HASH_EXCLUDED", "canonical_json", "confidence", "payload_hash", "verify_payload"]

HASH_EXCLUDED = ("payload_hash", "diagnosis_id", "created_at", "similar_past_diagnoses", "queued_recommendations")
CONFIDENCE_FORMULA = (
    "confidence = max(0, 0.95 * base - 0.1 * n_contradictions); base = s1 * (0.5 + 0.5 * (s1 - s2) / s1) "
    "for a diagnosed category (s1 = its score, s2 = runner-up score), base = 0.5 * (1 - s1) * information for "
    "unknown (s1 = highest category score; information = min(1, metric values given / 3), 1 when data files "
    "were measured, so text with nothing to check gives 0); 0.95 because a diagnosis from reported numbers is "
    "never certain"
)


def _round_floats(obj: Any) -> Any:
    if isinstance(obj, float):
        if not math.isfinite(obj):
            return str(obj)
        return round(obj, 6) + 0.0  # + 0.0 turns -0.0 into 0.0
    if isinstance(obj, dict):
        return {str(k): _round_floats(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_round_floats(v) for v in obj]
    return obj


def canonical_json(obj: Any) -> str:
    """Sorted keys, no whitespace, floats rounded to 6 decimals, UTF-8 kept: one byte string per value.

    >>> canonical_json({"b": 1.0000001, "a": [0.1, -0.0]})
    '{"a":[0.1,0.0],"b":1.0}'
    """
    return json.dumps(_round_floats(obj), sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def payload_hash(payload: dict[str, Any]) -> str:
    """SHA-256 of the canonical JSON of the payload without the hash and the run-specific fields.

    >>> h = payload_hash({"primary_category": "overfitting", "diagnosis_id": "dx-1", "created_at": "now"})
    >>> h == payload_hash({"primary_category": "overfitting", "diagnosis_id": "dx-2"})
    True
    """
    body = {k: v for k, v in payload.items() if k not in HASH_EXCLUDED}
    return hashlib.sha256(canonical_json(body).encode("utf-8")).hexdigest()


def verify_payload(payload: dict[str, Any]) -> bool:
    """True when ``payload["payload_hash"]`` matches its content."""
    return bool(payload.get("payload_hash")) and payload_hash(payload) == payload["payload_hash"]


def confidence(s1: float, s2: float, n_contradictions: int = 0, unknown: bool = False,
               information: float = 1.0) -> float:
    """The single confidence formula (see CONFIDENCE_FORMULA).

    >>> confidence(0.9, 0.1), confidence(0.9, 0.85), confidence(0.2, 0.1, unknown=True), confidence(0.9, 0.1, 2)
    (0.807, 0.451, 0.38, 0.607)
    >>> confidence(0.0, 0.0, unknown=True, information=0.0)
    0.0
    """
    if unknown:
        base = 0.5 * (1.0 - s1) * max(0.0, min(1.0, information))
    else:
        base = s1 * (0.5 + 0.5 * (s1 - s2) / s1) if s1 > 0 else 0.0
    return round(max(0.0, min(1.0, 0.95 * base - 0.1 * n_contradictions)), 3)
