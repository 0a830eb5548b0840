"""`mlfi recommendations | approve | reject | execute | audit | incidents | sensitivity`: thin wrappers."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import click

from app.commands._io import emit, settings_store

__all__ = ["register"]

STATUS_CHOICES = ["pending", "approved", "rejected", "executed", "superseded"]


def _ctx(ctx: click.Context, *, read_only: bool = False) -> tuple[Any, Any]:
    return settings_store(ctx, read_only=read_only)


def _when(ts: float | None) -> str:
    return "-" if ts is None else datetime.fromtimestamp(ts, tz=UTC).strftime("%Y-%m-%d %H:%M:%SZ")


def _by(settings: Any, by: str | None) -> str:
    from app.errors import InputError

    name = by if by is not None else settings.operator_name
    if not name or not str(name).strip():
        raise InputError("--by NAME is required (or set MLFI_OPERATOR_NAME)")
    return str(name)


def _decision_human(d: Any) -> str:
    lines = [d.message]
    for c in d.sensitivity_changes:
        lines.append(f"  sensitivity of {c.detector} on {c.endpoint}: x{c.before:g} -> x{c.after:g}")
    return "\n".join(lines)


def register(group: click.Group) -> None:
    @group.command("recommendations")
    @click.option("--status", type=click.Choice(STATUS_CHOICES), default=None, help="Only this status.")
    @click.option("--endpoint", default=None, help="Only this endpoint (its name/URL).")
    @click.option("--incident", "incident_id", type=int, default=None, help="Only this incident.")
    @click.option("--limit", type=click.IntRange(min=1), default=500, show_default=True)
    @click.option("--json", "as_json", is_flag=True, help="Print one JSON document (a list).")
    @click.pass_context
    def recommendations_cmd(ctx: click.Context, status: str | None, endpoint: str | None, incident_id: int | None,
                            limit: int, as_json: bool) -> None:
        """Recommendations with their ids (newest first)."""
        from app.governance import list_recommendations

        settings, store = _ctx(ctx, read_only=True)
        recs = list_recommendations(store, settings, status=status, endpoint=endpoint, incident_id=incident_id,
                                    limit=limit)
        human = "\n".join(f"{r.id}  [{r.priority}] {r.status:<10} {r.action}  " + (
            f"(diagnosis {r.diagnosis_id}, {r.category})" if r.source == "diagnosis" else
            f"({r.endpoint}, incident #{r.incident_id})") for r in recs) or "no recommendations"
        emit([r.model_dump() for r in recs], as_json, human)

    @group.command("approve")
    @click.argument("rec_id", metavar="ID")
    @click.option("--by", default=None, help="Who decides (default: MLFI_OPERATOR_NAME).")
    @click.option("--reason", required=True, help="Why (required, non-empty).")
    @click.option("--execute/--no-execute", "execute_now", default=True, show_default=True,
                  help="Run the configured executors for this approved action right away.")
    @click.option("--json", "as_json", is_flag=True)
    @click.pass_context
    def approve_cmd(ctx: click.Context, rec_id: str, by: str | None, reason: str, execute_now: bool,
                    as_json: bool) -> None:
        """Approve recommendation ID (once; written to the audit log)."""
        from app.governance import approve

        settings, store = _ctx(ctx)
        d = approve(store, settings, rec_id, by=_by(settings, by), reason=reason, execute_now=execute_now)
        emit(d.model_dump(), as_json, _decision_human(d))

    @group.command("reject")
    @click.argument("rec_id", metavar="ID")
    @click.option("--by", default=None, help="Who decides (default: MLFI_OPERATOR_NAME).")
    @click.option("--reason", required=True, help="Why (required, non-empty).")
    @click.option("--false-alarm", is_flag=True,
                  help="The alert was a false alarm: the detectors that fired become less sensitive here.")
    @click.option("--json", "as_json", is_flag=True)
    @click.pass_context
    def reject_cmd(ctx: click.Context, rec_id: str, by: str | None, reason: str, false_alarm: bool,
                   as_json: bool) -> None:
        """Reject recommendation ID (once; written to the audit log)."""
        from app.governance import reject

        settings, store = _ctx(ctx)
        d = reject(store, settings, rec_id, by=_by(settings, by), reason=reason, false_alarm=false_alarm)
        emit(d.model_dump(), as_json, _decision_human(d))

    @group.command("execute")
    @click.argument("rec_id", metavar="ID")
    @click.option("--by", default=None, help="Who runs it (default: MLFI_OPERATOR_NAME).")
    @click.option("--json", "as_json", is_flag=True)
    @click.pass_context
    def execute_cmd(ctx: click.Context, rec_id: str, by: str | None, as_json: bool) -> None:
        """Run the executors for an APPROVED recommendation that was approved with --no-execute."""
        from app.governance import execute

        settings, store = _ctx(ctx)
        runs = execute(store, settings, rec_id, actor=_by(settings, by))
        human = "\n".join(f"{r.executor}: {'ok' if r.ok else 'FAILED'} - {r.detail}" for r in runs) or (
            "no executor applies (configure MLFI_WEBHOOK_URL or MLFI_COMMAND_HOOK)")
        emit({"recommendation_id": rec_id, "executions": [r.model_dump() for r in runs]}, as_json, human)

    @group.group("audit", invoke_without_command=True)
    @click.option("--verify", is_flag=True, help="Check the hash chain, the jsonl mirror and the checkpoints; "
                  "exit 1 if broken or cut.")
    @click.option("--checkpoint", "checkpoint_files", multiple=True, type=click.Path(dir_okay=False),
                  help="With --verify: also check the checkpoints in this file (repeatable).")
    @click.option("--limit", type=click.IntRange(min=1), default=None, help="Only the newest N entries.")
    @click.option("--json", "as_json", is_flag=True)
    @click.pass_context
    def audit_cmd(ctx: click.Context, verify: bool, checkpoint_files: tuple[str, ...], limit: int | None,
                  as_json: bool) -> int | None:
        """The audit log (database copy); --verify checks it against tampering."""
        from pathlib import Path

        from app.errors import InputError
        from app.governance import audit_entries, verify_audit
        from app.governance import checkpoints as cps

        if ctx.invoked_subcommand is not None:
            return None
        if checkpoint_files and not verify:
            raise InputError("--checkpoint needs --verify")
        settings, store = _ctx(ctx, read_only=True)
        if verify:
            extra = [cp for f in checkpoint_files for cp in cps.load(Path(f))]
            res = verify_audit(store, settings, extra)
            emit(res.model_dump(), as_json, res.message)
            if not res.ok:
                click.echo(f"Error: {res.message}", err=True)
                return 1
            return 0
        items = audit_entries(store, settings, limit=limit, newest_first=limit is not None)
        if limit is not None:
            items.reverse()
        human = "\n".join(f"#{e.seq:<5} {_when(e.ts)}  {e.event:<20} {e.actor or '-':<16} "
                          f"{e.payload.get('recommendation_id') or e.payload.get('endpoint') or ''}"
                          for e in items) or "audit log is empty"
        emit({"count": len(items), "entries": [e.model_dump() for e in items]}, as_json, human)
        return 0

    @audit_cmd.command("checkpoint")
    @click.option("--out", "out", type=click.Path(dir_okay=False), default=None,
                  help="Also append the checkpoint to this file (put it on write-once storage).")
    @click.option("--json", "as_json", is_flag=True)
    @click.pass_context
    def checkpoint_cmd(ctx: click.Context, out: str | None, as_json: bool) -> int:
        """Verify the log and write a checkpoint (entry count + head hash + time, signed with MLFI_AUDIT_KEY)."""
        from pathlib import Path

        from app.governance import audit, notify
        from app.governance import checkpoints as cps

        settings, store = _ctx(ctx)
        cp = audit.checkpoint(store, settings)
        where = [str(audit.checkpoint_path(settings))]
        if out is not None:
            cps.append_stored(Path(out), cp)
            where.append(out)
        else:
            sent = notify.send(settings, {"event": "audit_checkpoint", **cp.model_dump()})
            if sent is not None:
                where.append(sent[1])
                if not sent[0]:
                    click.echo(f"Error: checkpoint stored locally only; {sent[1]}", err=True)
                    emit(cp.model_dump(), as_json, f"checkpoint: {cp.entries} entries, head {cp.head[:16]}")
                    return 1
        signed = "signed" if cp.signature else "unsigned (MLFI_AUDIT_KEY not set)"
        emit(cp.model_dump(), as_json, f"checkpoint: {cp.entries} entries, head {cp.head[:16]}, {signed}; "
             f"written to {', '.join(where)}")
        return 0

    @group.command("incidents")
    @click.option("--status", type=click.Choice(["open", "resolved"]), default=None)
    @click.option("--endpoint", default=None)
    @click.option("--similar", "with_similar", is_flag=True, help="Add similar past incidents to each one.")
    @click.option("--limit", type=click.IntRange(min=1), default=200, show_default=True)
    @click.option("--json", "as_json", is_flag=True)
    @click.pass_context
    def incidents_cmd(ctx: click.Context, status: str | None, endpoint: str | None, with_similar: bool,
                      limit: int, as_json: bool) -> None:
        """Incidents (consecutive alerts with one root cause on one endpoint), newest first."""
        from app.governance import list_incidents, similar_to_incident

        settings, store = _ctx(ctx)
        rows = []
        lines = []
        for inc in list_incidents(store, settings, status=status, endpoint=endpoint, limit=limit):
            d = inc.model_dump()
            if with_similar:
                d["similar"] = [s.model_dump() for s in similar_to_incident(store, inc.id)]
            rows.append(d)
            lines.append(f"#{inc.id:<4} {inc.status:<8} {inc.root_cause:<20} {inc.severity:<8} {inc.alert_count:>4} "
                         f"alerts  {_when(inc.opened_at)}  {inc.endpoint}  outcome {inc.outcome or '-'}")
        emit(rows, as_json, "\n".join(lines) or "no incidents")

    @group.command("sensitivity")
    @click.option("--endpoint", default=None, help="Only this endpoint.")
    @click.option("--reset", "do_reset", is_flag=True, help="Restore multiplier 1.0 (needs --endpoint, --by).")
    @click.option("--detector", default=None, help="With --reset: only this detector.")
    @click.option("--by", default=None, help="Who resets (default: MLFI_OPERATOR_NAME).")
    @click.option("--json", "as_json", is_flag=True)
    @click.pass_context
    def sensitivity_cmd(ctx: click.Context, endpoint: str | None, do_reset: bool, detector: str | None,
                        by: str | None, as_json: bool) -> None:
        """Adapted alert sensitivity per endpoint and detector (x1 = default; >1 = needs stronger evidence)."""
        from app.errors import InputError
        from app.governance import list_sensitivity, reset_sensitivity

        settings, store = _ctx(ctx)
        if do_reset:
            if not endpoint:
                raise InputError("--reset needs --endpoint NAME")
            changes = reset_sensitivity(store, settings, endpoint, by=_by(settings, by), detector=detector)
            emit({"reset": [c.model_dump() for c in changes]}, as_json,
                 "\n".join(f"{c.detector} on {c.endpoint}: x{c.before:g} -> x1" for c in changes) or "nothing to reset")
            return
        rows = list_sensitivity(store, endpoint)
        emit(rows, as_json, "\n".join(f"{r['endpoint']}  {r['detector']:<20} x{r['multiplier']:g}" for r in rows)
             or "all detectors at default sensitivity (x1)")
