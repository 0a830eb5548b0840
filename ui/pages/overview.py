"""Overview: every endpoint with its status, last verdict, open incidents and sample counts; watcher state."""

import sys
from pathlib import Path

_ROOT = str(Path(__file__).resolve().parents[2])
if _ROOT not in sys.path:  # standalone runs (AppTest.from_file) put only this folder on the path
    sys.path.insert(0, _ROOT)

import time

import pandas as pd
import streamlit as st

from app.views.overview import status_counts
from app.views.verdict import verdict_text
from ui import data
from ui.components import (
    STATUS_COLORS,
    ago,
    autorefresh,
    badge,
    ensure_routed,
    set_monitoring,
    show_flash,
    status_badge,
)

OPEN_S = 10.0   # a "Details" click is honoured for this long (seconds) until the endpoint page opens


def _label(text: str) -> str:
    """A bold field label that never wraps (a narrow column split "Incidents" mid-word at 1024 px)."""
    return f"<span style='white-space:nowrap'>**{text}**</span>"


def _open(name: str) -> None:
    """A "Details" click (on_click): the endpoint page opens on the next run, however that run began."""
    st.session_state["selected_endpoint"] = name
    st.session_state["_open_endpoint"] = time.time()


ensure_routed()
# kept until the endpoint page clears it: an auto-refresh rerun of this page sent while the switch was under way
# replaced it (a user test at a 1 s refresh: the first Details click of a session opened the page in 0 of 6)
if time.time() - float(st.session_state.get("_open_endpoint") or 0.0) < OPEN_S:
    st.switch_page("pages/endpoint.py")
autorefresh("overview_refresh")
db = data.db_or_stop()
st.title("Overview")
show_flash()

w = data.watcher(db)
if w.alive:
    st.success(f"Watcher running · pid {w.pid} · {w.cycles or 0} cycles · last heartbeat "
               f"{w.last_beat_age_s or 0:.0f} s ago", icon=":material/check_circle:")
    for x in data.live_watchers(db):   # one line per watcher process (several share endpoints on PostgreSQL)
        st.caption(f"watcher {x['host']} · pid {x['pid']} · {x['endpoints']} endpoints · heartbeat "
                   f"{x['heartbeat_age_s']:.0f} s ago · {x['probes_per_minute'] or 0:g} probes/min")
else:
    st.warning("Watcher not running: no new samples are collected. Start it from the sidebar.",
               icon=":material/pause_circle:")

rows = data.overview_rows(db)
if not rows:
    st.info("No endpoints yet. Add one on the **Add endpoint** page.", icon=":material/info:")
    st.stop()

counts = status_counts(rows)
# one wrapping row of boxes: at 1024 px a box moves to the next line instead of splitting "UNREACHABLE"
st.markdown("<div style='display:flex;flex-wrap:wrap;gap:0.6em 1.2em'>" + "".join(
    f"<div style='border-left:6px solid {STATUS_COLORS[name]};padding:0.3em 0.8em;min-width:7.5em'>"
    f"<div style='font-size:0.8em;color:#6b7280;white-space:nowrap'>{name.upper()}</div>"
    f"<div style='font-size:1.8em;font-weight:700'>{n}</div></div>" for name, n in counts.items()) + "</div>",
    unsafe_allow_html=True)

st.subheader("Endpoints")
for i, ep in enumerate(rows[:30]):
    with st.container(border=True):
        # at 1024 px the incidents column was ~75 px and split "Incidents" mid-word: wider, and labels never wrap
        c1, c2, c3, c4, c5 = st.columns([3.6, 2.2, 1.7, 1.6, 2.0], vertical_alignment="center")
        where = ("ingested data (passive)" if ep.passive else f"{ep.protocol or 'auto'} · every {ep.interval_s:g} s · "
                 f"last probe {ago(ep.last_probe_at)} ({ep.last_probe_status or '—'})")
        c1.markdown(f"{status_badge(ep.status)} &nbsp;**`{ep.name}`**  \n"
                    f"<span style='color:#6b7280;font-size:0.85em'>{where}</span>", unsafe_allow_html=True)
        if ep.last_verdict is not None:
            c2.markdown(f"{_label('Last verdict')}  \n{verdict_text(ep.last_verdict, ep.last_severity)}"
                        f"  \n<span style='color:#6b7280;font-size:0.85em'>{ago(ep.last_report_at)}</span>",
                        unsafe_allow_html=True)
        else:   # before the first verdict: how far the baseline is, or when the first analysis runs
            ready = data.readiness(db, ep.name, ep.samples, False)
            c2.markdown(f"{_label('Last verdict')}  \n<span style='font-size:0.85em'>{ready.message}</span>",
                        unsafe_allow_html=True)
            if ready.phase == "collecting":
                c2.progress(ready.fraction)
        inc_color = STATUS_COLORS["failing"] if ep.open_incidents else STATUS_COLORS["healthy"]
        c3.markdown(f"{_label('Incidents')}  \n{badge(str(ep.open_incidents) + ' open', inc_color)}", unsafe_allow_html=True)
        c4.markdown(f"{_label('Samples')}  \n{ep.samples:,}  \n<span style='color:#6b7280;font-size:0.85em'>"
                    f"{'—' if ep.error_rate is None else f'{ep.error_rate:.1%}'} errors (last window)</span>",
                    unsafe_allow_html=True)
        # stacked, not side by side: two buttons in a narrow column shrink to "D."
        # on_click callbacks: an auto-refresh that interrupts the click's run before it reaches a button would drop
        # a return-value click (see components.sidebar)
        c5.button("Details", key=f"ov_open_{i}", width="stretch", on_click=_open, args=(ep.name,))
        if not ep.passive:
            c5.button("Stop" if ep.enabled else "Start", key=f"ov_toggle_{i}", width="stretch",
                      type="secondary" if ep.enabled else "primary", on_click=set_monitoring,
                      args=(ep.name, not ep.enabled))

if len(rows) > 30:
    st.caption(f"Showing 30 of {len(rows)} endpoints (worst first); the table below lists all.")
with st.expander(f"All endpoints as a table ({len(rows)})", expanded=len(rows) > 30):
    df = pd.DataFrame([r.as_row() for r in rows])
    df["last_verdict"] = [verdict_text(r.last_verdict, r.last_severity) for r in rows]
    st.dataframe(df[["status", "name", "protocol", "enabled", "last_verdict", "open_incidents",
                     "samples", "error_rate", "interval_s"]], hide_index=True, width="stretch", key="ov_table")
