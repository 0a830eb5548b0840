"""Evaluation: metrics, calibration, slices, errors and cost-based thresholds of a predictions CSV."""

import sys
from pathlib import Path

_ROOT = str(Path(__file__).resolve().parents[2])
if _ROOT not in sys.path:  # standalone runs (AppTest.from_file) put only this folder on the path
    sys.path.insert(0, _ROOT)

import pandas as pd
import streamlit as st

from app.errors import MlfiError
from app.evaluation import EvalOptions
from app.views.evaluation import ColumnSpec, sample_bytes
from app.views.wording import metric_name
from ui import data
from ui.components import ensure_routed

ensure_routed()

NONE = "(none)"


def pick(options: list[str], wanted: str) -> int:
    return options.index(wanted) if wanted in options else 0


st.title("Evaluation")
st.caption(
    "Aggregate metrics hide failures: see calibration, the worst slices, the errors, and the threshold "
    "that minimises the cost of mistakes."
)
source = st.radio(
    "Predictions", ["Shipped example (breast cancer, two models)", "Upload a CSV"], key="ev_source", horizontal=True
)
if source.startswith("Upload"):
    up = st.file_uploader(
        "Predictions CSV (label, score, optional model and slice columns)", type="csv", key="ev_upload"
    )
    if up is None:
        st.info("Upload a CSV, or use the shipped example.", icon=":material/upload_file:")
        st.stop()
    raw = up.getvalue()
else:
    raw = sample_bytes()
try:
    cols = data.evaluation_columns(raw)
except MlfiError as exc:
    st.error(str(exc))
    st.stop()

if st.session_state.get("ev_columns") != cols:      # another file: its own column choices, not the last file's
    for key in ("ev_label", "ev_score", "ev_model", "ev_id", "ev_slices"):
        st.session_state.pop(key, None)
    st.session_state["ev_columns"] = cols

c1, c2, c3, c4 = st.columns(4)
label = c1.selectbox("Label column", cols, index=pick(cols, "label"), key="ev_label")
scores = c2.multiselect(
    "Score column(s)",
    cols,
    default=[c for c in ["score"] if c in cols],
    key="ev_score",
    help="One column for binary; one per class for multiclass.",
)
model = c3.selectbox("Model column", [NONE, *cols], index=pick([NONE, *cols], "model"), key="ev_model")
case_id = c4.selectbox("Id column", [NONE, *cols], index=pick([NONE, *cols], "case_id"), key="ev_id")
slices = st.multiselect(
    "Slice columns", cols, default=[c for c in ("size_bucket", "texture_bucket") if c in cols], key="ev_slices"
)
d1, d2, d3 = st.columns(3)
cost_fp = d1.number_input("Cost of a false positive", min_value=0.0, value=1.0, step=0.5, key="ev_cost_fp")
cost_fn = d2.number_input("Cost of a false negative", min_value=0.0, value=5.0, step=0.5, key="ev_cost_fn")
threshold = d3.slider("Threshold for metrics", 0.0, 1.0, 0.5, 0.01, key="ev_threshold")
if not scores:
    st.info("Pick the score column.")
    st.stop()
spec = ColumnSpec(
    label, tuple(scores), tuple(slices), None if model == NONE else model, None if case_id == NONE else case_id
)
try:
    result = data.evaluate(raw, spec, EvalOptions(threshold=threshold, cost_fp=cost_fp, cost_fn=cost_fn))
except MlfiError as exc:
    st.error(str(exc).splitlines()[0], icon=":material/error:")
    st.stop()

report, figs, tables = result.report, result.figures, result.tables
st.subheader(f"Metrics{f' · {report.model}' if report.model else ''} (n={report.n})")
items = list(report.metrics.items())
for row in (items[:5], items[5:]):
    for col, (name, value) in zip(st.columns(5)[: len(row)], row, strict=True):
        col.metric(metric_name(name), "n/a" if value is None else f"{value:.3f}")
st.code(result.summary, language=None, wrap_lines=True)
tabs = st.tabs(["Decision", "Slices", "Calibration", "Errors", "Models", "Export"])
with tabs[0]:
    if "cost_curve" in figs:
        st.plotly_chart(figs["cost_curve"], key="ev_fig_cost")
        st.dataframe(pd.DataFrame(tables["slice_costs"]), hide_index=True, key="ev_cost_slices")
    else:
        st.info("Cost analysis applies to binary tasks.")
with tabs[1]:
    if "slice_heatmap" in figs:
        st.plotly_chart(figs["slice_heatmap"], key="ev_fig_slices")
    st.dataframe(pd.DataFrame(tables["slices"]), hide_index=True, key="ev_slices_table")
with tabs[2]:
    st.plotly_chart(figs["reliability"], key="ev_fig_rel")
    st.caption(report.calibration.binning)
with tabs[3]:
    st.plotly_chart(figs["score_distribution"], key="ev_fig_dist")
    st.dataframe(pd.DataFrame(tables["errors"]), hide_index=True, key="ev_cases")
    st.caption(report.errors.cluster_method)
    st.dataframe(pd.DataFrame(tables["clusters"]), hide_index=True, key="ev_clusters")
with tabs[4]:
    if report.comparison is None:
        st.info("Pick a model column to compare models.")
    else:
        st.dataframe(pd.DataFrame(tables["models"]), hide_index=True, key="ev_models")
        for name in ("model_slice_heatmap", "cost_ratio"):
            if name in figs:
                st.plotly_chart(figs[name], key=f"ev_fig_{name}")
with tabs[5]:
    st.download_button("Download JSON", report.model_dump_json(indent=2), "evaluation.json", key="ev_dl_json")
    st.download_button("Download HTML report", result.html, "evaluation.html", "text/html", key="ev_dl_html")
