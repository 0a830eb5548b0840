"""`mlfi tokens create | list | revoke`: the token is printed once, only its sha256 is stored, bad input exits 2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select

from app.api.tokens import check_token
from app.cli import main
from app.config import Settings
from app.storage import Store
from app.storage import tables as t


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exc:
        main(list(args))
    out, err = capsys.readouterr()
    return int(exc.value.code or 0), out, err


def test_tokens_lifecycle(mlfi_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "tokens", "create", "--name", "ci-bot", "--scopes", "read,approve", "--json")
    made = json.loads(out)
    assert code == 0 and made["name"] == "ci-bot" and made["scopes"] == ["approve", "read"]
    store = Store.from_settings(Settings(home=mlfi_env, _env_file=None))  # type: ignore[call-arg]
    with store.engine.connect() as conn:
        stored = [tuple(r) for r in conn.execute(select(t.api_tokens))]
    assert len(stored) == 1 and made["token"] not in repr(stored)          # only the hash is kept
    assert check_token(store.engine, made["token"]).name == "ci-bot"      # type: ignore[union-attr]
    assert check_token(store.engine, made["token"] + "x") is None
    code, out, _ = _run(capsys, "tokens", "list", "--json")
    assert code == 0 and json.loads(out)["tokens"][0]["active"] is True and made["token"] not in out
    assert _run(capsys, "tokens", "revoke", "ci-bot")[0] == 0
    assert check_token(store.engine, made["token"]) is None
    code, out, _ = _run(capsys, "tokens", "list")
    assert "revoked" in out and made["token"] not in out
    store.dispose()


@pytest.mark.parametrize(("args", "says"), [
    (("create", "--name", "bad name", "--scopes", "read"), "bad token name"),
    (("create", "--name", "x", "--scopes", "read,root"), "bad scopes"),
    (("create", "--name", "x", "--scopes", ""), "bad scopes"),
    (("revoke", "nobody"), "no token named"),
])
def test_bad_input_is_one_line_and_exit_2(mlfi_env: Path, capsys: pytest.CaptureFixture[str], args: tuple[str, ...],
                                          says: str) -> None:
    code, out, err = _run(capsys, "tokens", *args)
    assert code == 2 and out == "" and says in err and len(err.strip().splitlines()) == 1


def test_a_second_active_token_of_a_name_is_refused(mlfi_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _run(capsys, "tokens", "create", "--name", "a", "--scopes", "admin")[0] == 0
    code, _, err = _run(capsys, "tokens", "create", "--name", "a", "--scopes", "read")
    assert code == 2 and "revoke it first" in err
    _run(capsys, "tokens", "revoke", "a")
    assert _run(capsys, "tokens", "create", "--name", "a", "--scopes", "read")[0] == 0   # a revoked name is reusable
