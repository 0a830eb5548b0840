"""Small render helpers shared by the pages: status colours and badges, KPI tiles, auto-refresh, sidebar."""

from __future__ import annotations

import html
import math
import time

import pandas as pd
import streamlit as st

from app.errors import MlfiError
from app.views.kpis import Kpi

__all__ = [
    "PRIORITY_COLORS",
    "REFRESH_DEFAULT_S",
    "SEVERITY_COLORS",
    "STATUS_COLORS",
    "ago",
    "alerts_by_incident",
    "autorefresh",
    "badge",
    "ensure_routed",
    "flash",
    "inject_css",
    "kpi_tiles",
    "show_flash",
    "sidebar",
    "sparkline",
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


def sparkline(values: list[float]) -> list[float]:
    """The finite values of a series, for ``st.metric(chart_data=...)``.

    >>> sparkline([1.0, float("nan"), None, 2.0])
    [1.0, 2.0]
    """
    return [float(v) for v in values if v is not None and math.isfinite(float(v))]


def kpi_tiles(items: list[Kpi], *, per_row: int = 4, spark: dict[str, list[float]] | None = None,
              highlight: str | None = None) -> None:
    """One ``st.metric`` per KPI: current value, change and baseline, a sparkline; the verdict's tile outlined.

    Four tiles per row so the labels are never cut off; changes below the KPI's practical threshold
    (``Kpi.meaningful``) read "no change" in grey without an arrow. ``spark`` maps a KPI key to its recent
    values (the rolling window the verdict tests); ``highlight`` is the key of the tile behind the verdict.
    """
    spark = spark or {}
    for start in range(0, len(items), per_row):
        cols = st.columns(per_row)
        for col, k in zip(cols, items[start:start + per_row]):
            help_ = k.description + ("" if k.baseline is None else f" · baseline: {k.baseline_text}")
            delta = k.delta_text
            if delta is not None and k.baseline is not None:
                delta = f"{delta} · base {k.baseline_text}"
            values = sparkline(spark.get(k.key, []))
            box = col.container(key=f"kpi_{k.key}_verdict" if k.key == highlight else f"kpi_{k.key}")
            box.metric(("▲ " if k.key == highlight else "") + k.label, k.value_text, delta=delta,
                       delta_color=k.delta_color,  # type: ignore[arg-type]
                       delta_arrow="auto" if k.meaningful else "off", help=help_, border=True,
                       chart_data=values[-120:] if len(values) >= 2 else None, chart_type="area")


def alerts_by_incident(marks: pd.DataFrame, incidents: pd.DataFrame) -> None:
    """The alerts table, one expander per incident (newest first), open ones expanded."""
    from app.views.incidents import alert_groups
    from app.views.verdict import root_cause_label

    st.subheader(f"Alerts ({len(marks)})")
    if marks.empty:
        st.success("No alerts in this time range.")
        return
    for i, (g, rows) in enumerate(alert_groups(marks, incidents, now=time.time())):
        if g["id"] is None:
            title = f"Alerts outside any incident ({len(rows)})"
        else:
            when = time.strftime("%H:%M:%S", time.gmtime(g["start"]))
            state = "open" if g["status"] == "open" else f"resolved {time.strftime('%H:%M:%S', time.gmtime(g['end']))}"
            title = (f"Incident #{g['id']} · {root_cause_label(g['root_cause'])} · {g['severity']} · "
                     f"from {when} UTC, {state} · {len(rows)} alert{'s' if len(rows) != 1 else ''}")
        with st.expander(title, expanded=g["status"] == "open"):
            view = rows[["time", "root_cause", "severity", "message", "report_id"]]
            view = view.assign(root_cause=[root_cause_label(r) for r in view["root_cause"]])
            st.dataframe(view, hide_index=True, width="stretch", key=f"ep_alerts_{i}", row_height=72, column_config={
                "time": st.column_config.DatetimeColumn("time (UTC)", format="MM-DD HH:mm:ss", width="small"),
                "root_cause": st.column_config.TextColumn("root cause", width="small"),
                "severity": st.column_config.TextColumn(width="small"),
                "message": st.column_config.TextColumn("what happened", width="large"),
                "report_id": st.column_config.NumberColumn("report", width="small")})


CSS = """<style>
/* values never cut to "228.…": shrink with the viewport instead */
[data-testid="stMetricValue"] > div {overflow: visible; text-overflow: clip; font-size: clamp(1.1rem, 2.1vw, 2rem);}
[data-testid="stMetricLabel"] p {white-space: nowrap;}
/* "+166.8 ms · base 36.5 ms" wraps inside its pill instead of ending in "…" */
[data-testid="stMetricDelta"], [data-testid="stMetricDelta"] div, [data-testid="stMetricDelta"] p {
  white-space: normal; overflow: visible; text-overflow: clip; height: auto;}
/* an endpoint's name (often a URL) next to its status badge: smaller on narrow windows, broken only after a / (<wbr>) */
code.mlfi-ep-name {font-size: clamp(0.85rem, 1.45vw, 1.35rem); white-space: normal; word-break: normal;
  overflow-wrap: normal;}
/* the tile behind the verdict */
div[class*="_verdict"] [data-testid="stMetric"] {border: 2px solid #d62728; background: #fef2f2;}
/* buttons keep their words on one line and never shrink to "D." */
.stButton button p {white-space: nowrap;}
</style>"""


def inject_css() -> None:
    """Layout fixes for narrow (1024 px) windows and the verdict tile's outline."""
    st.markdown(CSS, unsafe_allow_html=True)


def autorefresh(key: str) -> None:
    """Re-run the page every N seconds (sidebar setting) unless paused; only cached reads run again."""
    if st.session_state.get("refresh_paused", False):
        return
    interval = float(st.session_state.get("refresh_s", REFRESH_DEFAULT_S))
    from streamlit_autorefresh import st_autorefresh

    st_autorefresh(interval=int(interval * 1000), key=key)


FLASH_S = 8.0
"""How long an action's outcome stays on screen (seconds). Shown once, an auto-refresh (every 1-2 s) wiped it before
it could be read: a user test saw "Watcher stopped." in 0 of 6 clicks at a 1 s refresh."""


def flash(kind: str, message: str, key: str = "_flash") -> None:
    """Keep a message for the next ``FLASH_S`` seconds of runs (shown by :func:`show_flash`)."""
    st.session_state.setdefault(key, []).append((kind, message, time.time()))


def show_flash(key: str = "_flash") -> None:
    """Show the messages younger than ``FLASH_S`` and forget the older ones."""
    now = time.time()
    kept = [m for m in st.session_state.get(key, []) if now - m[2] < FLASH_S]
    st.session_state[key] = kept
    for kind, message, _ in kept:
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
        # on_click, not the button's return value: a callback runs as the click's rerun begins, before any of the
        # script. An auto-refresh that interrupts that run before it reaches the button would otherwise drop the
        # click (measured: 5 of 20 clicks registered at a 0.4 s refresh, 20 of 20 with callbacks)
        c1.button("Start", key="watcher_start", disabled=info.alive, width="stretch", on_click=_watcher_action,
                  args=(True,))
        c2.button("Stop", key="watcher_stop", disabled=not info.alive, width="stretch", on_click=_watcher_action,
                  args=(False,))
        show_flash("_watcher_msg")
        st.markdown("### Refresh")
        st.select_slider("Interval (s)", options=[1, 2, 5, 10, 30, 60], value=REFRESH_DEFAULT_S, key="refresh_s")
        st.toggle("Pause auto-refresh", key="refresh_paused")


def _watcher_action(start: bool) -> None:
    """Start or stop the watcher (a button's on_click); the outcome is shown under the buttons."""
    from app.watcher import control
    from ui import data

    try:
        if start:
            pid = control.start_background(data.settings())
            said = ("success", f"Watcher started (pid {pid}).")
        else:
            control.stop_background(data.settings())
            said = ("info", "Watcher stopped.")
    except MlfiError as exc:
        said = ("error", f"Could not {'start' if start else 'stop'} the watcher: {str(exc).splitlines()[0]}")
    st.session_state["_watcher_msg"] = []       # the latest outcome only
    flash(*said, key="_watcher_msg")
    data.invalidate()


def set_monitoring(name: str, enabled: bool) -> None:
    """Start or stop probing one endpoint (a button's on_click, so an auto-refresh cannot drop the click)."""
    from ui import data

    try:
        data.store().set_enabled(name, enabled)
    except MlfiError as exc:
        flash("error", str(exc).splitlines()[0])
    else:
        flash("success", f"Monitoring {'started' if enabled else 'stopped'} for {name}.")
    data.invalidate()
