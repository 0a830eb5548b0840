"""Turn the many shapes a prediction can take in JSON into one :class:`Parsed` (label, confidence, probabilities)."""

from __future__ import annotations

import math
from typing import Any

from app.probing.base import Parsed, ProbeFault

__all__ = ["as_probabilities", "canonical", "from_probabilities", "interpret", "sigmoid_output"]

PRED_KEYS = ("prediction", "predictions", "predicted_class", "predicted_label", "prediction_label", "label",
             "class", "class_label", "pred", "preds", "y_pred", "predict", "output", "outputs", "result",
             "results", "category", "value", "ndarray", "data")
CONF_KEYS = ("confidence", "probability", "proba", "prob", "certainty", "max_probability", "score")
PROBA_KEYS = ("probabilities", "probability_distribution", "class_probabilities", "predict_proba", "probas",
              "probs", "confidences", "scores", "distribution")
CLASS_KEYS = ("classes", "class_names", "labels", "classes_")
_STRICT_CONF = {"confidence", "probability", "proba", "prob", "certainty", "max_probability"}
_ERROR_KEYS = ("error", "errors", "detail", "message", "exception")


def canonical(value: Any) -> str | None:
    """A label as a canonical string: ``1``, ``1.0`` and ``"1.0"`` all become ``"1"``.

    >>> canonical(1.0), canonical("1.0"), canonical(True), canonical("benign"), canonical(None)
    ('1', '1', '1', 'benign', None)
    """
    if value is None:
        return None
    if isinstance(value, bool):
        return str(int(value))
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ProbeFault("malformed_response", f"prediction is not a finite number ({value})")
        return str(int(value)) if value.is_integer() else repr(round(value, 10))
    if isinstance(value, str):
        s = value.strip()
        try:
            f = float(s)
        except ValueError:
            return s
        if not math.isfinite(f):
            raise ProbeFault("malformed_response", f"prediction is not a finite number ({s[:20]})")
        return str(int(f)) if math.isfinite(f) and f.is_integer() and "e" not in s.lower() else s
    raise ProbeFault("malformed_response", f"prediction has an unexpected type ({type(value).__name__})")


def _num(v: Any) -> float | None:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return None
    return float(v)


def _num_text(v: Any) -> float | None:
    """A number, or a string holding one (``"0.93"``): for fields that can only hold a number."""
    if isinstance(v, str):
        try:
            return float(v.strip())
        except ValueError:
            return None
    return _num(v)


def _finite(values: Any, what: str) -> None:
    """Raise ``malformed_response`` when a model's scores hold NaN or Infinity (a numerically broken model)."""
    bad = [v for v in values if not math.isfinite(v)]
    if bad:
        raise ProbeFault("malformed_response", f"{what} hold a non-finite value ({bad[0]})")


def sigmoid_output(value: Any) -> Parsed | None:
    """A lone probability in (0, 1), the output of a one-unit sigmoid layer: P(class "1").

    >>> sigmoid_output(0.87)
    Parsed(prediction='1', confidence=0.87, probabilities={'0': 0.13, '1': 0.87})
    >>> sigmoid_output(1.0) is None, sigmoid_output(2.5) is None   # a label, a regression value
    (True, True)
    """
    f = _num(value)
    if f is None or not isinstance(value, float) or not 0.0 < f < 1.0:
        return None
    p1 = round(f, 12)
    return Parsed("1" if p1 >= 0.5 else "0", max(p1, round(1.0 - p1, 12)), {"0": round(1.0 - p1, 12), "1": p1})


def as_probabilities(value: Any, classes: Any = None, named: bool = False,
                     partial: bool = False) -> dict[str, float] | None:
    """Read a class-probability vector: ``{cls: p}``, ``[p0, p1]``, ``[{"label", "score"|"confidence"}]``
    or ``[[label, p], ...]``.

    A bare vector or mapping must sum to one, unless it sits under a probability key (``named``; numeric
    strings are read there too) or is a top-k excerpt (``partial``: a sum up to one). NaN or Infinity
    among the numbers is a ``malformed_response`` fault, never a prediction.

    >>> as_probabilities([0.2, 0.8])
    {'0': 0.2, '1': 0.8}
    >>> as_probabilities([{"label": "POSITIVE", "score": 0.9}, {"label": "NEGATIVE", "score": 0.1}])
    {'POSITIVE': 0.9, 'NEGATIVE': 0.1}
    >>> as_probabilities([3.0, 1.0]) is None   # not probabilities (logits)
    True
    >>> as_probabilities([["cat", 0.7], ["dog", 0.3]])
    {'cat': 0.7, 'dog': 0.3}
    """
    if isinstance(value, list) and len(value) == 1 and isinstance(value[0], (list, dict)):
        value = value[0]  # a batch of one
    num = _num_text if named else _num
    out: dict[str, float] = {}
    if isinstance(value, dict):
        for k, v in value.items():
            f = num(v)
            if f is None:
                return None
            out[str(canonical(k))] = f
    elif isinstance(value, list) and value and all(isinstance(x, dict) for x in value):
        for item in value:
            lab = next((item[k] for k in ("label", "class", "name") if k in item), None)
            p = next((num(item[k]) for k in ("score", "confidence", "probability", "prob") if k in item), None)
            if lab is None or p is None:
                return None
            out[str(canonical(lab))] = p
    elif isinstance(value, list) and value and all(_is_pair(x) for x in value):
        out = {str(canonical(lab)): float(p) for lab, p in value}  # TF-Serving :classify [[label, score]]
    elif isinstance(value, list) and len(value) >= 2 and all(num(x) is not None for x in value):
        names = [str(canonical(c)) for c in classes] if isinstance(classes, list) and len(classes) == len(value) \
            else [str(i) for i in range(len(value))]
        out = {n: float(num(x)) for n, x in zip(names, value)}  # type: ignore[arg-type]
    else:
        return None
    _finite(out.values(), "probabilities")
    if len(out) < 1 or any(p < -1e-9 or p > 1 + 1e-9 for p in out.values()):
        return None
    listed = isinstance(value, list) and isinstance(value[0], (dict, list))
    total = sum(out.values())
    if not named and not listed and (total > 1.02 or (not partial and total < 0.98)):
        return None  # a bare vector must sum to one (a top-k excerpt: at most one) to be read as probabilities
    return out


def _is_pair(x: Any) -> bool:
    return isinstance(x, list) and len(x) == 2 and isinstance(x[0], str) and _num(x[1]) is not None


def from_probabilities(probs: dict[str, float], prediction: str | None = None) -> Parsed:
    """Prediction = the given label or the argmax; confidence = its probability (else the max).

    >>> from_probabilities({"0": 0.3, "1": 0.7})
    Parsed(prediction='1', confidence=0.7, probabilities={'0': 0.3, '1': 0.7})
    """
    top = max(probs, key=lambda k: probs[k])
    pred = prediction if prediction is not None else top
    conf = probs.get(pred, probs[top])
    return Parsed(pred, float(conf), dict(probs))


def _find(d: dict[str, Any], keys: tuple[str, ...]) -> tuple[str, Any] | None:
    lower = {str(k).lower(): k for k in d}
    for k in keys:
        if k in lower:
            return k, d[lower[k]]
    return None


def _confidence(key: str, value: Any) -> float | None:
    if isinstance(value, list) and len(value) == 1:
        value = value[0]
    f = _num_text(value)
    if f is None:
        return None
    if not math.isfinite(f):
        raise ProbeFault("malformed_response", f"{key} is not a finite number ({f})")
    if 0.0 <= f <= 1.0:
        return f
    if key in _STRICT_CONF:
        raise ProbeFault("malformed_response", f"{key} {f:g} outside [0, 1]")
    return None  # an unbounded "score" is not a confidence


def interpret(body: Any, depth: int = 0) -> Parsed:
    """Read a prediction (and confidence) from a decoded JSON body, or raise ``malformed_response``.

    >>> interpret({"prediction": "1", "confidence": 0.93}).confidence
    0.93
    >>> interpret({"predictions": [0]})
    Parsed(prediction='0', confidence=None, probabilities=None)
    >>> interpret([[{"label": "LABEL_1", "score": 0.8}, {"label": "LABEL_0", "score": 0.2}]]).prediction
    'LABEL_1'
    >>> interpret({"label": "cat", "confidences": [{"label": "cat", "confidence": 0.6},
    ...                                           {"label": "dog", "confidence": 0.4}]}).confidence
    0.6
    """
    if depth > 6:
        raise ProbeFault("malformed_response", "response nested too deeply")
    if body is None:
        raise ProbeFault("malformed_response", "empty (null) prediction")
    if isinstance(body, (str, int, float, bool)):
        if isinstance(body, str) and not body.strip():
            raise ProbeFault("malformed_response", "empty prediction string")
        return Parsed(canonical(body))
    if isinstance(body, list):
        return _interpret_list(body, depth)
    if isinstance(body, dict):
        return _interpret_dict(body, depth)
    raise ProbeFault("malformed_response", f"unexpected body type {type(body).__name__}")


def _interpret_list(body: list[Any], depth: int) -> Parsed:
    if not body:
        raise ProbeFault("malformed_response", "empty prediction list")
    probs = as_probabilities(body)
    if probs is not None and (isinstance(body[0], (dict, list)) or len(body) >= 2):
        return from_probabilities(probs)
    if len(body) == 1:
        return sigmoid_output(body[0]) or interpret(body[0], depth + 1)  # [p]: a one-unit sigmoid output
    if all(isinstance(x, (str, bool)) or (_num(x) is not None and float(x).is_integer()) for x in body):
        return interpret(body[0], depth + 1)  # a batch of labels: we sent one instance, ours is the first
    if all(_num(x) is not None for x in body):
        # several scores that are not probabilities (logits): the argmax is the prediction
        vals = [float(x) for x in body]
        _finite(vals, "scores")
        return Parsed(str(vals.index(max(vals))))
    return interpret(body[0], depth + 1)  # a batch: we sent one instance, read the first answer


def _interpret_dict(body: dict[str, Any], depth: int) -> Parsed:
    if not body:
        raise ProbeFault("malformed_response", "empty JSON object")
    classes = (_find(body, CLASS_KEYS) or (None, None))[1]
    probs = None
    hit = _find(body, PROBA_KEYS)
    if hit is not None:
        probs = as_probabilities(hit[1], classes, named=True)
    pred: str | None = None
    conf: float | None = None
    hit = _find(body, PRED_KEYS)
    if hit is not None:
        value = hit[1]
        if isinstance(value, (str, int, float, bool)):
            pred = canonical(value)
        elif value is not None:
            inner = interpret(value, depth + 1)
            pred, conf = inner.prediction, inner.confidence
            probs = probs or inner.probabilities
    c = _find(body, CONF_KEYS)
    if c is not None:
        conf = _confidence(c[0], c[1]) if conf is None or c[0] in _STRICT_CONF else conf
    if probs:
        parsed = from_probabilities(probs, pred)
        return Parsed(parsed.prediction, conf if conf is not None else parsed.confidence, probs)
    if pred is not None or conf is not None:
        return Parsed(pred, conf)
    direct = as_probabilities(body, partial=True)  # {"0": 0.1, "1": 0.9}, or a top-k {"cat": 0.6, "lynx": 0.2}
    if direct is not None and len(direct) >= 2:
        return from_probabilities(direct)
    err = _find(body, _ERROR_KEYS)
    if err is not None:
        raise ProbeFault("protocol_error", f"endpoint reported an error: {str(err[1])[:100]}")
    only = next(iter(body.values()))
    if len(body) == 1 and isinstance(only, (dict, list)):
        return interpret(only, depth + 1)  # an unknown wrapper around the answer
    keys = ", ".join(list(map(str, body))[:8])
    raise ProbeFault("malformed_response", f"no prediction field in response (keys: {keys})")
