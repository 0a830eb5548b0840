"""Recommendations ranked for the dashboard, decisions through ``app.governance``, audit-log status."""

from __future__ import annotations

from typing import Any, Literal

from app.config import Settings
from app.errors import InputError
from app.schemas import PRIORITIES
from app.storage import Store

__all__ = ["audit_status", "decide", "operator_default", "rank_key", "ranked", "signed_in_name"]


def rank_key(priority: str, created_at: float) -> tuple[int, float]:
    """Sort key: CRITICAL first, then newest first within a priority.

    >>> sorted([("LOW", 5.0), ("CRITICAL", 1.0), ("HIGH", 3.0), ("HIGH", 4.0)], key=lambda p: rank_key(*p))
    [('CRITICAL', 1.0), ('HIGH', 4.0), ('HIGH', 3.0), ('LOW', 5.0)]
    """
    rank = PRIORITIES.index(priority) if priority in PRIORITIES else len(PRIORITIES)
    return rank, -float(created_at)


def ranked(store: Store, *, status: str | None = "pending", incident_id: int | None = None,
           limit: int = 200) -> list[Any]:
    """Recommendation records (``app.storage.governance.recommendations.RecommendationRecord``), highest priority first."""
    from app.storage.governance.recommendations import list_recommendations

    recs = list_recommendations(store.engine, status=status, incident_id=incident_id, limit=limit)
    return sorted(recs, key=lambda r: rank_key(r.priority, r.created_at))


def signed_in_name(settings: Settings, headers: Any, oidc_name: str | None = None) -> tuple[str | None, bool]:
    """(who is signed in, whether sign-in is required) for the dashboard's decisions.

    Streamlit's own login (``st.user``) wins when present; otherwise, with ``trusted_user_header`` set (the
    dashboard behind an authenticating proxy), the name comes from that request header and is required.

    >>> s = Settings(trusted_user_header="X-Forwarded-User", _env_file=None)
    >>> signed_in_name(s, {"x-forwarded-user": "ana@corp"}), signed_in_name(s, {})
    (('ana@corp', True), (None, True))
    >>> signed_in_name(Settings(_env_file=None), {"x-forwarded-user": "mallory"})
    (None, False)
    """
    if oidc_name:
        return oidc_name, True
    header = (settings.trusted_user_header or "").strip()
    if not header:
        return None, False
    value = ""
    for key, val in dict(headers or {}).items():
        if str(key).lower() == header.lower():
            value = str(val).strip()
    return (value[:200] or None), True


def operator_default(settings: Settings, login_name: str | None = None) -> str:
    """Who is acting: the signed-in user's name where login is configured, else ``operator_name``.

    >>> operator_default(Settings(operator_name="ana", _env_file=None), None)
    'ana'
    >>> operator_default(Settings(operator_name="ana", _env_file=None), "Bo Lee")
    'Bo Lee'
    """
    return (login_name or settings.operator_name or "").strip()


def decide(store: Store, settings: Settings, rec_id: str, action: Literal["approve", "reject"], *, by: str,
           reason: str, false_alarm: bool = False) -> str:
    """Approve (then run the configured executors once) or reject; returns governance's one-line message.

    ``false_alarm`` (the reject form's checkbox) is the only thing that marks a rejection as a false
    alarm and makes the detectors that fired less sensitive; the reason text is never parsed.

    Raises InputError for an empty name / reason and ConflictError when already decided.
    """
    from app.governance import decisions

    if not (by or "").strip():
        raise InputError("enter your name under 'Acting as': every decision records who made it")
    if not (reason or "").strip():
        raise InputError("enter a reason: every decision records why it was made")
    if action == "approve":
        return decisions.approve(store, settings, rec_id, by=by, reason=reason).message
    if action == "reject":
        return decisions.reject(store, settings, rec_id, by=by, reason=reason, false_alarm=false_alarm).message
    raise InputError(f"unknown action {action!r}; expected approve or reject")


def audit_status(store: Store, settings: Settings) -> dict[str, Any]:
    """Result of verifying the audit log's hash chain and its mirror (``ok``, ``entries``, ``message``)."""
    from app.governance.audit import verify

    return verify(store, settings).model_dump()
