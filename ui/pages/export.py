"""Export: CSV downloads of an endpoint's metrics and reports, and of the audit log (never headers/secrets)."""

import sys
from pathlib import Path

_ROOT = str(Path(__file__).resolve().parents[2])
if _ROOT not in sys.path:  # standalone runs (AppTest.from_file) put only this folder on the path
    sys.path.insert(0, _ROOT)

import streamlit as st

from app.errors import MlfiError
from app.views.endpoint_form import slugify
from ui import data
from ui.components import ensure_routed

ensure_routed()


def _lines(csv: bytes) -> int:
    return max(0, csv.count(b"\n") - 1)


db = data.db_or_stop()
st.title("Export")
st.caption("CSV files for spreadsheets and reports. Request headers and other secrets are never exported.")

names = data.endpoint_names(db)
with st.container(border=True):
    st.subheader("Endpoint data")
    if not names:
        st.info("No endpoints yet.")
    else:
        chosen = st.session_state.get("selected_endpoint")
        name = st.selectbox("Endpoint", names, index=names.index(chosen) if chosen in names else 0, key="exp_endpoint")
        try:
            metrics, reports = data.metrics_csv(db, name), data.reports_csv(db, name)
        except MlfiError as exc:
            st.error(str(exc))
        else:
            c1, c2 = st.columns(2)
            c1.download_button("Metrics time series (CSV, per minute)", metrics, file_name=f"{slugify(name)}-metrics.csv",
                               mime="text/csv", key="dl_metrics", icon=":material/download:", width="stretch")
            c1.caption(f"{_lines(metrics):,} rows: samples, errors, error rate, confidence, latency, "
                       "accuracy per minute")
            c2.download_button("Reports (CSV)", reports, file_name=f"{slugify(name)}-reports.csv", mime="text/csv",
                               key="dl_reports", icon=":material/download:", width="stretch")
            c2.caption(f"{_lines(reports):,} rows: verdict, severity, alert and metrics per analysis")

with st.container(border=True):
    st.subheader("Audit log")
    audit = data.audit_csv(db)
    st.download_button("Audit log (CSV)", audit, file_name="mlfi-audit-log.csv", mime="text/csv", key="dl_audit",
                       icon=":material/download:")
    st.caption(f"{_lines(audit):,} entries with their hash chain (seq, prev_hash, hash).")
