"""Issue 17: the Endpoint page's 7/30-day series come from the per-minute aggregates (raw rows are pruned), and
the page's "what is kept" line follows the settings and the retention in force."""

from __future__ import annotations

from app.config import Settings
from app.schemas import Sample
from app.storage import Store
from app.storage.retention import prune_pass
from app.views.long_range import kept_text, long_timeseries

EP = "http://127.0.0.1:9/predict"
NOW = 1_700_000_000.0 // 3600 * 3600 + 1800.0


def _samples(n: int, start: float, every: float) -> list[Sample]:
    return [Sample(endpoint=EP, ts=start + i * every, prediction=str(i % 2), label="0", latency_ms=float(10 + i % 7),
                   confidence=None if i % 10 == 9 else 0.5 + (i % 5) / 10, error_kind="timeout" if i % 10 == 9 else None)
            for i in range(n)]


def test_long_range_reads_aggregates_after_raw_rows_are_pruned(store: Store) -> None:
    store.add_samples(_samples(1080, NOW - 3 * 3600, 10.0))          # 3 hours, one sample every 10 s
    since = NOW - 7 * 86400
    before = long_timeseries(store, EP, since=since, now=NOW, max_points=240)   # nothing rolled up yet: raw rows
    res = prune_pass(store.engine, NOW, raw_retention_s=3600.0, aggregate_retention_s=90 * 86400.0)
    assert res.raw_deleted > 500 and store.count_samples(EP) < 600
    after = long_timeseries(store, EP, since=since, now=NOW, max_points=240)
    assert after.attrs["source"] == "aggregates" and len(after) <= 240
    assert int(after["n"].sum()) == int(before["n"].sum()) == 1080               # nothing lost, nothing twice
    assert int(after["errors"].sum()) == int(before["errors"].sum()) == 108
    assert after["accuracy"].dropna().between(0, 1).all() and after.attrs["bucket_s"] % 60 == 0


def test_kept_text_says_what_is_kept(settings: Settings, store: Store) -> None:
    none = settings.model_copy(update={"store_inputs": "none", "raw_retention": 7200.0})
    text = kept_text(none, store)
    assert "raw samples for 2 h" in text and "aggregates for 90 d" in text and "MLFI_STORE_INPUTS=none" in text
    assert "never stored" in text
