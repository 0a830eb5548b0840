"""Endpoint: KPIs vs baseline, live charts with the baseline band and alert markers, drift heatmap."""

import sys
from pathlib import Path

_ROOT = str(Path(__file__).resolve().parents[2])
if _ROOT not in sys.path:  # standalone runs (AppTest.from_file) put only this folder on the path
    sys.path.insert(0, _ROOT)

import streamlit as st

from app.errors import MlfiError
from app.views.series import RANGES, baseline_band
from app.views.verdict import root_cause_label, verdict_text
from ui import charts, data
from ui.components import ago, autorefresh, ensure_routed, flash, kpi_tiles, show_flash, status_badge
from ui.estimate_chart import estimate_chart

ensure_routed()
MAX_POINTS = 240
autorefresh("endpoint_refresh")
s = data.settings()
db = data.db_or_stop()
names = data.endpoint_names(db)
st.title("Endpoint")
show_flash()
if not names:
    st.info("No endpoints yet. Add one on the **Add endpoint** page.", icon=":material/info:")
    st.stop()

chosen = st.session_state.get("selected_endpoint")
top1, top2 = st.columns([2, 3], vertical_alignment="bottom")
name = top1.selectbox("Endpoint", names, index=names.index(chosen) if chosen in names else 0, key="ep_select")
st.session_state["selected_endpoint"] = name
range_label = top2.segmented_control("Time range", list(RANGES), default="1 hour", key="ep_range") or "1 hour"

summary = data.endpoint_summary(db, name)
ep = data.endpoint_row(db, name)
if ep is None or summary is None:
    st.error(f"Endpoint {name!r} no longer exists.")
    st.stop()

h1, h2 = st.columns([5, 1.3], vertical_alignment="center")
h1.markdown(f"### {status_badge(summary.status)} &nbsp;`{name}`", unsafe_allow_html=True)
h1.caption(f"{ep.protocol or 'auto'} · `{ep.url or 'no URL (ingested data)'}` · every "
           f"{float(ep.interval_s or 0):g} s · last probe {ago(ep.last_probe_at)}")
enabled = ep.enabled
if h2.button("Stop monitoring" if enabled else "Start monitoring", key="ep_toggle", width="stretch",
             type="secondary" if enabled else "primary"):
    try:
        data.store().set_enabled(name, not enabled)
    except MlfiError as exc:
        st.error(str(exc))
    else:
        flash("success", f"Monitoring {'stopped' if enabled else 'started'} for {name}.")
        data.invalidate()
        st.rerun()

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
kpi_tiles(tiles)

since = data.range_start(range_label)
# at least ~5 probes per point, so a point is an average and not one noisy probe
df = data.timeseries(db, name, since, MAX_POINTS, max(1.0, 5 * float(ep.interval_s or 1.0)))
marks = data.markers(db, name, since)
if df.empty:
    st.info("No samples in this time range yet. Charts fill as the watcher probes the endpoint.")
else:
    c1, c2 = st.columns(2)
    c1.plotly_chart(charts.metric_chart(df, "avg_confidence", "Confidence", band=baseline_band(base), markers=marks),
                    key="chart_confidence", config=charts.CONFIG)
    c2.plotly_chart(charts.metric_chart(df, "error_rate", "Error rate", color="#d62728", markers=marks,
                                        baseline=base.error_rate if base else None, percent=True),
                    key="chart_errors", config=charts.CONFIG)
    c3, c4 = st.columns(2)
    c3.plotly_chart(charts.metric_chart(df, "avg_latency_ms", "Latency (ms, mean)", color="#7e3af2", markers=marks,
                                        baseline=base.latency_p50_ms if base else None,
                                        extra=("max_latency_ms", "max")), key="chart_latency", config=charts.CONFIG)
    if df["labelled"].sum() > 0:
        c4.plotly_chart(charts.metric_chart(df, "accuracy", "Accuracy (labelled probes)", color="#1f9d55",
                                            markers=marks, baseline=base.accuracy if base else None, percent=True),
                        key="chart_accuracy", config=charts.CONFIG)
    elif "mae" in df and df["mae"].notna().any():
        c4.plotly_chart(charts.metric_chart(df, "mae", "Mean absolute error (labelled probes)", color="#1f9d55",
                                            markers=marks, baseline=base.mae if base else None),
                        key="chart_mae", config=charts.CONFIG)
    elif base is not None and base.task == "regression":
        c4.info("Regression endpoint without labelled answers in this range: the error chart needs labels.")
    else:
        c4.info("Accuracy needs labelled probes (a probe set with a label column).")
    rate = float(df["sample_rate"].iloc[0])
    st.caption(f"{len(df)} points (at most {MAX_POINTS}, aggregated in the database) · "
               f"{'' if df.attrs.get('n_exact', True) else '≈ '}{df.attrs.get('n_range', 0):,} samples in range" +
               ("" if rate >= 1.0 else f" · each point summarises a time-stratified {rate:.1%} sample"))

est = data.estimates(db, name, since)   # label-free accuracy estimate per analysis window (issue 11 item 5)
if not est.empty and est["estimated_accuracy"].notna().any():
    st.plotly_chart(estimate_chart(est), key="chart_estimate", config=charts.CONFIG)
    if bool(est["estimate_unreliable"].iloc[-1]):
        st.caption(f"Latest label-free estimate is unreliable: {est['estimate_reason'].iloc[-1]}")

grid = data.drift(db, name, since)
if grid.empty:
    st.info("No drift tests in this time range yet (they run with each analysis window).")
else:
    st.plotly_chart(charts.drift_heatmap(grid), key="chart_drift", config=charts.CONFIG)

st.subheader(f"Alerts ({len(marks)})")
if marks.empty:
    st.success("No alerts in this time range.")
else:
    view = marks.sort_values("ts", ascending=False)[["time", "root_cause", "severity", "message", "report_id"]]
    view = view.assign(root_cause=[root_cause_label(r) for r in view["root_cause"]])
    # a row taller than 4rem lets Streamlit wrap the text, so the whole message is readable
    st.dataframe(view, hide_index=True, width="stretch", key="ep_alerts", row_height=72, column_config={
        "time": st.column_config.DatetimeColumn("time (UTC)", format="MM-DD HH:mm:ss", width="small"),
        "root_cause": st.column_config.TextColumn("root cause", width="small"),
        "severity": st.column_config.TextColumn(width="small"),
        "message": st.column_config.TextColumn("what happened", width="large"),
        "report_id": st.column_config.NumberColumn("report", width="small")})
