"""A signal's reference refined from its own in-control samples (the self-starting idea, for counts).

The baseline behind errors, correctness and class mix is a small sample (150 live), so its thresholds are
bootstrapped for the estimation error of that sample (:mod:`~app.detection.sequential.estimation`, Gandy &
Kvaloy 2013) and sit well above the threshold of a known reference. Every healthy sample the monitor sees is
more of the same evidence: Hawkins' self-starting CUSUM and the "updated from in-control data" schemes of
Capizzi & Masarotto pool it into the estimate. Here a value joins its signal's reference counts when

- it has waited ``GUARD`` samples of its signal (a change is seldom caught at once: the first changed values
  must still be pending when the chart reaches the warning, and are then dropped), and
- the signal's chart stayed calm the whole time it waited: no alarm, no recovery, every statistic below
  ``WARNING_SHARE`` of the threshold (a warning drops every pending value).

Every ``STEP`` joined values the detector is rebuilt on the pooled counts, with the threshold bootstrapped
for the pooled size: the monitor's build precomputes a ladder of (size, alternatives, threshold) at the
baseline size doubled up to ``CAP`` (off the owner thread, as the build), and the threshold between two rungs
with the same alternatives is interpolated linearly in ``1 / n`` (the estimation error's variance). A larger
reference never gets a larger threshold for the same alternatives (the bootstrap's own noise is not let
through), and a rung whose bootstrap allowed a smaller alternative back only applies once its size is reached.

Guard against absorbing a slow drift: the reference stops at ``CAP`` samples (2,400: the stream's first
~2,250 calm samples after a 150-sample baseline), so a drift can move it only while it is young, only by
values that passed the calm test, and with the original baseline's weight in the pool; after the cap the
reference is fixed and any later drift is judged against it as before (``tests/test_sequential_refine.py``
drives a slow ramp through both monitors).

Selection bias: values are kept only while the chart is calm, which favours good stretches; on healthy
data the statistics reach half the threshold about once per ``e^(h/2) / KL`` samples (thousands), so
almost nothing is dropped and the bias is negligible; ``bench/sequential/bench_healthy.py`` measures the
false-alarm rate with it.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from typing import Any

from app.detection.sequential.base import SequentialDetector
from app.detection.sequential.bernoulli import BernoulliCusum
from app.detection.sequential.classmix import TILT_SHARE, ClassMixCusum, tilts_for

__all__ = ["CAP", "GUARD", "STEP", "Refinement", "ladder_threshold"]

GUARD = 200
STEP = 50
CAP = 2400


def ladder_threshold(ladder: Sequence[Sequence[Any]], n: int) -> tuple[Any, float]:
    """Alternatives and threshold for a reference of ``n`` samples from the ladder ``[(size, grid, h), ...]``
    (sizes ascending): the last rung at or below ``n``; towards the next rung, if it has the same grid, the
    threshold interpolated linearly in ``1 / n``.

    >>> ladder_threshold([(100, None, 12.0), (200, None, 10.0)], 150)     # 1/150 is 2/3 of the way from 1/100
    (None, 10.666666666666666)
    """
    i = max(k for k, r in enumerate(ladder) if r[0] <= n) if n >= ladder[0][0] else 0
    size, grid, h = ladder[i]
    if i + 1 < len(ladder) and ladder[i + 1][1] == grid and n > size:
        s1, _, h1 = ladder[i + 1]
        f = (1.0 / size - 1.0 / n) / (1.0 / size - 1.0 / s1)
        h = h + f * (h1 - h)
    return grid, float(h)


class Refinement:
    """Pending and pooled values of one count signal (``kind``: "bernoulli" or "class_mix")."""

    def __init__(self, kind: str, counts: dict[str, int], ladder: list[list[Any]], *,
                 pending: Sequence[Any] = (), since_swap: int = 0) -> None:
        if kind not in ("bernoulli", "class_mix") or not ladder:
            raise ValueError(f"unknown refinement {kind!r} or an empty ladder")
        self.kind, self.counts = kind, {str(k): int(v) for k, v in counts.items()}
        self.ladder = [[int(s), None if g is None else tuple(g), float(h)] for s, g, h in ladder]
        self.pending: deque[Any] = deque(pending)
        self.since_swap = int(since_swap)

    @property
    def n(self) -> int:
        """Values in the reference (baseline plus joined)."""
        return sum(self.counts.values())

    def observe(self, x: Any, calm: bool) -> bool:
        """One value of the signal, ``calm`` if its chart is; True when a rebuild on the pooled counts is due."""
        if not calm:
            self.pending.clear()
            return False
        if self.n >= CAP:
            return False
        self.pending.append(x)
        if len(self.pending) <= GUARD:
            return False
        key = str(self.pending.popleft())
        if key not in self.counts:           # a class the baseline never saw stays "other" at its floor share
            return False
        self.counts[key] += 1
        self.since_swap += 1
        if self.since_swap >= STEP or self.n >= CAP:
            self.since_swap = 0
            return True
        return False

    def rebuild(self, old: SequentialDetector) -> SequentialDetector:
        """``old``'s detector on the pooled counts at the ladder's threshold; the statistics carry over when the
        alternatives are the same (they are below half the threshold: a rebuild only happens while calm)."""
        grid, h = ladder_threshold(self.ladder, self.n)
        arl = old.false_alarm_every
        new: SequentialDetector
        if self.kind == "bernoulli":
            p0 = min(self.counts.get("1", 0) / max(self.n, 1), 0.97)
            new = BernoulliCusum(p0=p0, false_alarm_every=arl, **({} if grid is None else {"shifts": grid}))
        else:
            shares = {c: float(v) for c, v in self.counts.items()}
            # the tilt's share of the budget as the ladder was bootstrapped with (a state saved before a change of
            # the default keeps its own)
            share = getattr(old, "tilt_share", TILT_SHARE)
            new = ClassMixCusum(shares=shares, tilts=tilts_for(self.n), tilt_share=share, false_alarm_every=arl,
                                **({} if grid is None else {"weights": grid}))
        new.threshold = h
        new.n = old.n
        if len(new.labels()) == len(old.labels()):
            new.stats, new.starts = list(old.stats), list(old.starts)
        return new

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "counts": dict(self.counts),
                "ladder": [[s, None if g is None else list(g), h] for s, g, h in self.ladder],
                "pending": list(self.pending), "since_swap": self.since_swap}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Refinement:
        return cls(data["kind"], data["counts"], data["ladder"], pending=data["pending"],
                   since_swap=data["since_swap"])
