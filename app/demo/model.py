"""The demo endpoint: a real scikit-learn classifier with switchable failure modes, over plain HTTP.

Model: ``StandardScaler`` + ``LogisticRegression`` trained at start on scikit-learn's bundled breast-cancer
data (569 rows, 30 features; seeded split, 65 % train). The 35 % test split is the shipped probe set
``data/samples/demo_probe_set.csv``, so a healthy model scores about 0.95-0.98 accuracy on probes.

HTTP (``ThreadingHTTPServer``, keep-alive, no extra dependency):

- ``POST /predict`` (and ``/predict/<anything>``, so one server can stand in for many endpoints) with
  ``{"features": {name: value}}`` (also ``"inputs"``, a bare mapping, a list of 30 values, or
  ``{"instances": [[...]]}``) -> ``{"prediction": "0"|"1", "confidence": max proba,
  "probabilities": {"0": p0, "1": p1}, "model_version": ...}``. Missing/non-numeric features -> 400.
- ``GET /health`` -> ``{"status": "ok", ...}``.  ``GET /_control`` -> the mode;
  ``POST /_control {"mode": M}`` switches it (400 with a message on an unknown mode).

Failure modes, each meant to produce one distinct root cause:

``healthy``            the model as trained.
``degraded_accuracy``  ~30 % of answers are wrong (class swapped with its probabilities), with
                       class-dependent rates that keep the predicted-class mix and the confidence
                       distribution unchanged -> only accuracy drops (``accuracy_drop``).
``accuracy_drop_40``   as ``degraded_accuracy`` with about 40 % of answers wrong (-40 points): the
                       severe drop of the live-detection goal (open and resolve within 60 s).
``low_confidence``     probabilities shrunk toward 0.5 (same argmax, confidence 0.5-0.62): accuracy and
                       class mix unchanged, confidence collapses (``confidence_drop``).
``latency``            150-300 ms added to every answer, outputs unchanged (``latency_degradation``).
``errors``             half of the requests fail with HTTP 500 (``error_spike``).
``silent_failure``     HTTP 200, always class "1" with the same confidence 0.9 whatever the input: a
                       degenerate, constant output (``silent_failure``).
``malformed``          70 % of answers are HTTP 200 with broken bodies: truncated JSON, HTML, or JSON
                       without a prediction (``data_quality`` / malformed responses).
``prediction_drift``   60 % of class-"0" answers become "1" (probabilities swapped): the predicted-class
                       mix shifts strongly to one class (``prediction_drift``; with labelled probes
                       accuracy falls too, but one-sidedly).

Feature drift is a property of the traffic, not of the server: probe with a shifted probe set to test it.
"""

from __future__ import annotations

import json
import random
import threading
import time
import zlib
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import numpy as np

from app.errors import InputError

__all__ = [
    "MODEL_VERSION",
    "MODES",
    "Behaviour",
    "DemoModel",
    "demo_split",
    "make_server",
    "serve",
    "train_demo_model",
    "write_probe_set",
]

MODES = ("healthy", "degraded_accuracy", "low_confidence", "latency", "errors", "silent_failure", "malformed",
         "prediction_drift", "accuracy_drop_40")
_FLIP = {"degraded_accuracy": 0.22, "accuracy_drop_40": 0.38}   # flip rate of the majority class
MODEL_VERSION = "demo-breast-cancer-lr-1"
SEED = 42
TEST_SIZE = 0.35


def demo_split(seed: int = SEED) -> tuple[Any, Any, Any, Any, list[str]]:
    """(X_train, X_test, y_train, y_test, feature names) of the bundled breast-cancer data (stratified)."""
    from sklearn.datasets import load_breast_cancer
    from sklearn.model_selection import train_test_split

    data = load_breast_cancer()
    xtr, xte, ytr, yte = train_test_split(data.data, data.target, test_size=TEST_SIZE, random_state=seed,
                                          stratify=data.target)
    return xtr, xte, ytr, yte, [str(n) for n in data.feature_names]


@dataclass
class DemoModel:
    """The trained pipeline plus what it needs to read a request."""

    pipeline: Any
    features: list[str]
    classes: list[str]
    class_share: dict[str, float]

    def proba(self, values: list[float]) -> np.ndarray:
        return np.asarray(self.pipeline.predict_proba(np.asarray([values], dtype=float))[0])


def train_demo_model(seed: int = SEED) -> DemoModel:
    """Fit StandardScaler + LogisticRegression on the training split (seeded, deterministic)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    xtr, _, ytr, _, names = demo_split(seed)
    pipe = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000, random_state=seed)).fit(xtr, ytr)
    classes = [str(c) for c in pipe.classes_]
    share = {c: float(np.mean(ytr.astype(str) == c)) for c in classes}
    return DemoModel(pipe, names, classes, share)


def write_probe_set(path: str | Path, seed: int = SEED) -> Path:
    """Write the held-out split as the probe set CSV: 30 feature columns + ``target``."""
    import pandas as pd

    _, xte, _, yte, names = demo_split(seed)
    df = pd.DataFrame(xte, columns=names)
    df["target"] = yte
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    df.to_csv(out, index=False)
    return out


def _unit(values: list[float], salt: str) -> float:
    """A deterministic number in [0, 1) for one input (the same request always gets the same fate)."""
    return zlib.crc32((salt + ",".join(f"{v:.6g}" for v in values)).encode()) / 2**32


@dataclass
class Behaviour:
    """The current mode and how it bends an answer; shared by all request threads."""

    model: DemoModel
    mode: str = "healthy"
    rng: random.Random = field(default_factory=lambda: random.Random(SEED))
    lock: threading.Lock = field(default_factory=threading.Lock)

    def set_mode(self, mode: str) -> str:
        if mode not in MODES:
            raise InputError(f"unknown mode {mode!r}: choose one of {', '.join(MODES)}")
        previous, self.mode = self.mode, mode
        return previous

    def _random(self) -> float:
        with self.lock:
            return self.rng.random()

    def answer(self, values: list[float]) -> tuple[int, bytes, float]:
        """(HTTP status, body, delay in seconds) for one feature vector under the current mode."""
        mode = self.mode
        p = self.model.proba(values)
        classes = self.model.classes
        top = int(np.argmax(p))
        u = _unit(values, mode)
        if mode in _FLIP:
            # flip rates per class chosen so the predicted-class mix stays the same: r0 * s0 = r1 * s1
            s, r = self.model.class_share, _FLIP[mode]
            major = max(classes, key=lambda c: s[c])
            rate = {major: r, **{c: min(0.9, r * s[major] / s[c]) for c in classes if c != major}}
            if u < rate[classes[top]]:
                p = p[::-1].copy()
        elif mode == "prediction_drift" and classes[top] == classes[0] and u < 0.6:
            p = p[::-1].copy()
        elif mode == "low_confidence":
            p = 0.5 + (p - 0.5) * 0.25
        elif mode == "silent_failure":
            p = np.array([0.1, 0.9])
        elif mode == "errors" and self._random() < 0.5:
            return 500, json.dumps({"error": "model backend failure"}).encode(), 0.0
        elif mode == "malformed" and self._random() < 0.7:
            broken = (b'{"prediction": "1", "confid', b"<html><body>502 upstream</body></html>",
                      json.dumps({"status": "ok", "model_version": MODEL_VERSION}).encode())
            return 200, broken[int(self._random() * len(broken))], 0.0
        delay = 0.15 + 0.15 * self._random() if mode == "latency" else 0.0
        top = int(np.argmax(p))
        body = {"prediction": classes[top], "confidence": round(float(p[top]), 6),
                "probabilities": {c: round(float(x), 6) for c, x in zip(classes, p)}, "model_version": MODEL_VERSION}
        return 200, json.dumps(body).encode(), delay


def read_features(payload: Any, names: list[str]) -> list[float]:
    """The feature vector of a request body (InputError with a message when it cannot be read)."""
    if isinstance(payload, dict):
        for key in ("features", "inputs", "instances", "data"):
            if key in payload:
                payload = payload[key]
                break
    if isinstance(payload, list) and len(payload) == 1 and isinstance(payload[0], (list, dict)):
        payload = payload[0]
    if isinstance(payload, dict):
        missing = [n for n in names if n not in payload]
        if missing:
            raise InputError(f"missing features: {', '.join(missing[:5])}{' ...' if len(missing) > 5 else ''}")
        payload = [payload[n] for n in names]
    if not isinstance(payload, list) or len(payload) != len(names):
        raise InputError(f"expected {len(names)} features (a mapping by name or a list)")
    try:
        return [float(v) for v in payload]
    except (TypeError, ValueError) as exc:
        raise InputError("features must be numbers") from exc


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # one small answer per request: do not wait for delayed ACKs
    server: _DemoServer

    def log_message(self, format: str, *args: Any) -> None:
        return

    def _send(self, status: int, body: bytes | dict[str, Any], ctype: str = "application/json") -> None:
        data = json.dumps(body).encode() if isinstance(body, dict) else body
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _json_body(self) -> Any:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            return json.loads(raw or b"null")
        except ValueError as exc:
            raise InputError("request body is not valid JSON") from exc

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0].rstrip("/")
        b = self.server.behaviour
        if path == "/health":
            self._send(200, {"status": "ok", "model_version": MODEL_VERSION})
        elif path == "/_control":
            self._send(200, {"mode": b.mode, "modes": list(MODES)})
        else:
            self._send(404, {"error": f"no route GET {path or '/'}"})

    def do_POST(self) -> None:
        path = self.path.split("?", 1)[0].rstrip("/")
        b = self.server.behaviour
        try:
            payload = self._json_body()
            if path == "/_control":
                mode = payload.get("mode") if isinstance(payload, dict) else None
                previous = b.set_mode(str(mode))
                self._send(200, {"mode": b.mode, "previous": previous})
                return
            if path != "/predict" and not path.startswith("/predict/"):
                self._send(404, {"error": f"no route POST {path or '/'}"})
                return
            status, body, delay = b.answer(read_features(payload, b.model.features))
        except InputError as exc:
            self._send(400, {"error": str(exc)})
            return
        if delay:
            time.sleep(delay)
        self._send(status, body)


class _DemoServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256
    behaviour: Behaviour

    def handle_error(self, request: Any, client_address: Any) -> None:
        import sys

        if isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            return  # a client that timed out and left: not a server fault
        super().handle_error(request, client_address)


def make_server(host: str = "127.0.0.1", port: int = 9000, mode: str = "healthy",
                model: DemoModel | None = None) -> _DemoServer:
    """Train (unless given) and bind the demo server; ``port=0`` picks a free port (see ``server_address``)."""
    behaviour = Behaviour(model or train_demo_model())
    behaviour.set_mode(mode)
    try:
        server = _DemoServer((host, port), _Handler)
    except OSError as exc:
        raise InputError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from exc
    server.behaviour = behaviour
    return server


def serve(host: str = "127.0.0.1", port: int = 9000, mode: str = "healthy",
          server: _DemoServer | None = None) -> None:
    """Run the demo server (a bound one, or a new one) in the foreground until interrupted or terminated."""
    import signal

    server = server or make_server(host, port, mode)

    def _stop(*_: Any) -> None:
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, _stop)
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
