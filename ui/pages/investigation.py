"""Investigation: an incident's root cause, severity, explanation, SHAP attribution, segments, similar incidents."""

import sys
from pathlib import Path

_ROOT = str(Path(__file__).resolve().parents[2])
if _ROOT not in sys.path:  # standalone runs (AppTest.from_file) put only this folder on the path
    sys.path.insert(0, _ROOT)

import pandas as pd
import streamlit as st

from app.errors import MlfiError
from app.views.attribution import attribution_view
from app.views.verdict import root_cause_label
from app.views.wording import words
from ui import charts, data
from ui.components import SEVERITY_COLORS, ago, badge, ensure_routed

ensure_routed()
db = data.db_or_stop()
st.title("Investigation")
which = st.segmented_control("Show", ["open", "all"], default="open", key="inv_filter") or "open"
incs = data.incident_list(db, "open" if which == "open" else None)
if incs.empty:
    if which == "open":
        st.success("No open incidents.", icon=":material/check_circle:")
    else:
        st.info("No incidents recorded yet.", icon=":material/info:")
    st.stop()

labels = {int(r.id): f"#{int(r.id)} · {r.endpoint} · {root_cause_label(r.root_cause)} · {r.severity} · {r.status}"
          for r in incs.itertuples()}
wanted = st.session_state.get("selected_incident")
ids = list(labels)
inc_id = st.selectbox("Incident", ids, index=ids.index(wanted) if wanted in ids else 0,
                      format_func=lambda i: labels[i], key="inv_incident")
try:
    d = data.incident(db, int(inc_id))
except MlfiError as exc:
    st.error(str(exc))
    st.stop()
inc, rep = d.incident, d.report

c1, c2, c3, c4 = st.columns([3, 1.4, 1.4, 1.6])
c1.markdown(f"### {root_cause_label(inc['root_cause'])}  \n`{d.endpoint}`")
c2.markdown(f"**Severity**  \n{badge(inc['severity'].upper(), SEVERITY_COLORS.get(inc['severity'], '#6b7280'))}",
            unsafe_allow_html=True)
c3.markdown(f"**Status**  \n{inc['status']}" + (f" ({words(inc['outcome'])})" if inc.get("outcome") else ""))
c4.markdown(f"**Opened** {ago(inc['opened_at'])}  \n**Alerts** {inc['alert_count']} · updated {ago(inc['updated_at'])}")

st.subheader("What happened")
if rep is not None:
    severe = rep.rca.severity in ("high", "critical")
    (st.error if severe else st.warning)(rep.rca.failure_reason, icon=":material/report:")
    if rep.rca.contributing:
        st.caption("Also fired: " + ", ".join(root_cause_label(c) for c in rep.rca.contributing))
    if rep.rca.evidence:
        with st.expander("Evidence", expanded=True):
            for line in rep.rca.evidence:
                st.markdown(f"- {line}")
elif inc.get("summary"):
    st.warning(inc["summary"], icon=":material/report:")

attr = attribution_view(rep)
if attr.show_chart:
    st.plotly_chart(charts.attribution_bar(attr.frame, attr.title, attr.axis), key="inv_shap", config=charts.CONFIG)
    if attr.caption:
        st.caption(attr.caption)
else:
    st.markdown(f"**{attr.title or 'Feature attribution'}**")
    st.info(attr.note or "No feature attribution for this incident.", icon=":material/info:")

st.markdown("**Affected segments**")
segs = [] if rep is None else [s.model_dump() for s in rep.rca.segments]
if segs:   # full width: a segment is a readable rule ("mean radius > 17.2 and ...") that must not be cut
    st.dataframe(pd.DataFrame(segs)[["description", "share", "metric", "value"]], hide_index=True, width="stretch",
                 key="inv_segments", row_height=72, column_config={
                     "description": st.column_config.TextColumn("segment", width="large"),
                     "share": st.column_config.ProgressColumn("share of window", min_value=0, max_value=1,
                                                              format="percent", width="small"),
                     "metric": st.column_config.TextColumn("metric", width="medium"),
                     "value": st.column_config.NumberColumn("value", format="%.3f", width="small")})
    st.caption("Only segments whose difference is significant (1% level, Bonferroni over the regions tried).")
else:
    st.caption("No segment stands out significantly.")
if rep is not None and rep.anomalies:
    st.markdown("**Anomalies**")
    st.dataframe(pd.DataFrame([a.model_dump() for a in rep.anomalies])[["detector", "severity", "message", "value",
                                                                         "threshold"]],
                 hide_index=True, width="stretch", key="inv_anomalies", row_height=72,
                 column_config={"detector": st.column_config.TextColumn(width="small"),
                                "severity": st.column_config.TextColumn(width="small"),
                                "message": st.column_config.TextColumn(width="large"),
                                "value": st.column_config.NumberColumn(
                                    "effect", format="%.3f", width="small",
                                    help="The test's effect size in its own unit (e.g. a log ratio of spreads, a "
                                         "KS distance, a change in share); the message says it in plain words."),
                                "threshold": st.column_config.NumberColumn(
                                    "floor", format="%.3f", width="small",
                                    help="The smallest effect that counts as a finding for this test.")})

st.subheader("Similar past incidents")
if not d.similar:
    st.caption("No similar past incident on record (same root cause, similarity at least 0.7).")
else:
    sim = pd.DataFrame([{"incident": f"#{x['incident_id']}", "endpoint": x.get("endpoint"), "score": x["score"],
                         "root cause": root_cause_label(x["root_cause"]), "severity": x["severity"],
                         "outcome": words(x.get("outcome")), "actions taken": "; ".join(
                             f"{a['action']} ({words(a['status'])}" + (
                                 "" if not a.get("outcome") else f", then {words(a['outcome'])}" if a.get("ran")
                                 else ", never ran: no credit for the outcome") + ")"
                             for a in x.get("actions", [])) or "—"} for x in d.similar])
    st.dataframe(sim, hide_index=True, width="stretch", key="inv_similar",
                 column_config={"score": st.column_config.ProgressColumn("similarity", min_value=0, max_value=1,
                                                                         format="%.2f")})
if st.button("See recommendations for this incident", key="inv_to_recs"):
    st.session_state["rec_incident"] = int(inc_id)
    st.switch_page("pages/recommendations.py")
