"""`mlfi diagnose` through the real entry point: JSON out, storage + history, export, one-line errors with exit 2."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from app.cli import main
from app.config import Settings
from app.storage import Store

LEAK = (
    "Validation accuracy jumped to 98% after adding `renewal_status_after_30d`. Test performance collapsed, "
    "and I suspect the feature contains future target information."
)


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exc:
        main(args)
    out, err = capsys.readouterr()
    return int(exc.value.code or 0), out, err


def test_json_output_is_stored_with_team_and_history(mlfi_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, _ = run(["diagnose", "--prompt", LEAK, "--team", "growth", "--json"], capsys)
    assert rc == 0
    first = json.loads(out)
    assert first["primary_category"] == "data_leakage" and first["similar_past_diagnoses"] == []
    rc, out, _ = run(["diagnose", "--prompt", LEAK, "--team", "growth", "--json"], capsys)
    second = json.loads(out)
    assert second["payload_hash"] == first["payload_hash"] and second["diagnosis_id"] != first["diagnosis_id"]
    assert second["similar_past_diagnoses"][0]["diagnosis_id"] == first["diagnosis_id"]
    assert second["similar_past_diagnoses"][0]["similarity"] == 1.0
    store = Store(Settings().db_url)
    rows = store.list_diagnoses()
    store.dispose()
    assert {r["team"] for r in rows} == {"growth"} and {r["payload_hash"] for r in rows} == {first["payload_hash"]}


def test_experiment_file_team_and_no_store(mlfi_env: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    exp = tmp_path / "e.json"
    exp.write_text(json.dumps({"team": "ranking", "metrics": {"train": {"auc": 0.99}, "validation": {"auc": 0.8}}}))
    rc, out, _ = run(["diagnose", "--experiment", str(exp), "--no-store", "--json"], capsys)
    assert rc == 0 and json.loads(out)["primary_category"] == "overfitting"
    rc, out, _ = run(["diagnose", "--experiment", str(exp)], capsys)
    assert rc == 0 and out.startswith("overfitting (generalization_gap)") and "payload_hash:" in out
    store = Store(Settings().db_url)
    assert [r["team"] for r in store.list_diagnoses()] == ["ranking"]
    store.dispose()


def test_export_writes_html_and_json_with_the_hash(
    mlfi_env: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report = tmp_path / "out" / "report.html"
    rc, out, err = run(["diagnose", "--prompt", LEAK, "--export", str(report), "--json"], capsys)
    assert rc == 0 and "exported" in err
    payload = json.loads(out)
    html = report.read_text()
    saved = json.loads(report.with_suffix(".json").read_text())
    assert saved["payload_hash"] == payload["payload_hash"] and payload["payload_hash"] in html


@pytest.mark.parametrize(
    "args, message",
    [
        (["--prompt", ""], "empty prompt"),
        (["--prompt", "   "], "empty prompt"),
        ([], "exactly one of"),
        (["--prompt", "x", "--experiment", "e.json"], "exactly one of"),
        (["--experiment", "/nonexistent/e.json"], "experiment file not found"),
        # bytes that are not UTF-8 reach argv as lone surrogates (os.fsdecode): session 16's user test crashed here
        (["--prompt", "train 0.99 \udcff\udcfe\udc80 test 0.7"], "not UTF-8 text"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    args: list[str], message: str, mlfi_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rc, out, err = run(["diagnose", *args, "--json"], capsys)
    assert rc == 2 and out == "" and message in err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_bad_files_are_one_line_and_exit_2(mlfi_env: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    exp = tmp_path / "exp.json"
    exp.write_text(json.dumps({"dataset": {"train_csv": "train.csv", "test_csv": "test.csv", "target": "churn"}}))
    # nesting deeper than the JSON decoder's recursion (a fresh user test: it was an internal error, exit 1) and
    # deeper than a record may be, though it decodes
    very_deep = tmp_path / "very_deep.json"
    very_deep.write_text('{"a":' * 50_000 + "1" + "}" * 50_000)
    deep = tmp_path / "deep.json"
    deep.write_text('{"notes": "x", "a":' + '{"a":' * 100 + "1" + "}" * 101)
    cases = [(bad, "malformed JSON in bad.json"), (exp, "train_csv not found"),
             (very_deep, "very_deep.json is nested more than 64 levels deep"),
             (deep, "experiment record is nested more than 64 levels deep")]
    for path, message in cases:
        rc, out, err = run(["diagnose", "--experiment", str(path), "--json"], capsys)
        assert rc == 2 and out == "" and message in err and err.count("\n") == 1
    pd.DataFrame({"a": [1, 2], "label": [0, 1]}).to_csv(tmp_path / "train.csv", index=False)
    pd.DataFrame({"a": [1, 2], "label": [0, 1]}).to_csv(tmp_path / "test.csv", index=False)
    rc, out, err = run(["diagnose", "--experiment", str(exp), "--json"], capsys)
    assert rc == 2 and "target column 'churn' not found in train_csv" in err and err.count("\n") == 1


def test_console_script_end_to_end(mlfi_env: Path) -> None:
    exe = Path(sys.executable).with_name("mlfi")
    ok = subprocess.run(
        [str(exe), "diagnose", "--prompt", "train 99% / validation 71%, I worry about leakage", "--json"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert ok.returncode == 0, ok.stderr
    p = json.loads(ok.stdout)
    assert p["primary_category"] == "overfitting" and "data_leakage" in p["secondary_risks"]
    bad = subprocess.run([str(exe), "diagnose", "--prompt", "", "--json"], capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and bad.stdout == "" and bad.stderr.strip().count("\n") == 0
    assert bad.stderr.startswith("Error: empty prompt")
    binary = subprocess.run([str(exe).encode(), b"diagnose", b"--prompt", b"\x7fELF\x02\x01\xff\xfe\x80\x81 raw",
                             b"--json"], capture_output=True, text=True, timeout=120, check=False)
    assert binary.returncode == 2 and binary.stdout == "" and binary.stderr.strip().count("\n") == 0, binary.stderr
    assert "not UTF-8 text" in binary.stderr and "Traceback" not in binary.stderr


def test_an_internal_error_is_one_line_without_a_traceback_or_local_values(
    mlfi_env: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bug of ours: one line naming the log file, exit 1; the traceback goes only to the log file, and never with
    local variable values (loguru's default handler, active before set-up, prints them to the terminal)."""
    from app.diagnosis import intake

    def boom(_text: str) -> dict:
        raise RuntimeError("simulated bug")

    monkeypatch.setattr(intake, "parse_text", boom)
    rc, out, err = run(["diagnose", "--prompt", "a prompt with sk-secret-value inside", "--json"], capsys)
    assert rc == 1 and out == "" and err.count("\n") == 1, err
    assert "internal error (RuntimeError: simulated bug)" in err and "Traceback" not in err
    assert "sk-secret-value" not in err
    log = Settings().log_dir / "mlfi.log"
    assert "simulated bug" in log.read_text(encoding="utf-8") and "sk-secret-value" not in log.read_text(encoding="utf-8")
    assert str(log) in err
