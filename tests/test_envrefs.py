"""Header values written as ``${ENV_VAR}``: stored as the reference, expanded only when a probe is sent."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.cli import main
from app.config import Settings
from app.errors import InputError
from app.storage import Endpoint, Store
from app.views import endpoint_form as form
from app.watcher.targets import build_target
from tests.probing_unseen_stub import Req, Resp, StubServer, json_app

TOKEN = "s3cr3t-from-env"


def _predict(req: Req) -> Resp:
    if req.headers.get("Authorization") == f"Bearer {TOKEN}":
        return Resp(200, {"prediction": 1, "confidence": 0.9})
    return Resp(401, {"error": "unauthorised"})


@pytest.fixture()
def guarded() -> Iterator[str]:
    with StubServer(json_app({("POST", "/predict"): _predict})) as srv:
        yield f"{srv.url}/predict"


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exc:
        main(list(args))
    out = capsys.readouterr()
    return int(exc.value.code or 0), out.out, out.err


def test_cli_stores_the_reference_and_sends_the_value(guarded: str, mlfi_env: Path, monkeypatch: pytest.MonkeyPatch,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    args = ("baseline", guarded, "--protocol", "generic", "--samples", "20", "--json",
            "--header", "Authorization: Bearer ${MLFI_TEST_TOKEN}")
    monkeypatch.delenv("MLFI_TEST_TOKEN", raising=False)
    rc, _, err = _run(capsys, *args)
    assert rc == 2 and err.strip().endswith("refers to environment variable MLFI_TEST_TOKEN, which is not set")
    monkeypatch.setenv("MLFI_TEST_TOKEN", TOKEN)
    rc, out, err = _run(capsys, *args)
    assert rc == 0, err
    assert json.loads(out)["version"] == 1          # the server accepted every probe: the token was sent
    dbs = list(mlfi_env.rglob("*.db"))
    assert dbs, "the SQLite database is under MLFI_HOME"
    db = b"".join(p.read_bytes() for p in mlfi_env.rglob("*.db*"))
    st = Store.from_settings(Settings(_env_file=None))  # type: ignore[call-arg]
    try:
        ep = st.find_endpoint(guarded)
        assert ep is not None and ep.headers == {"Authorization": "Bearer ${MLFI_TEST_TOKEN}"}
    finally:
        st.dispose()
    assert TOKEN.encode() not in db
    rc, out, err = _run(capsys, "analyze", guarded, "--samples", "20", "--json")   # stored reference reused
    assert rc == 0, err
    assert json.loads(out)["metrics"]["error_rate"] == 0.0


def test_watcher_and_form_expand_or_report_the_missing_variable(guarded: str, settings: Settings,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    ep = Endpoint(id=1, name="g", url=guarded, protocol="generic", headers={"X-Key": "${MLFI_NOPE}"})
    monkeypatch.delenv("MLFI_NOPE", raising=False)
    with pytest.raises(InputError, match="MLFI_NOPE"):
        build_target(ep, settings)
    monkeypatch.setenv("MLFI_NOPE", "v")
    assert build_target(ep, settings).headers == {"X-Key": "v"}
    monkeypatch.delenv("MLFI_NOPE")
    req = form.NewEndpoint(name="g", url=guarded, protocol="generic", headers={"Authorization": "Bearer ${MLFI_NOPE}"})
    res = form.test_connection(req, timeout_s=5)
    assert not res.ok and "MLFI_NOPE" in res.message
    monkeypatch.setenv("MLFI_NOPE", TOKEN)
    req = form.NewEndpoint(name="g", url=guarded, protocol="generic", headers={"Authorization": "Bearer ${MLFI_NOPE}"})
    assert form.test_connection(req, timeout_s=5).ok


def test_refused_credentials_are_named_as_such_by_auto_detection(guarded: str) -> None:
    from app.errors import EndpointError
    from app.probing import detect_protocol

    with pytest.raises(EndpointError, match="refused the credentials"):
        detect_protocol(guarded, {"Authorization": "Bearer wrong"}, {"a": 1.0}, 2.0)
