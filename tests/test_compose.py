"""The compose files are consistent (no Docker engine here, so they are never run): two watchers on one
PostgreSQL with one database URL, and every command they run exists and parses in `mlfi --help`."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import click
import pytest
import yaml

from app.cli import cli

ROOT = Path(__file__).resolve().parents[1]
PG_COMPOSE = ROOT / "docker" / "docker-compose.postgres.yml"


def _services(path: Path) -> dict[str, dict[str, Any]]:
    doc = yaml.safe_load(path.read_text())
    return {k: v for k, v in doc["services"].items()}


def _parse_mlfi(argv: list[str]) -> click.Command:
    """The mlfi (sub)command ``argv`` names, with its options parsed as the CLI would (raises on a bad one)."""
    assert argv[0] == "mlfi", argv
    cmd: click.Command = cli
    args = argv[1:]
    while isinstance(cmd, click.Group):
        sub = cmd.get_command(click.Context(cmd), args[0])
        assert sub is not None, f"mlfi has no command {' '.join(argv[:argv.index(args[0]) + 1])!r}"
        cmd, args = sub, args[1:]
    cmd.make_context(cmd.name or "", list(args))     # unknown option or bad value: click raises
    return cmd


@pytest.mark.parametrize("path", [PG_COMPOSE, ROOT / "docker" / "docker-compose.yml"], ids=lambda p: p.name)
def test_every_compose_command_exists_and_parses(path: Path) -> None:
    services = _services(path)
    for name, svc in services.items():
        for dep in svc.get("depends_on") or []:
            assert dep in services, (name, dep)
        if "command" in svc:
            _parse_mlfi(svc["command"])


def test_two_watchers_share_one_postgres() -> None:
    services = _services(PG_COMPOSE)
    watchers = [n for n, s in services.items() if s.get("command", [])[:2] == ["mlfi", "watch"]]
    assert len(watchers) == 2
    pg = [n for n, s in services.items() if str(s.get("image", "")).startswith("postgres:")]
    assert len(pg) == 1
    pg_env = services[pg[0]]["environment"]
    mlfi = {n: s for n, s in services.items() if s.get("command", [""])[0] == "mlfi"}
    urls = {s["environment"]["MLFI_DATABASE_URL"] for s in mlfi.values()}
    assert len(urls) == 1 and {"dashboard", *watchers} <= set(mlfi)       # one database for all of them
    u = urlsplit(urls.pop())
    assert u.scheme == "postgresql+psycopg" and u.hostname == pg[0]
    assert (u.username, u.password, u.path.lstrip("/")) == (
        pg_env["POSTGRES_USER"], pg_env["POSTGRES_PASSWORD"], pg_env["POSTGRES_DB"])
    # the schema exists before two watchers start: both wait for the one-shot registration, which waits
    # for a healthy PostgreSQL
    for w in watchers:
        (dep, cond), = services[w]["depends_on"].items()
        assert cond == {"condition": "service_completed_successfully"}
        assert services[dep]["depends_on"][pg[0]] == {"condition": "service_healthy"}
    # the image they build has the PostgreSQL driver: EXTRAS names an optional dependency group
    extras = {s["build"]["args"]["EXTRAS"] for s in mlfi.values()}
    groups = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    assert len(extras) == 1 and any("psycopg" in d for d in groups[extras.pop()])
    assert re.search(r"^ARG EXTRAS", (ROOT / "Dockerfile").read_text(), re.MULTILINE)


def test_the_parser_refuses_what_mlfi_would() -> None:
    with pytest.raises(AssertionError, match="no command"):
        _parse_mlfi(["mlfi", "watcher", "nosuch"])
    with pytest.raises(click.UsageError):
        _parse_mlfi(["mlfi", "watch", "--no-such-option"])
