"""Run an iterator one step ahead in a background thread, so reading the next block overlaps writing this one."""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterable, Iterator
from typing import TypeVar

__all__ = ["prefetch"]

T = TypeVar("T")
_DONE = object()


class _Raised:
    """An exception the producer raised, handed to the consumer to raise in its own thread."""

    __slots__ = ("exc",)

    def __init__(self, exc: BaseException) -> None:
        self.exc = exc


def prefetch(items: Iterable[T], depth: int = 1, name: str = "prefetch") -> Iterator[T]:
    """Yield ``items`` in order while a daemon thread computes up to ``depth`` of them ahead.

    An exception of the producer is raised here, after the items before it. Closing the generator (a
    ``break``, an exception in the consumer, Ctrl-C) stops the producer at its next item: it never runs more
    than ``depth + 1`` items ahead, so memory stays bounded by that many items.

    >>> list(prefetch(iter(range(5))))
    [0, 1, 2, 3, 4]
    >>> def bad():
    ...     yield 1
    ...     raise ValueError("boom")
    >>> out = []
    >>> try:
    ...     for x in prefetch(bad()):
    ...         out.append(x)
    ... except ValueError as exc:
    ...     out.append(str(exc))
    >>> out
    [1, 'boom']
    """
    q: queue.Queue[object] = queue.Queue(maxsize=max(1, depth))
    stop = threading.Event()

    def put(x: object) -> bool:
        while not stop.is_set():
            try:
                q.put(x, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    def run() -> None:
        try:
            for x in items:
                if not put(x):
                    return
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer, which raises it
            put(_Raised(exc))
            return
        put(_DONE)

    worker = threading.Thread(target=run, name=name, daemon=True)
    worker.start()
    try:
        while True:
            x = q.get()
            if x is _DONE:
                return
            if isinstance(x, _Raised):
                raise x.exc
            yield x  # type: ignore[misc]
    finally:
        stop.set()
        worker.join(timeout=0.5)
