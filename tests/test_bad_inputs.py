"""Issue 14 acceptance: a data-driven bad-input corpus across every command. Each case: exit 2, exactly one
stderr line of at most 300 characters, no traceback, and stored data unchanged (row counts, integrity_check).
Runs in-process through `app.cli.main` (fast)."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SAMPLES = REPO / "data" / "samples"
REF = str(SAMPLES / "logged_reference.csv")
CUR = str(SAMPLES / "logged_current_ok.csv")
EVAL = str(SAMPLES / "eval_breast_cancer.csv")
LONG = "z" * 5000
SECRET = "Authorization S3CR3T-T0KEN"

BAD_URLS = ["http://[::1/predict", "http://h:99999/p", "http://h:abc/p", "http://h:0/p", "http://bad host/",
            "http:///p", "ftp://x/", "http://" + "a" * 500 + "/", "http://a..b/", "not a url", "http://h\x00/",
            "http://" + LONG]
BAD_HEADERS = [SECRET, "NoColonHere", ":value-without-name", " : x"]
BAD_SETTINGS = [("MLFI_WINDOW_SIZE", "-1"), ("MLFI_WINDOW_SIZE", "0"), ("MLFI_WATCH_CONCURRENCY", "-3"),
                ("MLFI_BACKOFF_MAX_S", "-1"), ("MLFI_HEARTBEAT_EVERY_S", "-1"), ("MLFI_PROBE_SAMPLES", "-5"),
                ("MLFI_LOG_LEVEL", "BOGUS"), ("MLFI_ALPHA", "2"), ("MLFI_ALPHA", "0"), ("MLFI_ALPHA", "abc"),
                ("MLFI_PROBE_TIMEOUT_S", "0"), ("MLFI_WATCH_INTERVAL_S", "-1")]
COMMANDS = [["analyze", "http://127.0.0.1:9/p"], ["baseline", "http://127.0.0.1:9/p"], ["compare", REF, CUR],
            ["ingest", "--endpoint", "e9", REF], ["recommendations"], ["approve", "x", "--by", "a", "--reason", "r"],
            ["reject", "x", "--by", "a", "--reason", "r"], ["execute", "x", "--by", "a"], ["audit"],
            ["audit", "checkpoint"], ["incidents"], ["sensitivity"], ["export", "--endpoint", "e1", "--out", "o.csv"],
            ["diagnose", "--prompt", "train acc 0.99 test acc 0.6"], ["evaluate", EVAL, "--label", "label", "--score",
                                                                         "score"],
            ["endpoints", "list"], ["watcher", "status"], ["watch", "--interval", "1"]]


def _cases() -> list[tuple[str, list[str], dict[str, str]]]:
    c: list[tuple[str, list[str], dict[str, str]]] = []
    for cmd in ("baseline", "analyze"):
        for i, u in enumerate(BAD_URLS):
            c.append((f"{cmd}-url-{i}", [cmd, u, "--samples", "2"], {}))
        for i, h in enumerate(BAD_HEADERS):
            c.append((f"{cmd}-header-{i}", [cmd, "http://127.0.0.1:9/p", "--header", h], {}))
        for v in ("0", "-1", "abc", "1e9x"):
            c.append((f"{cmd}-samples-{v}", [cmd, "http://127.0.0.1:9/p", "--samples", v], {}))
        c.append((f"{cmd}-protocol", [cmd, "http://127.0.0.1:9/p", "--protocol", "bogus"], {}))
        c.append((f"{cmd}-probe-set-missing", [cmd, "http://127.0.0.1:9/p", "--probe-set", "/nope.csv"], {}))
    for i, u in enumerate(BAD_URLS):
        c.append((f"endpoints-add-url-{i}", ["endpoints", "add", u], {}))
        c.append((f"watch-url-{i}", ["watch", u, "--interval", "1"], {}))
    for i, (var, val) in enumerate(BAD_SETTINGS):
        for cmd in (["analyze", "http://127.0.0.1:9/p"], ["recommendations"], ["audit", "--verify"],
                    ["compare", REF, CUR], ["incidents"], ["watcher", "status"]):
            c.append((f"setting-{i}-{var}-{cmd[0]}", cmd, {var: val}))
    for cmd in COMMANDS:
        c.append((f"unknown-flag-{'-'.join(cmd[:2])[:30]}", [*cmd, "--no-such-flag"], {}))
    c += [
        ("no-command", ["no-such-command"], {}),
        ("baseline-samples-1", ["baseline", "http://127.0.0.1:9/p", "--samples", "1"], {}),
        ("baseline-samples-9", ["baseline", "http://127.0.0.1:9/p", "--samples", "9"], {}),
        ("export-dir", ["export", "--endpoint", "e1", "--out", "{tmp}"], {}),
        ("export-fifo", ["export", "--endpoint", "e1", "--out", "{fifo}"], {}),
        ("export-link", ["export", "--endpoint", "e1", "--out", "{link}"], {}),
        ("export-unknown-endpoint", ["export", "--endpoint", "nope", "--out", "{tmp}/x.csv"], {}),
        ("export-long-endpoint", ["export", "--endpoint", LONG, "--out", "{tmp}/x.csv"], {}),
        ("export-bucket-0", ["export", "--endpoint", "e1", "--out", "{tmp}/x.csv", "--bucket", "0"], {}),
        ("export-kind", ["export", "--endpoint", "e1", "--out", "{tmp}/x.csv", "--kind", "bogus"], {}),
        ("export-no-out", ["export", "--endpoint", "e1"], {}),
        ("ingest-missing", ["ingest", "--endpoint", "e1", "/definitely/missing.csv"], {}),
        ("ingest-dir", ["ingest", "--endpoint", "e1", "/"], {}),
        ("ingest-empty", ["ingest", "--endpoint", "e1", "{empty}"], {}),
        ("ingest-binary", ["ingest", "--endpoint", "e1", "{binary}"], {}),
        ("ingest-no-endpoint", ["ingest", REF], {}),
        ("ingest-as-baseline-one-row", ["ingest", "--endpoint", "e7", "{one_row}", "--as-baseline"], {}),
        ("ingest-semicolon-ragged", ["ingest", "--endpoint", "e7", "{semicolon_ragged}"], {}),
        ("ingest-duplicate-columns", ["ingest", "--endpoint", "e7", "{dup_cols}"], {}),
        ("ingest-extra-field", ["ingest", "--endpoint", "e7", "{extra_field}"], {}),
        ("ingest-extra-field-first-row", ["ingest", "--endpoint", "e7", "{extra_first}"], {}),
        ("ingest-huge-cell", ["ingest", "--endpoint", "e7", "{huge_cell}"], {}),
        ("ingest-nul-row", ["ingest", "--endpoint", "e7", "{nul_row}"], {}),
        ("compare-duplicate-columns", ["compare", REF, "{dup_cols}"], {}),
        ("compare-extra-field", ["compare", "{extra_field}", CUR], {}),
        ("compare-missing", ["compare", REF, "/nope.csv"], {}),
        ("compare-dir", ["compare", REF, "/"], {}),
        ("compare-empty", ["compare", REF, "{empty}"], {}),
        ("compare-binary", ["compare", "{binary}", CUR], {}),
        ("compare-pred-col", ["compare", REF, CUR, "--prediction-column", "nope"], {}),
        ("compare-target-col", ["compare", REF, CUR, "--target", "nope"], {}),
        ("compare-conf-col", ["compare", REF, CUR, "--confidence-column", LONG], {}),
        ("compare-one-arg", ["compare", REF], {}),
        ("approve-unknown", ["approve", "nope", "--by", "ana", "--reason", "x"], {}),
        ("approve-long-id", ["approve", LONG, "--by", "ana", "--reason", "x"], {}),
        ("approve-no-by", ["approve", "nope", "--reason", "x"], {}),
        ("reject-unknown", ["reject", "nope", "--by", "ana", "--reason", "x"], {}),
        ("reject-long-id", ["reject", LONG, "--by", "ana", "--reason", "x"], {}),
        ("execute-unknown", ["execute", "nope", "--by", "ana"], {}),
        ("recommendations-status", ["recommendations", "--status", "bogus"], {}),
        ("incidents-status", ["incidents", "--status", "bogus"], {}),
        ("incidents-limit-0", ["incidents", "--limit", "0"], {}),
        ("incidents-limit-abc", ["incidents", "--limit", "abc"], {}),
        ("audit-limit-0", ["audit", "--limit", "0"], {}),
        ("audit-limit-abc", ["audit", "--limit", "abc"], {}),
        ("audit-checkpoint-without-verify", ["audit", "--checkpoint", "x"], {}),
        ("audit-checkpoint-missing", ["audit", "--verify", "--checkpoint", "/nope.jsonl"], {}),
        ("audit-checkpoint-garbage", ["audit", "--verify", "--checkpoint", "{binary}"], {}),
        ("audit-checkpoint-not-json", ["audit", "--verify", "--checkpoint", "{empty_csv_header}"], {}),
        ("audit-checkpoint-out-dir", ["audit", "checkpoint", "--out", "{tmp}"], {}),
        ("audit-positional", ["audit", "bogus"], {}),
        ("sensitivity-reset-no-endpoint", ["sensitivity", "--reset", "--by", "ana"], {}),
        ("diagnose-nothing", ["diagnose"], {}),
        ("diagnose-missing", ["diagnose", "--experiment", "/nope.json"], {}),
        ("diagnose-binary", ["diagnose", "--experiment", "{binary}"], {}),
        ("diagnose-empty", ["diagnose", "--experiment", "{empty}"], {}),
        ("diagnose-list-json", ["diagnose", "--experiment", "{list_json}"], {}),
        ("evaluate-missing", ["evaluate", "/nope.csv", "--label", "label", "--score", "score"], {}),
        ("evaluate-label-col", ["evaluate", EVAL, "--label", "nope", "--score", "score"], {}),
        ("evaluate-score-col", ["evaluate", EVAL, "--label", "label", "--score", LONG], {}),
        ("evaluate-no-label", ["evaluate", EVAL, "--score", "score"], {}),
        ("evaluate-empty", ["evaluate", "{empty}", "--label", "label", "--score", "score"], {}),
        ("evaluate-binary", ["evaluate", "{binary}", "--label", "label", "--score", "score"], {}),
        ("evaluate-cost", ["evaluate", EVAL, "--label", "label", "--score", "score", "--cost-fp", "abc"], {}),
        ("evaluate-slices", ["evaluate", EVAL, "--label", "label", "--score", "score", "--slices", "nope"], {}),
        ("endpoints-enable-unknown", ["endpoints", "enable", "nope"], {}),
        ("endpoints-disable-unknown", ["endpoints", "disable", "nope"], {}),
        ("endpoints-remove-unknown", ["endpoints", "remove", "nope"], {}),
        ("watch-interval-0", ["watch", "--interval", "0"], {}),
        ("watch-interval-abc", ["watch", "--interval", "abc"], {}),
        ("watch-bad-url", ["watch", "http://[::1/p"], {}),
        ("watcher-bogus", ["watcher", "bogus"], {}),
        ("serve-demo-port", ["serve-demo-model", "--port", "abc"], {}),
        ("dashboard-port", ["dashboard", "--port", "abc"], {}),
    ]
    return c


CASES = _cases()


def _counts(db: Path) -> tuple[dict[str, int], str]:
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        names = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        counts = {n: con.execute(f'SELECT count(*) FROM "{n}"').fetchone()[0] for n in names}
        return counts, con.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        con.close()


def _main(args: list[str], capsys) -> int:
    from app.cli import main

    capsys.readouterr()
    try:
        main(args)
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


@pytest.fixture(scope="module")
def state(tmp_path_factory):
    root = tmp_path_factory.mktemp("bad_inputs")
    files = {"tmp": root / "out", "link": root / "out" / "link.csv", "empty": root / "empty.csv",
             "binary": root / "binary.bin", "list_json": root / "list.json", "empty_csv_header": root / "h.csv", "fifo": root / "pipe",
             **{k: root / f"{k}.csv" for k in ("one_row", "semicolon_ragged", "dup_cols", "extra_field",
                                                "extra_first", "huge_cell", "nul_row")}}
    os.mkfifo(files["fifo"])     # a non-regular file of our own (never aim a test at a shared /dev node)
    files["tmp"].mkdir()
    (root / "victim").write_text("keep")
    files["link"].symlink_to(root / "victim")
    files["empty"].write_bytes(b"")
    files["binary"].write_bytes(bytes(range(256)) * 8)
    files["list_json"].write_text("[1, 2, 3]")
    files["empty_csv_header"].write_text("a,b\n")
    rows = "".join(f"{i * 0.1},{i % 2},0.9\n" for i in range(20))
    files["one_row"].write_text("x,prediction,confidence\n1.0,1,0.9\n")
    files["semicolon_ragged"].write_text("x;prediction;confidence\n1;1;0.9\n2;1\n3;0;0.8;7\n")
    files["dup_cols"].write_text("x,prediction,x,confidence\n" + "".join(f"{i},1,{i},0.9\n" for i in range(20)))
    files["extra_field"].write_text("x,prediction,confidence\n" + rows + "1.0,1,0.9,surplus\n")
    files["extra_first"].write_text("x,prediction,confidence\n1.0,1,0.9,surplus\n" + rows)
    files["huge_cell"].write_text("x,prediction,confidence\n" + rows + "y" * 200_000 + ",1,0.9\n")
    files["nul_row"].write_bytes(b"x,prediction,confidence\n" + rows.encode() * 5000 + b"1.0,\x001,0.9\n")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MLFI_HOME", str(root / "state"))
        for k in list(os.environ):
            if k.startswith("MLFI_") and k != "MLFI_HOME":
                mp.delenv(k)
        from app.cli import main

        for args in (["ingest", "--endpoint", "e1", REF, "--as-baseline"],):
            try:
                main(args)
            except SystemExit as exc:
                assert exc.code == 0
        yield root, {k: str(v) for k, v in files.items()}


@pytest.mark.parametrize(("name", "args", "env"), CASES, ids=[c[0] for c in CASES])
def test_bad_input(name, args, env, state, capsys, monkeypatch):
    root, files = state
    monkeypatch.setenv("MLFI_HOME", str(root / "state"))
    monkeypatch.chdir(root)
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    args = [a.format(**files) if "{" in a else a for a in args]
    db = root / "state" / "data" / "mlfi.db"
    before = _counts(db)
    code = _main(args, capsys)
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert code == 2, (code, err[:500])
    assert len(lines) == 1, err[:1000]
    assert len(lines[0]) <= 300 and "Traceback" not in err
    assert "S3CR3T" not in err
    assert _counts(db) == before and before[1] == "ok"
    assert (root / "victim").read_text() == "keep"


def test_corpus_is_large_enough():
    assert len(CASES) >= 200
