"""`mlfi serve-api` (the HTTP service on uvicorn) and `mlfi tokens create | list | revoke`."""

from __future__ import annotations

from typing import Any

import click

from app.commands._io import emit, get_settings

__all__ = ["register"]


def register(group: click.Group) -> None:
    @group.command("serve-api")
    @click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
    @click.option("--port", type=click.IntRange(min=1, max=65535), default=8000, show_default=True)
    @click.option("--workers", type=click.IntRange(min=1, max=32), default=1, show_default=True,
                  help="Server processes (uvicorn workers); on SQLite their writes take turns.")
    @click.pass_context
    def serve_api_cmd(ctx: click.Context, host: str, port: int, workers: int) -> None:
        """Serve the HTTP API (OpenAPI at /openapi.json, docs at /docs)."""
        import uvicorn

        from app.api.app import serving_app
        from app.commands.dashboard import _check_port_free
        from app.logging_setup import setup_logging

        settings = get_settings(ctx)
        setup_logging(settings, quiet=False)
        _check_port_free(host, port)
        opts: dict[str, Any] = {"host": host, "port": port, "log_level": "warning", "access_log": False,
                                "server_header": False, "proxy_headers": False}
        if workers == 1:
            uvicorn.run(serving_app(settings), **opts)
        else:        # each worker process builds the app from the same environment (app.api.app.from_env)
            uvicorn.run("app.api.app:from_env", factory=True, workers=workers, **opts)

    @group.group("tokens")
    def tokens_group() -> None:
        """API bearer tokens: create (shown once), list, revoke."""

    @tokens_group.command("create")
    @click.option("--name", required=True, help="Token name; it is the actor in the audit log.")
    @click.option("--scopes", required=True, help="Comma-separated: read,ingest,approve,admin (admin implies all).")
    @click.option("--json", "as_json", is_flag=True)
    @click.pass_context
    def create_cmd(ctx: click.Context, name: str, scopes: str, as_json: bool) -> None:
        """Create a token and print it once; only its hash is stored."""
        from app.api.tokens import issue_token, parse_name, parse_scopes
        from app.storage import Store

        name, wanted = parse_name(name), parse_scopes(scopes)
        store = Store.from_settings(get_settings(ctx))
        token = issue_token(store.engine, name, wanted)
        emit({"name": name, "scopes": list(wanted), "token": token}, as_json,
             f"{token}\n(token {name!r}, scopes {','.join(wanted)}: shown once, store it now)")

    @tokens_group.command("list")
    @click.option("--json", "as_json", is_flag=True)
    @click.pass_context
    def list_cmd(ctx: click.Context, as_json: bool) -> None:
        """List tokens (names, scopes, state; never the secrets)."""
        from app.storage import Store
        from app.storage.tokens import list_tokens

        rows = list_tokens(Store.from_settings(get_settings(ctx), read_only=True).engine)
        items = [{"name": r.name, "scopes": list(r.scopes), "active": r.active, "created_at": r.created_at,
                  "revoked_at": r.revoked_at, "last_used_at": r.last_used_at} for r in rows]
        human = "\n".join(f"{i['name']}\t{','.join(i['scopes'])}\t{'active' if i['active'] else 'revoked'}"
                          for i in items) or "no tokens"
        emit({"tokens": items}, as_json, human)

    @tokens_group.command("revoke")
    @click.argument("name")
    @click.option("--json", "as_json", is_flag=True)
    @click.pass_context
    def revoke_cmd(ctx: click.Context, name: str, as_json: bool) -> None:
        """Revoke token NAME: requests bearing it get 401 from now on."""
        from app.storage import Store
        from app.storage.tokens import revoke_token

        changed = revoke_token(Store.from_settings(get_settings(ctx)).engine, name)
        emit({"name": name, "revoked": True, "changed": changed}, as_json,
             f"revoked {name}" if changed else f"{name} was already revoked")
