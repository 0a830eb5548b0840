"""Read model of the Diagnosis page: run and store a diagnosis, read the team history and its heatmap tables."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from app.config import REPO_ROOT, Settings
from app.diagnosis import diagnose
from app.diagnosis.export import render_html
from app.diagnosis.history import heatmap_counts
from app.errors import InputError, MlfiError
from app.governance.diagnosis_queue import file_diagnosis, gate_status, queue_of
from app.storage import Store

__all__ = [
    "ALL_TEAMS",
    "EXAMPLE_PROMPT",
    "HISTORY_COLUMNS",
    "SAMPLE_PATH",
    "DiagnosisRun",
    "gate",
    "heatmap_frame",
    "heatmap_grid",
    "history",
    "queue",
    "read_record",
    "run",
    "team_table",
    "teams",
]

EXAMPLE_PROMPT = (
    "Validation accuracy jumped to 98% after adding `renewal_status_after_30d`. Test performance collapsed, "
    "and I suspect the feature contains future target information."
)
SAMPLE_PATH: Path = REPO_ROOT / "data" / "samples" / "experiment_leakage_dataset.json"
HISTORY_COLUMNS = ("id", "created_at", "team", "primary_category", "payload_hash")
ALL_TEAMS = "All teams"


@dataclass(frozen=True)
class DiagnosisRun:
    """One diagnosis as the page shows it: the contract payload and its HTML report."""

    payload: dict[str, Any]
    html: str


def read_record(raw: bytes) -> dict[str, Any]:
    """An uploaded experiment record; malformed JSON is an :class:`InputError` with the parser's message.

    >>> read_record(b'{"task": "binary_classification"}')
    {'task': 'binary_classification'}
    >>> read_record(b"{oops")
    Traceback (most recent call last):
    ...
    app.errors.InputError: malformed JSON: Expecting property name enclosed in double quotes: line 1 column 2 (char 1)
    """
    try:
        record = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InputError(f"malformed JSON: {exc}") from exc
    except RecursionError:
        raise InputError("the record is nested too deeply") from None
    return record  # type: ignore[no-any-return]


def run(
    store: Store,
    settings: Settings,
    *,
    prompt: str | None = None,
    record: dict[str, Any] | None = None,
    use_sample: bool = False,
    require_record: bool = False,
    team: str | None = None,
    save: bool = False,
) -> DiagnosisRun:
    """Diagnose a prompt, an uploaded record or the shipped sample; with ``save`` store it in the team history."""
    if require_record and record is None:
        raise MlfiError("upload an experiment record first")
    experiment: Path | dict[str, Any] | None = SAMPLE_PATH if use_sample else record
    d = diagnose(prompt=prompt, experiment=experiment, settings=settings, store=store)
    payload = d.payload()
    if save:
        file_diagnosis(store, settings, payload, team=team or d.input.get("record", {}).get("team"))
    return DiagnosisRun(payload=payload, html=render_html(d))


def queue(store: Store, diagnosis_id: str) -> list[Any]:
    """The governance items of one stored diagnosis (``RecommendationRecord``), any status, gate last."""
    return queue_of(store, diagnosis_id)


def gate(store: Store, diagnosis_id: str, deployment_gate: str) -> dict[str, Any]:
    """Where the diagnosis's deployment gate stands: blocked, released (by whom, why) or kept blocked."""
    return gate_status(store, diagnosis_id, deployment_gate).model_dump()


def history(store: Store, limit: int = 2000) -> list[dict[str, Any]]:
    """The stored diagnoses, newest first, without their payloads (id, time, team, category, hash)."""
    return [{k: r[k] for k in HISTORY_COLUMNS} for r in store.list_diagnoses(limit=limit)]


def heatmap_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """Diagnoses counted per category, team and month (columns category, team, month, count).

    >>> heatmap_frame([{"primary_category": "overfitting", "team": "a", "created_at": 0.0}]).to_dict("records")
    [{'category': 'overfitting', 'team': 'a', 'month': '1970-01', 'count': 1}]
    """
    return pd.DataFrame(heatmap_counts(rows))


def teams(counts: pd.DataFrame) -> list[str]:
    """The team choices of the history: all teams first, then each team by name."""
    return [ALL_TEAMS, *sorted(counts["team"].unique())]


def heatmap_grid(counts: pd.DataFrame, team: str) -> pd.DataFrame:
    """Counts per (category, month) for one team, or summed over all teams.

    >>> c = pd.DataFrame([{"category": "x", "team": "a", "month": "2026-01", "count": 2},
    ...                   {"category": "x", "team": "b", "month": "2026-01", "count": 3}])
    >>> heatmap_grid(c, "All teams").to_dict("records"), heatmap_grid(c, "b")["count"].tolist()
    ([{'category': 'x', 'month': '2026-01', 'count': 5}], [3])
    """
    view = counts if team == ALL_TEAMS else counts[counts["team"] == team]
    return view.groupby(["category", "month"], as_index=False)["count"].sum()


def team_table(counts: pd.DataFrame) -> pd.DataFrame:
    """Categories by team: how many diagnoses each team stored per category."""
    return counts.pivot_table(index="category", columns="team", values="count", aggfunc="sum", fill_value=0)
