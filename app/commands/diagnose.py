"""`mlfi diagnose`: diagnose a failed experiment from a prompt or an experiment record; store it for the dashboard."""

from __future__ import annotations

from pathlib import Path

import click

from app.commands._io import emit, get_settings

__all__ = ["register"]


def _human(p: dict) -> str:  # type: ignore[type-arg]
    lines = [
        f"{p['primary_category']} ({p['subtype'] or '-'})  gate={p['deployment_gate']}  "
        f"confidence={p['confidence']:.2f}",
        f"report_ready={p['report_ready']}  deployment_ready={p['deployment_ready']}  "
        f"leakage_audit_recommended={p['leakage_audit_recommended']}",
    ]
    if p["secondary_risks"]:
        lines.append("secondary risks: " + ", ".join(p["secondary_risks"]))
    lines += [f"  evidence: {e['statement']}" for e in p["evidence"][:5]]
    lines += [f"  counter:  {e['statement']}" for e in p["counter_evidence"][:3]]
    lines += [f"  3 days:   {i['action']}" for i in p["remediation_plan"]["3_day"][:3]]
    lines.append(
        "learning: "
        + ", ".join(
            f"{i['id']}{' (' + i['certification'] + ')' if i['certification'] else ''}" for i in p["learning_path"]
        )
    )
    lines.append(f"payload_hash: {p['payload_hash']}")
    if p.get("queued_recommendations"):
        lines.append(f"queued for approval: {len(p['queued_recommendations'])} items "
                     "(mlfi recommendations --status pending)")
    return "\n".join(lines)


def register(group: click.Group) -> None:
    @group.command("diagnose")
    @click.option("--prompt", "prompt", type=str, default=None, help="Free-text description of the failed experiment.")
    @click.option(
        "--experiment",
        "experiment",
        type=click.Path(dir_okay=False, path_type=Path),
        default=None,
        help="Experiment record JSON (see docs/experiment_record.md).",
    )
    @click.option(
        "--export",
        "export",
        type=click.Path(path_type=Path),
        default=None,
        help="Write a self-contained HTML report here (and the JSON payload next to it).",
    )
    @click.option("--team", type=str, default=None, help="Team the diagnosis is filed under (history heatmap).")
    @click.option("--no-store", is_flag=True, help="Do not save the diagnosis in the database.")
    @click.option("--json", "as_json", is_flag=True, help="Print the diagnosis payload as one JSON document.")
    @click.pass_context
    def diagnose_cmd(
        ctx: click.Context,
        prompt: str | None,
        experiment: Path | None,
        export: Path | None,
        team: str | None,
        no_store: bool,
        as_json: bool,
    ) -> None:
        """Diagnose a failed experiment (--prompt TEXT or --experiment FILE.json) with cited evidence."""
        from app.diagnosis import diagnose
        from app.diagnosis.export import export_report
        from app.errors import InputError

        if (prompt is None) == (experiment is None):
            raise InputError("give exactly one of --prompt TEXT or --experiment FILE.json")
        settings = get_settings(ctx)
        store = None
        if not no_store:
            from app.storage import Store

            store = Store.from_settings(settings)
        try:
            d = diagnose(prompt=prompt, experiment=experiment, settings=settings, store=store)
            payload = d.payload()
            if store is not None:
                from app.governance.diagnosis_queue import file_diagnosis

                file_diagnosis(store, settings, payload,
                               team=team or (payload["input"].get("record") or {}).get("team"))
            if export is not None:
                html_path, json_path = export_report(d, export)
                click.echo(f"exported {html_path} and {json_path}", err=True)
        finally:
            if store is not None:
                store.dispose()
        emit(payload, as_json, _human(payload))
