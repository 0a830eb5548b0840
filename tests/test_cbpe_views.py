"""Estimated vs realised accuracy in the export and the dashboard's read model and chart (seeded database)."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).parent))
import ui_seed

from app.exporting import ESTIMATE_COLUMNS, reports_frame
from app.views.estimate import estimate_series
from app.views.export import reports_csv
from ui.estimate_chart import estimate_chart


def test_export_and_chart_show_estimate_band_realised_and_unreliable(settings, store):
    seeded = ui_seed.seed(settings, store, n=200)
    reps = {r.report_id: r for r in store.list_reports(seeded["name"], limit=50)}
    df = reports_frame(store, seeded["name"])
    assert list(df.columns[-len(ESTIMATE_COLUMNS):]) == ESTIMATE_COLUMNS and len(df) == len(reps) == 4
    for row in df.itertuples():
        ep = reps[row.report_id].estimated_performance
        assert ep is not None and row.estimated_accuracy == ep.estimate and row.realised_accuracy == ep.realised
        assert row.estimate_low <= row.estimated_accuracy <= row.estimate_high
        assert bool(row.estimate_unreliable) == bool(row.alert)      # the drifted windows left the support
    csv = pd.read_csv(io.BytesIO(reports_csv(store, seeded["name"])))
    assert csv["estimate_reason"].fillna("").str.contains("reference support").sum() == df["alert"].sum() >= 1
    series = estimate_series(store, seeded["name"], since=float(df["ts"].iloc[1]))
    assert len(series) == len(df) - 1 and series["time"].is_monotonic_increasing
    names = [t.name for t in estimate_chart(series).data]
    assert names == ["95% band", "estimated", "unreliable", "realised"]
