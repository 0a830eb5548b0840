"""Shared fixtures: an isolated state dir (MLFI_HOME) with its own SQLite database; one PostgreSQL server."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.config import Settings
from app.storage import Store


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings whose state (db, baselines, audit log) lives under a fresh temporary MLFI_HOME."""
    s = Settings(home=tmp_path / "state", _env_file=None)  # type: ignore[call-arg]
    s.ensure_dirs()
    return s


@pytest.fixture
def store(settings: Settings) -> Iterator[Store]:
    st = Store.from_settings(settings)
    yield st
    st.dispose()


@pytest.fixture
def mlfi_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point subprocess/CLI invocations at a fresh MLFI_HOME."""
    home = tmp_path / "home"
    monkeypatch.setenv("MLFI_HOME", str(home))
    monkeypatch.delenv("MLFI_DATABASE_URL", raising=False)
    return home


@pytest.fixture(autouse=True)
def _restore_main_module() -> Iterator[None]:
    """Streamlit's AppTest runs page scripts as ``__main__``; a later test that spawns a process
    (the watcher's analysis process) would then re-run that page in the child. Put ``__main__`` back."""
    main = sys.modules.get("__main__")
    main_file = getattr(main, "__file__", None)
    yield
    if main is not None:
        sys.modules["__main__"] = main
        if main_file is not None:
            main.__file__ = main_file


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[object]:
    """One throwaway PostgreSQL server for the whole session (tests/pg_cluster.py).

    Fails (never skips) when PostgreSQL cannot be installed or started, unless MLFI_SKIP_POSTGRES=1.
    """
    if os.environ.get("MLFI_SKIP_POSTGRES") == "1":
        pytest.skip("MLFI_SKIP_POSTGRES=1: PostgreSQL tests skipped on request")
    try:
        import psycopg  # noqa: F401
    except ImportError:
        pytest.fail("the PostgreSQL driver is missing: pip install 'psycopg[binary]' (requirements-dev.txt), "
                    "or set MLFI_SKIP_POSTGRES=1", pytrace=False)
    sys.path.insert(0, str(Path(__file__).parent))
    from pg_cluster import PgCluster, PgUnavailable

    cluster = None
    try:
        cluster = PgCluster()
        cluster.start()
    except (PgUnavailable, OSError, subprocess.SubprocessError) as exc:
        if cluster is not None:
            cluster.stop()
        pytest.fail(f"cannot run the PostgreSQL tests: {exc}", pytrace=False)
    try:
        yield cluster
    finally:
        cluster.stop()
