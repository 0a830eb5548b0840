"""Issue 14 item 1: `export --out` writes only a regular file or a new path, atomically."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from app.atomic_file import write_atomic
from app.errors import InputError

SAMPLES = Path(__file__).resolve().parents[1] / "data" / "samples"


def _run(capsys, *args):
    from app.cli import main

    capsys.readouterr()
    try:
        main(list(args))
        code = 0
    except SystemExit as exc:
        code = exc.code
    cap = capsys.readouterr()
    return code, cap.out, cap.err.strip().splitlines()


@pytest.fixture
def endpoint(mlfi_env, capsys):
    code, _, err = _run(capsys, "ingest", "--endpoint", "fraud-v3", str(SAMPLES / "logged_reference.csv"))
    assert code == 0, err
    return "fraud-v3"


def test_symlink_directory_and_device_are_refused_and_left_alone(endpoint, tmp_path, capsys):
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    link = tmp_path / "link.csv"
    link.symlink_to(victim)
    d = tmp_path / "dir"
    d.mkdir()
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)                  # a non-regular file of our own: never aim a test at a shared /dev node
    for out, word in ((link, "symbolic link"), (d, "directory"), (fifo, "pipe")):
        code, _, err = _run(capsys, "export", "--endpoint", endpoint, "--out", str(out))
        assert code == 2 and len(err) == 1 and word in err[0], err
    assert link.is_symlink() and victim.read_text() == "keep me" and d.is_dir()
    assert fifo.is_fifo()
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")) == []


def test_regular_file_is_replaced_atomically_and_a_new_path_created(endpoint, tmp_path, capsys):
    old = tmp_path / "m.csv"
    old.write_text("old\n")
    code, _, _ = _run(capsys, "export", "--endpoint", endpoint, "--out", str(old))
    assert code == 0 and old.read_text() != "old\n" and "accuracy" in old.read_text().splitlines()[0]
    new = tmp_path / "sub" / "n.csv"
    code, _, _ = _run(capsys, "export", "--endpoint", endpoint, "--out", str(new))
    assert code == 0 and new.read_text() == old.read_text()
    assert [p.name for p in (tmp_path / "sub").iterdir()] == ["n.csv"]


def test_disk_full_is_one_line_and_leaves_the_old_file(tmp_path, monkeypatch):
    target = tmp_path / "x.csv"
    target.write_text("old")

    def full(fd):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(InputError, match="disk full"):
        write_atomic(target, "new")
    assert target.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["x.csv"]
