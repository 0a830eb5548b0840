"""`target_for`: the one conversion from an endpoint plus overrides to a ProbeTarget (CLI, form, watcher)."""

from __future__ import annotations

from typing import Any

import pytest

from app.errors import EndpointError, InputError
from app.probing import Overrides, target_for
from app.probing import target as target_mod
from app.storage import Endpoint, Store

STORED = Endpoint(id=7, name="ep", url="http://stored/predict", protocol="generic",
                  headers={"Authorization": "Bearer ${MLFI_T_TOKEN}"}, model_name="stored-model")


def test_overrides_win_and_empty_ones_keep_the_stored_values(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLFI_T_TOKEN", "abc")
    kept = target_for(STORED, timeout_s=3.0)
    assert (kept.name, kept.url, kept.protocol, kept.model_name, kept.timeout_s) == \
        ("ep", "http://stored/predict", "generic", "stored-model", 3.0)
    assert kept.headers == {"Authorization": "Bearer abc"}          # ${VAR} expanded only here
    new = target_for(STORED, Overrides(url="http://new/p", protocol="mlflow", headers={"X-Key": "k"},
                                       model_name="m2", timeout_s=9.0), timeout_s=3.0)
    assert (new.url, new.protocol, new.headers, new.model_name, new.timeout_s) == \
        ("http://new/p", "mlflow", {"X-Key": "k"}, "m2", 9.0)


def test_unset_variable_and_unknown_protocol_are_input_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MLFI_T_TOKEN", raising=False)
    with pytest.raises(InputError, match="MLFI_T_TOKEN"):
        target_for(STORED)
    with pytest.raises(InputError, match="unknown protocol 'soap'"):
        target_for(STORED, Overrides(protocol="soap", headers={"X": "y"}))


def test_auto_detects_only_when_given_a_row(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[Any, ...]] = []

    def fake_detect(url: str, headers: dict[str, str], row: dict[str, Any], timeout: float,
                    model_name: str | None = None) -> tuple[str, str]:
        calls.append((url, headers, row, timeout, model_name))
        return "open-inference-v2", url + "/v2/models/m/infer"

    monkeypatch.setattr(target_mod, "detect_protocol", fake_detect)
    fresh = Endpoint(id=0, name="http://h", url="http://h")
    assert target_for(fresh).protocol == "auto" and calls == []
    t = target_for(fresh, detect_with={"x": 1.0}, timeout_s=2.0)
    assert (t.protocol, t.url) == ("open-inference-v2", "http://h/v2/models/m/infer")
    assert calls == [("http://h", {}, {"x": 1.0}, 2.0, None)]


def test_detection_failure_propagates(monkeypatch: pytest.MonkeyPatch) -> None:
    def nothing(*_a: Any, **_k: Any) -> tuple[str, str]:
        raise EndpointError("no known protocol answered")

    monkeypatch.setattr(target_mod, "detect_protocol", nothing)
    with pytest.raises(EndpointError):
        target_for(Endpoint(id=0, name="n", url="http://h"), detect_with={"x": 1})


def test_stored_endpoint_is_typed_and_keeps_headers_out_of_repr(tmp_path: Any) -> None:
    store = Store(f"sqlite:///{tmp_path / 'm.db'}")
    ep = store.upsert_endpoint("e", url="http://h/p", protocol="generic", headers={"Authorization": "Bearer s"})
    assert isinstance(ep, Endpoint) and ep.id > 0 and ep.enabled is True and ep.consecutive_failures == 0
    assert ep.headers == {"Authorization": "Bearer s"} and "Bearer s" not in repr(ep)
    assert store.list_endpoints() == [ep] and store.find_endpoint("nope") is None
    assert target_for(ep).headers == {"Authorization": "Bearer s"}
    store.dispose()
