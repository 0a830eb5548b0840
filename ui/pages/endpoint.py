"""Endpoint: KPIs vs baseline, charts of the rolling values the detectors test, drift by verdict, alerts by incident."""

import sys
from pathlib import Path

_ROOT = str(Path(__file__).resolve().parents[2])
if _ROOT not in sys.path:  # standalone runs (AppTest.from_file) put only this folder on the path
    sys.path.insert(0, _ROOT)

import html
import time

import streamlit as st

from app.views import live
from app.views.kpis import kpi_of_cause
from app.views.long_range import LONG_RANGES
from app.views.overview import is_passive
from app.views.series import RANGES, baseline_band
from app.views.verdict import verdict_text
from ui import charts, data, live_charts
from ui.components import (
    ago,
    alerts_by_incident,
    autorefresh,
    ensure_routed,
    kpi_tiles,
    set_monitoring,
    show_flash,
    status_badge,
)
from ui.estimate_chart import estimate_chart

ensure_routed()
MAX_POINTS = 240
LIVE_SAMPLES = 2000   # newest samples drawn as rolling windows (bounded read)
autorefresh("endpoint_refresh")
s = data.settings()
db = data.db_or_stop()
st.session_state.pop("_open_endpoint", None)   # an Overview "Details" click has arrived (see pages/overview.py)
names = data.endpoint_names(db)
st.title("Endpoint")
show_flash()
if not names:
    st.info("No endpoints yet. Add one on the **Add endpoint** page.", icon=":material/info:")
    st.stop()

chosen = st.query_params.get("endpoint") or st.session_state.get("selected_endpoint")   # ?endpoint=NAME deep link
# one row each: at 1024 px the six range buttons do not fit beside the picker (the last ones were cut off)
name = st.selectbox("Endpoint", names, index=names.index(chosen) if chosen in names else 0, key="ep_select")
st.session_state["selected_endpoint"] = name
range_label = st.segmented_control("Time range", list(RANGES), default="1 hour", key="ep_range") or "1 hour"

summary = data.endpoint_summary(db, name)
ep = data.endpoint_row(db, name)
if ep is None or summary is None:
    st.error(f"Endpoint {name!r} no longer exists.")
    st.stop()

passive = is_passive(ep.protocol, ep.url)
h1, h2 = st.columns([4, 1.6], vertical_alignment="center")
# the name shrinks with the window instead of splitting mid-word ("predic / t" at 1024 px)
shown_name = html.escape(name).replace("/", "/<wbr>")
h1.markdown(f"{status_badge(summary.status)} &nbsp;<code class='mlfi-ep-name'>{shown_name}</code>", unsafe_allow_html=True)
if passive:   # fed by `mlfi ingest`: nothing is probed, so no interval, last probe or start/stop
    h1.caption("ingested data (passive: analysed as rows arrive, nothing is probed)")
else:
    h1.caption(f"{ep.protocol or 'auto'} · `{ep.url}` · every {float(ep.interval_s or 0):g} s · "
               f"last probe {ago(ep.last_probe_at)}")
    enabled = ep.enabled
    h2.button("Stop monitoring" if enabled else "Start monitoring", key="ep_toggle", width="stretch",
              type="secondary" if enabled else "primary", on_click=set_monitoring, args=(name, not enabled))

base, version = data.baseline(db, name)
tiles = data.window_kpis(db, name, s.window_size)
total = summary.samples
st.caption(f"Latest {s.window_size} samples vs baseline" + (f" v{version}" if version else " (no baseline yet)") +
           f" · {total:,} samples stored")
if summary.last_verdict is not None:
    st.markdown(f"**Last verdict:** {verdict_text(summary.last_verdict, summary.last_severity)} "
                f"<span style='color:#6b7280;font-size:0.9em'>({ago(summary.last_report_at)})</span>",
                unsafe_allow_html=True)
else:   # a new endpoint: the watcher learns a baseline from the first window_size samples, then analyses
    ready = data.readiness(db, name, total, False)
    with st.container(border=True):
        st.markdown(f"**No verdict yet.** {ready.message}.")
        if ready.phase == "collecting":
            st.progress(ready.fraction, text=f"{ready.collected:,} / {ready.needed:,} samples for the baseline")
        st.caption(f"The baseline is learned from the first {s.window_size} samples (MLFI_WINDOW_SIZE); after that the "
                   f"watcher analyses the latest window every {s.analysis_every_s:g} s (MLFI_ANALYSIS_EVERY_S).")

since = data.range_start(range_label)
now = time.time()
frame = data.live_frame(db, name, since, LIVE_SAMPLES)
view = live.rolling_view(frame, s.window_size, max_points=MAX_POINTS)
# at least ~5 probes per point, so a point is an average and not one noisy probe
if range_label in LONG_RANGES and since is not None:   # raw rows are pruned: long ranges read the aggregates
    df = data.long_timeseries(db, name, since, MAX_POINTS)
else:
    df = data.timeseries(db, name, since, MAX_POINTS, max(1.0, 5 * float(ep.interval_s or 1.0)))
# sparklines: the same rolling window as the tiles' values, so a tile's line ends at its number
spark = {key: view[col].tolist() for key, col in (
    ("avg_confidence", "confidence"), ("confidence_std", "confidence_std"), ("error_rate", "error_rate"),
    ("latency_p50_ms", "latency_p50_ms"), ("latency_p95_ms", "latency_p95_ms"), ("accuracy", "accuracy"))}
hot = kpi_of_cause(summary.last_verdict, tiles) if summary.status in ("warning", "failing") else None
kpi_tiles(tiles, spark=spark, highlight=hot)

marks = data.markers(db, name, since)
spans = live.incident_spans(data.endpoint_incidents(db, name), now=now, since=since)
lim = live.thresholds(base)
if frame.empty and df.empty:
    st.info("No samples in this time range yet. Charts fill as the watcher probes the endpoint.")
else:
    incomplete = live.last_bucket_incomplete(df, now)
    st.caption(f"Bold line: the value the detectors test, over the {s.window_size} samples ending at each point "
               f"(newest {len(frame):,} samples); faint line: per-bucket values; red dotted: where an alert starts; "
               "shaded: incidents from their change point to their resolution.")

    def chart(col, metric, title, color, *, bucket_col=None, percent=False, band=None, baseline=None, ci=None,
              subtitle=None):
        col.plotly_chart(live_charts.live_chart(
            view, metric, title, color=color, percent=percent, subtitle=subtitle, band=band, baseline=baseline, threshold=lim.get(metric),
            markers=live.markers_for(marks, metric), spans=spans, ci=ci, buckets=df, bucket_column=bucket_col,
            incomplete=incomplete), key=f"chart_{metric}", config=charts.CONFIG)

    c1, c2 = st.columns(2)
    regression = (base is not None and base.task == "regression") or ("mae" in df and df["mae"].notna().any())
    if not regression and view["labelled"].sum() > 0:
        chart(c1, "accuracy", "Accuracy", "#1f9d55", bucket_col="accuracy", subtitle="labelled probes, 95% interval",
              percent=True, baseline=base.accuracy if base else None, ci=("acc_low", "acc_high"))
    elif "mae" in df and df["mae"].notna().any():
        c1.plotly_chart(charts.metric_chart(df, "mae", "Mean absolute error (labelled probes)", color="#1f9d55",
                                            markers=live.markers_for(marks, "accuracy"),
                                            baseline=base.mae if base else None), key="chart_mae", config=charts.CONFIG)
    elif base is not None and base.task == "regression":
        c1.info("Regression endpoint without labelled answers in this range: the error chart needs labels.")
    else:
        c1.info("Accuracy needs labelled probes (a probe set with a label column).")
    chart(c2, "error_rate", "Error rate", "#d62728", bucket_col="error_rate", percent=True,
          baseline=base.error_rate if base else None)
    c3, c4 = st.columns(2)
    chart(c3, "confidence", "Confidence (mean)", "#2563eb", bucket_col="avg_confidence", band=baseline_band(base))
    chart(c4, "latency_p95_ms", "Latency p95 (ms)", "#7e3af2", baseline=base.latency_p95_ms if base else None)
    c5, c6 = st.columns(2)
    mix = live.class_mix(frame)
    if mix.empty:
        c5.info("No answered predictions in this range yet.")
    else:
        c5.plotly_chart(live_charts.class_mix_chart(mix, spans=spans, markers=live.markers_for(marks, "class_mix")),
                        key="chart_mix", config=charts.CONFIG)
    if not df.empty:
        c6.plotly_chart(live_charts.volume_chart(live.volume(df), incomplete=incomplete), key="chart_volume",
                        config=charts.CONFIG)
        rate = float(df["sample_rate"].iloc[0])
        st.caption(f"{len(df)} points (at most {MAX_POINTS}, "
                   f"{'from the per-minute aggregates' if df.attrs.get('source') == 'aggregates' else 'aggregated in the database'}) · "
                   f"{'' if df.attrs.get('n_exact', True) else '≈ '}{df.attrs.get('n_range', 0):,} samples in range" +
                   ("" if rate >= 1.0 else f" · each point summarises a time-stratified {rate:.1%} sample"))

est = data.estimates(db, name, since)   # label-free accuracy estimate per analysis window (issue 11 item 5)
if not est.empty and est["estimated_accuracy"].notna().any():
    st.plotly_chart(estimate_chart(est), key="chart_estimate", config=charts.CONFIG)
    if bool(est["estimate_unreliable"].iloc[-1]):
        st.caption(f"Latest label-free estimate is unreliable: {est['estimate_reason'].iloc[-1]}")
    elif est["estimate_note"].iloc[-1]:
        st.caption(f"Latest label-free estimate, note: {est['estimate_note'].iloc[-1]}")

grid = data.drift(db, name, since)
if grid.empty:
    st.info("No drift tests in this time range yet (they run with each analysis window).")
else:
    st.plotly_chart(live_charts.drift_status_chart(grid), key="chart_drift", config=charts.CONFIG)
    feats = [v for v in grid.variables if not v.startswith("[")]
    if feats:
        pick = st.selectbox("Compare a feature with its reference", feats, key="ep_feature",
                            help="Features drifting in the newest report first.")
        ref, cur = data.feature_values(db, name, pick)
        if ref and cur:
            st.plotly_chart(live_charts.histogram_chart(ref, cur, pick), key="chart_hist", config=charts.CONFIG)
        else:
            st.caption(f"No reference or current values of {pick!r} stored (privacy mode or no baseline).")

alerts_by_incident(marks, data.endpoint_incidents(db, name))
st.caption(data.kept_text(db))
