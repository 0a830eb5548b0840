"""Intake: a prompt or an experiment-record file becomes one validated ExperimentRecord (plus measurements)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from app.diagnosis.measure import DatasetMeasurements, measure_dataset
from app.diagnosis.normalise import normalise, validate_lenient
from app.diagnosis.record import ExperimentRecord
from app.diagnosis.text.parse import UNNAMED_SPLIT, parse_text
from app.errors import InputError

__all__ = ["MAX_PROMPT_CHARS", "from_dict", "from_file", "from_prompt", "measure", "merge_text"]

MAX_PROMPT_CHARS = 20_000
MAX_TEXT_CHARS = MAX_PROMPT_CHARS    # every text value of a record (notes, names, ...) is cut to this length
MAX_TEXT_VALUES = 20_000             # text values read from one record at most (a bigger record is refused)


def _cap_text(data: Any, warn: list[str], path: str = "", seen: list[int] | None = None) -> Any:
    """``data`` with every string cut to ``MAX_TEXT_CHARS`` characters, each cut named in ``warn``: the text
    readers then see a bounded input whatever a record or an upload holds.

    >>> w = []; _cap_text({"notes": "x" * 20_005, "n": [1, "ok"]}, w)["n"], w
    ([1, 'ok'], ['notes: cut from 20005 to 20000 characters (text fields are capped)'])
    """
    seen = seen if seen is not None else [0]
    if isinstance(data, str):
        seen[0] += 1
        if seen[0] > MAX_TEXT_VALUES:
            raise InputError(f"experiment record holds more than {MAX_TEXT_VALUES} text values")
        if len(data) > MAX_TEXT_CHARS:
            warn.append(f"{path or 'value'}: cut from {len(data)} to {MAX_TEXT_CHARS} characters "
                        "(text fields are capped)")
            return data[:MAX_TEXT_CHARS]
        return data
    if isinstance(data, dict):
        return {_cap_text(k, warn, path, seen) if isinstance(k, str) else k:
                _cap_text(v, warn, f"{path}.{k}" if path else str(k)[:40], seen) for k, v in data.items()}
    if isinstance(data, list):
        return [_cap_text(v, warn, f"{path}[{i}]", seen) for i, v in enumerate(data)]
    return data


def _one_line(exc: ValidationError) -> str:
    err = exc.errors()[0]
    loc = ".".join(str(x) for x in err.get("loc", ())) or "record"
    more = f" (+{exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
    return f"{loc}: {err.get('msg', 'invalid')}{more}"


def from_prompt(text: str | None) -> ExperimentRecord:
    """Parse free text into a record. Empty text is an input error.

    >>> from_prompt("Train 0.99, validation 0.71").metrics
    {'train': {'score': 0.99}, 'validation': {'score': 0.71}}
    """
    if text is None or not text.strip():
        raise InputError("empty prompt: describe the failed experiment (metrics per split, features, class balance)")
    if len(text) > MAX_PROMPT_CHARS:
        raise InputError(f"prompt too long ({len(text)} characters, at most {MAX_PROMPT_CHARS})")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # bytes that are not UTF-8 reach a str as lone surrogates (argv, surrogateescape)
        raise InputError("the prompt is not UTF-8 text (binary or undecodable bytes)") from None
    data = parse_text(text)
    for _ in range(10):  # drop a value the parser misread rather than refuse the whole prompt
        try:
            return ExperimentRecord.model_validate(data)
        except ValidationError as exc:
            loc = exc.errors()[0].get("loc", ())
            if not loc or not _drop(data, [str(x) for x in loc]):
                raise InputError(f"could not read the prompt: {_one_line(exc)}") from None
            data.setdefault("input_conflicts", []).append(f"ignored an unreadable value at {'.'.join(map(str, loc))}")
    raise InputError("could not read the prompt")


def _drop(data: dict[str, Any], loc: list[str]) -> bool:
    cur: Any = data
    for key in loc[:-1]:
        if isinstance(cur, dict) and key in cur:
            cur = cur[key]
        elif isinstance(cur, list) and key.isdigit() and int(key) < len(cur):
            cur = cur[int(key)]
        else:
            return False
    last = loc[-1]
    if isinstance(cur, dict) and last in cur:
        del cur[last]
        return True
    if isinstance(cur, list) and last.isdigit() and int(last) < len(cur):
        del cur[int(last)]
        return True
    return False


def merge_text(rec: ExperimentRecord) -> ExperimentRecord:
    """Fill fields the record leaves empty from what its ``notes`` say; stated record fields always win."""
    if not rec.notes or not rec.notes.strip():
        return rec
    try:
        parsed = ExperimentRecord.model_validate(parse_text(rec.notes))
    except ValidationError:
        return rec
    data = rec.model_dump()
    prov = dict(rec.provenance)
    held = {m for split in ("validation", "test") for m in data["metrics"].get(split, {})}
    for split, per in parsed.metrics.items():
        for metric, value in per.items():
            where = parsed.provenance.get(f"metrics.{split}.{metric}", "")
            if metric in held and UNNAMED_SPLIT in where:
                continue  # the record names its held-out figure; a number in its notes with no split is not another
            if metric not in data["metrics"].get(split, {}):
                data["metrics"].setdefault(split, {})[metric] = value
                prov[f"metrics.{split}.{metric}"] = parsed.provenance.get(f"metrics.{split}.{metric}", "notes")
    for key in ("class_distribution", "split_sizes", "seed_scores", "seed_std", "curves", "baseline_score"):
        if not data[key] and getattr(parsed, key):
            data[key] = getattr(parsed, key)
            prov.update({k: v for k, v in parsed.provenance.items() if k.startswith(key)})
    for group in ("data_checks", "evaluation"):
        for k, v in getattr(parsed, group).model_dump().items():
            if v not in (None, {}, []) and data[group][k] in (None, {}, []):
                data[group][k] = v
                prov.update({p: s for p, s in parsed.provenance.items() if p == f"{group}.{k}"})
    data["training_issues"] = sorted(set(data["training_issues"]) | set(parsed.training_issues))
    known = {f["name"]: f for f in data["features"]}
    for f in parsed.features:
        if f.name in known:
            for flag in ("added_recently", "suspected_leak"):
                known[f.name][flag] = known[f.name][flag] or getattr(f, flag)
            if known[f.name]["available_at_prediction_time"] is None:
                known[f.name]["available_at_prediction_time"] = f.available_at_prediction_time
        else:
            data["features"].append(f.model_dump())
    data["observations"] += [o.model_dump() for o in parsed.observations]
    have = {c["category"] for c in data["concerns"]}
    data["concerns"] += [c.model_dump() for c in parsed.concerns if c.category not in have]
    data["history"] += [h.model_dump() for h in parsed.history]
    data["input_conflicts"] += parsed.input_conflicts
    if not data["platform"] and parsed.platform:
        data["platform"] = parsed.platform
    data["provenance"] = prov
    return ExperimentRecord.model_validate(data)


def from_dict(data: Any, warnings: list[str] | None = None) -> ExperimentRecord:
    """Normalise a parsed JSON object into a record, then read its notes.

    Nothing but a non-object is refused: what is not understood is dropped and named in ``warnings``
    (the payload's ``intake_warnings``).
    """
    if not isinstance(data, dict):
        raise InputError(f"experiment record must be a JSON object, got {_json_type(data)}")
    if _depth(data) > MAX_DEPTH:
        raise InputError(f"experiment record is nested more than {MAX_DEPTH} levels deep")
    warn = warnings if warnings is not None else []
    clean, found = normalise(_cap_text(data, warn))
    warn.extend(found)
    rec = validate_lenient(clean, warn)
    if not (
        rec.metrics
        or rec.notes
        or rec.dataset
        or rec.data_checks.model_dump(exclude_defaults=True)
        or rec.curves
        or rec.seed_scores
        or rec.training_issues
        or rec.features
    ):
        warn.append("the record gives nothing to diagnose (no metrics, notes, data checks, curves or dataset)")
    return merge_text(rec)


MAX_DEPTH = 64
"""Nesting a record may have: a real run export is a few levels deep; a deeper one is refused as input, before any
reader walks it recursively."""


def _depth(data: Any) -> int:
    """The nesting depth of parsed JSON, counted without recursion.

    >>> _depth({"a": [1, {"b": 2}]}), _depth([]), _depth(3)
    (3, 1, 0)
    """
    deepest, stack = 0, [(data, 1)]
    while stack:
        node, level = stack.pop()
        if isinstance(node, dict | list):
            deepest = max(deepest, level)
            stack.extend((child, level + 1) for child in (node.values() if isinstance(node, dict) else node))
    return deepest


def _json_type(data: Any) -> str:
    return {list: "an array", str: "a string", bool: "a boolean", type(None): "null"}.get(type(data), "a number")


def from_file(path: str | Path, warnings: list[str] | None = None) -> tuple[ExperimentRecord, Path]:
    """Read ``FILE.json``; returns the record and the directory that relative dataset paths start from."""
    p = Path(path)
    if not p.is_file():
        raise InputError(f"experiment file not found: {p}")
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read experiment file {p.name}: {exc}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"malformed JSON in {p.name}: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    except RecursionError:
        raise InputError(f"experiment file {p.name} is nested more than {MAX_DEPTH} levels deep") from None
    return from_dict(data, warnings), p.resolve().parent


def measure(rec: ExperimentRecord, base_dir: Path, alpha: float = 0.05) -> DatasetMeasurements | None:
    """Measure the record's dataset when it names one (missing files or target raise InputError)."""
    return measure_dataset(rec.dataset, base_dir, alpha=alpha) if rec.dataset is not None else None
