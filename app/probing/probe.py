"""``probe_once``: one probe of one endpoint -> one :class:`Sample`; endpoint faults become error samples."""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Any

import requests
from loguru import logger

from app.errors import EndpointError, InputError
from app.probing.base import ProbeFault, ProbeTarget, get_connector
from app.probing.http import Call, memo_of, scrub
from app.probing.interpret import canonical
from app.schemas import Sample

__all__ = ["MAX_CLASSES_KEPT", "probe_once"]

MAX_CLASSES_KEPT = 20  # probabilities kept per sample (the most likely classes)


def _label(label: Any) -> str | None:
    if label is None:
        return None
    try:
        return canonical(label)
    except ProbeFault:
        return str(label)


def probe_once(target: ProbeTarget, row: dict[str, Any], label: Any | None,
               session: requests.Session | None = None) -> Sample:
    """Send one probe and record what happened.

    Never raises for endpoint faults: a timeout, a refused connection, an HTTP error, a malformed body or a
    protocol mismatch is a Sample with ``error_kind`` set. ``latency_ms`` covers the inference exchange(s)
    (discovery requests are not counted). Error details never contain header values. Passing one
    ``session`` for many probes reuses connections and what was learnt about the endpoint (model name,
    accepted request shape, whether ``predict_proba`` is offered).
    """
    own = session is None
    sess = session or requests.Session()
    ts = time.time()
    t0 = time.perf_counter()
    call = Call(sess, target, dict(row), memo=memo_of(sess))
    base: dict[str, Any] = {"endpoint": target.name, "ts": ts, "source": "probe", "inputs": dict(row),
                            "label": _label(label)}
    try:
        if target.protocol == "auto":
            call.target = _auto(sess, target, row)
        parsed = get_connector(call.target.protocol).predict(call)
        probs = parsed.probabilities
        if probs and len(probs) > MAX_CLASSES_KEPT:
            probs = dict(sorted(probs.items(), key=lambda kv: -kv[1])[:MAX_CLASSES_KEPT])
        return Sample(**base, prediction=parsed.prediction, confidence=parsed.confidence, probabilities=probs,
                      latency_ms=round(call.latency_ms, 3))
    except ProbeFault as fault:
        return _error(base, target, call, t0, fault.kind, fault.detail, fault.status_code)
    except EndpointError as exc:  # auto-detection found nothing at this moment
        kind = "connection_error" if "cannot reach" in str(exc) else "protocol_error"
        return _error(base, target, call, t0, kind, str(exc), None)
    except InputError:
        raise  # the user's input (e.g. a template slot) is wrong, not the endpoint
    except Exception as exc:  # noqa: BLE001  (a reply shape no parser foresaw: record it, never crash the caller)
        logger.warning(f"unexpected {type(exc).__name__} while probing {target.name}")
        return _error(base, target, call, t0, "protocol_error", f"unexpected reply ({type(exc).__name__})", None)
    finally:
        if own:
            sess.close()


def _error(base: dict[str, Any], target: ProbeTarget, call: Call, t0: float, kind: str, detail: str,
           status: int | None) -> Sample:
    latency = call.latency_ms if call.exchanges else (time.perf_counter() - t0) * 1000.0
    return Sample(**base, latency_ms=round(latency, 3), error_kind=kind,
                  error_detail=scrub(detail, target.secrets), status_code=status)


def _auto(session: requests.Session, target: ProbeTarget, row: dict[str, Any]) -> ProbeTarget:
    """Resolve ``auto`` once per session (detection is remembered with the session's memo)."""
    from app.probing.detect import detect

    memo = memo_of(session)
    key = ("auto", target.url, target.model_name)
    if key not in memo:
        memo[key] = detect(session, target, row)
    protocol, url = memo[key]
    return replace(target, protocol=protocol, url=url)
