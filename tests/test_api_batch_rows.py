"""The column-wise rows of a posted batch (app.api.batch_rows) equal the frame path's of `mlfi ingest`, value
for value; a batch it cannot build exactly goes to the frame path (None)."""

from __future__ import annotations

from typing import Any

import pytest

from app.analysis.ingest_records import PredictionRecord, _frame
from app.analysis.ingest_rows import chunk_rows
from app.api.batch_rows import batch_columns
from app.api.routes.predictions import BatchIn, _LaxBatch

NOW = 1_800_000_000.0


def _rows(preds: list[dict[str, Any]]) -> list[Any]:
    return BatchIn.model_validate({"predictions": preds}).predictions


def _frame_rows(rows: list[Any], keep: bool) -> list[tuple[Any, ...]]:
    recs = [PredictionRecord(r.features, r.prediction, r.confidence, r.label, r.latency_ms, r.timestamp)
            for r in rows]
    df, roles = _frame(recs, keep)
    from pathlib import Path

    return chunk_rows(df, roles, 7, path=Path("request"), first_line=1, now=NOW, first_row=0)


def _fast_rows(rows: list[Any], keep: bool) -> list[tuple[Any, ...]]:
    cols = batch_columns(rows, keep, NOW)
    assert cols is not None
    n = len(rows)
    return list(zip([7] * n, cols[0], ["ingest"] * n, *cols[1:]))


def _same(a: list[tuple[Any, ...]], b: list[tuple[Any, ...]]) -> None:
    assert len(a) == len(b)
    for x, y in zip(a, b):
        assert x == y and [type(v) for v in x] == [type(v) for v in y], (x, y)


PLAIN = [
    # every feature a float (the frame is built from one float64 matrix)
    [{"features": {"a": 0.1 + 0.2, "b": -3.0, "c": 1e-7, "d": 123456789.123456789}, "prediction": i % 2,
      "confidence": 0.5} for i in range(10)],
    # numbers only, int predictions, confidences, no label, no time (the bench's shape)
    [{"features": {"a": 0.12345, "b": -3, "c": 1e-7}, "prediction": i % 2, "confidence": 0.5 + i / 100}
     for i in range(20)],
    # strings, booleans and gaps among the features; string labels with gaps; epoch s and ms times; latency
    [{"features": {"s": f"v{i}", "flag": i % 3 == 0, "x": None if i % 4 else 1.5, "big": 10**15 + i},
      "prediction": "cat" if i % 2 else "dog", "label": None if i % 5 == 0 else "dog", "latency_ms": i * 0.5,
      "timestamp": (1.7e9 + i) if i % 2 else (1.7e12 + i)} for i in range(20)],
    # float predictions, float labels with gaps, some times missing, an ISO time
    [{"features": {"z": i * 0.1}, "prediction": i / 3, "label": None if i % 2 else i / 3,
      "timestamp": "2026-01-02T00:00:00+00:00" if i == 3 else (None if i % 3 else 1.75e9)} for i in range(12)],
    # boolean predictions, every label an int, no features
    [{"features": {}, "prediction": i % 2 == 0, "label": i % 2, "confidence": None if i % 2 else 1} for i in range(9)],
]


@pytest.mark.parametrize("keep", [True, False])
@pytest.mark.parametrize("case", range(len(PLAIN)))
def test_column_rows_equal_the_frame_path(case: int, keep: bool) -> None:
    rows = _rows(PLAIN[case])
    _same(_fast_rows(rows, keep), _frame_rows(rows, keep))


@pytest.mark.parametrize("case", range(len(PLAIN)))
def test_the_lax_parse_gives_the_same_columns(case: int) -> None:
    raw = BatchIn.model_validate({"predictions": PLAIN[case]}).model_dump_json().encode()
    lax = batch_columns(_LaxBatch.model_validate_json(raw).predictions, True, NOW)
    assert lax is not None and lax == batch_columns(BatchIn.model_validate_json(raw).predictions, True, NOW)


def _one(**over: Any) -> list[dict[str, Any]]:
    base = [{"features": {"a": 1.0, "s": "x"}, "prediction": 1, "label": 1, "timestamp": 1.7e9} for _ in range(3)]
    base[1] = {**base[1], **over}
    return base


@pytest.mark.parametrize("batch", [
    _one(prediction=1.5),                                # int and float predictions: the frame makes "1.0"
    _one(label=None),                                    # int labels with a gap: the frame makes "1.0"
    _one(prediction="p\x00"),                            # a NUL: the frame path names the line
    _one(features={"a": 1.0, "s": "x\x00"}),
    _one(features={"a": 1.0, "s\x00": "x"}),
    _one(features={"a": 1.0, "s": "y" * 10_001}),        # over the value cap
    _one(features={"a": 1.0}),                           # another set of names
    _one(features={"a": 1.0, "(mlfi) ts": 2}),           # a reserved name
    _one(timestamp=5.0),                                 # before 2000: the frame path's error
    _one(features={"a": float("nan"), "s": "x"}),        # not finite
    _one(features={"a": 10**30, "s": "x"}),              # beyond int64
], ids=lambda b: repr(b[1])[:40])
def test_what_it_cannot_build_exactly_goes_to_the_frame_path(batch: list[dict[str, Any]]) -> None:
    assert batch_columns(_rows(batch), True, NOW) is None


@pytest.mark.parametrize("keep", [True, False])
def test_a_value_the_strict_model_refuses_is_never_built_from_the_lax_parse(keep: bool) -> None:
    raw = b'{"predictions": [{"features": {"a": [1, 2]}, "prediction": 1}]}'
    assert batch_columns(_LaxBatch.model_validate_json(raw).predictions, keep, NOW) is None
    with pytest.raises(ValueError, match="features.a"):
        BatchIn.model_validate_json(raw)


def test_rows_for_an_endpoint_deleted_meanwhile_are_a_not_found(store: Any) -> None:
    from app.analysis.ingest_rows import ROW_COLUMNS
    from app.errors import NotFoundError
    from app.storage.api_ingest import insert_rows

    cols = batch_columns(_rows(PLAIN[0]), True, NOW)
    assert cols is not None
    n = len(cols[0])
    with pytest.raises(NotFoundError, match="no endpoint with id 4242"):
        insert_rows(store.engine, 4242, ROW_COLUMNS, list(zip([4242] * n, cols[0], ["ingest"] * n, *cols[1:])))
