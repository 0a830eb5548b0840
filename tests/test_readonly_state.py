"""Issue 14 item 16: read commands work on a state directory this process cannot write (read-only mount,
another owner, full disk). Tests run as root, who can write anything: `os.access` is made to say "no", and
the read-only engine (SQLite `mode=ro` + `query_only`) then refuses every write for real."""

from __future__ import annotations

import hashlib

import pytest
from sqlalchemy.exc import OperationalError

REPO_SAMPLE = "data/samples/logged_reference.csv"


def _digest(home) -> str:
    """Every stored byte. SQLite's own ``-shm`` index and an empty ``-wal`` are left out: a reader of a WAL
    database creates them (SQLite >= 3.22), and they hold no data. A write would put frames in the WAL."""
    h = hashlib.sha256()
    for p in sorted((home / "data").rglob("*")):
        if not p.is_file() or p.suffix == ".log" or p.name.endswith("-shm"):
            continue
        if p.name.endswith("-wal") and p.stat().st_size == 0:
            continue
        h.update(p.name.encode() + p.read_bytes())
    return h.hexdigest()


@pytest.fixture
def ro_home(mlfi_env, monkeypatch, capsys):
    from pathlib import Path

    from app.cli import main

    sample = str(Path(__file__).resolve().parents[1] / REPO_SAMPLE)
    with pytest.raises(SystemExit) as exc:
        main(["ingest", "--endpoint", "e1", sample])
    assert exc.value.code == 0, capsys.readouterr().err
    import app.storage.readonly as ro

    monkeypatch.setattr(ro.os, "access", lambda *_a, **_k: False)
    return mlfi_env


@pytest.mark.parametrize("args", [["recommendations"], ["audit", "--verify"], ["audit"], ["watcher", "status"],
                                  ["endpoints", "list"]])
def test_read_commands_work_read_only_and_write_nothing(ro_home, capsys, args):
    from app.cli import main

    before = _digest(ro_home)
    with pytest.raises(SystemExit) as exc:
        main(args)
    assert exc.value.code == 0, capsys.readouterr().err
    assert _digest(ro_home) == before


def test_the_read_only_store_refuses_writes(ro_home):
    from app.config import Settings
    from app.storage import Store

    store = Store.from_settings(Settings(), read_only=True)
    assert store.read_only and store.count_samples("e1") == 171
    with pytest.raises(OperationalError):
        store.upsert_endpoint("new")
    store.dispose()
