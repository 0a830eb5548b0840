"""`mlfi watch`, `mlfi watcher start|stop|status` and `mlfi endpoints ...`: thin wrappers over app.watcher."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from app.commands._io import RegistryChoice, emit, protocol_choices, settings_store

__all__ = ["register"]


def _probe_options(f: Callable[..., Any]) -> Callable[..., Any]:
    opts = [
        click.option("--interval", type=click.FloatRange(min=0.01), default=None,
                     help="Seconds between probes of each given URL (without URLs: of every endpoint, this run)."),
        click.option("--protocol", type=RegistryChoice(protocol_choices), default=None,
                     help="Protocol of the given URLs (default: stored, else auto-detect once)."),
        click.option("--probe-set", "probe_set", default=None, help="CSV of feature columns to send as probes."),
        click.option("--label-column", default=None, help="Label column of the probe set (tracks accuracy)."),
        click.option("--header", "headers", multiple=True, help="K:V header sent with every probe (never logged); a value may be ${ENV_VAR}, stored as the reference and read when sending."),
        click.option("--model-name", default=None, help="Model name for V1/V2 protocols."),
        click.option("--timeout", "timeout_s", type=click.FloatRange(min=0.01), default=None,
                     help="Probe timeout used while detecting the protocol, s."),
    ]
    for o in reversed(opts):
        f = o(f)
    return f


def _died(st: dict[str, Any]) -> str:
    """`` - died at 2026-01-02 03:04:05 UTC`` for a watcher that was killed, else empty."""
    import datetime as dt

    if st.get("status") != "died" or st.get("died_at") is None:
        return ""
    when = dt.datetime.fromtimestamp(float(st["died_at"]), dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    return f"; died at {when} without a clean stop"


def _settings_store(ctx: click.Context, *, quiet: bool = True, read_only: bool = False) -> tuple[Any, Any]:
    return settings_store(ctx, quiet=quiet, read_only=read_only)


def _register_kwargs(protocol: str | None, probe_set: str | None, label_column: str | None,
                     headers: tuple[str, ...], model_name: str | None, timeout_s: float | None) -> dict[str, Any]:
    from app.analysis.target import parse_headers

    return {"protocol": protocol, "probe_set": probe_set, "label_column": label_column,
            "headers": parse_headers(headers), "model_name": model_name, "timeout_s": timeout_s}


def register(group: click.Group) -> None:
    @group.command("watch")
    @click.argument("urls", nargs=-1)
    @_probe_options
    @click.option("--once", is_flag=True, help="Run a single cycle (probe what is due, analyse) and exit.")
    @click.option("--json", "as_json", is_flag=True, help="Print the run's totals as one JSON document at exit.")
    @click.pass_context
    def watch_cmd(ctx: click.Context, urls: tuple[str, ...], interval: float | None, protocol: str | None,
                  probe_set: str | None, label_column: str | None, headers: tuple[str, ...],
                  model_name: str | None, timeout_s: float | None, once: bool, as_json: bool) -> None:
        """Poll every enabled endpoint (plus the given URLs) until SIGTERM/Ctrl-C or `mlfi watcher stop`."""
        from app.watcher.endpoints import register_urls
        from app.watcher.loop import main, run_once

        settings, store = _settings_store(ctx, quiet=False)
        kw = _register_kwargs(protocol, probe_set, label_column, headers, model_name, timeout_s)
        if once:
            if urls:
                register_urls(settings, store, list(urls), interval=interval, **kw)
            stats = run_once(settings, store)
            emit(stats.to_dict(), as_json, f"probed {stats.probes_completed} endpoints, wrote "
                                           f"{stats.samples_written} samples, {stats.reports_saved} reports")
            return
        totals = main(settings, list(urls) or None, interval, **kw)
        snap = totals.snapshot()
        emit(snap, as_json, f"watcher stopped: {snap['probes_started']} probes, on time {snap['on_time_ratio']}, "
                            f"{snap['samples_written']} samples written")

    @group.group("watcher")
    def watcher_group() -> None:
        """Start, stop or inspect the background watcher."""

    @watcher_group.command("start")
    @click.option("--json", "as_json", is_flag=True)
    @click.pass_context
    def watcher_start(ctx: click.Context, as_json: bool) -> None:
        """Start `mlfi watch` in the background (no-op when one is alive)."""
        from app.watcher.control import start_background

        settings, _ = _settings_store(ctx)
        pid = start_background(settings)
        emit({"started": True, "pid": pid}, as_json, f"watcher running (pid {pid})")

    @watcher_group.command("stop")
    @click.option("--timeout", "timeout_s", type=click.FloatRange(min=0), default=20.0, show_default=True)
    @click.option("--json", "as_json", is_flag=True)
    @click.pass_context
    def watcher_stop(ctx: click.Context, timeout_s: float, as_json: bool) -> int:
        """Ask the watcher to stop (desired=stopped + SIGTERM) and wait for it."""
        from app.watcher.control import stop_background

        settings, store = _settings_store(ctx)
        ok = stop_background(settings, store, timeout_s=timeout_s)
        emit({"stopped": ok}, as_json, "watcher stopped" if ok else "watcher did not stop in time")
        return 0 if ok else 1

    @watcher_group.command("status")
    @click.option("--json", "as_json", is_flag=True)
    @click.pass_context
    def watcher_status_cmd(ctx: click.Context, as_json: bool) -> None:
        """Heartbeat, liveness and running totals of the watcher."""
        from app.watcher.control import watcher_status

        settings, store = _settings_store(ctx, read_only=True)
        st = watcher_status(settings, store)
        stats = st.get("stats") or {}
        human = (f"watcher {'alive' if st['alive'] else 'not running'} (status {st['status']}, pid {st['pid']}, "
                 f"heartbeat {st['heartbeat_age_s']} s ago{_died(st)}); endpoints enabled {st['endpoints_enabled']}/"
                 f"{st['endpoints_total']}; probes {stats.get('probes_started', 0)}, "
                 f"on time {stats.get('on_time_ratio')}")
        human += "".join(f"\n  watcher {w['id']} {w['host']} pid {w['pid']}: {w['endpoints']} endpoints, "
                         f"heartbeat {w['heartbeat_age_s']} s ago, {w['probes_per_minute']} probes/min"
                         for w in st["watchers"] if w["alive"])
        emit(st, as_json, human)

    @group.group("endpoints")
    def endpoints_group() -> None:
        """Add, list, enable, disable or remove watched endpoints (header values are never shown)."""

    @endpoints_group.command("add")
    @click.argument("url")
    @_probe_options
    @click.option("--disabled", is_flag=True, help="Store it disabled (the watcher skips it).")
    @click.option("--json", "as_json", is_flag=True)
    @click.pass_context
    def endpoints_add(ctx: click.Context, url: str, interval: float | None, protocol: str | None,
                      probe_set: str | None, label_column: str | None, headers: tuple[str, ...],
                      model_name: str | None, timeout_s: float | None, disabled: bool, as_json: bool) -> None:
        """Register URL (protocol detected once); a running watcher picks it up within a cycle."""
        from app.watcher.endpoints import register_urls

        settings, store = _settings_store(ctx)
        kw = _register_kwargs(protocol, probe_set, label_column, headers, model_name, timeout_s)
        ep = register_urls(settings, store, [url], interval=interval, enabled=not disabled, **kw)[0]
        emit(ep, as_json, f"{ep['name']}: {ep['protocol']}, every {ep['interval_s']:g} s, "
                          f"{'enabled' if ep['enabled'] else 'disabled'}")

    @endpoints_group.command("list")
    @click.option("--json", "as_json", is_flag=True)
    @click.pass_context
    def endpoints_list(ctx: click.Context, as_json: bool) -> None:
        """All endpoints with their schedule and last probe status."""
        from app.watcher.endpoints import public_view
        from app.watcher.fleet import endpoint_holders

        settings, store = _settings_store(ctx, read_only=True)
        held = endpoint_holders(settings, store)
        eps = [{**public_view(e), "held_by": held.get(e.id)} for e in store.list_endpoints()]
        lines = [f"{'on ' if e['enabled'] else 'off'} {e['name']}  [{e['protocol']}] every {e['interval_s']:g} s  "
                 f"last {e['last_status'] or '-'}" + (f" ({e['consecutive_failures']} failures)"
                                                       if e["consecutive_failures"] else "") for e in eps]
        emit(eps, as_json, "\n".join(lines) if lines else "no endpoints")

    def _toggle(name: str, ctx: click.Context, as_json: bool, enabled: bool) -> None:
        from app.watcher.endpoints import public_view

        _, store = _settings_store(ctx)
        store.set_enabled(name, enabled)
        ep = public_view(store.get_endpoint(name))
        emit(ep, as_json, f"{name}: {'enabled' if enabled else 'disabled'}")

    @endpoints_group.command("enable")
    @click.argument("name")
    @click.option("--json", "as_json", is_flag=True)
    @click.pass_context
    def endpoints_enable(ctx: click.Context, name: str, as_json: bool) -> None:
        """Let the watcher probe and analyse NAME again."""
        _toggle(name, ctx, as_json, True)

    @endpoints_group.command("disable")
    @click.argument("name")
    @click.option("--json", "as_json", is_flag=True)
    @click.pass_context
    def endpoints_disable(ctx: click.Context, name: str, as_json: bool) -> None:
        """Stop probing and analysing NAME (its data is kept)."""
        _toggle(name, ctx, as_json, False)

    @endpoints_group.command("remove")
    @click.argument("name")
    @click.option("--json", "as_json", is_flag=True)
    @click.pass_context
    def endpoints_remove(ctx: click.Context, name: str, as_json: bool) -> None:
        """Delete NAME with its samples, reports and baselines index."""
        _, store = _settings_store(ctx)
        store.delete_endpoint(name)
        emit({"removed": name}, as_json, f"removed {name}")
