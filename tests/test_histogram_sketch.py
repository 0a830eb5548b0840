"""Issue 17: mergeable per-feature sketches for MLFI_STORE_INPUTS=none -- counts over the baseline's quantile
edges merge exactly, and drift against them agrees with scipy on the raw / binned values within the stated bound."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from app.detection.baseline import learn_baseline
from app.detection.histogram_sketch import HistogramSketch
from app.detection.sketch import absorb, histograms, quantile_sketch, sketch_baseline, sketch_frame
from app.errors import InputError
from app.schemas import Sample

RNG = np.random.default_rng(17)
REF = RNG.normal(0, 1, 2000)
EDGES = quantile_sketch(REF.tolist())


def test_merge_is_the_sketch_of_the_union_and_refuses_other_edges() -> None:
    a, b = RNG.normal(0, 1, 500), RNG.normal(1, 2, 700)
    ha, hb = HistogramSketch.from_values(a, EDGES), HistogramSketch.from_values(b, EDGES)
    assert ha.merge(hb) == HistogramSketch.from_values(np.r_[a, b], EDGES) == hb.merge(ha)
    assert ha.merge(hb).n == 1200 and HistogramSketch.from_dict(ha.as_dict()) == ha
    with pytest.raises(InputError, match="same edges"):
        ha.merge(HistogramSketch.from_values(a, EDGES[:-1]))


@pytest.mark.parametrize(("shift", "m"), [(0.0, 300), (0.25, 300), (1.0, 100)])
def test_ks_against_the_sketch_brackets_scipy_on_the_raw_values(shift: float, m: int) -> None:
    win = RNG.normal(shift, 1, m)
    h = HistogramSketch.from_values(REF, EDGES)
    d, p, bound = h.ks(win)
    raw = stats.ks_2samp(REF, win, method="asymp")
    assert d <= raw.statistic + 1e-12 <= d + bound + 1e-12          # the stated error bound
    assert bound < 0.1 and p >= raw.pvalue - 1e-12                   # a smaller statistic: never a smaller p
    assert (p < 0.01) == (raw.pvalue < 0.01)                          # same verdict on these cells


def test_chi2_equals_scipy_on_the_binned_values() -> None:
    win = RNG.normal(0.3, 1.2, 400)
    h = HistogramSketch.from_values(REF, EDGES)
    stat, p = h.chi2(win)
    table = np.vstack([h.counts, HistogramSketch.from_values(win, EDGES).counts])
    want = stats.chi2_contingency(table[:, table.sum(axis=0) > 0], correction=False)
    assert stat == pytest.approx(want.statistic) and p == pytest.approx(want.pvalue)


def _baseline(values: np.ndarray) -> object:
    samples = [Sample(endpoint="e", ts=float(i), inputs={"x": float(v)}, prediction=str(int(v > 0)), confidence=0.8)
               for i, v in enumerate(values)]
    return learn_baseline("e", samples)


def test_sketched_baseline_keeps_counts_absorbs_windows_and_rebuilds_a_close_reference() -> None:
    b = sketch_baseline(_baseline(REF[:400]))
    h = histograms(b)["x"]
    assert h.n == 400 and h.edges == tuple(b.features["x"].values) and b.feature_rows == []
    w1, w2 = RNG.normal(0, 1, 150), RNG.normal(0, 1, 250)
    one = absorb(absorb(b, {"x": HistogramSketch.from_values(w1, h.edges)}), {"x": HistogramSketch.from_values(w2, h.edges)})
    both = absorb(b, {"x": HistogramSketch.from_values(np.r_[w1, w2], h.edges)})
    assert histograms(one) == histograms(both) and one.notes["sketch"]["n"] == 800
    frame = sketch_frame(one)
    assert frame is not None and len(frame) == 800
    raw = np.r_[REF[:400], w1, w2]
    # the rebuilt reference is within the rank error of one bin (1 / 100) plus the sampling of its mass
    assert stats.ks_2samp(frame["x"], raw).statistic <= 0.02
    with pytest.raises(InputError, match="sketched baseline"):
        absorb(_baseline(REF[:200]), {})
