"""Optional reasoning model against a stand-in chat-completions server on loopback: used, or refused honestly."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest
from loguru import logger

from app.config import Settings
from app.diagnosis import diagnose
from app.diagnosis.reasoning import MODEL_FIELDS
from app.knowledge.retriever import Retriever, build_retriever

KEY = "sk-test-5f1c9a0e7d2b4c68a3e1"
PROMPT = (
    "Churn model: validation accuracy 0.98 after we added renewal_status_after_30d, but on the untouched "
    "test set accuracy fell to 0.61. The feature is filled in by the CRM a month after the prediction."
)
GOOD = {
    "task": "binary_classification",
    "metrics": {"validation": {"accuracy": 0.98}, "test": {"accuracy": 0.61}},
    "features": [{"name": "renewal_status_after_30d", "available_at_prediction_time": False,
                  "added_recently": True}],
}


class _Model(BaseHTTPRequestHandler):
    mode: ClassVar[str] = "ok"
    seen: ClassVar[list[dict[str, Any]]] = []

    def log_message(self, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        _Model.seen.append({"path": self.path, "auth": self.headers.get("Authorization"), "body": body})
        content: Any = {
            "ok": json.dumps(GOOD),
            "fenced": "```json\n" + json.dumps(GOOD) + "\n```",
            "invented_field": json.dumps({**GOOD, "model_quality": "excellent"}),
            "invented_nested": json.dumps({**GOOD, "evaluation": {"leak_probability": 0.9}}),
            "invented_value": json.dumps({**GOOD, "metrics": {"validation": {"accuracy": 0.98, "roc_auc": 0.93}}}),
            "not_json": "The experiment leaks.",
            "not_object": "[1, 2]",
            "echo_key": json.dumps({**GOOD, "title": KEY}),
        }.get(_Model.mode)
        if _Model.mode == "slow":
            time.sleep(1.0)
            content = json.dumps(GOOD)
        status = 500 if _Model.mode == "http500" else 200
        out = json.dumps({"choices": [{"message": {"role": "assistant", "content": content}}]}).encode()
        if _Model.mode == "no_choices":
            out = b'{"error": "overloaded"}'
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    srv = ThreadingHTTPServer(("127.0.0.1", 0), _Model)
    srv.daemon_threads = True
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{srv.server_address[1]}/v1"
    srv.shutdown()
    srv.server_close()


@pytest.fixture(scope="module")
def kb() -> Retriever:
    return build_retriever(None)      # local knowledge base, built once for the module


@pytest.fixture(scope="module")
def local(kb: Retriever) -> dict[str, Any]:
    return diagnose(prompt=PROMPT, retriever=kb).payload()


@pytest.fixture
def logs() -> Iterator[list[str]]:
    lines: list[str] = []
    sink = logger.add(lambda m: lines.append(str(m)), level="DEBUG")
    yield lines
    logger.remove(sink)


def _settings(tmp_path: Path, url: str, timeout: float = 5.0) -> Settings:
    return Settings(home=tmp_path, reasoning_url=url, reasoning_model="stand-in-7b", reasoning_api_key=KEY,
                    reasoning_timeout_s=timeout, _env_file=None)  # type: ignore[call-arg]


@pytest.mark.parametrize("mode", ["ok", "fenced"])
def test_model_fills_the_record_rules_decide_and_grounding_says_remote(
    mode: str, server: str, tmp_path: Path, logs: list[str], kb: Retriever
) -> None:
    _Model.mode, _Model.seen = mode, []
    p = diagnose(prompt=PROMPT, settings=_settings(tmp_path, server), retriever=kb).payload()
    sent = _Model.seen[-1]
    assert sent["path"] == "/v1/chat/completions" and sent["auth"] == f"Bearer {KEY}"
    assert sent["body"]["model"] == "stand-in-7b" and sent["body"]["messages"][-1]["content"] == PROMPT
    schema = sent["body"]["response_format"]["json_schema"]["schema"]
    assert set(schema["properties"]) == set(MODEL_FIELDS) and "dataset" not in schema["properties"]
    g = p["grounding"]
    assert (g["reasoning"], g["search"], g["proof_level"]) == ("remote", "local", "local_knowledge_base+remote_reasoning")
    assert g["reasoning_model"] == "stand-in-7b" and g["reasoning_error"] is None
    prov = p["input"]["record"]["provenance"]
    assert prov["metrics"] == "reasoning model stand-in-7b" and prov["features"] == "reasoning model stand-in-7b"
    assert p["input"]["record"]["metrics"]["test"] == {"accuracy": 0.61}
    assert p["primary_category"] == "data_leakage" and p["citations"], "the local rules decide and cite"
    assert not any("reasoning" in w for w in p["intake_warnings"])
    assert KEY not in json.dumps(p) and not any(KEY in line for line in logs)


@pytest.mark.parametrize("mode, why", [
    ("invented_field", "invented fields: model_quality"),
    ("invented_nested", "invented fields: evaluation.leak_probability"),
    ("invented_value", "invented values not in the text: metrics.validation.roc_auc=0.93"),
    ("not_json", "malformed output: the answer is not JSON"),
    ("not_object", "malformed output: the answer is not a JSON object"),
    ("no_choices", "malformed output: not a chat-completions answer"),
    ("http500", "answered HTTP 500"),
    ("echo_key", "malformed output: the answer repeats the credential"),
    ("slow", "timed out after 0.3s"),
])
def test_bad_model_answers_fall_back_to_local_and_say_so(
    mode: str, why: str, server: str, tmp_path: Path, logs: list[str], kb: Retriever, local: dict[str, Any]
) -> None:
    _Model.mode = mode
    p = diagnose(prompt=PROMPT, settings=_settings(tmp_path, server, timeout=0.3), retriever=kb).payload()
    g = p["grounding"]
    assert (g["reasoning"], g["proof_level"], g["reasoning_configured"]) == ("local", "local_knowledge_base", True)
    assert g["reasoning_error"] == why
    assert p["intake_warnings"] == [f"reasoning model not used ({why}): the local text reader filled the record"]
    assert p["input"]["record"] == local["input"]["record"] and p["primary_category"] == local["primary_category"]
    assert KEY not in json.dumps(p) and not any(KEY in line for line in logs)


def test_unreachable_server_falls_back_and_not_configured_sends_nothing(tmp_path: Path, kb: Retriever) -> None:
    p = diagnose(prompt=PROMPT, settings=_settings(tmp_path, "http://127.0.0.1:9/v1", timeout=1.0),
                 retriever=kb).payload()
    assert p["grounding"]["reasoning"] == "local" and p["grounding"]["reasoning_error"].startswith("unreachable (")
    _Model.seen = []
    plain = diagnose(prompt=PROMPT, settings=Settings(home=tmp_path, _env_file=None),  # type: ignore[call-arg]
                     retriever=kb).payload()
    assert plain["grounding"]["reasoning_configured"] is False and plain["intake_warnings"] == []
    rec = diagnose(experiment={"metrics": {"train": {"auc": 0.99}, "validation": {"auc": 0.8}}},
                   settings=_settings(tmp_path, "http://127.0.0.1:9/v1"), retriever=kb).payload()
    g = rec["grounding"]
    assert (g["reasoning"], g["reasoning_configured"], g["proof_level"]) == ("local", True, "local_knowledge_base")
    assert _Model.seen == [] and not any("reasoning" in w for w in rec["intake_warnings"])


def test_settings_read_the_documented_variables_and_never_show_the_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLFI_REASONING_URL", "http://127.0.0.1:1/v1")
    monkeypatch.setenv("MLFI_REASONING_MODEL", "m")
    monkeypatch.setenv("MLFI_REASONING_API_KEY", KEY)
    s = Settings(_env_file=None)  # type: ignore[call-arg]
    assert s.reasoning_url == "http://127.0.0.1:1/v1" and s.reasoning_model == "m"
    assert s.reasoning_api_key is not None and s.reasoning_api_key.get_secret_value() == KEY
    assert KEY not in repr(s) and KEY not in str(s.model_dump())
    with pytest.raises(ValueError, match="must start with http"):
        Settings(reasoning_url="localhost:8080", _env_file=None)  # type: ignore[call-arg]
