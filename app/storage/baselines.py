"""Save, load and version an endpoint's baseline: JSON files under ``baselines/``, indexed in the database."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

from app.config import Settings
from app.detection.sketch import sketch_baseline
from app.errors import BaselineMissingError, InputError
from app.schemas import Baseline
from app.storage.store import Store

__all__ = ["baseline_path", "load_baseline", "save_baseline", "slugify"]


def slugify(name: str) -> str:
    """A file-system-safe, stable folder name for an endpoint.

    >>> slugify("http://127.0.0.1:9000/predict")
    '127.0.0.1_9000_predict-553a428a'
    """
    core = re.sub(r"^[a-z]+://", "", name)
    core = re.sub(r"[^A-Za-z0-9._-]+", "_", core).strip("_")[:60] or "endpoint"
    return f"{core}-{hashlib.sha1(name.encode()).hexdigest()[:8]}"


def baseline_path(settings: Settings, name: str, version: int) -> Path:
    return settings.baselines_dir / slugify(name) / f"v{version:04d}.json"


def save_baseline(settings: Settings, store: Store, baseline: Baseline) -> Baseline:
    """Assign the next version, write the human-readable JSON file, index it in the database.

    With ``MLFI_STORE_INPUTS=none`` the features are kept as quantile sketches (``app.detection.sketch``).
    """
    if settings.store_inputs == "none":    # the file keeps quantile sketches, never rows or raw values
        baseline = sketch_baseline(baseline)
    existing = store.baseline_versions(baseline.endpoint)
    version = max((int(r["version"]) for r in existing), default=0) + 1
    saved = baseline.model_copy(update={"version": version})
    path = baseline_path(settings, baseline.endpoint, version)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(saved.model_dump_json(indent=1), encoding="utf-8")
    tmp.replace(path)   # atomic: a crash never leaves a half-written baseline
    summary = {"metrics": saved.metrics.model_dump(), "features": sorted(saved.features),
               "classes": saved.class_counts, "task": saved.task}
    store.index_baseline(baseline.endpoint, version, str(path), saved.n_samples, summary, saved.created_at)
    return saved


def load_baseline(settings: Settings, store: Store, name: str, version: int | None = None) -> Baseline:
    """Load the active (or the given) baseline version of an endpoint."""
    versions = store.baseline_versions(name)
    if not versions:
        raise BaselineMissingError(f"no baseline for {name}: run `mlfi baseline {name}` first")
    if version is None:
        active = [r for r in versions if r["active"]] or versions
        row = active[-1]
    else:
        match = [r for r in versions if int(r["version"]) == version]
        if not match:
            raise BaselineMissingError(f"baseline version {version} of {name} does not exist")
        row = match[0]
    path = Path(row["path"])
    if not path.exists():
        path = baseline_path(settings, name, int(row["version"]))
    try:
        return Baseline.model_validate(json.loads(path.read_text(encoding="utf-8")))
    except FileNotFoundError as exc:
        raise BaselineMissingError(f"baseline file for {name} v{row['version']} is missing: {path}") from exc
    except (ValueError, json.JSONDecodeError) as exc:
        raise InputError(f"baseline file {path} is corrupt: {str(exc).splitlines()[0]}") from exc
