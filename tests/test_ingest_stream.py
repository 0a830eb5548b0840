"""Issue 14 items 2, 10, 15: `mlfi ingest` streams in blocks, commits each with a resumable position (a crash
neither loses nor doubles rows), sniffs the delimiter, and refuses duplicate columns, extra fields, huge cells."""

from __future__ import annotations

import json

import pytest

from app.analysis import csv_stream
from app.analysis.ingest import ingest_csv, read_csv
from app.errors import InputError


def _write(path, rows: int, start: int = 0, header: bool = True, sep: str = ","):
    with path.open("a") as fh:
        if header:
            fh.write(sep.join(["x", "c", "prediction", "confidence"]) + "\n")
        for i in range(start, start + rows):
            fh.write(sep.join([f"{i}.5", "ab"[i % 2], str(i % 2), "0.9"]) + "\n")
    return path


def _xs(store, name: str) -> list[float]:
    return sorted(s.inputs["x"] for s in store.recent_samples(name))


def test_a_crash_mid_file_neither_loses_nor_doubles_rows_and_a_rerun_resumes(store, tmp_path, monkeypatch):
    monkeypatch.setattr(csv_stream, "BLOCK_BYTES", 300)          # ~25 rows a block: many commits
    f = _write(tmp_path / "rows.csv", 500)
    real, calls = store.add_ingest_chunk, {"n": 0}

    def crash_on_third(*a, **k):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt          # Ctrl-C / a kill while the third block is being written
        return real(*a, **k)

    monkeypatch.setattr(store, "add_ingest_chunk", crash_on_third)
    with pytest.raises(KeyboardInterrupt):
        ingest_csv(store, "logs", f)
    kept = store.count_samples("logs")
    assert 0 < kept < 500
    monkeypatch.setattr(store, "add_ingest_chunk", real)
    again = ingest_csv(store, "logs", f)
    assert again.resumed_after == kept and again.ingested == 500 - kept
    assert _xs(store, "logs") == [i + 0.5 for i in range(500)]            # every row once
    assert ingest_csv(store, "logs", f).ingested == 0                    # idempotent
    _write(f, 40, start=500, header=False)                               # the log grew: only the new rows
    assert ingest_csv(store, "logs", f).ingested == 40
    assert _xs(store, "logs") == [i + 0.5 for i in range(540)]


def test_values_are_stored_as_before(store, tmp_path):
    f = _write(tmp_path / "rows.csv", 3)
    assert ingest_csv(store, "e", f).ingested == 3
    s = store.recent_samples("e")[0]
    assert s.inputs == {"x": 0.5, "c": "a"} and s.prediction == "0" and s.confidence == 0.9 and s.source == "ingest"


def test_a_semicolon_file_is_read_with_its_delimiter(store, tmp_path):
    f = _write(tmp_path / "semi.csv", 12, sep=";")
    assert ingest_csv(store, "e", f).ingested == 12
    assert set(store.recent_samples("e")[0].inputs) == {"x", "c"}
    assert list(read_csv(f).columns) == ["x", "c", "prediction", "confidence"]


@pytest.mark.parametrize(("text", "match"), [
    ("x,prediction,x\n1,1,2\n", r"names column 'x' twice \(columns 1 and 3\)"),
    ("x,prediction\n1,1\n2,1,3\n", r"line 3 has 3 fields but the header names 2 columns"),
    ("x,prediction\n1,1,3\n2,1\n", r"line 2 has 3 fields but the header names 2 columns"),
    ("x;prediction\n1;1\n2\n3;4;5\n", r"looks ';'-separated but the rows have"),
    ("x,prediction\n" + "q" * 10_001 + ",1\n", r"line 2, column 'x': a value of 10001 characters; .* capped at 10000"),
])
def test_malformed_files_are_refused_with_the_line_and_nothing_is_stored(store, tmp_path, text, match):
    f = tmp_path / "bad.csv"
    f.write_text(text)
    with pytest.raises(InputError, match=match):
        ingest_csv(store, "e", f)
    assert store.find_endpoint("e") is None


def test_a_bad_row_after_stored_blocks_says_what_is_stored_and_how_to_resume(store, tmp_path, monkeypatch):
    monkeypatch.setattr(csv_stream, "BLOCK_BYTES", 300)
    f = _write(tmp_path / "rows.csv", 100)
    with f.open("a") as fh:
        fh.write("1,a,1,1.7\n")
    with pytest.raises(InputError, match=r"rows 1-\d+ are stored: fix the file and run the same command again"):
        ingest_csv(store, "e", f)
    assert 0 < store.count_samples("e") <= 100


def test_inputs_json_is_plain_json(store, tmp_path):
    f = tmp_path / "q.csv"
    f.write_text('x,note,prediction\n1e-7,"a ""quoted""\nline",1\n' + "".join(f"{i},n,1\n" for i in range(12)))
    assert ingest_csv(store, "e", f).ingested == 13
    first = store.recent_samples("e")[0]
    assert first.inputs == {"x": 1e-7, "note": 'a "quoted"\nline'}
    assert json.loads(json.dumps(first.inputs)) == first.inputs


def test_privacy_mode_keeps_feature_values_out_of_the_database(settings, tmp_path):
    from app.storage import Store

    st = Store(settings.db_url, store_inputs="none")
    try:
        assert ingest_csv(st, "e", _write(tmp_path / "rows.csv", 12)).ingested == 12
        assert all(s.inputs is None for s in st.recent_samples("e"))
    finally:
        st.dispose()


def test_rows_keep_their_order_and_values_across_multi_row_statements(store, tmp_path):
    # 111 rows per INSERT on SQLite (999 parameters): 250 rows are two full statements and a rest of 28
    f = _write(tmp_path / "rows.csv", 250)
    assert ingest_csv(store, "m", f).ingested == 250
    got = store.recent_samples("m")
    assert [s.inputs["x"] for s in got] == [i + 0.5 for i in range(250)]
    assert [s.prediction for s in got] == [str(i % 2) for i in range(250)]
    assert [s.ts for s in got] == sorted(s.ts for s in got) and len({s.ts for s in got}) == 250
