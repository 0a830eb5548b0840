"""`mlfi serve-demo-model`: the demo classifier endpoint with switchable failure modes."""

from __future__ import annotations

import click

__all__ = ["register"]

_MODES = ("healthy", "degraded_accuracy", "low_confidence", "latency", "errors", "silent_failure", "malformed",
          "prediction_drift", "accuracy_drop_40")  # = app.demo.model.MODES (kept literal so the CLI starts without numpy/sklearn)


@click.command("serve-demo-model")
@click.option("--port", type=click.IntRange(0, 65535), default=9000, show_default=True, help="TCP port (0 = any free)")
@click.option("--host", default="127.0.0.1", show_default=True, help="interface to listen on")
@click.option("--mode", type=click.Choice(_MODES), default="healthy", show_default=True,
              help="failure mode at start; switch later with POST /_control {\"mode\": M}")
def serve_demo_model(port: int, host: str, mode: str) -> None:
    """Serve a real scikit-learn breast-cancer classifier at POST /predict (GET /health, GET/POST /_control)."""
    from loguru import logger

    from app.demo.model import make_server, serve

    # bind first: a busy port is a one-line error (exit 2)
    server = make_server(host, port, mode)
    bound_port = server.server_address[1]
    logger.info(f"demo model on http://{host}:{bound_port}/predict (mode={mode}); control: /_control")
    click.echo(f"demo model listening on http://{host}:{bound_port}/predict (mode={mode})", err=True)
    serve(host, bound_port, mode, server=server)


def register(group: click.Group) -> None:
    group.add_command(serve_demo_model)
