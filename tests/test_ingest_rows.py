"""Issue 14 item 2: the fast paths of the ingest row builder store exactly what the general ones stored."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from app.analysis.ingest import ingest_csv
from app.analysis.ingest_rows import ROW_COLUMNS, Roles, _inputs_json, chunk_rows


def _lines(df: pd.DataFrame) -> list[str]:
    """The encoding used before: pandas' JSON lines."""
    return df.to_json(orient="records", lines=True, double_precision=15).rstrip("\n").split("\n")


NUMBERS = pd.DataFrame({
    "f": [0.1 + 0.2, float("nan"), 1e-7, -0.0, 1e300, -123456.789012345, 2.5],
    "i": [0, -1, 2**40, 7, 8, 9, 10],
    "b": [True, False, True, True, False, False, True],
    "g": np.random.default_rng(1).normal(size=7),
})


@pytest.mark.parametrize("names", [["f", "i", "b", "g"], ["a}", "x},{y", "{", "q\"}"]])
def test_numeric_features_encode_as_pandas_json_lines(names):
    df = NUMBERS.set_axis(names, axis=1)
    got = _inputs_json(df)
    assert got == _lines(df)
    assert json.loads(got[1])[names[0]] is None and json.loads(got[0])[names[2]] is True
    assert _inputs_json(df.iloc[:0]) == []


def test_text_features_keep_the_general_path():
    df = pd.DataFrame({"x": [1.0, 2.0], "t": ['},{"x":1', None]})
    assert _inputs_json(df) == _lines(df) and json.loads(_inputs_json(df)[0])["t"] == '},{"x":1'


def _no_nan(v):
    return None if isinstance(v, float) and math.isnan(v) else v


@pytest.mark.parametrize("labels", [[1, 1, 1], [1, None, 0]])
def test_chunk_rows_match_a_row_by_row_build(labels):
    df = pd.DataFrame({"x": [0.5, 1.5, 2.5], "p": [1, 0, 1], "y": labels, "c": [0.9, float("nan"), 0.7],
                       "lat": [3.0, 4.0, float("nan")]})
    roles = Roles("p", "c", "y", None, "lat", ["x"])
    now, first = 1.8e9 + 0.123, 123_457
    rows = chunk_rows(df, roles, 7, path=Path("f.csv"), first_line=2, now=now, first_row=first)
    want = []
    for i, (x, p, y, c, lat) in enumerate(df.itertuples(index=False)):
        y = None if _no_nan(y) is None else str(y)
        want.append((7, now + (first + i) * 1e-3, "ingest", str(p), _no_nan(c), y,
                     None if y is None else int(str(p) == y), _no_nan(lat), json.dumps({"x": x}, separators=(",", ":"))))
    assert rows == want and len(ROW_COLUMNS) == len(rows[0])
    assert all(type(r[1]) is float and type(r[3]) is str and type(r[6]) in (int, type(None)) for r in rows)


def test_an_ingested_row_reads_back_whole(store, tmp_path):
    f = tmp_path / "rows.csv"
    f.write_text("a,b,prediction,label,confidence\n" + "".join(f"{i}.25,{i},{i % 2},1,0.8\n" for i in range(12)))
    assert ingest_csv(store, "e", f).ingested == 12
    s = store.recent_samples("e")[-1]
    assert (s.inputs, s.prediction, s.label, s.confidence, s.source) == ({"a": 11.25, "b": 11}, "1", "1", 0.8, "ingest")
    assert s.error_kind is s.error_detail is s.status_code is s.probabilities is s.latency_ms is None
