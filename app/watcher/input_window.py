"""The in-memory window of probe inputs for ``MLFI_STORE_INPUTS=none``: the feature values the database never
receives, kept in the watcher's memory (bounded) so that the analysis can still test input drift.

Per endpoint it holds the inputs of the last ``size`` committed samples (the analysis window), keyed by
the sample's timestamp. The analyzer hands a snapshot to the analysis pass as a call argument: in
thread mode a plain object, in process mode pickled through the pool's pipe -- never a file. The
analysis joins them to the rows it reads from the database by timestamp (:func:`attach_inputs`).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

from app.schemas import Sample

__all__ = ["InputWindow", "attach_inputs"]

Inputs = dict[str, Any]


class InputWindow:
    """Inputs of each endpoint's last ``size`` samples, oldest dropped first; thread-safe.

    >>> w = InputWindow(2)
    >>> w.add([(1, Sample(endpoint="e", ts=1.0, inputs={"x": 1})), (1, Sample(endpoint="e", ts=2.0, inputs={"x": 2})),
    ...        (1, Sample(endpoint="e", ts=3.0, inputs={"x": 3}))])
    >>> w.snapshot([1])
    {1: {2.0: {'x': 2}, 3.0: {'x': 3}}}
    """

    def __init__(self, size: int) -> None:
        self.size = max(1, int(size))
        self._by_ep: dict[int, OrderedDict[float, Inputs]] = {}
        self._lock = threading.Lock()

    def add(self, written: list[tuple[int, Sample]]) -> None:
        """Remember the inputs of committed samples (``(endpoint id, sample)``, as the write buffer keeps them)."""
        with self._lock:
            for eid, s in written:
                if not s.inputs:
                    continue
                d = self._by_ep.setdefault(eid, OrderedDict())
                d[s.ts] = dict(s.inputs)
                while len(d) > self.size:
                    d.popitem(last=False)

    def forget(self, keep: set[int]) -> None:
        """Drop the windows of endpoints no longer watched here."""
        with self._lock:
            for eid in [e for e in self._by_ep if e not in keep]:
                del self._by_ep[eid]

    def snapshot(self, endpoint_ids: list[int]) -> dict[int, dict[float, Inputs]]:
        """A copy of the windows of ``endpoint_ids`` (what one analysis pass receives)."""
        with self._lock:
            return {eid: dict(self._by_ep[eid]) for eid in endpoint_ids if self._by_ep.get(eid)}

    def __len__(self) -> int:
        return sum(len(d) for d in self._by_ep.values())


def attach_inputs(samples: list[Sample], inputs: dict[float, Inputs] | None) -> list[Sample]:
    """The samples read from the database (no inputs in ``none`` mode) with their in-memory inputs joined by ts.

    >>> attach_inputs([Sample(endpoint="e", ts=1.0), Sample(endpoint="e", ts=2.0)], {2.0: {"x": 5}})[1].inputs
    {'x': 5}
    """
    if not inputs:
        return samples
    return [s.model_copy(update={"inputs": inputs[s.ts]}) if s.inputs is None and s.ts in inputs else s
            for s in samples]
