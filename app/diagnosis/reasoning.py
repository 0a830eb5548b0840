"""Optional reasoning model: an OpenAI-compatible chat-completions server fills the experiment record.

The model only reads: it returns an ``ExperimentRecord`` through a JSON schema, and the local text
reader fills what it left empty. The deterministic rules still decide and cite. The model's record is
refused, and the local reader used alone, when the call times out or fails, when the answer is not a
record of the schema (malformed output), when it has fields the schema does not know, or when it
states a number or a feature name that the text does not contain (invented values). Each refusal is
one line in ``intake_warnings``; ``grounding`` says whether the remote half was really used.
The API key goes in a header only: never into a message, a log line, a warning or the payload.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from app.config import Settings
from app.diagnosis.intake import from_dict, from_prompt
from app.diagnosis.record import ExperimentRecord
from app.knowledge.models import Grounding

__all__ = ["MODEL_FIELDS", "ReasoningError", "ReasoningOutcome", "chat_url", "configured", "read_prompt",
           "record_schema", "unsupported_values", "with_reasoning"]

# what the model may fill: the record minus bookkeeping and file paths (a path from text must never be opened)
MODEL_FIELDS = tuple(f for f in ExperimentRecord.model_fields
                     if f not in {"schema_version", "provenance", "input_conflicts", "dataset", "notes"})
_NUMBER = re.compile(r"(?<![\w.])-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?")
_SYSTEM = (
    "You read descriptions of failed machine-learning experiments and return ONE JSON object that follows the "
    "given JSON schema: the experiment record. Fill only what the text states; leave everything else out. Copy "
    "numbers exactly as written (98% may be written 0.98). Never invent metrics, features or fields."
)


class ReasoningError(Exception):
    """The remote model's record cannot be used (the message is one line and never holds the key)."""


@dataclass(frozen=True)
class ReasoningOutcome:
    """The record of one prompt and what the reasoning half really did."""

    record: ExperimentRecord
    remote: bool
    error: str | None = None


def configured(settings: Settings | None) -> bool:
    """A reasoning model is configured when both its URL and its model name are set."""
    return bool(settings is not None and settings.reasoning_url and settings.reasoning_model)


def chat_url(base: str) -> str:
    """The chat-completions URL of a base URL (a full ``.../chat/completions`` URL is kept as it is).

    >>> chat_url("http://127.0.0.1:8080/v1"), chat_url("https://x/openai/deployments/m/chat/completions?api-version=1")
    ('http://127.0.0.1:8080/v1/chat/completions', 'https://x/openai/deployments/m/chat/completions?api-version=1')
    """
    if "/chat/completions" in base:
        return base
    return base.rstrip("/") + "/chat/completions"


def record_schema() -> dict[str, Any]:
    """JSON schema of the fields the model may fill (the experiment record's own schema, trimmed)."""
    schema = ExperimentRecord.model_json_schema()
    schema["properties"] = {k: v for k, v in schema["properties"].items() if k in MODEL_FIELDS}
    schema.pop("required", None)
    return schema


def _numbers(text: str) -> list[float]:
    out = []
    for m in _NUMBER.finditer(text.replace(",", "")):
        v = float(m.group())
        if math.isfinite(v):
            out += [v, v / 100.0]
    return out


def unsupported_values(data: dict[str, Any], text: str) -> list[str]:
    """Values the model stated that the text does not contain: metric numbers and feature names.

    >>> unsupported_values({"metrics": {"validation": {"accuracy": 0.98, "auc": 0.91}}, "features": [{"name": "x_age"}]},
    ...                    "val accuracy 98% after adding x_age")
    ['metrics.validation.auc=0.91']
    """
    nums = _numbers(text)
    low = text.lower()
    bad = []
    for split, per in (data.get("metrics") or {}).items():
        for metric, v in (per or {}).items() if isinstance(per, dict) else []:
            if not isinstance(v, (int, float)) or not any(abs(float(v) - n) < 1e-6 for n in nums):
                bad.append(f"metrics.{split}.{metric}={v}")
    for key in ("target_score", "baseline_score"):
        v = data.get(key)
        if v is not None and (not isinstance(v, (int, float)) or not any(abs(float(v) - n) < 1e-6 for n in nums)):
            bad.append(f"{key}={v}")
    for f in data.get("features") or []:
        name = str(f.get("name", "")) if isinstance(f, dict) else str(f)
        if name and name.lower() not in low and name.lower().replace("_", " ") not in low:
            bad.append(f"features.{name}")
    return bad


def _call(settings: Settings, text: str) -> str:
    import requests

    key = settings.reasoning_api_key.get_secret_value() if settings.reasoning_api_key else ""
    headers = {"Content-Type": "application/json"}
    if key:
        headers["Authorization"] = f"Bearer {key}"
        headers["api-key"] = key            # Azure OpenAI reads this header; other servers ignore it
    body = {
        "model": settings.reasoning_model,
        "temperature": 0,
        "messages": [{"role": "system", "content": _SYSTEM}, {"role": "user", "content": text}],
        "response_format": {"type": "json_schema",
                            "json_schema": {"name": "experiment_record", "schema": record_schema()}},
    }
    try:
        resp = requests.post(chat_url(str(settings.reasoning_url)), json=body, headers=headers,
                             timeout=settings.reasoning_timeout_s)
    except requests.Timeout:
        raise ReasoningError(f"timed out after {settings.reasoning_timeout_s:g}s") from None
    except requests.RequestException as exc:
        raise ReasoningError(f"unreachable ({type(exc).__name__})") from None
    if resp.status_code != 200:
        raise ReasoningError(f"answered HTTP {resp.status_code}")
    try:
        content = resp.json()["choices"][0]["message"]["content"]
    except (ValueError, KeyError, IndexError, TypeError):
        raise ReasoningError("malformed output: not a chat-completions answer") from None
    if not isinstance(content, str):
        raise ReasoningError("malformed output: the message content is not text")
    if key and key in content:
        raise ReasoningError("malformed output: the answer repeats the credential")
    return content


def _parse(content: str, text: str) -> dict[str, Any]:
    raw = content.strip()
    if raw.startswith("```"):                       # a fenced answer: take what is inside the fence
        raw = raw.strip("`").removeprefix("json").strip()
    try:
        data = json.loads(raw)
    except ValueError:
        raise ReasoningError("malformed output: the answer is not JSON") from None
    if not isinstance(data, dict):
        raise ReasoningError("malformed output: the answer is not a JSON object")
    extra = sorted(str(k) for k in data if k not in MODEL_FIELDS)
    if extra:
        raise ReasoningError(f"invented fields: {', '.join(extra)[:200]}")
    try:
        ExperimentRecord.model_validate(data)
    except ValidationError as exc:
        kinds = {e.get("type") for e in exc.errors()}
        where = ".".join(str(x) for x in exc.errors()[0].get("loc", ())) or "record"
        if kinds == {"extra_forbidden"}:
            raise ReasoningError(f"invented fields: {where}") from None
        raise ReasoningError(f"malformed output: {where} does not fit the schema") from None
    bad = unsupported_values(data, text)
    if bad:
        raise ReasoningError(f"invented values not in the text: {', '.join(bad)[:200]}")
    return data


def read_prompt(text: str, settings: Settings, warnings: list[str]) -> ReasoningOutcome:
    """The record of a prompt: the model's (gaps filled by the local reader), or the local reader's alone.

    The local reader runs first, so an empty or oversized prompt is refused before any remote call.
    """
    local = from_prompt(text)
    try:
        data = _parse(_call(settings, text), text)
    except ReasoningError as exc:
        warnings.append(f"reasoning model not used ({exc}): the local text reader filled the record")
        return ReasoningOutcome(local, remote=False, error=str(exc))
    source = f"reasoning model {settings.reasoning_model}"
    data["notes"] = text.strip()
    data["provenance"] = {k: source for k in sorted(data) if k != "notes"}
    return ReasoningOutcome(from_dict(data, warnings), remote=True)


def with_reasoning(g: Grounding, reasoning: dict[str, Any]) -> Grounding:
    """The run's grounding with its reasoning half: ``+remote_reasoning`` only when the model's record was used.

    >>> with_reasoning(Grounding(), {"reasoning": "remote", "reasoning_configured": True}).proof_level
    'local_knowledge_base+remote_reasoning'
    >>> with_reasoning(Grounding(), {"reasoning": "local", "reasoning_configured": True}).proof_level
    'local_knowledge_base'
    """
    if not reasoning:
        return g
    update = dict(reasoning)
    if reasoning.get("reasoning") == "remote":
        update["proof_level"] = f"{g.proof_level}+remote_reasoning"
    return g.model_copy(update=update)
