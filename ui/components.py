"""Small render helpers shared by the pages: status colours and badges, KPI tiles, auto-refresh, sidebar."""

from __future__ import annotations

import html
import time

import streamlit as st

from app.errors import MlfiError
from app.views.kpis import Kpi

__all__ = [
    "PRIORITY_COLORS",
    "REFRESH_DEFAULT_S",
    "SEVERITY_COLORS",
    "STATUS_COLORS",
    "ago",
    "autorefresh",
    "badge",
    "ensure_routed",
    "flash",
    "kpi_tiles",
    "show_flash",
    "sidebar",
    "status_badge",
]

STATUS_COLORS = {"healthy": "#1f9d55", "warning": "#e3a008", "failing": "#d62728", "unreachable": "#7e3af2",
                 "stopped": "#6b7280", "pending": "#3b82f6"}
SEVERITY_COLORS = {"none": "#9ca3af", "low": "#3b82f6", "medium": "#e3a008", "high": "#f97316",
                   "critical": "#d62728"}
PRIORITY_COLORS = {"CRITICAL": "#d62728", "HIGH": "#f97316", "MEDIUM": "#e3a008", "LOW": "#3b82f6",
                   "NONE": "#9ca3af"}
REFRESH_DEFAULT_S = 2


def ensure_routed() -> None:
    """Run the page through ``ui/dashboard.py`` (sidebar, wide layout) when Streamlit ran it on its own.

    A ``pages/`` folder next to the entry script switches Streamlit's legacy multipage mode on at
    process start; until ``st.navigation`` runs once, a deep link (``/endpoint``) or a rerun executes
    the page file directly. Turning the legacy mode off and re-running routes it through the entry
    script. A no-op when the page runs standalone (AppTest of one page) or under ``mlfi dashboard``.
    """
    try:
        from streamlit.runtime.pages_manager import PagesManager
    except ImportError:  # pragma: no cover - internal layout of another Streamlit version
        return
    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False
        st.rerun()


def badge(text: str, color: str) -> str:
    """HTML of a small coloured pill (text escaped)."""
    return (f"<span style='background:{color};color:white;border-radius:0.6em;padding:0.1em 0.6em;"
            f"font-size:0.85em;font-weight:600'>{html.escape(text)}</span>")


def status_badge(status: str) -> str:
    return badge(status.upper(), STATUS_COLORS.get(status, "#6b7280"))


def ago(ts: float | None, now: float | None = None) -> str:
    """``"12 s ago"`` style text for a timestamp (``"never"`` for None)."""
    if ts is None:
        return "never"
    d = max(0.0, (now or time.time()) - float(ts))
    if d < 90:
        return f"{d:.0f} s ago"
    if d < 5400:
        return f"{d / 60:.0f} min ago"
    if d < 172800:
        return f"{d / 3600:.1f} h ago"
    return f"{d / 86400:.1f} d ago"


def kpi_tiles(items: list[Kpi], *, per_row: int = 4) -> None:
    """One ``st.metric`` per KPI with its change vs baseline: red only for a meaningful worsening.

    Four tiles per row so the labels are never cut off; changes below the KPI's practical threshold
    (``Kpi.meaningful``) read "no change" in grey without an arrow.
    """
    for start in range(0, len(items), per_row):
        cols = st.columns(per_row)
        for col, k in zip(cols, items[start:start + per_row]):
            help_ = k.description + ("" if k.baseline is None else f" · baseline: {k.baseline_text}")
            col.metric(k.label, k.value_text, delta=k.delta_text, delta_color=k.delta_color,  # type: ignore[arg-type]
                       delta_arrow="auto" if k.meaningful else "off", help=help_, border=True)


def autorefresh(key: str) -> None:
    """Re-run the page every N seconds (sidebar setting) unless paused; only cached reads run again."""
    if st.session_state.get("refresh_paused", False):
        return
    interval = float(st.session_state.get("refresh_s", REFRESH_DEFAULT_S))
    from streamlit_autorefresh import st_autorefresh

    st_autorefresh(interval=int(interval * 1000), key=key)


def flash(kind: str, message: str) -> None:
    """Keep a message for the next run (shown once by :func:`show_flash`)."""
    st.session_state.setdefault("_flash", []).append((kind, message))


def show_flash() -> None:
    for kind, message in st.session_state.pop("_flash", []):
        getattr(st, kind)(message)


def sidebar() -> None:
    """Watcher status with start/stop, refresh interval and pause (state comes from the database)."""
    from ui import data

    with st.sidebar:
        st.markdown("### Watcher")
        try:
            info = data.watcher(data.settings().db_url)
        except (MlfiError, ValueError) as exc:
            st.error(f"Watcher state unavailable: {str(exc).splitlines()[0]}")
            return
        if info.alive:
            st.markdown(badge("RUNNING", STATUS_COLORS["healthy"]) +
                        f" &nbsp;pid {info.pid} · beat {ago(time.time() - (info.last_beat_age_s or 0))}",
                        unsafe_allow_html=True)
        else:
            died = info.status == "died"          # killed or crashed: no clean stop was written
            st.markdown(badge("DIED" if died else "STOPPED", STATUS_COLORS["failing" if died else "stopped"]) +
                        (f" &nbsp;{'died' if died else 'last beat'} {ago(time.time() - info.last_beat_age_s)}"
                         if info.last_beat_age_s is not None else ""), unsafe_allow_html=True)
        c1, c2 = st.columns(2)
        start = c1.button("Start", key="watcher_start", disabled=info.alive, width="stretch")
        stop = c2.button("Stop", key="watcher_stop", disabled=not info.alive, width="stretch")
        if start or stop:
            _watcher_action(start)
        st.markdown("### Refresh")
        st.select_slider("Interval (s)", options=[1, 2, 5, 10, 30, 60], value=REFRESH_DEFAULT_S, key="refresh_s")
        st.toggle("Pause auto-refresh", key="refresh_paused")


def _watcher_action(start: bool) -> None:
    from app.watcher import control
    from ui import data

    try:
        if start:
            with st.spinner("Starting the watcher…"):
                pid = control.start_background(data.settings())
            flash("success", f"Watcher started (pid {pid}).")
        else:
            with st.spinner("Stopping the watcher…"):
                control.stop_background(data.settings())
            flash("info", "Watcher stopped.")
    except MlfiError as exc:
        st.error(f"Could not {'start' if start else 'stop'} the watcher: {exc}")
        return
    data.invalidate()
    st.rerun()
