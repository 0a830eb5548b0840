"""Endpoint-behaviour detectors: accuracy drop, error-rate rise, latency shift, silent failure.

(Confidence distribution and predicted classes reuse the ``ks``, ``variance`` and ``chi2``
detectors.) Each is one-sided: only a change for the worse is a finding.

- ``accuracy_drop``: 1/0 correctness per labelled sample; one-sided Fisher exact test (current
  odds of a correct answer lower). Effect: accuracy points lost; floor 0.03.
- ``error_rate``: 1/0 failure per sample; one-sided Fisher exact test. Effect: rise of the error
  rate; floor 0.02, so one stray timeout in 150 probes or a 0.1% -> 0.15% wobble in a million
  logged rows is not an incident.
- ``latency_shift``: two one-sided tests, Bonferroni-corrected (each p doubled), the finding is
  the one that is significant *and* passes its own practical size:
  *typical answer*: Mann-Whitney U (current latencies stochastically larger), effect the rise of
  the median relative to ``max(median_ref, min_abs_ms / floor)``; floor 0.5, so the median must
  rise by 50 % *and* by ``min_abs_ms`` (50 ms);
  *slow tail*: share of answers slower than the reference p95 + ``tail_ms`` (100 ms) against the
  reference's own share above that line (one-sided Fisher exact), effect the excess share; floor
  ``tail_share`` (0.10), so one answer in ten must be 100 ms slower than the reference p95.
  A busy client (the prober on a loaded machine) adds tens of ms to some answers and stalls a
  few by 100-200 ms (healthy windows recorded at load 4-5: p95 15-171 ms, up to 9 % of answers
  above 100 ms); neither test may read that as the model (bench/bench_latency_replay.py, where
  ``tail_ms`` and ``tail_share`` were chosen on one recording and reported on another).
- ``silent_failure``: degenerate outputs while the reference varied: a single predicted class
  (p-value: probability of n answers all in one class under the reference class shares,
  sum_k p_k**n) or collapsed confidence variance (p-value: chi-square variance test,
  (n-1) s_cur**2 / s_ref**2 ~ chi2(n-1), lower tail). Input: two columns (prediction, confidence).
  Effect: 1 for one class, else 1 - s_cur/s_ref; floor 0.9.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
from scipy import stats

from app.detection.base import Detector, TestResult, finite_column
from app.detection.chi2 import category_counts
from app.detection.registry import register

__all__ = ["AccuracyDropDetector", "ErrorRateDetector", "LatencyShiftDetector", "SilentFailureDetector"]


class _ProportionDetector(Detector):
    """Shared fit/score of the one-sided two-proportion (Fisher exact) detectors."""

    input_kind = "binary"
    worse_when_higher: bool = True
    noun = "rate"

    def _fit(self, reference: np.ndarray) -> None:
        self.ones_, self.n_ = [], []
        for j in range(reference.shape[1]):
            col = finite_column(reference[:, j])
            self.ones_.append(int(col.sum()))
            self.n_.append(int(col.size))

    def _score(self, current: np.ndarray) -> list[TestResult]:
        out = []
        for j, name in enumerate(self.names_):
            col = finite_column(current[:, j])
            k1, n1, k2, n2 = self.ones_[j], self.n_[j], int(col.sum()), int(col.size)
            if n1 == 0 or n2 == 0:
                out.append(self.result(name, None, None, None, n1, n2, detail="no values on one side"))
                continue
            alt = "greater" if self.worse_when_higher else "less"
            p = float(stats.fisher_exact([[k2, n2 - k2], [k1, n1 - k1]], alternative=alt).pvalue)
            r1, r2 = k1 / n1, k2 / n2
            worse = (r2 - r1) if self.worse_when_higher else (r1 - r2)
            out.append(self.result(name, r2, p, worse, n1, n2, delta=r2 - r1,
                                   detail=f"{self.noun} {r1:.1%} -> {r2:.1%} ({k2}/{n2} vs {k1}/{n1})"))
        return out


@register
class AccuracyDropDetector(_ProportionDetector):
    """One-sided test of lower accuracy (input: 1 = correct, 0 = wrong)."""

    name = "accuracy_drop"
    default_floor = 0.03
    effect_label = "accuracy points lost"
    worse_when_higher = False
    noun = "accuracy"


@register
class ErrorRateDetector(_ProportionDetector):
    """One-sided test of a higher error rate (input: 1 = failed request)."""

    name = "error_rate"
    default_floor = 0.02
    effect_label = "error-rate rise"
    noun = "error rate"


@register
class LatencyShiftDetector(Detector):
    """Slower answers: Mann-Whitney on the typical answer, exceedance on the slow tail, each with a practical size."""

    name = "latency_shift"
    input_kind = "numeric"
    default_floor = 0.5
    effect_label = "relative median rise (typical answers) or excess share of slow answers (tail)"

    def __init__(self, *, effect_floor: float | None = None, seed: int = 0, min_abs_ms: float = 50.0,
                 tail_ms: float = 100.0, tail_share: float = 0.10) -> None:
        super().__init__(effect_floor=effect_floor, seed=seed)
        if min_abs_ms < 0 or tail_ms < 0 or not 0 < tail_share < 1:
            raise ValueError(f"min_abs_ms and tail_ms must be >= 0 and 0 < tail_share < 1, "
                             f"got {min_abs_ms}, {tail_ms}, {tail_share}")
        self.min_abs_ms, self.tail_ms, self.tail_share = float(min_abs_ms), float(tail_ms), float(tail_share)

    def _fit(self, reference: np.ndarray) -> None:
        self.ref_ = [finite_column(reference[:, j]) for j in range(reference.shape[1])]
        self.med_ = [float(np.median(c)) if c.size else math.nan for c in self.ref_]
        self.p95_ = [float(np.quantile(c, 0.95)) if c.size else math.nan for c in self.ref_]

    def _typical(self, name: str, ref: np.ndarray, cur: np.ndarray, med: float) -> TestResult:
        u = stats.mannwhitneyu(cur, ref, alternative="greater", method="asymptotic")
        m = float(np.median(cur))
        base = max(med, self.min_abs_ms / self.effect_floor if self.effect_floor > 0 else med, 1e-9)
        return self.result(name, float(u.statistic), min(1.0, 2 * float(u.pvalue)), (m - med) / base, ref.size,
                           cur.size, delta=m - med,
                           detail=f"typical answer slower: median {med:.1f} ms -> {m:.1f} ms "
                                  f"(Mann-Whitney, p doubled for the two latency tests)")

    def _tail(self, name: str, ref: np.ndarray, cur: np.ndarray, p95: float) -> TestResult:
        line = p95 + self.tail_ms
        k1, k2 = int((ref > line).sum()), int((cur > line).sum())
        p = float(stats.fisher_exact([[k2, cur.size - k2], [k1, ref.size - k1]], alternative="greater").pvalue)
        r1, r2 = k1 / ref.size, k2 / cur.size
        scale = self.effect_floor / self.default_floor          # a sensitivity scales both practical sizes
        res = self.result(name, r2, min(1.0, 2 * p), r2 - r1, ref.size, cur.size, delta=r2 - r1,
                          detail=f"slow tail: {r2:.0%} of answers above {line:.0f} ms (reference p95 {p95:.1f} ms "
                                 f"+ {self.tail_ms:.0f} ms), {r1:.0%} in the reference")
        return dataclasses.replace(res, effect_floor=self.tail_share * scale)

    def _score(self, current: np.ndarray) -> list[TestResult]:
        out = []
        for j, name in enumerate(self.names_):
            ref, cur = self.ref_[j], finite_column(current[:, j])
            if ref.size == 0 or cur.size == 0:
                out.append(self.result(name, None, None, None, ref.size, cur.size, detail="no latencies on one side"))
                continue
            both = [self._typical(name, ref, cur, self.med_[j]), self._tail(name, ref, cur, self.p95_[j])]
            # report the test that passes its practical size with the smaller p (below 1e-6 a tie, won by the
            # typical answer, the plainer finding); when neither passes, the one nearer to its size
            out.append(min(both, key=lambda r: (r.strength < 1.0, max(r.p_value, 1e-6) if r.strength >= 1.0
                                                else -r.strength)))
        return out


@register
class SilentFailureDetector(Detector):
    """Degenerate outputs: one predicted class, or constant confidence, where the reference varied."""

    name = "silent_failure"
    input_kind = "outputs"
    default_floor = 0.9
    effect_label = "degeneracy (1 = constant output)"
    min_rows = 5

    def _fit(self, reference: np.ndarray) -> None:
        if reference.shape[1] != 2:
            from app.errors import InputError

            raise InputError(f"{self.name}: needs 2 columns (prediction, confidence), got shape {reference.shape}")
        counts = category_counts(reference[:, 0])
        total = sum(counts.values())
        self.shares_ = {k: v / total for k, v in counts.items()} if total else {}
        conf = finite_column(_floats(reference[:, 1]))
        self.conf_std_ = float(conf.std(ddof=1)) if conf.size > 1 else 0.0
        self.n_ref_ = int(reference.shape[0])

    def _score(self, current: np.ndarray) -> list[TestResult]:
        counts = category_counts(current[:, 0])
        m = sum(counts.values())
        conf = finite_column(_floats(current[:, 1]))
        checks: list[tuple[float, float, str]] = []  # (p, effect, text)
        if len(self.shares_) >= 2 and m >= self.min_rows and len(counts) == 1:
            (only, _), = counts.items()
            p = min(1.0, sum(s**m for s in self.shares_.values()))
            checks.append((p, 1.0, f"every one of {m} answers is the same prediction, {only!r}"))
        if self.conf_std_ > 1e-9 and conf.size >= self.min_rows:
            s = float(conf.std(ddof=1))
            ratio = s / self.conf_std_
            p = float(stats.chi2.cdf((conf.size - 1) * ratio**2, conf.size - 1))
            text = (f"confidence is constant ({conf.mean():.3g})" if s < 1e-9 else
                    f"confidence spread collapsed to {ratio:.0%} of the reference")
            checks.append((p, 1.0 - ratio, text))
        if not checks:
            return [self.result("outputs", None, None, 0.0, self.n_ref_, m, detail="not applicable")]
        p = min(1.0, len(checks) * min(c[0] for c in checks))
        effect = max(c[1] for c in checks)
        text = "; ".join(c[2] for c in checks if c[1] >= self.effect_floor) or checks[0][2]
        return [self.result("outputs", effect, p, effect, self.n_ref_, m, detail=text)]


def _floats(col: np.ndarray) -> np.ndarray:
    out = np.full(col.shape[0], np.nan)
    for i, v in enumerate(col):
        try:
            out[i] = float(v) if v is not None else np.nan
        except (TypeError, ValueError):
            out[i] = np.nan
    return out
