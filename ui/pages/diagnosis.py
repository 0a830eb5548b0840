"""Experiment diagnosis: describe or upload a failed experiment, see the cited diagnosis and the team history."""

import json
import sys
from pathlib import Path

_ROOT = str(Path(__file__).resolve().parents[2])
if _ROOT not in sys.path:  # standalone runs (AppTest.from_file) put only this folder on the path
    sys.path.insert(0, _ROOT)

import pandas as pd
import streamlit as st

from app.errors import MlfiError
from app.views import diagnosis as dx
from app.views.wording import words
from ui import charts, data, diagnosis_parts
from ui.components import ensure_routed, show_flash

ensure_routed()

st.title("Experiment diagnosis")
show_flash()
st.caption("Turn a failed experiment into cited evidence, a deployment gate, a remediation plan and a learning path.")
db_url = data.db_or_stop()

mode = st.radio(
    "Input", ["Describe it", "Upload a record (JSON)", "Shipped dataset example"], key="dx_mode", horizontal=True
)
prompt, record = None, None
if mode == "Describe it":
    prompt = st.text_area("What happened? Numbers per split help most.", dx.EXAMPLE_PROMPT, key="dx_prompt", height=110)
elif mode.startswith("Upload"):
    up = st.file_uploader("Experiment record (see docs/experiment_record.md)", type="json", key="dx_upload")
    if up is not None:
        try:
            record = dx.read_record(up.getvalue())
        except MlfiError as exc:
            st.error(str(exc))
            st.stop()
else:
    st.caption(f"`{dx.SAMPLE_PATH.name}`: diabetes data with a planted leaking column; the CSVs are measured.")
c1, c2 = st.columns([2, 1])
team = c1.text_input("Team", "", key="dx_team").strip() or None
save = c2.checkbox("Save to team history", value=True, key="dx_save")

if st.button("Run diagnosis", key="dx_run", type="primary"):
    try:
        result = data.diagnose(
            db_url,
            prompt=prompt,
            record=record,
            use_sample=mode.startswith("Shipped"),
            require_record=mode.startswith("Upload"),
            team=team,
            save=save,
        )
        st.session_state["dx_result"] = (result.payload, result.html)
    except MlfiError as exc:
        st.session_state.pop("dx_result", None)       # never show the previous run's result under this error
        st.error(str(exc))

if "dx_result" in st.session_state:
    p, html = st.session_state["dx_result"]
    m1, m2, m3 = st.columns([2, 3, 1])
    m1.metric("Primary category", words(p["primary_category"]), words(p["subtype"]) if p["subtype"] else "",
              delta_color="off")
    m2.markdown(f"<div style='font-size:0.875rem'>Deployment gate</div><div style='font-size:1.5rem;"
                f"font-weight:600;line-height:1.3'>{words(p['deployment_gate'])}</div>",
                unsafe_allow_html=True)
    m3.metric("Confidence", f"{p['confidence']:.2f}")
    st.write(
        f"report ready: **{words(p['report_ready'])}** · deployment ready: **{words(p['deployment_ready'])}** · "
        f"leakage audit recommended: **{words(p['leakage_audit_recommended'])}** · "
        f"responsible AI: **{words(p['responsible_ai_status'])}**"
        + (f" · secondary risks: {', '.join(words(r) for r in p['secondary_risks'])}" if p["secondary_risks"] else "")
    )
    st.caption("payload_hash (SHA-256 of the canonical payload; the CLI JSON and the HTML export show the same)")
    st.code(p["payload_hash"], language=None)
    cols = ["id", "kind", "category", "statement", "sources"]
    st.subheader("Evidence")
    st.dataframe(pd.DataFrame(p["evidence"], columns=cols), hide_index=True, key="dx_evidence")
    st.subheader("Counter-evidence")
    st.dataframe(pd.DataFrame(p["counter_evidence"], columns=cols), hide_index=True, key="dx_counter")
    st.subheader("Remediation plan")
    for key, label in (("3_day", "3 days"), ("7_day", "7 days")):
        st.markdown(
            f"**{label}**\n"
            + "\n".join(
                f"- {i['action']} (`{i['citation']['path']}` § {i['citation']['section']})"
                for i in p["remediation_plan"][key]
            )
        )
    diagnosis_parts.readiness(p)
    diagnosis_parts.governance(p)
    st.subheader("Learning path")
    st.dataframe(pd.DataFrame(p["learning_path"], columns=["id", "title", "certification"]), hide_index=True)
    st.subheader("Citations")
    st.dataframe(
        pd.DataFrame(p["citations"], columns=["path", "section", "snippet", "score", "permission_scope"]),
        hide_index=True,
        key="dx_citations",
    )
    g = p["grounding"]
    st.caption(f"grounding: {g['provider']} · {g['proof_level']} · search {g.get('search', 'local')} · reasoning "
               f"{g.get('reasoning', 'local')}" + (f" ({g['reasoning_model']})" if g.get("reasoning_model") else ""))
    d1, d2 = st.columns(2)
    d1.download_button("HTML report", html, f"{p['diagnosis_id']}.html", "text/html", key="dx_dl_html")
    d2.download_button(
        "JSON payload", json.dumps(p, indent=2), f"{p['diagnosis_id']}.json", "application/json", key="dx_dl_json"
    )

st.subheader("Team history")
counts = dx.heatmap_frame(data.diagnosis_history(db_url))
if counts.empty:
    st.info("No stored diagnoses yet: run one here or with `mlfi diagnose`.")
else:
    pick = st.selectbox("Team", dx.teams(counts), key="dx_hist_team")
    st.plotly_chart(charts.diagnosis_heatmap(dx.heatmap_grid(counts, pick)), key="dx_heatmap")
    st.dataframe(dx.team_table(counts), key="dx_team_table")
