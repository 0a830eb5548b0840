"""The retention in force, recorded in the database: a shorter retention than the recorded one deletes data,
so it applies only once confirmed (``mlfi storage retention --yes``, audited); a longer one applies at once.

The configured values come from ``MLFI_RAW_RETENTION`` / ``MLFI_AGGREGATE_RETENTION`` (see
:func:`app.watcher.pruning.raw_retention_in_force`). The first pruning pass on a database records them.
Until a shortening is confirmed the pruner keeps the recorded, longer, value and says so in its log.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, select

from app.storage import tables as t

__all__ = ["POLICY_KEY", "Retention", "effective", "recorded", "save_policy", "shortened"]

POLICY_KEY = "retention_policy"


@dataclass(frozen=True)
class Retention:
    """Seconds raw samples (None: forever) and per-minute aggregates are kept."""

    raw_s: float | None
    aggregate_s: float

    def as_dict(self) -> dict[str, Any]:
        return {"raw_retention_s": self.raw_s, "aggregate_retention_s": self.aggregate_s}


def _len(v: float | None) -> float:
    return math.inf if v is None else float(v)


def shortened(old: Retention | None, new: Retention) -> dict[str, dict[str, float | None]]:
    """What ``new`` shortens relative to ``old`` (name -> from/to seconds); empty when nothing.

    >>> shortened(Retention(3600.0, 86400.0), Retention(600.0, 90000.0))
    {'raw_retention_s': {'from': 3600.0, 'to': 600.0}}
    >>> shortened(Retention(None, 10.0), Retention(7200.0, 10.0))
    {'raw_retention_s': {'from': None, 'to': 7200.0}}
    """
    if old is None:
        return {}
    out: dict[str, dict[str, float | None]] = {}
    if _len(new.raw_s) < _len(old.raw_s):
        out["raw_retention_s"] = {"from": old.raw_s, "to": new.raw_s}
    if new.aggregate_s < old.aggregate_s:
        out["aggregate_retention_s"] = {"from": old.aggregate_s, "to": new.aggregate_s}
    return out


def effective(old: Retention | None, new: Retention) -> Retention:
    """What the pruner applies: each value is the configured one unless that shortens the recorded one.

    >>> effective(Retention(3600.0, 86400.0), Retention(600.0, 90000.0))
    Retention(raw_s=3600.0, aggregate_s=90000.0)
    """
    if old is None:
        return new
    raw = old.raw_s if _len(new.raw_s) < _len(old.raw_s) else new.raw_s
    return Retention(raw, max(old.aggregate_s, new.aggregate_s))


def recorded(engine: Engine) -> Retention | None:
    """The retention last recorded (None on a database no pruner has run on)."""
    with engine.connect() as conn:
        raw = conn.execute(select(t.meta.c.value).where(t.meta.c.key == POLICY_KEY)).scalar()
    if not raw:
        return None
    d = json.loads(raw)
    return Retention(d.get("raw_retention_s"), float(d["aggregate_retention_s"]))


def save_policy(engine: Engine, r: Retention) -> None:
    """Record ``r`` as the retention in force."""
    value = json.dumps(r.as_dict(), separators=(",", ":"))
    with engine.begin() as conn:
        if not conn.execute(t.meta.update().where(t.meta.c.key == POLICY_KEY).values(value=value)).rowcount:
            conn.execute(t.meta.insert().values(key=POLICY_KEY, value=value))
