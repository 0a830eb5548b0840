"""river's ADWIN, Page-Hinkley and KSWIN as peers, each calibrated on healthy streams to a false-alarm rate.

Peers see one value per sample (:func:`streams.peer_value`, standardised by the healthy mean and sd).
Page-Hinkley runs one-sided (``mode="up"``, larger = worse). Calibration bisects the one knob of each
peer (ADWIN ``delta``, Page-Hinkley ``threshold``, KSWIN ``alpha``) on a log scale for the most
sensitive setting whose healthy alarms stay within the target.

KSWIN calls ``scipy.stats.ks_2samp`` on two samples of 30 each time; with scipy 1.17 that costs ~4 ms.
:func:`fast_ks` computes the same statistic and looks the exact p-value up in a table filled by the
real ``ks_2samp`` (with n1 = n2 = 30 the statistic takes only 31 values), so KSWIN's decisions are
unchanged and the benchmark runs in minutes.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Callable, Sequence

from river import drift
from river.drift import kswin as _kswin
from scipy import stats

__all__ = ["PEERS", "calibrate", "count_alarms", "fast_ks"]

_real_ks = stats.ks_2samp
_P_CACHE: dict[tuple[int, int, int], float] = {}


def fast_ks(a: Sequence[float], b: Sequence[float], method: str = "auto") -> tuple[float, float]:
    """Two-sample KS statistic and p-value, identical to ``scipy.stats.ks_2samp`` (p cached per statistic)."""
    sa, sb = sorted(a), sorted(b)
    na, nb = len(sa), len(sb)
    d = 0.0
    for v in sa + sb:
        d = max(d, abs(bisect_right(sa, v) / na - bisect_right(sb, v) / nb))
    key = (na, nb, round(d * na * nb))
    if key not in _P_CACHE:
        _P_CACHE[key] = float(_real_ks(sa, sb, method=method).pvalue)
    return d, _P_CACHE[key]


class _FastStats:
    ks_2samp = staticmethod(fast_ks)


_kswin.stats = _FastStats  # only the name KSWIN's module looks up; scipy itself is untouched


def _adwin(v: float) -> drift.ADWIN:
    return drift.ADWIN(delta=v)


def _ph(v: float) -> drift.PageHinkley:
    return drift.PageHinkley(threshold=v, mode="up")


def _kswin(v: float) -> drift.KSWIN:
    return drift.KSWIN(alpha=v, seed=1)


# name -> (factory, knob low, knob high, True when a larger knob means more alarms)
PEERS: dict[str, tuple[Callable[[float], object], float, float, bool]] = {
    "river ADWIN": (_adwin, 1e-14, 0.5, True),
    "river Page-Hinkley": (_ph, 0.5, 2000.0, False),
    "river KSWIN": (_kswin, 1e-14, 0.05, True),
}


def count_alarms(make: Callable[[], object], streams: Sequence[Sequence[float]]) -> int:
    """Alarms of fresh detectors over healthy value streams."""
    n = 0
    for xs in streams:
        det = make()
        for x in xs:
            det.update(x)  # type: ignore[attr-defined]
            n += bool(det.drift_detected)  # type: ignore[attr-defined]
    return n


def calibrate(peer: str, streams: Sequence[Sequence[float]], max_alarms: int, steps: int = 9) -> tuple[float, int]:
    """Most sensitive knob value with at most ``max_alarms`` healthy alarms; returns (knob, alarms)."""
    make, lo, hi, larger_alarms_more = PEERS[peer]
    safe, sensitive = (lo, hi) if larger_alarms_more else (hi, lo)
    return bisect_knob(make, safe, sensitive, streams, max_alarms, steps)


def bisect_knob(make, safe: float, sensitive: float, streams: Sequence[Sequence[float]], max_alarms: int,
                steps: int = 9) -> tuple[float, int]:
    """Log bisection from ``safe`` towards ``sensitive``: the most sensitive knob with at most ``max_alarms``
    healthy alarms over ``streams`` (a fresh ``make(knob)`` per stream); ``safe`` when even it has more."""
    best = (safe, count_alarms(lambda: make(safe), streams))
    for _ in range(steps):
        mid = math.exp((math.log(safe) + math.log(sensitive)) / 2)
        a = count_alarms(lambda m=mid: make(m), streams)
        if a <= max_alarms:
            safe, best = mid, (mid, a)
        else:
            sensitive = mid
    return best
