"""Reading one input before any decision: intake, measurement, signals and the parsers' facts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, NamedTuple

from app.config import Settings
from app.diagnosis.intake import from_dict, from_file, from_prompt, measure
from app.diagnosis.learned.decide import grounding_sentence
from app.diagnosis.measure import DatasetMeasurements
from app.diagnosis.reasoning import configured as reasoning_configured
from app.diagnosis.reasoning import read_prompt
from app.diagnosis.record import ExperimentRecord
from app.diagnosis.rules import RULES_PATH, RuleSet, load_rules
from app.diagnosis.signals import Signals, compute_signals
from app.diagnosis.signatures import TEXT_LIMIT, gather
from app.diagnosis.signatures.numbers import record_text
from app.errors import InputError

__all__ = ["Reading", "read"]


def _with_measured_classes(rec: ExperimentRecord, meas: DatasetMeasurements | None) -> ExperimentRecord:
    if meas is None or rec.class_distribution or len(meas.class_distribution_train) < 2:
        return rec
    prov = {**rec.provenance, "class_distribution": f"measured: {meas.train_csv}"}
    return rec.model_copy(update={"class_distribution": meas.class_distribution_train, "provenance": prov})


def _load(
    prompt: str | None, experiment: str | Path | dict[str, Any] | None, base_dir: Path | None, warnings: list[str],
    settings: Settings | None = None, reasoning: dict[str, Any] | None = None,
) -> tuple[ExperimentRecord, Path, str]:
    if (prompt is None) == (experiment is None):
        raise InputError("give exactly one of --prompt or --experiment")
    if settings is not None and reasoning_configured(settings) and reasoning is not None:
        # the model reads free text only; a structured record is read locally (reasoning stays "local")
        reasoning.update(reasoning="local", reasoning_configured=True, reasoning_model=settings.reasoning_model)
    if prompt is not None and settings is not None and reasoning_configured(settings):
        out = read_prompt(prompt, settings, warnings)
        if reasoning is not None:
            reasoning.update(reasoning="remote" if out.remote else "local", reasoning_error=out.error)
        return out.record, base_dir or Path.cwd(), "prompt"
    if prompt is not None:
        return from_prompt(prompt), base_dir or Path.cwd(), "prompt"
    if isinstance(experiment, dict):
        return from_dict(experiment, warnings), base_dir or Path.cwd(), "experiment"
    rec, base = from_file(experiment, warnings)  # type: ignore[arg-type]
    return rec, base_dir or base, "experiment"


def _record_fields(experiment: str | Path | dict[str, Any] | None) -> str:
    """The raw record's scalar fields as text lines (empty for a prompt or a file that cannot be re-read)."""
    if experiment is None:
        return ""
    try:
        raw = experiment if isinstance(experiment, dict) else json.loads(Path(experiment).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return ""
    return record_text(raw)


class Reading(NamedTuple):
    """What ``diagnose`` reads before it decides: the record, measurements, signals and parsed facts."""

    rec: ExperimentRecord
    base: Path
    source: str
    meas: DatasetMeasurements | None
    sig: Signals
    rules: RuleSet
    facts: dict[str, Any]
    fact_sources: dict[str, str]
    reader_text: str
    truncated: bool
    warnings: list[str]
    reasoning: dict[str, Any]


def read(
    *,
    prompt: str | None = None,
    experiment: str | Path | dict[str, Any] | None = None,
    settings: Settings | None = None,
    rules_path: Path = RULES_PATH,
    base_dir: Path | None = None,
) -> Reading:
    """Intake, measurement, signals and the parsers' facts for one input (no decision yet)."""
    intake_warnings: list[str] = []
    reasoning: dict[str, Any] = {}
    rec, base, source = _load(prompt, experiment, base_dir, intake_warnings, settings, reasoning)
    rules = load_rules(rules_path)
    meas = measure(rec, base, alpha=settings.alpha if settings else 0.05)
    rec = _with_measured_classes(rec, meas)
    sig = compute_signals(rec, meas, rules.future_feature_patterns, rules.identifier_patterns)
    text = prompt if prompt is not None else rec.notes
    truncated = text is not None and len(text) > TEXT_LIMIT
    if truncated:
        intake_warnings.append(
            f"notes longer than {TEXT_LIMIT} characters: failure signatures read the first {TEXT_LIMIT}"
        )
    fields = _record_fields(experiment)
    facts, fact_sources = gather(text, rec, sig.values, sig.sources, fields)
    described = [f"{f.name}: {f.description}." for f in rec.features if f.description]
    reader_text = "\n".join([text or "", *described, fields])[:TEXT_LIMIT]
    if grounding_sentence(reader_text, facts) is not None:
        # a sentence states a leakage mechanism (shared items, information from the future, the label in the inputs):
        # the learned reader sees it as one more evidence token (session 18); the policy still decides on it
        facts["leak_mechanism_stated"] = True
        fact_sources["leak_mechanism_stated"] = "text: a sentence that states a leakage mechanism"
    return Reading(rec, base, source, meas, sig, rules, facts, fact_sources, reader_text, truncated,
                   intake_warnings, reasoning)
