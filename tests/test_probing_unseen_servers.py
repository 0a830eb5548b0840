"""Server styles the probing layer has no recorded fixture for: TF-Serving, TorchServe, Seldon, BentoML, FastAPI.

Each stand-in accepts only the request shape the real server documents and answers in its reply shape;
``auto`` (and the explicit protocol where one fits) must read the right prediction AND confidence, or
fail with one clear line, never a wrong number.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from app.cli import main
from app.errors import EndpointError
from app.probing import ProbeTarget, detect_protocol, probe_once
from tests.probing_unseen_stub import Req, Resp, StubServer, json_app

ROW = {"mean radius": 14.1, "mean texture": 19.3}


def probe(url: str, protocol: str = "auto", model: str | None = None) -> Any:
    return probe_once(ProbeTarget(name="ep", url=url, protocol=protocol, model_name=model, timeout_s=3), ROW, "1")


def ok(s: Any, pred: str, conf: float | None) -> None:
    assert s.error_kind is None, s.error_detail
    assert s.prediction == pred
    assert s.confidence == (pytest.approx(conf) if conf is not None else None)


# ---- TensorFlow Serving -------------------------------------------------------------------------------------

def tf_serving(outputs: list[Any], columnar_only: bool = False) -> Callable[[Req], Resp]:
    """``:predict`` in row (``instances``) or columnar (``inputs``) form; anything else is TF's 400."""
    def handler(req: Req) -> Resp:
        body = req.body if isinstance(req.body, dict) else {}
        if "instances" in body and not columnar_only and isinstance(body["instances"][0], list):
            return Resp(200, {"predictions": outputs})
        if "inputs" in body and isinstance(body["inputs"], list):
            return Resp(200, {"outputs": outputs})
        return Resp(400, {"error": "JSON Value: ... Missing 'instances' or 'inputs' key"})
    return handler


@pytest.mark.parametrize("path", ["/v1/models/bc:predict", "/v1/models/bc"])
def test_tf_serving_row_format(path: str) -> None:
    with StubServer(json_app({("POST", "/v1/models/bc:predict"): tf_serving([[0.1, 0.9]])})) as srv:
        ok(probe(srv.url + path), "1", 0.9)
        ok(probe(srv.url + path, "kserve-v1"), "1", 0.9)


def test_tf_serving_columnar_only_model_is_probed_with_inputs() -> None:
    with StubServer(json_app({("POST", "/v1/models/bc:predict"): tf_serving([[0.2, 0.8]], columnar_only=True)})) \
            as srv:
        ok(probe(srv.url + "/v1/models/bc:predict", "kserve-v1"), "1", 0.8)
        assert srv.posts()[-1].body == {"inputs": [[14.1, 19.3]]}


def test_tf_serving_single_sigmoid_unit_is_p_of_class_1_not_a_label() -> None:
    with StubServer(json_app({("POST", "/v1/models/bc:predict"): tf_serving([[0.87]])})) as srv:
        s = probe(srv.url + "/v1/models/bc")
    ok(s, "1", 0.87)
    assert s.probabilities == pytest.approx({"0": 0.13, "1": 0.87})
    with StubServer(json_app({("POST", "/v1/models/bc:predict"): tf_serving([[0.2]])})) as srv:
        ok(probe(srv.url + "/v1/models/bc"), "0", 0.8)


def test_tf_serving_classify_label_score_pairs() -> None:
    answer = Resp(200, {"results": [[["benign", 0.1], ["malignant", 0.9]]]})
    with StubServer(json_app({("POST", "/v1/models/bc:classify"): answer})) as srv:
        ok(probe(srv.url + "/v1/models/bc:classify", "generic"), "malignant", 0.9)


def test_base_url_plus_model_name_is_detected() -> None:
    with StubServer(json_app({("POST", "/v1/models/bc:predict"): tf_serving([[0.1, 0.9]])})) as srv:
        assert detect_protocol(srv.url, {}, ROW, 3, model_name="bc") == ("kserve-v1",
                                                                         srv.url + "/v1/models/bc:predict")
        ok(probe(srv.url, model="bc"), "1", 0.9)
        with pytest.raises(EndpointError) as exc:   # no listing, no name: one line that says what is missing
            detect_protocol(srv.url, {}, ROW, 3)
    assert "\n" not in str(exc.value) and "model name" in str(exc.value)


def test_cli_baseline_passes_the_model_name_to_detection(mlfi_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with StubServer(json_app({("POST", "/v1/models/bc:predict"): tf_serving([[0.1, 0.9]])})) as srv, \
            pytest.raises(SystemExit) as exc:
        main(["baseline", srv.url, "--model-name", "bc", "--samples", "12", "--json"])
    out = capsys.readouterr()
    assert exc.value.code == 0, out.err
    doc = json.loads(out.out)
    assert doc["protocol"] == "kserve-v1" and doc["metrics"]["avg_confidence"] == pytest.approx(0.9)


# ---- TorchServe ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("answer", "pred", "conf"), [
    ({"malignant": 0.9, "benign": 0.1}, "malignant", 0.9),          # a classifier handler's {label: p}
    ([0.1, 0.9], "1", 0.9),                                          # a bare probability list
    ({"tabby": 0.41, "tiger_cat": 0.3, "lynx": 0.1, "Egyptian_cat": 0.05, "tiger": 0.01}, "tabby", 0.41),  # top-5
])
def test_torchserve_predictions(answer: Any, pred: str, conf: float) -> None:
    with StubServer(json_app({("POST", "/predictions/bc"): Resp(200, answer)})) as srv:
        ok(probe(srv.url + "/predictions/bc"), pred, conf)
        ok(probe(srv.url + "/predictions/bc", "generic"), pred, conf)


def test_torchserve_from_base_url_and_model_name() -> None:
    with StubServer(json_app({("POST", "/predictions/bc"): Resp(200, {"malignant": 0.7, "benign": 0.3})})) as srv:
        ok(probe(srv.url, model="bc"), "malignant", 0.7)


def test_plain_text_label_is_a_clear_error_not_a_guess() -> None:
    answer = Resp(200, text="malignant", content_type="text/plain")
    with StubServer(json_app({("POST", "/predictions/bc"): answer})) as srv:
        s = probe(srv.url + "/predictions/bc", "generic")
        with pytest.raises(EndpointError) as exc:
            detect_protocol(srv.url + "/predictions/bc", {}, ROW, 3)
    assert s.error_kind == "malformed_response" and s.prediction is None and s.confidence is None
    assert "no known protocol" in str(exc.value) and "\n" not in str(exc.value)


# ---- Seldon Core v1 -----------------------------------------------------------------------------------------

def seldon(req: Req) -> Resp:
    data = req.body.get("data") if isinstance(req.body, dict) else None
    if isinstance(data, dict) and "ndarray" in data:
        return Resp(200, {"data": {"names": ["t:0", "t:1"], "ndarray": [[0.25, 0.75]]}, "meta": {}})
    return Resp(400, {"status": {"code": -1, "info": "Invalid JSON", "reason": "MICROSERVICE_BAD_DATA",
                                 "status": "FAILURE"}})


@pytest.mark.parametrize("path", ["/api/v1.0/predictions", ""])
def test_seldon_v1_ndarray(path: str) -> None:
    with StubServer(json_app({("POST", "/api/v1.0/predictions"): seldon})) as srv:
        ok(probe(srv.url + path), "1", 0.75)
        if path:
            ok(probe(srv.url + path, "generic"), "1", 0.75)
        assert srv.posts("/api/v1.0/predictions")[-1].body["data"]["names"] == list(ROW)


# ---- BentoML ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("accepts", "answer", "pred", "conf"), [
    ("records", [1], "1", None),                 # PandasDataFrame(orient="records") in, label list out
    ("array", [[0.3, 0.7]], "1", 0.7),           # NumpyNdarray in, predict_proba out
])
def test_bentoml_bare_list_bodies(accepts: str, answer: Any, pred: str, conf: float | None) -> None:
    def handler(req: Req) -> Resp:
        body = req.body
        good = isinstance(body, list) and body and isinstance(body[0], dict if accepts == "records" else list)
        return Resp(200, answer) if good else Resp(400, {"error": "BadInput: expected a JSON list"})

    with StubServer(json_app({("POST", "/classify"): handler})) as srv:
        ok(probe(srv.url + "/classify", "generic"), pred, conf)
        ok(probe(srv.url), pred, conf)     # base URL: /classify is a common path


# ---- FastAPI-style hand-written apps; URLs with a query string or a trailing slash -------------------------

@pytest.mark.parametrize(("answer", "pred", "conf"), [
    ({"result": {"class": "malignant", "probabilities": {"benign": 0.1, "malignant": 0.9}}}, "malignant", 0.9),
    ({"predictions": [{"label": "x", "probability": 0.8}]}, "x", 0.8),
    ({"prediction": "malignant", "confidence": "0.93"}, "malignant", 0.93),
    ({"prediction": 1, "probabilities": {"0": "0.07", "1": "0.93"}}, "1", 0.93),
])
def test_fastapi_shapes(answer: Any, pred: str, conf: float) -> None:
    with StubServer(json_app({("POST", "/predict"): Resp(200, answer)})) as srv:
        ok(probe(srv.url + "/predict"), pred, conf)


def test_query_string_and_trailing_slash_are_kept() -> None:
    def scored(req: Req) -> Resp:
        if req.query.get("api-version") != ["2024-01-01"]:
            return Resp(401, {"error": "api-version missing"})
        return Resp(200, {"prediction": 1, "confidence": 0.77})

    routes = {("*", "/score"): scored, ("POST", "/predict/"): Resp(200, {"prediction": 0, "confidence": 0.6})}
    with StubServer(json_app(routes)) as srv:
        ok(probe(srv.url + "/score?api-version=2024-01-01"), "1", 0.77)
        ok(probe(srv.url + "/predict/"), "0", 0.6)
        ok(probe(srv.url + "/predict/", "generic"), "0", 0.6)


# ---- Triton / KServe V2 with a one-unit sigmoid output --------------------------------------------------------

def test_v2_single_fp32_sigmoid_output_is_p_of_class_1() -> None:
    answer = Resp(200, {"model_name": "bc", "outputs": [{"name": "dense_1", "datatype": "FP32", "shape": [1, 1],
                                                         "data": [0.83]}]})
    with StubServer(json_app({("POST", "/v2/models/bc/infer"): answer})) as srv:
        ok(probe(srv.url + "/v2/models/bc/infer", "open-inference-v2"), "1", 0.83)


# ---- what the user sees when nothing can be read ------------------------------------------------------------

@pytest.mark.parametrize(("protocol", "answer"), [
    ("auto", Resp(200, text="malignant", content_type="text/plain")),
    ("auto", Resp(200, {"status": "ok", "model": "bc"})),
    ("generic", Resp(200, {"status": "ok", "model": "bc"})),
    ("kserve-v1", Resp(200, {"predictions": [[float("nan"), float("nan")]]})),
])
def test_unreadable_endpoint_is_one_line_exit_2(protocol: str, answer: Resp, mlfi_env: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    routes = {("POST", "/predict"): answer, ("POST", "/v1/models/bc:predict"): answer}
    path = "/v1/models/bc" if protocol == "kserve-v1" else "/predict"
    with StubServer(json_app(routes)) as srv, pytest.raises(SystemExit) as exc:
        main(["baseline", srv.url + path, "--protocol", protocol, "--samples", "12", "--json"])
    out = capsys.readouterr()
    assert exc.value.code == 2 and out.out == ""
    lines = out.err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in out.err and srv.url.split("//")[1] in lines[0], out.err
