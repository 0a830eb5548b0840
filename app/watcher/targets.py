"""From an endpoints-table row to what a probe needs: the target, probe rows, and the backoff delay."""

from __future__ import annotations

import random
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from app.config import Settings
from app.errors import MlfiError
from app.storage import Endpoint

__all__ = [
    "BACKOFF_STATUS",
    "ROWS_PER_SET",
    "RowCache",
    "backoff_delay",
    "backs_off",
    "build_target",
    "config_key",
    "is_probed",
    "phase_of",
    "probe_set_spec",
]

ROWS_PER_SET = 512   # rows drawn once per probe set and shared by every endpoint using it (memory stays flat)

RowPicker = Callable[[], tuple[dict[str, Any], Any]]


def is_probed(ep: Endpoint) -> bool:
    """An endpoint is probed when it has a URL; ingested endpoints (no URL) are only analysed."""
    return ep.probed


BACKOFF_STATUS = (429, 502, 503, 504)   # rate-limited or the server/gateway cannot take the request


def backs_off(error_kind: str | None, status_code: int | None) -> bool:
    """Whether a failed probe should slow this endpoint's probing down.

    Only faults that say the endpoint cannot take requests (nobody listening, no answer in time, rate
    limited, overloaded gateway) back off: hammering it helps nobody. An answered error (HTTP 500, a 4xx,
    an unreadable body) is the model's behaviour the monitoring is there to measure, so it keeps the
    endpoint's interval and the error rate stays sampled at full rate.

    >>> backs_off("connection_error", None), backs_off("timeout", None), backs_off("http_error", 503)
    (True, True, True)
    >>> backs_off("http_error", 500), backs_off("malformed_response", 200), backs_off(None, 200)
    (False, False, False)
    """
    if error_kind in ("connection_error", "timeout"):
        return True
    return error_kind == "http_error" and status_code in BACKOFF_STATUS


def backoff_delay(interval_s: float, failures: int, max_s: float) -> float:
    """Delay before the next probe: the interval when healthy, doubled per consecutive failure, capped.

    The cap never makes an endpoint probe faster than its own interval.

    >>> [backoff_delay(1, n, 10) for n in range(6)]
    [1.0, 2.0, 4.0, 8.0, 10.0, 10.0]
    >>> backoff_delay(30, 3, 10)
    30.0
    """
    if failures <= 0:
        return float(interval_s)
    return float(max(interval_s, min(interval_s * 2.0 ** min(failures, 40), max_s)))


def phase_of(endpoint_id: int) -> float:
    """A deterministic phase in [0, 1) that spreads endpoints over their interval (golden-ratio sequence).

    >>> [round(phase_of(i), 3) for i in (1, 2, 3)]
    [0.618, 0.236, 0.854]
    """
    return (endpoint_id * 0.6180339887498949) % 1.0


def probe_set_spec(ep: Endpoint) -> tuple[str, str | None]:
    """(probe-set path, label column) of an endpoint; the shipped demo set is labelled by ``target``."""
    from app.probing import default_probe_set_path

    path = ep.probe_set
    label = ep.label_column
    if not path:
        return str(default_probe_set_path()), label or "target"
    return str(path), label


def config_key(ep: Endpoint) -> tuple[Any, ...]:
    """What, when changed in the database, requires rebuilding an endpoint's target and rows."""
    return (ep.url, ep.protocol, tuple(sorted(ep.headers.items())), ep.probe_set, ep.label_column, ep.model_name)


def build_target(ep: Endpoint, settings: Settings) -> Any:
    """The ProbeTarget of an endpoint row (protocol ``auto`` when not detected yet)."""
    from app.probing import target_for

    # an unset ${VAR} in a header is this endpoint's configuration error (InputError)
    return target_for(ep, timeout_s=settings.probe_timeout_s)


class RowCache:
    """Probe rows per (probe set, label column, file mtime), loaded once and shared by all endpoints."""

    def __init__(self, rows_per_set: int = ROWS_PER_SET) -> None:
        self._rows: dict[tuple[str, str | None, float], list[tuple[dict[str, Any], Any]]] = {}
        self._lock = threading.Lock()
        self.rows_per_set = rows_per_set

    def picker(self, path: str, label_column: str | None, seed: int) -> RowPicker:
        """A function returning a random (row, label) of the set; raises MlfiError if the set is unusable."""
        from app.probing import ProbeSet

        p = Path(path)
        try:
            mtime = p.stat().st_mtime
        except OSError as exc:
            raise MlfiError(f"probe set not found: {path}") from exc
        key = (str(p.resolve()), label_column, mtime)
        with self._lock:
            rows = self._rows.get(key)
            if rows is None:
                for old in [k for k in self._rows if k[:2] == key[:2]]:
                    del self._rows[old]   # the file changed: drop the stale copy
                rows = list(ProbeSet.from_csv(str(p), label_column=label_column).rows(self.rows_per_set, seed=0))
                if not rows:
                    raise MlfiError(f"probe set {path} has no rows")
                self._rows[key] = rows
        rng = random.Random(seed)
        return lambda: rows[rng.randrange(len(rows))]
