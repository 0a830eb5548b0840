"""Recommendations: cards ranked by priority with Approve / Reject, a reason, the acting person, the audit log."""

import sys
from pathlib import Path

_ROOT = str(Path(__file__).resolve().parents[2])
if _ROOT not in sys.path:  # standalone runs (AppTest.from_file) put only this folder on the path
    sys.path.insert(0, _ROOT)

import streamlit as st

from app.errors import MlfiError
from app.views.decisions import decide, operator_default, signed_in_name
from app.views.wording import decision_line, words
from ui import data
from ui.components import PRIORITY_COLORS, ago, badge, ensure_routed, flash, show_flash

ensure_routed()
s = data.settings()
db = data.db_or_stop()
st.title("Recommendations")
show_flash()


def _login_name() -> str | None:
    try:
        if not st.user.is_logged_in:
            return None
        return str(st.user.get("name") or st.user.get("email") or "") or None
    except (AttributeError, KeyError, RuntimeError):
        return None


def _request_headers() -> dict[str, str]:
    try:
        return dict(st.context.headers)
    except (AttributeError, RuntimeError):
        return {}


login, sign_in_required = signed_in_name(s, _request_headers(), _login_name())
locked_out = sign_in_required and login is None
if locked_out:
    st.warning("You are not signed in: decisions need the name your sign-in proxy passes in the "
               f"`{s.trusted_user_header}` header.", icon=":material/lock:")
c1, c2 = st.columns([2, 3], vertical_alignment="bottom")
who = c1.text_input("Acting as", value=operator_default(s, login), key="rec_operator", disabled=sign_in_required,
                    help="Recorded in the audit log with every decision (from your sign-in when one is configured).")
if login is not None:
    who = login
which = c2.segmented_control("Show", ["pending", "all"], default="pending", key="rec_filter") or "pending"
incident = st.session_state.get("rec_incident")
if incident is not None:
    i1, i2 = st.columns([4, 1])
    i1.info(f"Showing recommendations of incident #{incident}.")
    if i2.button("Show all incidents", key="rec_clear_incident"):
        st.session_state.pop("rec_incident", None)
        st.rerun()

recs = data.recommendations(db, "pending" if which == "pending" else None, incident)
if not recs:
    st.success("Nothing waits for a decision." if which == "pending" else "No recommendations yet.",
               icon=":material/task_alt:")
for rec in recs[:50]:
    with st.container(border=True):
        h1, h2 = st.columns([5, 1.4])
        h1.markdown(f"{badge(rec.priority, PRIORITY_COLORS.get(rec.priority, '#6b7280'))} &nbsp;**{rec.action}**",
                    unsafe_allow_html=True)
        h2.markdown(f"<div style='text-align:right;color:#6b7280'>{words(rec.status)}</div>", unsafe_allow_html=True)
        st.markdown(rec.rationale or "")
        meta = [f"endpoint {rec.endpoint}" if rec.endpoint else None,
                f"incident #{rec.incident_id}" if rec.incident_id else None,
                f"diagnosis {rec.diagnosis_id} ({rec.category})" if rec.diagnosis_id else None,
                f"rules {', '.join(rec.rule_ids or [rec.rule_id or '—'])}",
                f"knowledge {rec.knowledge_id}" if rec.knowledge_id else None, f"id {rec.id}", ago(rec.created_at)]
        st.caption(" · ".join(m for m in meta if m))
        if rec.status == "pending":
            reason = st.text_input("Reason", key=f"reason_{rec.id}", placeholder="Why approve or reject? (required)")
            b1, b2, b3 = st.columns([1, 1, 4], vertical_alignment="center")
            approve = b1.button("Approve", key=f"approve_{rec.id}", type="primary", width="stretch", disabled=locked_out)
            reject = b2.button("Reject", key=f"reject_{rec.id}", width="stretch", disabled=locked_out)
            false_alarm = b3.checkbox("Reject as a false alarm", key=f"false_alarm_{rec.id}",
                                      help="Only with Reject: the detectors that fired become less sensitive on "
                                           "this endpoint. The reason text alone never counts as a false alarm.")
            if approve or reject:
                try:
                    msg = decide(data.store(), s, rec.id, "approve" if approve else "reject", by=who, reason=reason,
                                 false_alarm=bool(reject and false_alarm))
                except MlfiError as exc:
                    st.error(f"Decision not recorded: {exc}", icon=":material/error:")
                else:
                    flash("success", msg)
                    data.invalidate()
                    st.rerun()
        else:
            line = decision_line(rec.status, rec.decided_by, ago(rec.decided_at) if rec.decided_at else None)
            st.caption(line + (f" Reason: {rec.reason}" if rec.reason else ""))

st.divider()
st.subheader("Audit log")
status = data.audit_status(db)
if status["ok"]:
    st.success(f"Chain verified: {status['message']}", icon=":material/verified:")
else:
    st.error(f"Chain verification FAILED: {status['message']}", icon=":material/gpp_bad:")
log = data.audit_table(db)
if log.empty:
    st.caption("No decisions recorded yet.")
else:
    st.dataframe(log[["seq", "time_utc", "event", "actor", "payload", "hash"]], hide_index=True, width="stretch",
                 key="rec_audit", column_config={"seq": st.column_config.NumberColumn(width="small"),
                                                 "time_utc": st.column_config.TextColumn("time (UTC)", width="medium"),
                                                 "actor": st.column_config.TextColumn(width="medium"),
                                                 "payload": st.column_config.TextColumn(width="large"),
                                                 "hash": st.column_config.TextColumn(width="small")})
