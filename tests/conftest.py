"""Shared fixtures: an isolated state dir (MLFI_HOME) with its own SQLite database."""

from __future__ import annotations

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
