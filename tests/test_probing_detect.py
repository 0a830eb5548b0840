"""Connectors' full HTTP flows and ``--protocol auto`` against loopback servers replaying recorded answers."""

from __future__ import annotations

import importlib.util
import socket
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from app.errors import EndpointError
from app.probing import ProbeSet, ProbeTarget, default_probe_set_path, detect_protocol, probe_once

_spec = importlib.util.spec_from_file_location("probing_replay", Path(__file__).parent / "fixtures/recorded/replay.py")
replay = importlib.util.module_from_spec(_spec)  # type: ignore[arg-type]
sys.modules["probing_replay"] = replay
_spec.loader.exec_module(replay)  # type: ignore[union-attr]
Route, ReplayServer, rec = replay.Route, replay.ReplayServer, replay.Route.recorded

ROWS = ProbeSet.from_csv(default_probe_set_path()).rows(5, seed=3)
ROW = ROWS[0][0]


def mlserver_routes(proba: bool = True) -> dict[tuple[str, str], Any]:
    def infer(body: dict[str, Any]) -> Any:
        assert body["inputs"][0]["shape"] == [1, 30] and len(body["inputs"][0]["data"]) == 30
        wanted = [o["name"] for o in body.get("outputs") or []]
        if "predict_proba" in wanted:
            return rec("mlserver_infer_predict_and_proba.json") if proba else rec("mlserver_infer_unknown_output.json")
        return rec("mlserver_infer_default_predict.json")

    return {("GET", "/v2/health/ready"): Route(200), ("GET", "/v2"): rec("mlserver_server_metadata.json"),
            ("GET", "/v2/models"): rec("mlserver_v2_models_list.json"),
            ("POST", "/v2/repository/index"): rec("mlserver_repository_index.json"),
            ("GET", "/v2/models/breast-cancer"): rec("mlserver_model_metadata.json"),
            ("POST", "/v2/models/breast-cancer/infer"): infer}


def test_mlserver_auto_detects_model_and_asks_for_probabilities() -> None:
    with ReplayServer(mlserver_routes()) as srv:
        proto, url = detect_protocol(srv.url, {}, ROW, 2.0)
        assert (proto, url) == ("open-inference-v2", srv.url + "/v2/models/breast-cancer/infer")
        s = probe_once(ProbeTarget(name="m", url=srv.url, protocol="open-inference-v2", headers={}), ROW, 0)
    assert s.ok and s.prediction == "1" and s.confidence is not None and s.confidence > 0.5
    assert s.probabilities and set(s.probabilities) == {"0", "1"}


def test_mlserver_without_predict_proba_falls_back_once_per_session() -> None:
    with ReplayServer(mlserver_routes(proba=False)) as srv, requests.Session() as sess:
        t = ProbeTarget(name="m", url=srv.url + "/v2/models/breast-cancer/infer", protocol="open-inference-v2",
                        headers={})
        samples = [probe_once(t, r, lab, session=sess) for r, lab in ROWS]
        infers = [s.body for s in srv.seen if s.path.endswith("/infer")]
    assert all(x.ok and x.prediction == "1" and x.confidence is None for x in samples)
    assert len(infers) == len(ROWS) + 1            # one refused predict_proba request, then never again
    assert [o["name"] for o in infers[0]["outputs"]] == ["predict", "predict_proba"] and "outputs" not in infers[-1]


def gradio_routes() -> dict[tuple[str, str], Any]:
    def call(body: dict[str, Any]) -> Any:
        assert body["data"] == list(ROW.values())  # inputs in the order the app declares (by label)
        return rec("gradio_call_post.json")

    return {("GET", "/gradio_api/info"): rec("gradio_info_numbers.json"),
            ("POST", "/gradio_api/call/predict"): call,
            ("GET", "/gradio_api/call/predict/*"): rec("gradio_call_sse_complete.json")}


def test_gradio_current_api_auto() -> None:
    with ReplayServer(gradio_routes()) as srv:
        proto, url = detect_protocol(srv.url + "/", {}, ROW, 2.0)
        assert (proto, url) == ("gradio", srv.url + "/gradio_api/call/predict")
        s = probe_once(ProbeTarget(name="g", url=url, protocol="auto", headers={}), ROW, "0")
    assert s.ok and s.prediction == "0" and s.correct is True and s.confidence == pytest.approx(0.9999999997662022)


def test_gradio3_run_predict() -> None:
    routes = {("GET", "/config"): Route(200, {"version": "3.50.2", "components": [], "dependencies": []}),
              ("POST", "/run/predict"): rec("doc_gradio3_run_predict.json")}
    with ReplayServer(routes) as srv:
        proto, url = detect_protocol(srv.url, {}, ROW, 2.0)
        s = probe_once(ProbeTarget(name="g", url=url, protocol=proto, headers={}), ROW, None)
    assert (proto, url) == ("gradio", srv.url + "/run/predict")
    assert s.prediction == "setosa" and s.confidence == pytest.approx(0.97)


def test_mlflow_auto_from_base_url() -> None:
    def invocations(body: dict[str, Any]) -> Any:
        if "dataframe_split" not in body:
            return rec("mlflow_invocations_bad_payload.json")
        assert body["dataframe_split"]["columns"] == list(ROW)
        return rec("mlflow_invocations_split.json")

    routes = {("GET", "/ping"): rec("mlflow_ping.json"), ("GET", "/version"): rec("mlflow_version.json"),
              ("POST", "/invocations"): invocations}
    with ReplayServer(routes) as srv:
        assert detect_protocol(srv.url, {}, ROW, 2.0) == ("mlflow", srv.url + "/invocations")
        s = probe_once(ProbeTarget(name="f", url=srv.url, protocol="mlflow", headers={}), ROW, 0)
    assert s.ok and s.prediction == "0" and s.confidence is None and s.correct is True


def test_kserve_v1_discovers_the_model() -> None:
    def predict(body: dict[str, Any]) -> Any:
        assert body == {"instances": [list(ROW.values())]}
        return rec("doc_kserve_v1_sklearn_iris.json")

    routes = {("GET", "/v1/models"): rec("doc_kserve_v1_list_models.json"),
              ("POST", "/v1/models/sklearn-iris:predict"): predict}
    with ReplayServer(routes) as srv:
        assert detect_protocol(srv.url, {}, ROW, 2.0) == ("kserve-v1", srv.url + "/v1/models/sklearn-iris:predict")
        s = probe_once(ProbeTarget(name="k", url=srv.url, protocol="kserve-v1", headers={}), ROW, 1)
    assert s.prediction == "1" and s.correct is True


def test_hf_text_endpoint_is_told_apart_from_generic() -> None:
    def root(body: Any) -> Any:
        if isinstance(body, dict) and isinstance(body.get("inputs"), str):
            return rec("doc_hf_text_classification.json")
        return Route(422, {"error": "inputs must be a string"})

    with ReplayServer({("POST", "/"): root}) as srv:
        proto, url = detect_protocol(srv.url, {}, {"text": "I like you"}, 2.0)
        s = probe_once(ProbeTarget(name="h", url=url, protocol=proto, headers={}), {"text": "I like you"}, "POSITIVE")
    assert proto == "hf" and s.prediction == "POSITIVE" and s.correct is True


def test_generic_endpoint_at_a_common_path_from_the_base_url() -> None:
    with ReplayServer({("POST", "/predict"): Route(200, {"label": "b", "probability": 0.61})}) as srv:
        assert detect_protocol(srv.url, {}, ROW, 2.0) == ("generic", srv.url + "/predict")


def test_nothing_matches_is_one_line_endpoint_error() -> None:
    html = Route(200, text="<html>hello</html>", content_type="text/html")
    with ReplayServer({("GET", "/"): html}) as srv, pytest.raises(EndpointError) as e:
        detect_protocol(srv.url, {"X-Key": "secret-value-1"}, ROW, 2.0)
    msg = str(e.value)
    assert "no known protocol" in msg and "\n" not in msg and "secret-value-1" not in msg


def test_unreachable_is_endpoint_error() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(EndpointError, match="cannot reach"):
        detect_protocol(f"http://127.0.0.1:{port}/predict", {}, ROW, 1.0)


@pytest.fixture(scope="module")
def demo_url() -> Iterator[str]:
    from app.demo.model import make_server

    server = make_server("127.0.0.1", 0)
    th = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    th.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_demo_model_auto_from_base_and_full_url(demo_url: str) -> None:
    assert detect_protocol(demo_url, {}, ROW, 2.0) == ("generic", demo_url + "/predict")
    assert detect_protocol(demo_url + "/predict/ep-7", {}, ROW, 2.0) == ("generic", demo_url + "/predict/ep-7")


def test_auto_is_resolved_once_per_session(demo_url: str) -> None:
    t = ProbeTarget(name="d", url=demo_url, protocol="auto", headers={})
    with requests.Session() as sess:
        samples = [probe_once(t, r, lab, session=sess) for r, lab in ROWS]
    assert all(s.ok for s in samples) and sum(bool(s.correct) for s in samples) >= 4


def test_a_payload_the_model_refuses_is_reported_with_the_servers_words(demo_url: str) -> None:
    with pytest.raises(EndpointError) as exc:
        detect_protocol(demo_url + "/predict", {}, {"foo": 1.0, "bar": 2.0}, 2.0)
    msg = str(exc.value)
    assert "expected 30 features" in msg and "model's columns" in msg and "\n" not in msg
