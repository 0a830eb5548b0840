"""Gradio apps: the current ``/gradio_api/call/<api>`` (event id, then an SSE stream), ``/call/<api>`` of 4.x,
and ``/run/predict`` / ``/api/predict`` of 3.x. Inputs follow the endpoint's declared parameters
(``/gradio_api/info``); a ``Label`` output ``{"label", "confidences"}`` gives prediction and confidence."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

from app.probing.base import Connector, Parsed, ProbeFault, join, register
from app.probing.http import Call
from app.probing.interpret import interpret

__all__ = ["GradioConnector", "gradio_data", "parse_gradio_data", "parse_sse", "pick_endpoint", "split_gradio_url"]

_MARKERS = ("/gradio_api/call/", "/call/", "/run/", "/api/")


def split_gradio_url(url: str) -> tuple[str, str | None, str | None]:
    """(app root, API style, api name) of a Gradio URL; style is ``call`` (with its prefix) or ``run``.

    >>> split_gradio_url("http://h:7860/gradio_api/call/predict")
    ('http://h:7860', '/gradio_api/call', 'predict')
    >>> split_gradio_url("http://h:7860/run/predict")
    ('http://h:7860', '/run', 'predict')
    >>> split_gradio_url("http://h:7860/")
    ('http://h:7860', None, None)
    """
    parts = urlsplit(url)
    path = parts.path
    root = f"{parts.scheme}://{parts.netloc}"
    for marker in _MARKERS:
        if marker in path:
            before, after = path.split(marker, 1)
            api = after.strip("/").split("/")[0] or None
            return root + before, marker.rstrip("/") if marker != "/gradio_api/call/" else "/gradio_api/call", api
    return (root + path).rstrip("/"), None, None


def parse_sse(text: str) -> Any:
    """The data of the ``complete`` event of a Gradio SSE stream (``error`` event -> fault).

    >>> parse_sse('event: generating\\ndata: null\\n\\nevent: complete\\ndata: [3.5]\\n\\n')
    [3.5]
    """
    event: str | None = None
    data_lines: list[str] = []
    events: list[tuple[str | None, str]] = []
    for line in text.splitlines() + [""]:
        if not line.strip():
            if event is not None or data_lines:
                events.append((event, "\n".join(data_lines)))
            event, data_lines = None, []
        elif line.startswith("event:"):
            event = line[6:].strip()
        elif line.startswith("data:"):
            data_lines.append(line[5:].strip())
    for ev, data in events:
        if ev == "error":
            raise ProbeFault("protocol_error", f"the Gradio app reported an error: {data[:100] or 'no detail'}")
    complete = [d for ev, d in events if ev == "complete"]
    if not complete:
        seen = ", ".join(sorted({str(ev) for ev, _ in events})) or "none"
        raise ProbeFault("malformed_response", f"Gradio stream ended without a 'complete' event (events: {seen})")
    try:
        return json.loads(complete[-1])
    except ValueError as exc:
        raise ProbeFault("malformed_response", f"Gradio 'complete' event is not JSON: {complete[-1][:60]!r}") from exc


def pick_endpoint(info: Any) -> tuple[str, list[dict[str, Any]]] | None:
    """(api name, parameters) of the endpoint to call from ``/gradio_api/info``: ``/predict`` if present,
    else the only (or first) named endpoint."""
    named = info.get("named_endpoints") if isinstance(info, dict) else None
    if not isinstance(named, dict) or not named:
        return None
    api = "/predict" if "/predict" in named else next(iter(named))
    params = named[api].get("parameters") if isinstance(named[api], dict) else None
    return api.strip("/"), [p for p in params or [] if isinstance(p, dict)]


def gradio_data(row: dict[str, Any], params: list[dict[str, Any]] | None) -> list[Any]:
    """The ``data`` list for one row, shaped by the endpoint's declared parameters.

    >>> gradio_data({"a": 1, "b": 2}, [{"label": "b"}, {"label": "a"}])
    [2, 1]
    >>> gradio_data({"a": 1, "b": 2}, [{"label": "x", "component": "Dataframe"}])
    [{'headers': ['a', 'b'], 'data': [[1, 2]], 'metadata': None}]
    >>> gradio_data({"a": 1, "b": 2}, None)
    [1, 2]
    """
    values = list(row.values())
    if not params:
        return values
    if len(params) == 1 and len(row) > 1:
        comp = str(params[0].get("component", "")).lower()
        if comp == "dataframe":
            return [{"headers": list(row), "data": [values], "metadata": None}]
        if comp in ("json", "code"):
            return [dict(row)]
        return [json.dumps(row)]
    names = [str(p.get("parameter_name") or p.get("label") or "") for p in params]
    labels = [str(p.get("label") or "") for p in params]
    for keys in (names, labels):
        if all(k in row for k in keys):
            return [row[k] for k in keys]
    return values[: len(params)] if len(params) <= len(values) else values + [None] * (len(params) - len(values))


def parse_gradio_data(data: Any) -> Parsed:
    """Read the output list of a Gradio call: a Label dict, a number or a string; a second numeric output
    in [0, 1] next to a plain label is taken as its confidence.

    >>> parse_gradio_data([{"label": "1", "confidences": [{"label": "1", "confidence": 0.9},
    ...                                                  {"label": "0", "confidence": 0.1}]}]).confidence
    0.9
    >>> parse_gradio_data(["benign", 0.8])
    Parsed(prediction='benign', confidence=0.8, probabilities=None)
    """
    if isinstance(data, dict) and "data" in data:
        data = data["data"]
    if not isinstance(data, list) or not data:
        raise ProbeFault("malformed_response", "Gradio output is not a non-empty list")
    first = interpret(data[0])
    if first.confidence is None and len(data) >= 2 and isinstance(data[1], (int, float)) \
            and not isinstance(data[1], bool) and 0.0 <= float(data[1]) <= 1.0:
        return Parsed(first.prediction, float(data[1]), first.probabilities)
    return first


class GradioConnector(Connector):
    """Tries the current queue API, then 4.x ``/call``, then 3.x ``/run`` and ``/api``; remembers what worked."""

    name = "gradio"

    def _params(self, call: Call, root: str, api: str | None) -> tuple[str | None, list[dict[str, Any]] | None]:
        key = ("gradio-info", root)
        if key not in call.memo:
            picked = None
            for info_path in ("/gradio_api/info", "/info"):
                info = call.discover(join(root, info_path))
                picked = pick_endpoint(info)
                if picked and isinstance(info, dict):
                    named = info["named_endpoints"]
                    if api and f"/{api}" in named:  # the URL names its endpoint: use its parameters
                        picked = (api, [p for p in named[f"/{api}"].get("parameters") or [] if isinstance(p, dict)])
                    break
            call.memo[key] = picked
        picked = call.memo[key]
        return (api or picked[0], picked[1]) if picked else (api, None)

    def predict(self, call: Call) -> Parsed:
        root, style, api = split_gradio_url(call.target.url)
        api, params = self._params(call, root, api)
        api = api or "predict"
        key = ("gradio", call.target.url)
        styles = [call.memo[key]] if key in call.memo else (
            [style] if style else ["/gradio_api/call", "/call", "/run", "/api"])
        payload = call.body({"data": gradio_data(call.row, params)})
        for i, st in enumerate(styles):
            try:
                parsed = self._once(call, root, st, api, payload)
            except ProbeFault as fault:
                if fault.kind == "http_error" and fault.status_code in (404, 405) and i < len(styles) - 1:
                    call.restart_clock()
                    continue
                raise
            call.memo[key] = st
            call.memo[("gradio-url", call.target.url)] = join(root, f"{st}/{api}")
            return parsed
        raise ProbeFault("protocol_error", "no Gradio API answered")  # pragma: no cover

    def resolved_url(self, call: Call) -> str:
        return str(call.memo.get(("gradio-url", call.target.url), call.target.url))

    @staticmethod
    def _once(call: Call, root: str, style: str, api: str, payload: Any) -> Parsed:
        url = join(root, f"{style}/{api}")
        body = call.json_of(call.post(url, payload))
        if style in ("/run", "/api"):
            return parse_gradio_data(body)
        event_id = body.get("event_id") if isinstance(body, dict) else None
        if not event_id:
            raise ProbeFault("protocol_error", "Gradio call returned no event_id")
        return parse_gradio_data(parse_sse(call.get(join(url, str(event_id))).text))


register(GradioConnector())
