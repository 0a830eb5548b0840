"""Endpoint faults become error samples with the right kind; probe_once never raises; secrets never leak."""

from __future__ import annotations

import importlib.util
import socket
import sys
from pathlib import Path

import pytest
import requests

from app.errors import InputError
from app.probing import PROTOCOLS, ProbeTarget, probe_once

_spec = importlib.util.spec_from_file_location("probing_replay", Path(__file__).parent / "fixtures/recorded/replay.py")
replay = importlib.util.module_from_spec(_spec)  # type: ignore[arg-type]
sys.modules["probing_replay"] = replay
_spec.loader.exec_module(replay)  # type: ignore[union-attr]
Route, ReplayServer = replay.Route, replay.ReplayServer

ROW = {"a": 1.0, "b": 2.0}
SECRET = "Bearer sk-live-0123456789"


def target(url: str, protocol: str = "generic", timeout: float = 2.0) -> ProbeTarget:
    return ProbeTarget(name="ep", url=url, protocol=protocol, headers={"Authorization": SECRET}, timeout_s=timeout)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_ok_sample_records_inputs_label_and_latency() -> None:
    with ReplayServer({("POST", "/predict"): Route(200, {"prediction": 1, "confidence": 0.8})}) as srv:
        s = probe_once(target(srv.url + "/predict"), ROW, 1.0)
        assert srv.seen[0].headers.get("Authorization") == SECRET  # the header IS sent
    assert s.ok and s.prediction == "1" and s.label == "1" and s.correct is True
    assert s.inputs == ROW and s.endpoint == "ep" and s.latency_ms is not None and s.latency_ms > 0


def test_timeout() -> None:
    with ReplayServer({("POST", "/predict"): Route(200, {"prediction": 1}, delay=1.0)}) as srv:
        s = probe_once(target(srv.url + "/predict", timeout=0.2), ROW, None)
    assert s.error_kind == "timeout" and not s.ok
    assert 150 <= (s.latency_ms or 0) < 1000


def test_http_500_sets_status_code() -> None:
    with ReplayServer({("POST", "/predict"): Route(500, {"error": "boom"})}) as srv:
        s = probe_once(target(srv.url + "/predict"), ROW, 0)
    assert (s.error_kind, s.status_code) == ("http_error", 500)
    assert s.prediction is None and s.label == "0"


def test_malformed_json() -> None:
    with ReplayServer({("POST", "/predict"): Route(200, text='{"prediction": "1", "confid')}) as srv:
        s = probe_once(target(srv.url + "/predict"), ROW, None)
    assert s.error_kind == "malformed_response" and "invalid JSON" in (s.error_detail or "")


def test_missing_fields_is_malformed() -> None:
    with ReplayServer({("POST", "/predict"): Route(200, {"status": "ok"})}) as srv:
        s = probe_once(target(srv.url + "/predict"), ROW, None)
    assert s.error_kind == "malformed_response" and "status" in (s.error_detail or "")


def test_refused_connection() -> None:
    s = probe_once(target(f"http://127.0.0.1:{free_port()}/predict"), ROW, None)
    assert s.error_kind == "connection_error" and s.status_code is None


def test_refused_connection_with_auto_never_raises() -> None:
    s = probe_once(target(f"http://127.0.0.1:{free_port()}/predict", protocol="auto"), ROW, None)
    assert s.error_kind == "connection_error"


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_every_connector_turns_faults_into_samples(protocol: str) -> None:
    routes = {("POST", "/*"): Route(500, {"error": "internal"}), ("GET", "/*"): Route(500, {"error": "internal"})}
    with ReplayServer(routes) as srv:
        s = probe_once(target(srv.url + "/v2/models/m/infer" if protocol == "open-inference-v2" else
                              srv.url + "/v1/models/m:predict" if protocol == "kserve-v1" else srv.url + "/x",
                              protocol=protocol), ROW, None)
    assert s.error_kind in ("http_error", "protocol_error") and not s.ok
    assert SECRET not in (s.error_detail or "") and "sk-live" not in s.model_dump_json()


def test_secret_echoed_by_the_server_is_scrubbed() -> None:
    # a (badly behaved) server that echoes the Authorization header back in its error body
    with ReplayServer({("POST", "/predict"): lambda body: Route(401, text=f"bad credentials {SECRET}")}) as srv:
        s = probe_once(target(srv.url + "/predict"), ROW, None)
    assert s.error_kind == "http_error" and s.status_code == 401
    assert "sk-live" not in (s.error_detail or "") and "***" in (s.error_detail or "")


def test_repr_masks_headers() -> None:
    t = target("http://127.0.0.1:1/predict")
    assert "sk-live" not in repr(t) and "sk-live" not in str(t) and "***" in repr(t)


def test_bad_target_is_input_error() -> None:
    with pytest.raises(InputError, match="unknown protocol"):
        ProbeTarget(name="x", url="http://h/p", protocol="soap", headers={})
    with pytest.raises(InputError, match="bad URL"):
        ProbeTarget(name="x", url="ftp://h/p", protocol="generic", headers={})


def test_shared_session_learns_the_accepted_body_shape() -> None:
    def handler(body: object) -> object:
        if isinstance(body, dict) and "inputs" in body:
            return Route(200, {"label": "y", "score": 0.7})
        return Route(422, {"detail": "field 'inputs' required"})

    with ReplayServer({("POST", "/predict"): handler}) as srv, requests.Session() as sess:
        samples = [probe_once(target(srv.url + "/predict"), ROW, None, session=sess) for _ in range(5)]
        posts = srv.paths("POST")
    assert all(s.ok and s.prediction == "y" for s in samples)
    assert len(posts) == 2 + 4  # the first probe tried "features" then "inputs"; later probes went straight there
