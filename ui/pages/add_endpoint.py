"""Add endpoint: URL, protocol with "test connection" (auto-detect), masked headers, probe-set upload, interval."""

import sys
from pathlib import Path

_ROOT = str(Path(__file__).resolve().parents[2])
if _ROOT not in sys.path:  # standalone runs (AppTest.from_file) put only this folder on the path
    sys.path.insert(0, _ROOT)

import streamlit as st

from app.errors import MlfiError
from app.probing import PROTOCOLS
from app.views import endpoint_form as form
from ui import data
from ui.components import ensure_routed, flash, show_flash

ensure_routed()
s = data.settings()
data.db_or_stop()
st.title("Add endpoint")
st.caption("Point mlfi at a deployed model. It sends rows of a probe set at the chosen interval, learns a baseline "
           "from the first window, then watches for drift, errors and slow-downs.")
show_flash()
gen = int(st.session_state.get("add_form_gen", 0))   # bumped after a save: fresh, empty widgets


def k(name: str) -> str:
    """Widget key of this form generation (``add_url``, then ``add_url_1`` after the first save, ...)."""
    return f"add_{name}" + (f"_{gen}" if gen else "")


with st.form("add_form", border=True):
    url = st.text_input("Model URL", placeholder="http://127.0.0.1:9000/predict", key=k("url"))
    name = st.text_input("Name", placeholder="optional: defaults to the URL", key=k("name"))
    c1, c2, c3 = st.columns(3)
    protocol = c1.selectbox("Protocol", ["auto", *PROTOCOLS], key=k("protocol"),
                            help="`auto` tries each protocol with one row of the probe set")
    interval = c2.number_input("Probe interval (seconds)", value=5.0, step=1.0, key=k("interval"))
    model_name = c3.text_input("Model name", placeholder="KServe / Open Inference only", key=k("model"))
    headers = st.text_input("Request headers", type="password", key=k("headers"),
                            placeholder="Authorization: Bearer …; X-Team: ml",
                            help="`Name: value`, several separated by `;`. Stored for probing only: never shown, "
                                 "logged or exported. Write `Bearer ${MODEL_TOKEN}` to keep the token out of the "
                                 "database: the reference is stored and the environment variable is read when probing.")
    c4, c5 = st.columns([3, 2])
    upload = c4.file_uploader("Probe set (CSV)", type=["csv"], key=k("probe_file"),
                              help="Rows of realistic inputs with the model's feature columns. Without one, the "
                                   "bundled breast-cancer probe set is used.")
    label = c5.text_input("Label column in the probe set", placeholder="optional, e.g. target", key=k("label"),
                          help="Enables accuracy tracking; the column is not sent to the model.")
    verify = st.checkbox("Verify with one probe before saving", value=True, key=k("verify"))
    b1, b2, _ = st.columns([1, 1, 3])
    test = b1.form_submit_button("Test connection", key="add_test", width="stretch")
    submit = b2.form_submit_button("Add endpoint", type="primary", key="add_submit", width="stretch")


def _request() -> form.NewEndpoint | None:
    req, errors = form.validate_form(name=name, url=url, protocol=protocol, headers_text=headers, interval_s=interval,
                                     label_column=label, model_name=model_name)
    for e in errors:
        st.error(e, icon=":material/error:")
    if req is None:
        return None
    if upload is not None:
        try:
            req.probe_set = str(form.save_probe_set(s, req.name, upload.getvalue(), label_column=req.label_column))
        except MlfiError as exc:
            st.error(f"Probe set rejected: {exc}", icon=":material/error:")
            return None
    return req


if test or submit:
    req = _request()
    if req is not None and test:
        with st.spinner("Probing the endpoint…"):
            try:
                res = form.test_connection(req, timeout_s=s.probe_timeout_s)
            except MlfiError as exc:
                st.error(f"Connection test failed: {exc}", icon=":material/error:")
            else:
                if res.ok:
                    conf = "—" if res.confidence is None else f"{res.confidence:.3f}"
                    st.success(f"Connected · protocol **{res.protocol}** · `{res.url}` · {res.latency_ms or 0:.1f} ms · "
                               f"prediction `{res.prediction}` (confidence {conf})", icon=":material/check_circle:")
                else:
                    st.error(f"Connection test failed: {res.message}", icon=":material/error:")
    elif req is not None and submit:
        with st.spinner("Saving…"):
            try:
                row = form.add_endpoint(data.store(), req, verify=verify, timeout_s=s.probe_timeout_s)
            except MlfiError as exc:
                st.error(f"Endpoint not added: {exc}", icon=":material/error:")
            else:
                data.invalidate()
                flash("success", f"Added **{row.name}** ({row.protocol}, every {row.interval_s:g} s). "
                      "Monitoring starts with the next watcher cycle.")
                if not data.watcher(s.db_url).alive:
                    flash("warning", "The watcher is not running: start it from the sidebar to collect samples.")
                st.session_state["selected_endpoint"] = row.name
                st.session_state["add_form_gen"] = gen + 1   # new, empty widgets: the typed headers leave the page
                st.rerun()
