"""Detector base class: input validation, fit/score state, result objects, BH correction, effect floors.

A detector compares a *current* window with a *reference* it was fitted on and returns one
:class:`TestResult` per variable it tested (a column, or the whole table for multivariate tests).
It only computes per-variable statistics; the verdict is decided for a whole family of results at
once by :func:`decide`:

    drift_detected = BH-adjusted p < alpha  AND  effect_size >= effect_floor

The Benjamini-Hochberg step controls the false-discovery rate across every feature and every test
in the family (and the family-wise error rate when nothing changed), so adding features does not
add false alarms. The effect floor is the practical half of the verdict: at a million rows every
test is "significant", and only the effect size says whether the change matters.
"""

from __future__ import annotations

import functools
import math
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

import numpy as np

from app.detection.columns import SortedColumns
from app.errors import InputError, MlfiError
from app.schemas import DriftResult

__all__ = [
    "Detector",
    "InputKind",
    "NotFittedError",
    "TestResult",
    "benjamini_hochberg",
    "cauchy_combination",
    "clean_float",
    "decide",
]

InputKind = Literal["numeric", "categorical", "binary", "outputs", "frame"]


class NotFittedError(MlfiError):
    """``score`` was called before ``fit``."""


def clean_float(x: Any) -> float | None:
    """A JSON-safe float: ``None`` for missing, NaN or infinite values.

    >>> clean_float(float("nan")) is None, clean_float(np.float64(2.5)), clean_float(None) is None
    (True, 2.5, True)
    """
    if x is None:
        return None
    try:
        f = float(x)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


@dataclass(frozen=True)
class TestResult:
    """One statistical test on one variable; ``p_adjusted``/``drift_detected`` are set by :func:`decide`."""

    __test__ = False  # not a pytest test class

    name: str
    method: str
    statistic: float | None
    p_value: float | None
    effect_size: float | None
    effect_floor: float
    n_reference: int = 0
    n_current: int = 0
    delta: float | None = None
    detail: str | None = None
    deterministic: bool = False
    p_adjusted: float | None = None
    drift_detected: bool = False
    # multivariate tests: (variable, share of the evidence) pairs, most responsible first
    attribution: tuple[tuple[str, float], ...] = ()

    def to_drift(self) -> DriftResult:
        """The contract's drift block (NaN-free)."""
        return DriftResult.model_validate({
            "method": self.method, "statistic": clean_float(self.statistic), "p_value": clean_float(self.p_value),
            "p_value_adjusted": clean_float(self.p_adjusted), "effect_size": clean_float(self.effect_size),
            "effect_floor": self.effect_floor, "drift_detected": self.drift_detected, "detail": self.detail,
            "n_reference": self.n_reference, "n_current": self.n_current, "delta": clean_float(self.delta)})

    @property
    def strength(self) -> float:
        """Effect size in units of its floor (0 when unknown); used to rank and grade findings."""
        e = clean_float(self.effect_size)
        if e is None:
            return 0.0
        return e / self.effect_floor if self.effect_floor > 0 else e


def benjamini_hochberg(p_values: Sequence[float | None]) -> list[float | None]:
    """Benjamini-Hochberg adjusted p-values (``None`` entries pass through untouched).

    Same numbers as ``scipy.stats.false_discovery_control(p, method="bh")``.

    >>> [round(p, 4) for p in benjamini_hochberg([0.01, 0.04, 0.03, 0.20])]
    [0.04, 0.0533, 0.0533, 0.2]
    >>> benjamini_hochberg([None, 0.5])
    [None, 0.5]
    """
    idx = [i for i, p in enumerate(p_values) if p is not None and math.isfinite(float(p))]
    out: list[float | None] = [None] * len(p_values)
    if not idx:
        return out
    p = np.asarray([float(p_values[i]) for i in idx])  # type: ignore[arg-type]
    m = p.size
    order = np.argsort(p, kind="mergesort")
    scaled = p[order] * m / np.arange(1, m + 1)
    adj_sorted = np.minimum.accumulate(scaled[::-1])[::-1].clip(0.0, 1.0)
    adj = np.empty(m)
    adj[order] = adj_sorted
    for k, i in enumerate(idx):
        out[i] = float(adj[k])
    return out


def cauchy_combination(p_values: Sequence[float]) -> float:
    """Cauchy combination (ACAT, Liu & Xie 2020) of p-values with equal weights.

    Valid whatever the dependence between the tests (its tail is exact for small p), so several
    tests of one feature (KS, Welch, Brown-Forsythe) count as one hypothesis: when one of them is
    very small the result is about ``k * min(p)``, and smaller when they agree.

    >>> round(cauchy_combination([0.5, 0.5]), 6), round(cauchy_combination([0.02]), 6)
    (0.5, 0.02)
    >>> 1e-6 < cauchy_combination([1e-6, 0.9, 0.5]) < 4e-6
    True
    """
    ps = [min(max(float(p), 0.0), 1.0) for p in p_values]
    if not ps:
        raise ValueError("no p-values to combine")
    if min(ps) == 0.0:
        return 0.0
    w = 1.0 / len(ps)
    t = 0.0
    for p in ps:
        if p < 1e-15:
            t += w / (p * math.pi)
        else:
            t += w * math.tan((0.5 - min(p, 1 - 1e-15)) * math.pi)
    if t > 1e15:
        return min(1.0, 1.0 / (t * math.pi))
    return float(min(1.0, max(0.0, 0.5 - math.atan(t) / math.pi)))


def decide(results: Sequence[TestResult], alpha: float, sensitivity: Mapping[str, float] | None = None,
           hypotheses: Sequence[Any] | None = None) -> list[TestResult]:
    """Apply BH across the family and the effect floors; return the decided results.

    ``hypotheses`` (optional) gives each result a hypothesis key: results sharing a key (the tests of
    one feature) are first merged into one p-value by :func:`cauchy_combination`, and BH runs over
    hypotheses. A result is then flagged when its hypothesis' adjusted p < alpha, its own p < alpha
    and its effect >= its floor, so each flag is backed by its own test and its own effect size.

    ``sensitivity`` maps a method name to a multiplier ``s`` (>1 = less sensitive): that method's
    alpha becomes ``alpha / s`` and its floor ``floor * s``. Deterministic results (a missing
    column) have no p-value and are decided on their effect alone.

    >>> r = [TestResult("a", "ks", 0.5, 1e-6, 0.5, 0.05), TestResult("b", "ks", 0.01, 1e-6, 0.01, 0.05),
    ...      TestResult("c", "ks", 0.2, 0.3, 0.2, 0.05)]
    >>> [x.drift_detected for x in decide(r, 0.05)]
    [True, False, False]
    >>> decide(r, 0.05, {"ks": 20.0})[0].drift_detected  # floor 1.0 now
    False
    """
    if not 0.0 < alpha < 1.0:
        raise InputError(f"alpha must be in (0, 1), got {alpha}")
    sens = dict(sensitivity or {})
    keys = list(hypotheses) if hypotheses is not None else list(range(len(results)))
    if len(keys) != len(results):
        raise ValueError("one hypothesis key per result is needed")
    members: dict[Any, list[float]] = {}
    for k, r in zip(keys, results):
        if not r.deterministic and r.p_value is not None:
            members.setdefault(k, []).append(r.p_value)
    hyp_keys = list(members)
    adjusted = dict(zip(hyp_keys, benjamini_hochberg([cauchy_combination(members[k]) for k in hyp_keys])))
    out = []
    for k, r in zip(keys, results):
        s = max(float(sens.get(r.method, sens.get(r.method.split(".")[0], 1.0))), 1e-9)
        effect = clean_float(r.effect_size)
        big_enough = effect is not None and effect >= r.effect_floor * s
        p_adj = None if r.deterministic or r.p_value is None else adjusted.get(k)
        if r.deterministic:
            flagged = big_enough
        else:
            flagged = (p_adj is not None and p_adj < alpha / s and r.p_value is not None
                       and r.p_value < alpha / s and big_enough)
        out.append(_with(r, p_adjusted=p_adj, drift_detected=bool(flagged), effect_floor=r.effect_floor * s))
    return out


def _with(r: TestResult, **changes: Any) -> TestResult:
    """``dataclasses.replace`` without re-running ``__init__`` (a window decides hundreds of results).

    >>> from dataclasses import replace
    >>> r = TestResult("a", "ks", 0.1, 0.2, 0.1, 0.05)
    >>> _with(r, p_adjusted=0.4) == replace(r, p_adjusted=0.4), r.p_adjusted
    (True, None)
    """
    new = object.__new__(TestResult)
    new.__dict__.update(r.__dict__)
    new.__dict__.update(changes)
    return new


def _describe(x: Any) -> str:
    shape = getattr(x, "shape", None)
    return f"shape {tuple(shape)}" if shape is not None else f"a {type(x).__name__}"


class Detector(ABC):
    """Base of every detector: hyper-parameters in ``__init__``, learned state in ``fit``.

    Subclasses set ``name``, ``input_kind``, ``default_floor`` and implement ``_fit`` / ``_score``.
    Inputs are 2-D (rows x variables); a 1-D input is one variable. ``score`` refuses to run before
    ``fit`` and rejects a current window whose number of variables differs from the reference.
    """

    name: ClassVar[str]
    input_kind: ClassVar[InputKind] = "numeric"
    default_floor: ClassVar[float]
    effect_label: ClassVar[str] = "effect size"
    same_columns: ClassVar[bool] = True
    min_rows: ClassVar[int] = 2
    sorted_input: ClassVar[bool] = False  # True: fit/score receive SortedColumns (built once, shared)

    def __init__(self, *, effect_floor: float | None = None, seed: int = 0) -> None:
        floor = self.default_floor if effect_floor is None else effect_floor
        if not isinstance(floor, (int, float)) or not math.isfinite(floor) or floor < 0:
            raise InputError(f"{self.name}: effect_floor must be a finite number >= 0, got {effect_floor!r}")
        self.effect_floor = float(floor)
        self.seed = int(seed)
        self.fitted_ = False

    # ---- validation ---------------------------------------------------------------------
    def _as_2d(self, data: Any, role: str) -> np.ndarray:
        if self.input_kind == "frame":
            raise NotImplementedError  # frame detectors override _validate
        dtype = object if self.input_kind in ("categorical", "outputs") else float
        try:
            arr = np.asarray(data, dtype=dtype)
        except (TypeError, ValueError) as exc:
            raise InputError(f"{self.name}: {role} data is not {self.input_kind}: {str(exc).splitlines()[0]}") from exc
        if arr.ndim == 1:
            arr = arr.reshape(-1, 1)
        if arr.ndim != 2:
            raise InputError(f"{self.name}: {role} must be 2-D (rows x variables), got {_describe(arr)}")
        if self.input_kind == "binary":
            vals = arr[~np.isnan(arr)]
            if vals.size and not np.isin(vals, (0.0, 1.0)).all():
                raise InputError(f"{self.name}: {role} must hold 0/1 values")
        return arr

    def _validate(self, data: Any, role: str) -> Any:
        if isinstance(data, SortedColumns) and not self.sorted_input:
            raise InputError(f"{self.name}: takes a matrix, not sorted columns")
        arr = data if isinstance(data, SortedColumns) else self._as_2d(data, role)
        if arr.shape[1] == 0:
            raise InputError(f"{self.name}: {role} has no variables ({_describe(arr)})")
        if role == "current" and self.same_columns and arr.shape[1] != self.n_features_:
            raise InputError(f"{self.name}: current has {_describe(arr)} but the reference had "
                             f"shape {self.reference_shape_}: both need {self.n_features_} variable(s)")
        if arr.shape[0] < self.min_rows:
            raise InputError(f"{self.name}: {role} needs at least {self.min_rows} rows, got {_describe(arr)}")
        if self.sorted_input and not isinstance(arr, SortedColumns):
            return SortedColumns.from_matrix(arr)
        return arr

    # ---- public API ---------------------------------------------------------------------
    def fit(self, reference: Any, names: Sequence[str] | None = None) -> Detector:
        """Learn the reference state; returns ``self``."""
        ref = self._validate(reference, "reference")
        self.reference_shape_ = tuple(ref.shape)
        self.n_features_ = int(ref.shape[1])
        cols = list(getattr(ref, "columns", []))
        self.names_ = [str(n) for n in (names or cols or [f"x{i}" for i in range(self.n_features_)])]
        if len(self.names_) != self.n_features_:
            raise InputError(f"{self.name}: {len(self.names_)} names given for {self.n_features_} variables")
        self._fit(ref)
        self.fitted_ = True
        return self

    def score(self, current: Any) -> list[TestResult]:
        """Test the current window against the fitted reference (one result per variable)."""
        if not getattr(self, "fitted_", False):
            raise NotFittedError(f"{self.name}: call fit(reference) before score(current)")
        return self._score(self._validate(current, "current"))

    def result(self, name: str, statistic: Any, p_value: Any, effect: Any, n_ref: int, n_cur: int,
               *, delta: Any = None, detail: str | None = None, deterministic: bool = False) -> TestResult:
        """Build a :class:`TestResult` of this detector (floats cleaned of NaN)."""
        return TestResult(name=name, method=self.name, statistic=clean_float(statistic),
                          p_value=clean_float(p_value), effect_size=clean_float(effect),
                          effect_floor=self.effect_floor, n_reference=int(n_ref), n_current=int(n_cur),
                          delta=clean_float(delta), detail=detail, deterministic=deterministic)

    @abstractmethod
    def _fit(self, reference: Any) -> None:
        """Store the learned state as named attributes ending in ``_``."""

    @abstractmethod
    def _score(self, current: Any) -> list[TestResult]:
        """Return one result per variable."""


def finite_column(col: np.ndarray) -> np.ndarray:
    """The finite values of a numeric column as float64.

    >>> finite_column(np.array([1.0, np.nan, 3.0])).tolist()
    [1.0, 3.0]
    """
    col = np.asarray(col, dtype=float)
    ok = np.isfinite(col)
    return col if ok.all() else col[ok]


def single_threaded() -> Any:
    """Context manager limiting OpenMP/BLAS pools to one thread for model fits.

    Gradient boosting with OpenMP threads that spin-wait is 20x *slower* on a shared 2-core
    machine than with one thread (measured: 11 s vs 0.5 s for 10k rows); the detectors' models are
    small, so one thread is the fast and predictable choice.
    """
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1)


@functools.lru_cache(maxsize=1)
def _blas_controller() -> Any:
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()   # numpy's BLAS is loaded by now; inspecting it once costs ~ms


def blas_single_threaded() -> Any:
    """Context manager holding numpy's BLAS to one thread (the joint tests' small matrix algebra).

    A 30 x 30 eigendecomposition took 34 ms with the BLAS thread pool on the loaded 2-core machine
    and 1.5 ms with one thread; entering this context costs ~20 microseconds.
    """
    return _blas_controller().limit(limits=1, user_api="blas")


__all__ += ["blas_single_threaded", "finite_column", "single_threaded"]
