"""`mlfi storage status`: rows and bytes per table, oldest raw sample and aggregate, retention settings in force;
`mlfi storage retention`: apply the configured retention, asking before a shorter one deletes data (audited)."""

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
             *([f"not applied until `mlfi storage retention` confirms it: {sorted(s['pending_shortening'])}"]
               if s.get("pending_shortening") else []),
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
        from app.storage.retention_policy import effective, recorded, shortened
        from app.watcher.pruning import configured_retention

        settings = get_settings(ctx)
        setup_logging(settings, quiet=True)
        store = Store.from_settings(settings)
        try:
            doc = storage_status(store.engine)
            want, old = configured_retention(settings), recorded(store.engine)
        finally:
            store.dispose()
        use = effective(old, want)       # a shortening applies once `mlfi storage retention` confirms it
        doc["settings"] = {**use.as_dict(), "store_inputs": settings.store_inputs,
                           "pending_shortening": shortened(old, want)}
        emit(doc, as_json, _human(doc))

    @storage_group.command("retention")
    @click.option("--yes", is_flag=True, help="Shorten without asking.")
    @click.option("--by", default=None, help="Who confirms (default MLFI_OPERATOR_NAME), for the audit log.")
    @click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
    @click.pass_context
    def retention_cmd(ctx: click.Context, yes: bool, by: str | None, as_json: bool) -> None:
        """Apply MLFI_RAW_RETENTION / MLFI_AGGREGATE_RETENTION; a shorter value deletes data, so it asks first."""
        settings = get_settings(ctx)
        doc = _retention(settings, yes, by, interactive=not as_json)
        emit(doc, as_json, _retention_human(doc))


def _secs(v: float | None) -> str:
    return "forever" if v is None else f"{v:.0f} s"


def _retention_human(doc: dict[str, Any]) -> str:
    changes = "; ".join(f"{k.removesuffix('_s').replace('_', ' ')} {_secs(c['from'])} -> {_secs(c['to'])}"
                        for k, c in doc["shortened"].items())
    now = doc["in_force"]
    line = (f"retention in force: raw samples {_secs(now['raw_retention_s'])}, "
            f"aggregates {_secs(now['aggregate_retention_s'])}")
    return line + (f" (shortened and audited: {changes})" if changes else "")


def _retention(settings: Any, yes: bool, by: str | None, *, interactive: bool) -> dict[str, Any]:
    import sys

    from app.errors import InputError
    from app.governance import audit
    from app.storage import Store
    from app.storage.retention_policy import recorded, save_policy, shortened
    from app.watcher.pruning import configured_retention

    store = Store.from_settings(settings)
    try:
        want, old = configured_retention(settings), recorded(store.engine)
        cut = shortened(old, want)
        if cut and not yes:
            what = "; ".join(f"{k}: {_secs(c['from'])} -> {_secs(c['to'])}" for k, c in cut.items())
            if not (interactive and sys.stdin.isatty()):
                raise InputError(f"shortening the retention deletes stored data ({what}): confirm with --yes")
            if not click.confirm(f"Shorten the retention ({what})? Older data is deleted at the next pruning pass"):
                raise InputError("retention not changed")
        if cut:
            audit.record(store, settings, "retention_shortened", by or settings.operator_name,
                         {"changes": cut, "in_force": want.as_dict()})
        if old != want:
            save_policy(store.engine, want)
    finally:
        store.dispose()
    return {"in_force": want.as_dict(), "previous": None if old is None else old.as_dict(), "shortened": cut}
