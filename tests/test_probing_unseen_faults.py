"""Failure scenarios a watched endpoint can show: each is recorded as a sample (data), never raised, never a guess."""

from __future__ import annotations

import gzip
import threading
import time
import tracemalloc
from typing import Any

import pytest

from app.probing import ProbeTarget, probe_once
from app.schemas import ERROR_KINDS
from tests.probing_unseen_stub import Resp, StubServer, json_app

ROW = {"a": 1.5, "b": -2.0}


def one(resp: Resp, protocol: str = "generic", timeout: float = 3.0, extra: dict[Any, Any] | None = None) -> Any:
    with StubServer(json_app({("POST", "/predict"): resp, **(extra or {})})) as srv:
        s = probe_once(ProbeTarget(name="ep", url=srv.url + "/predict", protocol=protocol, timeout_s=timeout),
                       ROW, "1")
    assert s.error_kind is None or s.error_kind in ERROR_KINDS
    assert s.inputs == ROW and s.label == "1" and s.latency_ms is not None
    if s.error_kind:
        assert s.prediction is None and s.confidence is None and s.error_detail
        assert "\n" not in s.error_detail and len(s.error_detail) <= 200
    return s


@pytest.mark.parametrize(("resp", "kind", "status"), [
    (Resp(200, {"error": "model not loaded"}), "protocol_error", None),
    (Resp(200, {"prediction": None, "error": "feature 'b' missing"}), "protocol_error", None),
    (Resp(200, text="<html><body><h1>Welcome to nginx</h1></body></html>", content_type="text/html"),
     "malformed_response", 200),
    (Resp(502, text="<html><title>502 Bad Gateway</title></html>", content_type="text/html"), "http_error", 502),
    (Resp(200, text=""), "malformed_response", 200),
    (Resp(204, text=""), "malformed_response", 204),
    (Resp(307, text="", headers={"Location": "/predict"}), "protocol_error", None),   # a redirect loop
])
def test_error_answers_are_error_samples(resp: Resp, kind: str, status: int | None) -> None:
    s = one(resp)
    assert (s.error_kind, s.status_code) == (kind, status)


def test_429_keeps_the_retry_after_hint() -> None:
    s = one(Resp(429, {"error": "rate limited"}, headers={"Retry-After": "30"}))
    assert (s.error_kind, s.status_code) == ("http_error", 429)
    assert "Retry-After: 30" in (s.error_detail or "")


@pytest.mark.parametrize("code", [301, 307])
def test_redirects_are_followed(code: int) -> None:
    moved = {("*", "/v2/predict"): Resp(200, {"prediction": 1, "confidence": 0.9})}
    s = one(Resp(code, text="", headers={"Location": "/v2/predict"}), extra=moved)
    assert (s.error_kind, s.prediction, s.confidence) == (None, "1", 0.9)


def test_gzip_body_is_decoded() -> None:
    s = one(Resp(200, {"prediction": 0, "confidence": 0.66}, gzip=True))
    assert (s.prediction, s.confidence) == ("0", 0.66)


@pytest.mark.parametrize("text", [
    '{"prediction": 1, "confidence": NaN}',
    '{"prediction": NaN}',
    '{"prediction": "nan"}',
    '{"predictions": [[NaN, NaN]]}',                          # a numerically collapsed network
    '[[NaN, 0.5]]',
    '{"probabilities": [NaN, NaN]}',
    '{"prediction": 1, "probabilities": {"0": NaN, "1": NaN}}',
    '{"prediction": 1, "probabilities": [Infinity, 0.1]}',
    '{"label": 1, "scores": [-Infinity, 2.0]}',
    '{"prediction": "1", "confidence": "NaN"}',
])
def test_non_finite_model_output_is_malformed_never_a_prediction(text: str) -> None:
    s = one(Resp(200, text=text))
    assert s.error_kind == "malformed_response"


@pytest.mark.parametrize(("body", "conf"), [
    ({"prediction": "1", "confidence": "0.93"}, 0.93),
    ({"prediction": "1", "probability": " 0.81 "}, 0.81),
    ({"prediction": "1", "probabilities": {"0": "0.25", "1": "0.75"}}, 0.75),
])
def test_confidence_sent_as_a_string_is_read(body: Any, conf: float) -> None:
    s = one(Resp(200, body))
    assert (s.error_kind, s.prediction, s.confidence) == (None, "1", conf)


@pytest.mark.parametrize("body", [{"prediction": "1", "confidence": "93%"}, {"prediction": "1", "confidence": 93}])
def test_confidence_out_of_range_is_never_recorded(body: Any) -> None:
    s = one(Resp(200, body))
    assert s.confidence is None


def test_slow_first_byte_is_a_timeout() -> None:
    release = threading.Event()
    try:
        t0 = time.perf_counter()
        s = one(Resp(200, stall=release), timeout=0.3)
        assert time.perf_counter() - t0 < 2.5
    finally:
        release.set()
    assert s.error_kind == "timeout"


def test_connection_reset_mid_body() -> None:
    s = one(Resp(200, {"prediction": 1, "confidence": 0.9, "pad": "x" * 4000}, reset_after=20))
    assert s.error_kind == "connection_error"


def test_huge_body_is_refused_without_holding_it_in_memory() -> None:
    tracemalloc.start()
    try:
        s = one(Resp(200, chunked_bytes=50_000_000), timeout=10)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert s.error_kind == "malformed_response" and "too large" in (s.error_detail or "")
    assert peak < 40 * 2**20, f"peak {peak / 2**20:.0f} MiB"


def test_gzip_bomb_is_bounded_by_its_decoded_size() -> None:
    bomb = gzip.compress(b'{"prediction": 1, "pad": "' + b" " * 30_000_000 + b'"}')   # ~30 KB on the wire
    with StubServer(json_app({("POST", "/predict"): _raw_gzip(bomb)})) as srv:
        s = probe_once(ProbeTarget(name="ep", url=srv.url + "/predict", protocol="generic", timeout_s=10), ROW, None)
    assert len(bomb) < 2**20
    assert s.error_kind == "malformed_response" and "too large" in (s.error_detail or "")


def _raw_gzip(data: bytes) -> Any:
    class _R(Resp):
        def payload(self) -> bytes:
            return data

    return _R(200, headers={"Content-Encoding": "gzip"})


def test_constant_prediction_is_data_not_a_probe_error() -> None:
    with StubServer(json_app({("POST", "/predict"): Resp(200, {"prediction": 0, "confidence": 1.0})})) as srv:
        t = ProbeTarget(name="ep", url=srv.url + "/predict", protocol="auto", timeout_s=3)
        samples = [probe_once(t, {"a": float(i), "b": -float(i)}, i % 2) for i in range(6)]
    assert all(s.ok and s.prediction == "0" and s.confidence == 1.0 for s in samples)
    assert [s.correct for s in samples] == [True, False] * 3


@pytest.mark.parametrize(("body", "pred", "conf"), [
    ({"probabilities": [0.3, 0.3, 0.2]}, "0", 0.3),          # named, but not a distribution: kept as given
    ({"prediction": 2, "probabilities": [0.1, 0.2, 0.7]}, "2", 0.7),
    ({"predictions": [[0.05, 0.15, 0.8]]}, "2", 0.8),        # 3 classes, TF/KServe style
])
def test_probabilities_not_summing_to_one_and_three_classes(body: Any, pred: str, conf: float) -> None:
    s = one(Resp(200, body))
    assert (s.error_kind, s.prediction, s.confidence) == (None, pred, conf)


def test_bare_scores_not_summing_to_one_give_no_confidence() -> None:
    s = one(Resp(200, [[0.3, 0.6, 0.4]]))     # logits/independent sigmoids: the argmax, never a made-up confidence
    assert (s.error_kind, s.prediction, s.confidence) == (None, "1", None)
