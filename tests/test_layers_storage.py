"""The storage wall: only app/storage/ imports sqlalchemy, enforced by ruff's banned-api (TID251)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _ruff() -> list[str]:
    """The ruff command: beside this interpreter (the project venv) or on PATH. Missing ruff fails the test."""
    here = Path(sys.executable).parent / "ruff"
    found = str(here) if here.exists() else shutil.which("ruff")
    assert found, "ruff is not installed (it is in requirements-dev.txt): the storage wall cannot be checked"
    return [found]


def _tid251(*paths: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*_ruff(), "check", "--no-cache", "--select", "TID251", "--output-format", "concise",
                           *paths], cwd=cwd, capture_output=True, text=True, timeout=120, check=False)


def test_only_storage_imports_sqlalchemy() -> None:
    res = _tid251("app", "ui")
    assert res.returncode == 0, f"banned imports outside app/storage/:\n{res.stdout}{res.stderr}"


def test_the_ban_catches_a_sqlalchemy_import(tmp_path: Path) -> None:
    """The rule is live: the project's configuration flags a sqlalchemy import outside app/storage/."""
    (tmp_path / "pyproject.toml").write_text((ROOT / "pyproject.toml").read_text())
    (tmp_path / "app" / "views").mkdir(parents=True)
    (tmp_path / "app" / "storage").mkdir(parents=True)
    (tmp_path / "app" / "views" / "leak.py").write_text("from sqlalchemy import select\n\nprint(select)\n")
    (tmp_path / "app" / "storage" / "ok.py").write_text("from sqlalchemy import select\n\nprint(select)\n")
    res = _tid251("app", cwd=tmp_path)
    assert res.returncode == 1
    assert "app/views/leak.py" in res.stdout and "TID251" in res.stdout
    assert "app/storage/ok.py" not in res.stdout
