"""A throwaway PostgreSQL cluster for the tests: initdb in a temp dir, pg_ctl on a free loopback port.

Runs the server binaries as the ``postgres`` OS user when the tests run as root (PostgreSQL refuses
to run as root). Listens on 127.0.0.1 only, its unix socket lives in the temp dir, and it requires
a password (scram-sha-256) that is random per run. ``stop()`` always removes the directory.
"""

from __future__ import annotations

import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

__all__ = ["PgCluster", "PgUnavailable", "find_bin_dir"]

SUPERUSER = "mlfi"


class PgUnavailable(RuntimeError):
    """PostgreSQL is not installed or could not be started (the message says which and why)."""


def find_bin_dir() -> Path:
    """The newest ``/usr/lib/postgresql/<version>/bin`` holding initdb, pg_ctl and postgres."""
    cands = [d for d in Path("/usr/lib/postgresql").glob("*/bin")
             if all((d / b).exists() for b in ("initdb", "pg_ctl", "postgres"))]
    if not cands:
        raise PgUnavailable("PostgreSQL server binaries not found under /usr/lib/postgresql/*/bin "
                            "(install them: apt-get install -y postgresql; or set MLFI_SKIP_POSTGRES=1)")
    return max(cands, key=lambda d: int(d.parent.name) if d.parent.name.isdigit() else 0)


def _scratch_dir() -> str | None:
    """RAM-backed /dev/shm when it has room (a 200 MB cluster is created and deleted in a blink there;
    on a disk mounted with ``discard`` deleting it can take many seconds); else the default temp dir."""
    try:
        st = os.statvfs("/dev/shm")
        if st.f_bavail * st.f_frsize >= 2 << 30 and os.access("/dev/shm", os.W_OK):
            return "/dev/shm"
    except OSError:
        pass
    return None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PgCluster:
    """One private PostgreSQL server; ``url(dbname)`` gives a ``postgresql+psycopg://`` URL."""

    def __init__(self) -> None:
        self.bin = find_bin_dir()
        self.as_postgres = os.geteuid() == 0
        self.root = Path(tempfile.mkdtemp(prefix="mlfi-pg-", dir=_scratch_dir()))
        self.data = self.root / "data"
        self.log = self.root / "server.log"
        self.password = secrets.token_hex(16)
        self.port = 0
        self.started = False

    # ---- commands -----------------------------------------------------------------------------------
    def _run(self, *argv: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        cmd = [str(self.bin / argv[0]), *argv[1:]]
        if self.as_postgres:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        return subprocess.run(cmd, check=False, capture_output=True, text=True, timeout=timeout, cwd=str(self.root),
                              env={**os.environ, "LC_ALL": "C", "LANG": "C"})

    def _fail(self, what: str, res: subprocess.CompletedProcess[str]) -> PgUnavailable:
        log = self.log.read_text(errors="replace")[-1500:] if self.log.exists() else ""
        tail = (res.stderr or res.stdout or "").strip()[-1500:]
        return PgUnavailable(f"PostgreSQL {what} failed (exit {res.returncode}): {tail} {log}".strip())

    def start(self) -> PgCluster:
        if self.as_postgres:
            try:
                pw = pwd.getpwnam("postgres")
            except KeyError as exc:
                raise PgUnavailable("running as root but there is no 'postgres' OS user to run the server") from exc
            os.chown(self.root, pw.pw_uid, pw.pw_gid)
        os.chmod(self.root, 0o700)
        pwfile = self.root / "pw"
        pwfile.write_text(self.password + "\n")
        if self.as_postgres:
            os.chown(pwfile, pw.pw_uid, pw.pw_gid)
        res = self._run("initdb", "-D", str(self.data), "-U", SUPERUSER, "--pwfile", str(pwfile),
                        "--auth", "scram-sha-256", "-E", "UTF8", "--locale", "C", "--no-sync", "--no-instructions")
        pwfile.unlink()
        if res.returncode != 0:
            raise self._fail("initdb", res)
        opts = ("-c listen_addresses=127.0.0.1 -c unix_socket_directories={sock} -c port={port} "
                "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=60 "
                "-c shared_buffers=32MB -c wal_level=minimal -c max_wal_senders=0")
        last: subprocess.CompletedProcess[str] | None = None
        for _ in range(3):                      # another process may grab the port between probe and bind
            self.port = _free_port()
            last = self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-w", "-t", "30",
                             "-o", opts.format(sock=self.root, port=self.port), "start")
            if last.returncode == 0:
                self.started = True
                return self
            log = self.log.read_text(errors="replace") if self.log.exists() else ""
            if "could not bind" not in log and "already in use" not in log:
                break
        assert last is not None
        raise self._fail("pg_ctl start", last)

    def stop(self) -> None:
        """Stop the server (immediately) and delete its directory; safe to call more than once."""
        try:
            if self.started:
                self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "-t", "20", "stop", timeout=40)
                self.started = False
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

    # ---- databases --------------------------------------------------------------------------------
    def url(self, dbname: str = "postgres") -> str:
        return f"postgresql+psycopg://{SUPERUSER}:{self.password}@127.0.0.1:{self.port}/{dbname}"

    def create_database(self, name: str) -> str:
        """A new empty database; returns its URL."""
        import psycopg

        deadline = time.monotonic() + 10
        while True:
            try:
                with psycopg.connect(host="127.0.0.1", port=self.port, user=SUPERUSER, password=self.password,
                                     dbname="postgres", autocommit=True, connect_timeout=5) as conn:
                    # PostgreSQL 15+: FILE_COPY does not write the whole template to the WAL
                    strategy = " STRATEGY FILE_COPY" if conn.info.server_version >= 150000 else ""
                    conn.execute(f'CREATE DATABASE "{name}"{strategy}')
                return self.url(name)
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
