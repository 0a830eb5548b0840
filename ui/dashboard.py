"""mlfi dashboard entry point: page config, the shared sidebar and routing (``st.navigation``) only."""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # `streamlit run ui/dashboard.py` puts only ui/ on the path
    sys.path.insert(0, str(ROOT))

import streamlit as st

from ui.components import inject_css, sidebar

st.set_page_config(page_title="mlfi · ML Failure Investigator", page_icon=":material/monitor_heart:", layout="wide")

HERE = Path(__file__).parent
sections = {
    "Monitoring": [
        st.Page("pages/overview.py", title="Overview", icon=":material/dashboard:", default=True),
        st.Page("pages/endpoint.py", title="Endpoint", icon=":material/monitoring:"),
        st.Page("pages/add_endpoint.py", title="Add endpoint", icon=":material/add_circle:"),
    ],
    "Governance": [
        st.Page("pages/investigation.py", title="Investigation", icon=":material/troubleshoot:"),
        st.Page("pages/recommendations.py", title="Recommendations", icon=":material/fact_check:"),
        st.Page("pages/export.py", title="Export", icon=":material/download:"),
    ],
}
experiments = [st.Page(f"pages/{stem}.py", title=title, icon=icon) for stem, title, icon in
               (("diagnosis", "Experiment diagnosis", ":material/science:"),
                ("evaluation", "Evaluation", ":material/analytics:")) if (HERE / "pages" / f"{stem}.py").exists()]
if experiments:
    sections["Experiments"] = experiments

nav = st.navigation(sections)
inject_css()
sidebar()
nav.run()
