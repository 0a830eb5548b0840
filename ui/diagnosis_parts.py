"""Diagnosis page parts: readiness questions, and the diagnosis's governance items with Approve / Reject."""

from __future__ import annotations

from typing import Any

import streamlit as st

from app.errors import MlfiError
from app.views import diagnosis as dx
from app.views.decisions import decide, operator_default, signed_in_name
from ui import data
from ui.components import PRIORITY_COLORS, ago, badge, flash

__all__ = ["governance", "readiness"]

_GATE_TEXT = {
    "blocked": "Deployment gate: **blocked** until someone approves the release item below with a reason.",
    "released": "Deployment gate: **released** by {decided_by}: {reason}",
    "kept_blocked": "Deployment gate: **kept blocked** by {decided_by}: {reason}",
    "not_blocked": "Deployment gate: {gate}; no release decision needed.",
    "not_queued": "Deployment gate: {gate}; this diagnosis was not saved, so nothing was queued.",
}


def readiness(p: dict[str, Any]) -> None:
    """The practice questions; each answer key is folded under the question with its cited section."""
    st.subheader("Readiness questions")
    qs = p.get("readiness_questions") or []
    if not qs:
        st.caption("No readiness questions for this diagnosis.")
    for n, q in enumerate(qs, start=1):
        st.markdown(f"**{n}. {q['question']}**")
        with st.expander(f"Answer key (`{q['citation']['path']}` § {q['citation']['section']})"):
            st.markdown("\n".join(f"- {a}" for a in q["answer_key"]))


def _who() -> tuple[str, bool]:
    s = data.settings()
    try:
        login = (str(st.user.get("name") or st.user.get("email") or "") or None) if st.user.is_logged_in else None
    except (AttributeError, KeyError, RuntimeError):
        login = None
    try:
        headers = dict(st.context.headers)
    except (AttributeError, RuntimeError):
        headers = {}
    name, required = signed_in_name(s, headers, login)
    who = st.text_input("Acting as", value=operator_default(s, name), key="dx_operator", disabled=required)
    return ((name or "") if required else who), required and name is None


def _card(rec: Any, who: str, locked_out: bool) -> None:
    with st.container(border=True):
        st.markdown(f"{badge(rec.priority, PRIORITY_COLORS.get(rec.priority, '#6b7280'))} &nbsp;**{rec.action}** "
                    f"&nbsp;<span style='color:#6b7280'>{rec.status}</span>", unsafe_allow_html=True)
        cit = rec.citation or {}
        st.caption(" · ".join(x for x in (rec.category, f"`{cit.get('path')}` § {cit.get('section')}" if cit else None,
                                          f"id {rec.id}") if x))
        if rec.status != "pending":
            st.caption(f"**{rec.status}** by {rec.decided_by or '—'} {ago(rec.decided_at)}: {rec.reason or ''}")
            return
        reason = st.text_input("Reason", key=f"dx_reason_{rec.id}", placeholder="Why approve or reject? (required)")
        b1, b2, _ = st.columns([1, 1, 4])
        yes = b1.button("Approve", key=f"dx_approve_{rec.id}", type="primary", disabled=locked_out)
        no = b2.button("Reject", key=f"dx_reject_{rec.id}", disabled=locked_out)
        if yes or no:
            try:
                msg = decide(data.store(), data.settings(), rec.id, "approve" if yes else "reject", by=who,
                             reason=reason)
            except MlfiError as exc:
                st.error(f"Decision not recorded: {exc}", icon=":material/error:")
            else:
                flash("success", msg)
                data.invalidate()
                st.rerun()


def governance(p: dict[str, Any]) -> None:
    """Gate state and the pending / decided items this diagnosis put in the recommendation queue."""
    st.subheader("Governance")
    store = data.store()
    gate = dx.gate(store, p["diagnosis_id"], p["deployment_gate"])
    st.markdown(_GATE_TEXT[gate["state"]].format(**{k: v or "—" for k, v in gate.items()}))
    recs = dx.queue(store, p["diagnosis_id"])
    if not recs:
        st.caption("Nothing queued: tick 'Save to team history' to send the 3-day actions for approval.")
        return
    who, locked_out = _who()
    for rec in recs:
        _card(rec, who, locked_out)
