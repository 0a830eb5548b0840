"""Memo of calibrated detectors: a monitor rebuilt for the same baseline and budget skips the bootstrap.

The bootstrap of :mod:`app.detection.sequential.estimation` is deterministic (seeded by the baseline size),
so a detector calibrated for one (signal, baseline content, size, budget) can be reused: a copy of the fresh
detector is handed out, never the memo's own, so no two monitors share state. Bounded (least recently used
first out) and guarded by a lock (the watcher builds monitors on its owner thread, tests and benches on others).
"""

from __future__ import annotations

import copy
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

__all__ = ["CACHE_SIZE", "memoised"]

CACHE_SIZE = 512
_CACHE: OrderedDict[Hashable, Any] = OrderedDict()
_LOCK = threading.Lock()
T = TypeVar("T")


def memoised(key: Hashable, build: Callable[[], T]) -> T:
    """A fresh copy of the detector (with its refinement) memoised under ``key``, built (and memoised) on the first
    call."""
    with _LOCK:
        hit = _CACHE.get(key)
        if hit is not None:
            _CACHE.move_to_end(key)
            return copy.deepcopy(hit)  # type: ignore[no-any-return]
    fresh = build()
    with _LOCK:
        _CACHE[key] = copy.deepcopy(fresh)
        while len(_CACHE) > CACHE_SIZE:
            _CACHE.popitem(last=False)
    return fresh
