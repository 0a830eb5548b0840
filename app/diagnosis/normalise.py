"""Normalise any JSON object describing an experiment into the record schema, listing what was ignored or changed."""

from __future__ import annotations

import math
import re
from typing import Any

from pydantic import ValidationError

from app.diagnosis.record import ExperimentRecord, FeatureInfo
from app.diagnosis.vocab import canonical_metric, canonical_split

__all__ = ["LOST", "is_mlflow_run", "lost_values", "normalise", "number_from_text", "validate_lenient"]

LOST = "dropped "  # a warning that starts so names a value of a known field that could not be read

_FIELDS = set(ExperimentRecord.model_fields)
_FEATURE_FIELDS = set(FeatureInfo.model_fields)
_NUM = r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?"
_QUALIFIER = r"(?:about|approx\.?|approximately|around|roughly|circa|ca\.|only|just|nearly|almost|~|≈|<=?|>=?)?"
_LEADING = re.compile(rf"^\s*{_QUALIFIER}\s*({_NUM})\s*(%|percent)?(?:\s*(?:-|–|to)\s*({_NUM})\s*(%|percent)?)?(.*)$",
                      re.IGNORECASE)
_SEP = re.compile(r"[_/.\- ]+")
_SPLIT_WORDS = sorted({k for k in ("train", "training", "trn", "val", "valid", "validation", "dev", "eval", "cv",
                                   "test", "testing", "holdout", "oot", "prod", "production", "live", "online",
                                   "serving", "offline", "backtest", "test2", "test_2", "new_test", "external",
                                   "external_test", "ood", "original_test")}, key=len, reverse=True)
_MAX_FIXES = 200
# a metric logged per epoch or step under its own key: ``train_rmse_epoch_60``, ``val_loss@step1200``, ``test_auc_e5``
_STEPPED = re.compile(r"^(?P<base>.+?)[_/.\- @]+(?P<unit>epoch|ep|step|iter|iteration|e)[_/.\- ]*(?P<n>\d+)$",
                      re.IGNORECASE)
_SIZE_WORDS = {"size", "rows", "n", "samples", "n_samples", "count", "n_rows", "examples"}


def number_from_text(text: str) -> tuple[float | None, str]:
    """The number a short text states (``"0.87 on holdout"``, ``"85-90%"`` -> midpoint), else None.

    Only a number that leads the text counts: "more than half of 900 runs" states no metric value.

    >>> number_from_text("about 0.87 (holdout)"), number_from_text("85-90%"), number_from_text("very low")
    ((0.87, 'read 0.87'), (87.5, 'read the range 85-90 as its midpoint 87.5'), (None, ''))
    """
    m = _LEADING.match(text)
    if not m:
        return None, ""
    lo = float(m.group(1))
    if m.group(3) is not None:
        hi = float(m.group(3))
        mid = round((lo + hi) / 2, 10)
        return mid, f"read the range {m.group(1)}-{m.group(3)} as its midpoint {mid:g}"
    return lo, f"read {lo:g}"


def lost_values(warnings: list[str]) -> bool:
    """True when the intake dropped a value of a field the schema knows (then the gate cannot be CLEAR)."""
    return any(w.startswith(LOST) for w in warnings)


# a word of 3+ letters followed by more text; the look-behind starts a try only at the start of a word (without
# it, a long run of letters was tried from every position: quadratic, 37 s for 50 000 letters)
_PROSE = re.compile(r"(?<![A-Za-z])[A-Za-z]{3,}\s+\S")


def _prose(value: Any) -> bool:
    """
    >>> _prose("the model"), _prose("ab c"), _prose("d" * 100_000)
    (True, False, False)
    """
    return isinstance(value, str) and _PROSE.search(value) is not None


def _texts(value: Any, prefix: str) -> list[str]:
    """``path: text`` for every prose string inside ``value`` (nested objects and lists walked)."""
    if isinstance(value, dict):
        return [t for k, v in value.items() for t in _texts(v, f"{prefix}.{k}")]
    if isinstance(value, list):
        return [t for i, v in enumerate(value) for t in _texts(v, f"{prefix}[{i}]")]
    return [f"{prefix}: {value.strip()}"] if _prose(value) else []


def _split_metric(key: str) -> tuple[str, str] | None:
    """``val_accuracy`` / ``validation/f1`` / ``auc_test`` -> (split, metric); None when no split is named."""
    low = key.strip().lower()
    for word in _SPLIT_WORDS:
        m = re.match(rf"^{re.escape(word)}[_/.\- ]+(.+)$", low) or re.match(rf"^(.+?)[_/.\- ]+{re.escape(word)}$", low)
        if m and canonical_split(word):
            rest = _SEP.sub(" ", m.group(1)).strip()
            if rest and not any(rest == w or rest.startswith(w + " ") for w in _SPLIT_WORDS):
                return canonical_split(word), canonical_metric(rest)  # type: ignore[return-value]
    return None


def _collapse_steps(data: dict[str, Any], warn: list[str], split: str | None = None
                    ) -> tuple[dict[str, Any], dict[str, list[float]]]:
    """Metrics logged under one key per epoch become the metric at its last epoch, and a curve when there are two or
    more: ``train_rmse_epoch_5 .. _60`` is ``train_rmse`` (the value at epoch 60) with its curve. Without this the
    metric's name is ``rmse_epoch_60``, which no reading knows is an error (lower is better). Inside a split's own
    map (``metrics.test``) the keys name no split: ``split`` is that split and curves are named ``<split>_<metric>``."""
    groups: dict[str, list[tuple[int, float]]] = {}
    keys: dict[str, list[str]] = {}
    by_unit: dict[str, set[str]] = {}
    found = []
    for key, value in data.items():
        m = _STEPPED.match(str(key))
        if not m or isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            continue
        if (split is None and _split_metric(m.group("base")) is None) or m.group("base") in data:
            continue
        unit = "epoch" if m.group("unit").lower() in ("epoch", "ep", "e") else "step"
        by_unit.setdefault(m.group("base"), set()).add(unit)
        found.append((m.group("base"), unit, int(m.group("n")), float(value), str(key)))
    for base, unit, n, value, key in found:
        if len(by_unit[base]) > 1 and unit != "epoch":
            continue  # logged per step and per epoch: the epochs are one scale (steps and epochs do not interleave)
        groups.setdefault(base, []).append((n, value))
        keys.setdefault(base, []).append(key)
    if not groups:
        return data, {}
    out = {k: v for k, v in data.items() if not any(k in ks for ks in keys.values())}
    curves: dict[str, list[float]] = {}
    for base, points in groups.items():
        points.sort()
        out[base] = points[-1][1]
        if len(points) >= 2:
            curves[base if split is None else f"{split}_{base}"] = [v for _, v in points]
        warn.append(f"read {len(points)} per-step key(s) {base}_<step> as {base} at step {points[-1][0]}"
                    + (" and its curve" if len(points) >= 2 else ""))
    return out, curves


def is_mlflow_run(data: dict[str, Any]) -> bool:
    """True for ``MlflowClient().get_run(id).to_dictionary()`` / ``mlflow runs describe`` output."""
    inner = data.get("run", data)  # the REST API wraps it in {"run": {...}}
    return isinstance(inner, dict) and isinstance(inner.get("info"), dict) and isinstance(inner.get("data"), dict)


def _kv(raw: Any) -> dict[str, Any]:
    """MLflow key/value containers come as a map or as a list of ``{key, value}`` (REST API)."""
    if isinstance(raw, dict):
        return dict(raw)
    if isinstance(raw, list):
        return {str(x["key"]): x.get("value") for x in raw if isinstance(x, dict) and "key" in x}
    return {}


_MLFLOW_OWN = frozenset({"inputs", "outputs"})  # keys MLflow itself writes beside info and data


def _from_mlflow(data: dict[str, Any], warn: list[str]) -> dict[str, Any]:
    run = data.get("run", data)
    info, body = run["info"], run["data"]
    out: dict[str, Any] = {}
    # keys saved beside the run ("notes", an error analysis): read like any other field of a record, below (session
    # 18: a run's notes saying 30 % of the test errors were gold-label errors were dropped, and the diagnosis was CLEAR)
    for key in sorted(set(run) & _MLFLOW_OWN):
        warn.append(f"ignored MLflow run key {key!r}")  # MLflow's own dataset inputs / logged-model outputs
    extra = {k: run[k] for k in sorted(set(run) - {"info", "data"} - _MLFLOW_OWN)}
    if info.get("run_id") or info.get("run_uuid"):
        out["experiment_id"] = str(info.get("run_id") or info.get("run_uuid"))
    if info.get("run_name"):
        out["title"] = str(info["run_name"])
    notes: list[str] = []
    tags = _kv(body.get("tags"))
    if tags.get("mlflow.note.content"):
        notes.append(str(tags.pop("mlflow.note.content")))
    if tags.get("mlflow.runName") and "title" not in out:
        out["title"] = str(tags["mlflow.runName"])
    tags.pop("mlflow.runName", None)
    system = sorted(k for k in tags if k.startswith("mlflow."))
    user = {k: v for k, v in tags.items() if not k.startswith("mlflow.")}
    if system:
        warn.append(f"ignored {len(system)} MLflow system tag(s): {', '.join(system[:5])}")
    for k, v in user.items():
        if _prose(v):
            notes.append(f"tag {_words(k)}: {v}")
            warn.append(f"MLflow tag {k!r} kept as notes text")
        else:
            warn.append(f"ignored MLflow tag {k!r}")
    for k, v in _kv(body.get("params")).items():
        if _prose(v):
            notes.append(f"param {_words(k)}: {v}")
            warn.append(f"MLflow param {k!r} kept as notes text")
        else:
            warn.append(f"ignored MLflow param {k}={v}")
    out.update(_kv(body.get("metrics")))  # flat names like val_precision: split out below
    for key, value in extra.items():
        if key == "notes" and isinstance(value, str):
            notes.insert(0, value)
        elif key in out:
            warn.append(f"ignored MLflow run key {key!r}: the run's own {key!r} is kept")
        else:
            out[key] = value
    if notes:
        out["notes"] = "\n".join(notes)
    return out


def _words(name: str) -> str:
    """An MLflow param or tag name written as words in the notes ("label_source" -> "label source"): the text reader
    takes a snake_case name for a feature of the model, and a run's settings are not its inputs.

    >>> _words("label_source"), _words("validation.split")
    ('label source', 'validation split')
    """
    return re.sub(r"[_.]+", " ", name).strip()


def _features(raw: Any, warn: list[str], notes: list[str]) -> list[dict[str, Any]]:
    if isinstance(raw, dict):  # {"age": {...}} or {"age": "description"}
        raw = [{"name": k, **(v if isinstance(v, dict) else {"description": str(v)})} for k, v in raw.items()]
    if not isinstance(raw, list):
        warn.append("ignored 'features': expected a list of names or of objects")
        notes.extend(_texts(raw, "features"))
        return []
    out = []
    for i, item in enumerate(raw):
        if isinstance(item, str) and item.strip():
            out.append({"name": item.strip()})
        elif isinstance(item, dict) and str(item.get("name") or item.get("feature") or "").strip():
            f = {k: v for k, v in item.items() if k in _FEATURE_FIELDS}
            f["name"] = str(item.get("name") or item["feature"]).strip()
            extra = {k: v for k, v in item.items() if k not in _FEATURE_FIELDS and k != "feature"}
            if extra:
                warn.append(f"features[{i}] ({f['name']}): ignored field(s) {', '.join(sorted(extra))}")
                text = "; ".join(f"{k}: {v}" for k, v in extra.items() if _prose(v))
                if text and not f.get("description"):
                    f["description"] = text
            out.append(f)
        else:
            warn.append(f"ignored features[{i}]: neither a name nor an object with a name")
    return out


def _metric_value(value: Any, where: str, warn: list[str], notes: list[str]) -> float | None:
    if isinstance(value, bool):
        warn.append(f"dropped {where}: {value!r} is not a number")
        return None
    if isinstance(value, (int, float)):
        return float(value) if math.isfinite(float(value)) else None
    if isinstance(value, str):
        num, how = number_from_text(value)
        if num is not None:
            warn.append(f"{where}: {how} from the text {value!r}")
            return num
        if _prose(value):
            notes.append(f"{where}: {value}")
        warn.append(f"dropped {where}: no number in {value!r}" + (" (kept as notes text)" if _prose(value) else ""))
        return None
    warn.append(f"dropped {where}: expected a number, got {type(value).__name__}")
    return None


def _metrics(raw: Any, warn: list[str], notes: list[str], curves: dict[str, list[float]]
             ) -> dict[str, dict[str, float]]:
    if not isinstance(raw, dict):
        warn.append("dropped 'metrics': expected an object {split: {metric: value}}")
        notes.extend(_texts(raw, "metrics"))
        return {}
    raw, stepped = _collapse_steps(raw, warn)  # {"metrics": {"val_loss_epoch_3": ...}}
    curves.update(stepped)
    out: dict[str, dict[str, float]] = {}
    for split_name, per in raw.items():
        split = canonical_split(str(split_name))
        if not isinstance(per, dict):  # {"val_accuracy": 0.9} inside metrics
            sm = _split_metric(str(split_name))
            v = _metric_value(per, f"metrics.{split_name}", warn, notes) if sm else None
            if sm and v is not None:
                out.setdefault(sm[0], {})[sm[1]] = v
            elif not sm:
                warn.append(f"dropped metrics.{split_name}: not a split (use train, validation, test, production)")
            continue
        if split is None:
            warn.append(f"dropped metrics.{split_name}: unknown split (use train, validation, test or production)")
            notes.extend(_texts(per, f"metrics.{split_name}"))
            continue
        per, stepped = _collapse_steps(per, warn, split=str(split_name))  # {"test": {"rmse_epoch_60": ...}}
        curves.update(stepped)
        for name, value in per.items():
            v = _metric_value(value, f"metrics.{split_name}.{name}", warn, notes)
            if v is not None:
                out.setdefault(split, {})[str(name)] = v
    return out


def normalise(data: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """Map a JSON object onto the record's fields; returns (record data, one-line warnings)."""
    warn: list[str] = []
    if is_mlflow_run(data):
        warn.append("read an MLflow run export (info, data.metrics, data.params, data.tags)")
        data = _from_mlflow(data, warn)
    data, stepped = _collapse_steps(data, warn)
    notes: list[str] = []
    out: dict[str, Any] = {}
    flat: dict[str, dict[str, float]] = {}
    for key, value in data.items():
        if key in _FIELDS:
            out[key] = value
            continue
        sm = _split_metric(str(key))
        if sm and isinstance(value, list) and value and all(isinstance(x, (int, float)) for x in value):
            out.setdefault("curves", {})[str(key)] = value
            warn.append(f"read {key!r} as the curve {key}")
        elif sm and sm[1] in _SIZE_WORDS and isinstance(value, int) and isinstance(out.get("split_sizes", {}), dict):
            out.setdefault("split_sizes", {})[sm[0]] = value
            warn.append(f"read {key!r} as split_sizes.{sm[0]}")
        elif sm and isinstance(value, (int, float, str)) and not isinstance(value, bool):
            v = _metric_value(value, str(key), warn, notes)
            if v is not None and sm[1] in flat.get(sm[0], {}):
                warn.append(f"ignored {key!r}: metrics.{sm[0]}.{sm[1]} already read from an earlier key")
            elif v is not None:
                flat.setdefault(sm[0], {})[sm[1]] = v
                warn.append(f"read {key!r} as metrics.{sm[0]}.{sm[1]}")
        else:
            # the field's name labels its text ("maintainer answer: ..."): written with spaces, it is never read as
            # a model feature's identifier (a field called maintainer_answer is not a leaking column)
            texts = _texts(value, str(key).replace("_", " "))
            notes.extend(texts)
            warn.append(f"ignored unknown field {key!r}" + (" (its text kept as notes)" if texts else ""))
    if "metrics" in out:
        out["metrics"] = _metrics(out["metrics"], warn, notes, stepped)
    if stepped and isinstance(out.get("curves", {}), dict):
        for name, curve in stepped.items():
            out.setdefault("curves", {}).setdefault(name, curve)
    for split, per in flat.items():
        for metric, v in per.items():
            out.setdefault("metrics", {}).setdefault(split, {}).setdefault(metric, v)
    if "features" in out:
        out["features"] = _features(out["features"], warn, notes)
    if notes:
        given = out.get("notes")
        base = [given] if isinstance(given, str) and given.strip() else []
        if given is not None and not base:
            warn.append("ignored 'notes': not text")
        out["notes"] = "\n".join(base + notes)
    return out, warn


def _get(data: Any, loc: tuple[Any, ...]) -> tuple[Any, Any, bool]:
    """(container, last key, found) for a pydantic error location."""
    cur = data
    for key in loc[:-1]:
        if (isinstance(cur, dict) and key in cur) or (isinstance(cur, list) and isinstance(key, int) and key < len(cur)):
            cur = cur[key]
        else:
            return None, None, False
    last = loc[-1]
    found = (isinstance(cur, dict) and last in cur) or (isinstance(cur, list) and isinstance(last, int)
                                                          and last < len(cur))
    return cur, last, found


def validate_lenient(data: dict[str, Any], warn: list[str]) -> ExperimentRecord:
    """Validate, repairing each rejected value: a number read out of text, else the value dropped with a warning."""
    notes: list[str] = []
    for key in list(data):  # a value of the wrong shape can break a field's own reader (not a ValidationError)
        try:
            ExperimentRecord.model_validate({key: data[key]})
        except ValidationError:
            pass  # repaired value by value below
        except (TypeError, AttributeError, KeyError, IndexError) as exc:
            value = data.pop(key)
            kept = _texts(value, key)
            notes.extend(kept)
            warn.append(f"{LOST}{key}: unreadable value ({type(exc).__name__})"
                        + (" (its text kept as notes)" if kept else ""))
    for _ in range(_MAX_FIXES):
        try:
            rec = ExperimentRecord.model_validate(data)
            break
        except ValidationError as exc:
            err = exc.errors()[0]
            loc = tuple(err.get("loc", ()))
            where = ".".join(str(x) for x in loc)
            cont, last, found = _get(data, loc) if loc else (None, None, False)
            while not found and len(loc) > 1:  # a model-level error: drop the enclosing object
                loc = loc[:-1]
                where = ".".join(str(x) for x in loc)
                cont, last, found = _get(data, loc)
            if not found:
                raise  # nothing left to drop: a bug, not bad input
            value = cont[last]
            num, how = number_from_text(value) if isinstance(value, str) else (None, "")
            if num is not None and str(num) != value:
                cont[last] = num
                warn.append(f"{where}: {how} from the text {value!r}")
                continue
            del cont[last]
            kept = _texts(value, where)
            notes.extend(kept)
            msg = str(err.get("msg", "invalid")).removeprefix("Value error, ")
            warn.append(f"dropped {where}: {msg}" + (" (its text kept as notes)" if kept else ""))
    else:
        raise ValueError("record could not be repaired")
    if notes:
        rec = rec.model_copy(update={"notes": "\n".join(([rec.notes] if rec.notes else []) + notes)})
    return rec
