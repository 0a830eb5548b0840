"""`mlfi storage status`: rows and bytes per table, oldest raw sample and aggregate, retention settings in force."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import click

from app.commands._io import emit, get_settings

__all__ = ["register"]


def _when(ts: float | None) -> str:
    return "-" if ts is None else datetime.fromtimestamp(ts, tz=UTC).strftime("%Y-%m-%d %H:%M:%SZ")


def _human(doc: dict[str, Any]) -> str:
    s = doc["settings"]
    raw = "forever" if s["raw_retention_s"] is None else f"{s['raw_retention_s']:.0f} s"
    lines = [(f"raw samples kept: {raw}; aggregates kept: {s['aggregate_retention_s']:.0f} s; "
             f"feature values stored: {s['store_inputs']}"),
             (f"oldest raw sample: {_when(doc['oldest_raw_sample'])}; oldest aggregate: {_when(doc['oldest_aggregate'])}; "
             f"samples with feature values: {doc['samples_with_inputs']}")]
    for name, info in sorted(doc["tables"].items()):
        size = "-" if info["bytes"] is None else f"{info['bytes']:,} B"
        lines.append(f"  {name:<18} {info['rows']:>10,} rows  {size:>14}")
    if doc["total_bytes"] is not None:
        lines.append(f"  {'total (with indexes)':<18} {doc['total_bytes']:>31,} B")
    last = doc.get("last_pass")
    lines.append("last pruning pass: " + ("none yet" if not last else
                 f"{_when(last.get('at'))}, {last.get('raw_deleted')} raw rows and {last.get('aggregates_deleted')} "
                 f"aggregates deleted"))
    return "\n".join(lines)


def register(group: click.Group) -> None:
    @group.group("storage")
    def storage_group() -> None:
        """What is stored, and for how long."""

    @storage_group.command("status")
    @click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
    @click.pass_context
    def status_cmd(ctx: click.Context, as_json: bool) -> None:
        """Rows and bytes per table, oldest raw sample and aggregate, and the retention settings in force."""
        from app.logging_setup import setup_logging
        from app.storage import Store
        from app.storage.retention import storage_status
        from app.watcher.pruning import raw_retention_in_force

        settings = get_settings(ctx)
        setup_logging(settings, quiet=True)
        store = Store.from_settings(settings)
        try:
            doc = storage_status(store.engine)
        finally:
            store.dispose()
        doc["settings"] = {"raw_retention_s": raw_retention_in_force(settings),
                           "aggregate_retention_s": settings.aggregate_retention_s,
                           "store_inputs": settings.store_inputs}
        emit(doc, as_json, _human(doc))
