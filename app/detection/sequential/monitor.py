"""Per-endpoint sequential monitor: one sample in, every signal's detector updated, alarms and recoveries out.

Signals (each active only when the baseline has it): ``errors`` (request failed), ``correctness``
(wrong answer, labelled samples only), ``confidence`` (mean/scale, both ways), ``latency`` (log latency,
slower only, +20% tolerated) and ``class_mix`` (predicted-class shares).

Latency is scored as ``ln(latency + 20 ms)`` against a baseline widened by ``ln 1.25`` of jitter (one
normal sd added to its quantiles): a change a user cannot see (2 ms -> 6 ms on a loaded host, the
20 ms floor of the windowed latency test) is no incident, and a baseline learnt on a quiet host with a
tiny spread does not make every scheduler hiccup a many-sd outlier. A real slow-down (+226 ms, x2 on
100 ms) still scores at the clip (|z| = 2.8).

False-alarm budget: ``false_alarm_every`` expected healthy samples between false alarms for the whole
endpoint (default 10,000). With ``m`` active signals each detector gets ``m * false_alarm_every``, so
the alarm rates add up to the budget. With a baseline of known size the thresholds are the larger of
the bootstrap for its estimation error (analytic, :mod:`~app.detection.sequential.estimation`) and,
for errors, correctness, confidence and class mix, the analytic threshold corrected by simulating the
detector's own healthy law (:mod:`~app.detection.sequential.simulated`; the analytic one alone ran at
0.00-0.25 false alarms per 10,000 when set for 1). Confidence gets binned shift charts (1 and 2.5 sd on the
confidence scale, :mod:`~app.detection.sequential.shiftbins`) and latency untolerated mean charts, each where the
baseline's spread lets them tolerate the tolerance (``untolerated_deltas``). Confidence's scale charts score each value moved 0.005
towards the baseline median (``scale_tolerance``): a 150-sample baseline's top quantiles of a confidence piled up
under 1 can be off by a few 1e-4, which made the scale chart rise on healthy digits data (19 of 21 false alarms in
200,000 samples came from one such baseline). After an alarm the signal runs a :class:`RecoveryTest` instead of
its detector; when that passes, a ``recovered`` event is returned and the detector starts afresh.

Recovery budget: a signal still failing at (or beyond) its recovery alternative is declared healthy less
than once per ``false_alarm_every / RECOVERY_SHARE`` failing samples (1,000 by default; one chart, the
next smaller alternative than the alarm's). It only runs while a signal is in alarm, so it spends none of
the healthy budget; a premature recovery costs a second incident, not a missed one. The stated recovery
delay is ``h_r / KL(f0 || f1)``: with the detector's own threshold it was about twice as long (e.g. 63
instead of 30 samples for 3 % -> 31 % wrong and back, simulated), for 1-3 premature recoveries per 100
sixty-sample failures (``tests/test_sequential.py``, ``bench/sequential``).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field, replace
from statistics import NormalDist
from typing import Any

from app.detection.sequential.base import SequentialDetector, detector_from_dict
from app.detection.sequential.bernoulli import DEFAULT_SHIFTS, BernoulliCusum
from app.detection.sequential.calibration import cusum_threshold
from app.detection.sequential.classmix import ClassMixCusum, tilts_for
from app.detection.sequential.estimation import CAP, bootstrap_threshold
from app.detection.sequential.meanscale import _PROBS, MeanScaleCusum, baseline_quantiles, untolerated_deltas
from app.detection.sequential.memo import memoised
from app.detection.sequential.recovery import RecoveryTest
from app.detection.sequential.refine import CAP as REFINE_CAP
from app.detection.sequential.refine import Refinement
from app.detection.sequential.simulated import conservatism, corrected_budget

__all__ = ["Alarm", "MonitorBaseline", "Sample", "SequentialMonitor", "latency_scale_quantiles"]

LATENCY_TOLERANCE = math.log(1.2)
LATENCY_OFFSET_MS = 20.0
LATENCY_JITTER = math.log(1.25)
CONFIDENCE_TOLERANCE = 0.02
# confidence's untolerated charts: Gaussian mean shifts on normal scores (RAW) and binned shifts on the confidence
# scale itself (BIN, shiftbins.py), each kept only where its half-shift is at least the tolerance
CONFIDENCE_SCALE_TOLERANCE = 0.005   # the scale charts: values moved this much towards the median
CONFIDENCE_RAW: tuple[float, ...] = ()
CONFIDENCE_BIN = (1.0, 2.5)
WARNING_SHARE = 0.5           # a statistic at half its threshold is a warning: the watcher probes faster
RECOVERY_SHARE = 10            # recovery budget: false_alarm_every / 10 still-failing samples per false recovery
MIN_BASELINE = 20
LARGE_REFERENCE = REFINE_CAP   # a reference this large gets its bootstrap solved for the simulated budget
# signals whose nominal threshold is the analytic one corrected by simulating its healthy law (simulated.py);
# latency's healthy law is the jitter-widened baseline, which its untolerated chart does not tolerate by design
SIMULATED = ("errors", "correctness", "confidence", "class_mix")
_INV = NormalDist().inv_cdf


@dataclass(frozen=True)
class Sample:
    """One answered (or failed) request of an endpoint."""

    error: bool
    correct: bool | None = None
    confidence: float | None = None
    latency_ms: float | None = None
    predicted: str | None = None


@dataclass(frozen=True)
class Alarm:
    """A change (``kind="change"``) or a return to the baseline (``kind="recovered"``) of one signal.

    ``change_point`` is the monitor index of the first changed (or healed) sample, ``detected_at`` the
    index of the sample that decided, ``delay`` the samples between them (inclusive).
    """

    signal: str
    kind: str
    change_point: int
    detected_at: int
    delay: int
    statistic: float
    threshold: float
    alternative: str
    expected_delay: float


@dataclass(frozen=True)
class MonitorBaseline:
    """What the detectors compare with: rates, quantiles (log latency) and class shares of a healthy period."""

    error_rate: float
    accuracy: float | None = None
    confidence_quantiles: list[float] | None = None
    latency_quantiles: list[float] | None = None
    class_shares: dict[str, float] | None = field(default=None)
    # baseline samples behind each signal's estimate: the thresholds are then bootstrapped for the
    # estimation error (:mod:`app.detection.sequential.estimation`); None keeps the nominal thresholds
    sizes: dict[str, int] | None = field(default=None)

    @classmethod
    def from_samples(cls, samples: Iterable[Sample]) -> MonitorBaseline:
        """Learn a baseline from healthy samples (signals with fewer than 20 values stay off)."""
        rows = list(samples)
        if len(rows) < MIN_BASELINE:
            raise ValueError(f"need at least {MIN_BASELINE} baseline samples, got {len(rows)}")
        ok = [s for s in rows if not s.error]
        labelled = [bool(s.correct) for s in ok if s.correct is not None]
        conf = [float(s.confidence) for s in ok if s.confidence is not None]
        lat = [float(s.latency_ms) for s in ok if s.latency_ms is not None and s.latency_ms > 0]
        counts: dict[str, int] = {}
        for s in ok:
            if s.predicted is not None:
                counts[str(s.predicted)] = counts.get(str(s.predicted), 0) + 1
        n_pred = sum(counts.values())
        return cls(
            sizes={"errors": len(rows), "correctness": len(labelled), "confidence": len(conf), "latency": len(lat),
                   "class_mix": n_pred},
            error_rate=sum(s.error for s in rows) / len(rows),
            accuracy=sum(labelled) / len(labelled) if len(labelled) >= MIN_BASELINE else None,
            confidence_quantiles=baseline_quantiles(conf) if len(conf) >= MIN_BASELINE else None,
            latency_quantiles=baseline_quantiles(lat, "log") if len(lat) >= MIN_BASELINE else None,
            class_shares={k: v / n_pred for k, v in counts.items()} if len(counts) >= 2 and n_pred >= MIN_BASELINE
            else None,
        )


def latency_scale_quantiles(log_quantiles: list[float]) -> list[float]:
    """Baseline quantiles of ``ln latency`` -> those of ``ln(latency + 20 ms)`` plus ``ln 1.25`` sd of jitter.

    >>> q = latency_scale_quantiles([math.log(2.0)] * 199)        # a constant 2 ms baseline
    >>> round(math.exp(q[99]), 1), q[0] < q[99] < q[-1]
    (22.0, True)
    """
    return [math.log(math.exp(q) + LATENCY_OFFSET_MS) + LATENCY_JITTER * _INV(p) for q, p in zip(log_quantiles, _PROBS)]


def latency_raw_quantiles(log_quantiles: list[float]) -> list[float]:
    """Baseline quantiles of ``ln(latency + 20 ms)`` without the jitter: what the untolerated latency charts score
    against (only where the baseline's own spread makes them tolerate the jitter, see ``untolerated_deltas``)."""
    return [math.log(math.exp(q) + LATENCY_OFFSET_MS) for q in log_quantiles]


def _confidence_untolerated(q: list[float]) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """Deltas (sd) of confidence's untolerated normal-score and binned shift charts on baseline quantiles ``q``."""
    return (untolerated_deltas(q, CONFIDENCE_TOLERANCE, CONFIDENCE_RAW),
            untolerated_deltas(q, CONFIDENCE_TOLERANCE, CONFIDENCE_BIN))


def _signals(b: MonitorBaseline) -> dict[str, tuple[Callable[[float], SequentialDetector], Callable[[Sample], Any]]]:
    out: dict[str, tuple[Callable[[float], SequentialDetector], Callable[[Sample], Any]]] = {
        "errors": (lambda arl: BernoulliCusum(p0=b.error_rate, false_alarm_every=arl), lambda s: int(bool(s.error))),
    }
    if b.accuracy is not None:
        acc = b.accuracy
        out["correctness"] = (lambda arl: BernoulliCusum(p0=1 - acc, false_alarm_every=arl),
                              lambda s: None if s.error or s.correct is None else int(not s.correct))
    if b.confidence_quantiles is not None:
        q = b.confidence_quantiles
        cr, cb = _confidence_untolerated(q)
        out["confidence"] = (lambda arl: MeanScaleCusum(quantiles=q, tolerance=CONFIDENCE_TOLERANCE, raw_deltas=cr,
                                                        bin_deltas=cb, scale_tolerance=CONFIDENCE_SCALE_TOLERANCE,
                                                        false_alarm_every=arl),
                             lambda s: None if s.error else s.confidence)
    if b.latency_quantiles is not None:
        lq, lr = latency_scale_quantiles(b.latency_quantiles), latency_raw_quantiles(b.latency_quantiles)
        lrd = untolerated_deltas(lr, LATENCY_JITTER)
        out["latency"] = (lambda arl: MeanScaleCusum(quantiles=lq, transform="log", direction="up",
                                                     tolerance=LATENCY_TOLERANCE, raw_deltas=lrd, raw_quantiles=lr,
                                                     false_alarm_every=arl),
                          lambda s: None if s.error or s.latency_ms is None or s.latency_ms <= 0
                          else s.latency_ms + LATENCY_OFFSET_MS)
    if b.class_shares is not None:
        shares = b.class_shares
        tilts = tilts_for((b.sizes or {}).get("class_mix"))
        out["class_mix"] = (lambda arl: ClassMixCusum(shares=shares, tilts=tilts, false_alarm_every=arl),
                            lambda s: None if s.error or s.predicted is None else str(s.predicted))
    return out


_Spec = tuple[Callable[[list[Any] | None, Any], SequentialDetector], list[Any], list[Any], list[float] | None]


def _bootstrap_spec(name: str, det: SequentialDetector, b: MonitorBaseline, arl: float) -> _Spec | None:
    """What the bootstrap of one signal needs: ``make(values, grid)`` (values None: the baseline's own estimate),
    the grids of alternatives from the fullest down, and the healthy atoms with their weights (None if none)."""
    weights: list[float] | None = None
    grids: list[Any] = [None]
    if name in ("errors", "correctness"):
        p = b.error_rate if name == "errors" else 1.0 - float(b.accuracy or 0.0)
        atoms, weights = [0, 1], [1.0 - p, p]
        grids = [tuple(DEFAULT_SHIFTS[i:]) for i in range(len(DEFAULT_SHIFTS) - 1)]

        def make(xs: list[Any] | None, g: Any) -> SequentialDetector:
            p0 = p if xs is None else min(sum(xs) / len(xs), 0.97)
            return BernoulliCusum(p0=p0, shifts=g, false_alarm_every=arl)
    elif name == "confidence" and b.confidence_quantiles is not None:
        atoms, q0 = list(b.confidence_quantiles), list(b.confidence_quantiles)
        grids = [(0.5, 1.0, 2.0), (1.0, 2.0), (2.0,)]
        cr, cb = _confidence_untolerated(q0)

        def make(xs: list[Any] | None, g: Any) -> SequentialDetector:
            return MeanScaleCusum(quantiles=q0 if xs is None else baseline_quantiles(xs), deltas=g, raw_deltas=cr,
                                  bin_deltas=cb, tolerance=CONFIDENCE_TOLERANCE, scale_tolerance=CONFIDENCE_SCALE_TOLERANCE,
                                  false_alarm_every=arl)
    elif name == "latency" and b.latency_quantiles is not None:
        atoms = [math.exp(q) + LATENCY_OFFSET_MS for q in b.latency_quantiles]   # what the detector is fed
        lq0 = list(b.latency_quantiles)
        lrd = untolerated_deltas(latency_raw_quantiles(lq0), LATENCY_JITTER)

        def make(xs: list[Any] | None, g: Any) -> SequentialDetector:
            lq = lq0 if xs is None else baseline_quantiles([x - LATENCY_OFFSET_MS for x in xs], "log")
            return MeanScaleCusum(quantiles=latency_scale_quantiles(lq), transform="log", direction="up",
                                  tolerance=LATENCY_TOLERANCE, raw_deltas=lrd, raw_quantiles=latency_raw_quantiles(lq),
                                  false_alarm_every=arl)
    elif name == "class_mix" and b.class_shares is not None:
        shares = dict(b.class_shares)
        atoms, weights = list(shares), list(shares.values())
        grids = [(0.1, 0.2, 0.4, 0.8), (0.2, 0.4, 0.8), (0.4, 0.8), (0.8,)]

        size = (b.sizes or {}).get("class_mix")

        def make(xs: list[Any] | None, g: Any) -> SequentialDetector:
            sh = shares if xs is None else {c: float(xs.count(c)) for c in atoms}
            return ClassMixCusum(shares=sh, weights=g, tilts=tilts_for(size if xs is None else len(xs)),
                                 false_alarm_every=arl)
    else:
        return None
    return make, grids, atoms, weights


def _calibrated(name: str, det: SequentialDetector, b: MonitorBaseline, n: int, arl: float, *,
                refine: bool = False) -> tuple[SequentialDetector, Refinement | None]:
    """One signal's detector with its bootstrap threshold for a baseline of ``n`` samples (see estimation) and,
    with ``refine``, for a count signal (errors, correctness, class mix) whose baseline is below the refinement
    cap, its :class:`Refinement`: the ladder of thresholds for the baseline size doubled up to the cap.

    Where even the capped threshold cannot keep the budget, the smallest alternative is dropped (a mean
    shift of 0.5 sd, a class taking a 10 % share, an error rate 5 points up: changes the baseline's own
    sampling error can fake)
    until it can: better a chart less than a budget broken for every chart."""
    spec = _bootstrap_spec(name, det, b, arl)
    if spec is None:
        return det, None
    make, grids, atoms, weights = spec
    sizes = [n]
    counted = refine and name in ("errors", "correctness", "class_mix")
    while counted and sizes[-1] < REFINE_CAP:
        sizes.append(REFINE_CAP if 4 * sizes[-1] > 0.9 * REFINE_CAP else 4 * sizes[-1])
    first, ladder = _ladder_from(name, det, make, grids, atoms, weights, n, arl, sizes=tuple(sizes))
    if len(sizes) < 2:
        return first, None
    kind = "class_mix" if name == "class_mix" else "bernoulli"
    counts = _split(n, dict(zip(map(str, atoms), weights or [], strict=True)))
    return first, Refinement(kind, counts, ladder)


def _ladder_from(name: str, det: SequentialDetector, make: Callable[[list[Any] | None, Any], SequentialDetector],
                 grids: list[Any], atoms: list[Any], weights: list[float] | None, n: int, arl: float, *,
                 sizes: tuple[int, ...]) -> tuple[SequentialDetector, list[list[Any]]]:
    """The detector calibrated at ``sizes[0]`` and the ladder ``[size, grid, h]`` over ``sizes``: per size the fullest
    grid whose bootstrap threshold is below the cap (the build's rule for a baseline of that size; never fewer
    alternatives than the size before); per grid, a larger size never gets a larger threshold."""
    floors: dict[Any, tuple[float, float]] = {}     # grid -> (simulated budget, floor)
    ladder: list[list[Any]] = []
    first: SequentialDetector = det
    last = len(grids) - 1
    for m in sizes:
        for gi in range(last + 1):
            g = grids[gi]
            full = make(None, g) if g is not None else det
            nominal = full.threshold
            if g not in floors:
                budget = corrected_budget(arl, conservatism(full, seed=n)) if name in SIMULATED else arl
                floors[g] = (budget, cusum_threshold(full.weighted_kl0(), budget) if name in SIMULATED else nominal)
            h = bootstrap_threshold(lambda xs, g=g: make(xs, g), atoms, weights, m, _boot(floors, g, m, arl), nominal,
                                    seed=m, floor=floors[g][1], order_free=bool(ladder))   # later rungs: counts at once
            if h < 0.999 * CAP * nominal or gi == last:
                if ladder and ladder[-1][1] != g:      # the previous grid at this size, with its own budget
                    ladder.append(_rung_for(ladder[-1], m, make, arl, atoms, weights, floors))
                if ladder and ladder[-1][1] == g:
                    h = min(h, ladder[-1][2])
                if not ladder:
                    full.threshold = h
                    first = full
                ladder.append([m, g, h])
                last = gi
                break
    return first, ladder


def _boot(floors: dict[Any, tuple[float, float]], g: Any, m: int, arl: float) -> float:
    """The budget grid ``g``'s bootstrap at reference size ``m`` is solved for. It stays analytic (``arl``) for a
    small reference (solving it for the simulated budget too put digits at 1.80 false alarms per 10,000 with
    150-sample baselines: its safety is needed there); from LARGE_REFERENCE samples on, the grid's simulated budget
    (the estimate is then close enough to the truth for the simulated factor, measured on it, to hold:
    bench/sequential)."""
    return floors[g][0] if m >= LARGE_REFERENCE else arl


def _rung_for(prev: list[Any], m: int, make: Callable[[list[Any] | None, Any], SequentialDetector], arl: float,
              atoms: list[Any], weights: list[float] | None, floors: dict[Any, tuple[float, float]]) -> list[Any]:
    """The previous rung's grid bootstrapped at size ``m`` too, where size ``m`` gets a fuller grid: the detector
    runs the previous grid until its reference reaches ``m``, and :func:`~app.detection.sequential.refine.
    ladder_threshold` then interpolates its threshold towards this one in ``1 / n`` instead of holding the previous
    rung's until the fuller grid applies (class mix at a 150-sample baseline: the chart ran at 600's threshold,
    14.3, for the whole way to 2,400, where the same grid needs 11.8). Never above the previous rung's."""
    _, g, h_prev = prev
    h = bootstrap_threshold(lambda xs: make(xs, g), atoms, weights, m, _boot(floors, g, m, arl),
                            make(None, g).threshold, seed=m, floor=floors[g][1], order_free=True)
    return [m, g, min(h, h_prev)]


def _split(n: int, shares: dict[str, float]) -> dict[str, int]:
    """``n`` baseline values split into counts by their shares (the baseline's own counts, up to rounding).

    >>> _split(150, {"0": 0.92, "1": 0.08})
    {'0': 138, '1': 12}
    """
    return {str(k): round(v * n) for k, v in shares.items()}


class SequentialMonitor:
    """Feeds each sample to every active signal; returns change and recovery events.

    Examples
    --------
    >>> base = MonitorBaseline(error_rate=0.0, accuracy=0.99)
    >>> mon = SequentialMonitor(base, false_alarm_every=10_000)
    >>> sorted(mon.detectors), round(mon.detectors["errors"].false_alarm_every)
    (['correctness', 'errors'], 20000)
    >>> events = [e for i in range(40) for e in mon.update(Sample(error=False, correct=i % 2 == 0))]
    >>> [(e.signal, e.kind, e.change_point) for e in events]
    [('correctness', 'change', 1)]
    """

    def __init__(self, baseline: MonitorBaseline, *, false_alarm_every: float = 10_000.0, refine: bool = True) -> None:
        if not false_alarm_every > 1:
            raise ValueError(f"false_alarm_every must be > 1, got {false_alarm_every}")
        self.baseline, self.false_alarm_every = baseline, float(false_alarm_every)
        specs = _signals(baseline)
        per_signal = self.false_alarm_every * len(specs)
        self.detectors = {name: make(per_signal) for name, (make, _) in specs.items()}
        # count signals whose baseline is small: a reference refined from calm stream samples (refine.py)
        self.refining: dict[str, Refinement] = {}
        for name, det in self.detectors.items():     # the baseline is an estimate: thresholds for its error
            n = (baseline.sizes or {}).get(name)
            if n:
                key = (name, n, per_signal, refine, json.dumps(asdict(baseline), sort_keys=True))   # memo: a rebuild is free
                self.detectors[name], ref = memoised(key, lambda name=name, det=det, n=n: _calibrated(
                    name, det, baseline, n, per_signal, refine=refine))
                if ref is not None:
                    self.refining[name] = ref
        self._extract = {name: get for name, (_, get) in specs.items()}
        self.recovering: dict[str, RecoveryTest] = {}
        self.n = 0

    def update(self, sample: Sample) -> list[Alarm]:
        """Feed one sample; returns the changes and recoveries it decided (usually none)."""
        t, self.n = self.n, self.n + 1
        events: list[Alarm] = []
        for name, det in self.detectors.items():
            x = self._extract[name](sample)
            if x is None:
                continue
            rec = self.recovering.get(name)
            if rec is not None:
                if rec.update(x, t).recovered:
                    assert rec.healed_at is not None
                    events.append(Alarm(name, "recovered", rec.healed_at, t, t - rec.healed_at + 1, rec.stat,
                                        rec.threshold, det.labels()[rec.chart] + " back", rec.expected_delay()))
                    del self.recovering[name]
                    det._reset()
                self._refine(name, x, det)
                continue
            if det.update(x, t).drift_detected:
                assert det.chart is not None and det.change_point is not None and det.delay is not None
                events.append(Alarm(name, "change", det.change_point, t, det.delay, det.scaled(det.chart),
                                    det.threshold, det.labels()[det.chart], det.expected_delay(det.chart)))
                self.recovering[name] = RecoveryTest(det, false_recovery_every=self.false_alarm_every / RECOVERY_SHARE)
            self._refine(name, x, det)
        return events

    def _refine(self, name: str, x: Any, det: SequentialDetector) -> None:
        """Offer ``x`` to the signal's reference (a calm chart: no alarm, statistic below the warning share)."""
        ref = self.refining.get(name)
        if ref is None:
            return
        calm = name not in self.recovering and det.statistic < WARNING_SHARE * det.threshold
        if ref.observe(x, calm):
            self.detectors[name] = ref.rebuild(det)

    @property
    def warning(self) -> bool:
        """A signal not in alarm is near one (its CUSUM statistic at ``WARNING_SHARE`` of its threshold): the
        watcher's variable sampling interval probes faster while this holds, or while an incident is open."""
        return any(d.statistic >= WARNING_SHARE * d.threshold
                   for name, d in self.detectors.items() if name not in self.recovering)

    @property
    def failing(self) -> list[str]:
        """Signals in alarm (changed, not yet recovered)."""
        return sorted(self.recovering)

    def to_dict(self) -> dict[str, Any]:
        """The whole state as a JSON-able dict; :meth:`from_dict` resumes from it."""
        return {"version": 1, "false_alarm_every": self.false_alarm_every, "n": self.n,
                "baseline": asdict(self.baseline),
                "detectors": {k: d.to_dict() for k, d in self.detectors.items()},
                "recovering": {k: r.to_dict() for k, r in self.recovering.items()},
                "refining": {k: r.to_dict() for k, r in self.refining.items()}}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SequentialMonitor:
        """Resume a monitor saved by :meth:`to_dict`."""
        try:
            if data.get("version") != 1:
                raise ValueError(f"unknown monitor state version {data.get('version')!r}")
            base = MonitorBaseline(**data["baseline"])
            # built without the bootstrap (the saved detectors carry their calibrated thresholds), then the baseline
            mon = cls(replace(base, sizes=None), false_alarm_every=float(data["false_alarm_every"]))
            mon.baseline = base
            if set(data["detectors"]) != set(mon.detectors):
                raise ValueError(f"saved signals {sorted(data['detectors'])} differ from {sorted(mon.detectors)}")
            mon.detectors = {k: detector_from_dict(v) for k, v in data["detectors"].items()}
            mon.recovering = {k: RecoveryTest.from_dict(v) for k, v in data["recovering"].items()}
            # a state saved before the refinement existed resumes without one (its thresholds stay as saved)
            mon.refining = {k: Refinement.from_dict(v) for k, v in data.get("refining", {}).items()}
            mon.n = int(data["n"])
        except (KeyError, TypeError) as e:
            raise ValueError(f"not a saved sequential monitor: {e}") from e
        return mon
