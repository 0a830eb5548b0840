"""`mlfi dashboard [--port 8501]`: run the Streamlit dashboard (ui/dashboard.py) headless on that port."""

from __future__ import annotations

import os
import subprocess
import sys

import click

from app.commands._io import get_settings
from app.config import REPO_ROOT
from app.errors import InputError

__all__ = ["register", "streamlit_command"]


# `streamlit run`, with Streamlit's legacy pages/ folder mode off from the start: ui/dashboard.py
# routes every page itself (st.navigation), also for deep links such as /endpoint
_LAUNCH = ("import sys\n"
           "try:\n"
           "    from streamlit.runtime.pages_manager import PagesManager\n"
           "    PagesManager.uses_pages_directory = False\n"
           "except ImportError:\n"
           "    pass\n"
           "from streamlit.web.cli import main\n"
           "sys.argv[0] = 'streamlit'\n"
           "sys.exit(main())\n")


def streamlit_command(port: int, host: str) -> list[str]:
    """The command line that serves the dashboard (``streamlit run ui/dashboard.py`` headless).

    >>> cmd = streamlit_command(8501, "0.0.0.0")
    >>> cmd[3], cmd[4].endswith("dashboard.py"), cmd[9:13]
    ('run', True, ['--server.port', '8501', '--server.address', '0.0.0.0'])
    """
    script = str(REPO_ROOT / "ui" / "dashboard.py")
    return [sys.executable, "-c", _LAUNCH, "run", script, "--server.headless", "true",
            "--server.fileWatcherType", "none", "--server.port", str(port), "--server.address", host,
            "--browser.gatherUsageStats", "false", "--client.toolbarMode", "minimal",
            "--theme.primaryColor", "#2563eb"]


def _check_port_free(host: str, port: int) -> None:
    """InputError (exit 2, one line) when something already listens on host:port."""
    import socket

    probe_host = "127.0.0.1" if host in ("0.0.0.0", "", "localhost") else host
    try:
        with socket.create_connection((probe_host, port), timeout=0.5):
            raise InputError(f"port {port} is already in use on {probe_host}: choose another with --port")
    except OSError:
        pass   # nothing answers: free
    try:
        with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as s:
            s.bind((host, port))
    except OSError as exc:
        raise InputError(f"cannot listen on {host}:{port}: {exc.strerror}") from exc


def register(group: click.Group) -> None:
    @group.command("dashboard")
    @click.option("--port", type=int, default=8501, show_default=True, help="HTTP port of the dashboard")
    @click.option("--host", default="127.0.0.1", show_default=True,
                  help="address to listen on (the dashboard has no login: open it beyond localhost only "
                       "behind an authenticating proxy)")
    @click.pass_context
    def dashboard(ctx: click.Context, port: int, host: str) -> None:
        """Run the Streamlit dashboard headless (state from MLFI_HOME / MLFI_DATABASE_URL)."""

        if not 1 <= port <= 65535:
            raise InputError(f"--port must be between 1 and 65535 (got {port})")
        _check_port_free(host, port)
        settings = get_settings(ctx)
        settings.ensure_dirs()
        env = dict(os.environ)
        if settings.home is not None:
            env["MLFI_HOME"] = str(settings.home)   # the dashboard process reads the same state
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO_ROOT), env.get("PYTHONPATH", "")) if p)
        click.echo(f"mlfi dashboard on http://localhost:{port} (state: {settings.data_dir})", err=True)
        cmd = streamlit_command(port, host)
        if os.name == "posix":
            # replace this process: SIGTERM / Ctrl-C reach Streamlit itself and no orphan server remains
            os.chdir(REPO_ROOT)
            os.execve(cmd[0], cmd, env)
        try:  # pragma: no cover - non-POSIX fallback
            rc = subprocess.call(cmd, env=env, cwd=str(REPO_ROOT))
        except KeyboardInterrupt:
            rc = 130
        ctx.exit(rc)
