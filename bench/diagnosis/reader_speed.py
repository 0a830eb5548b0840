"""Cost of the learned reader in ``diagnose``: CPU and wall time per call with and without it, and load time.

Prints one JSON line per measurement (CPU seconds from time.process_time, wall from time.perf_counter) and the
load average, so figures taken on a busy host can be read for what they are.

Run (from the repository root):
    PYTHONPATH=$PWD .venv/bin/python bench/diagnosis/reader_speed.py
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from unittest import mock

ROOT = Path(__file__).resolve().parents[2]
REPEAT = 20


def _timed(fn, n: int = REPEAT) -> dict[str, float]:  # type: ignore[no-untyped-def]
    c0, w0 = time.process_time(), time.perf_counter()
    for _ in range(n):
        fn()
    return {"cpu_ms": round(1000 * (time.process_time() - c0) / n, 2), "wall_ms": round(1000 * (time.perf_counter() - w0) / n, 2)}


def main() -> None:
    from app.diagnosis import diagnose
    from app.diagnosis.learned import load_model
    from app.knowledge import build_retriever

    r = build_retriever()
    c0, w0 = time.process_time(), time.perf_counter()
    load_model()
    load = {"cpu_ms": round(1000 * (time.process_time() - c0), 2), "wall_ms": round(1000 * (time.perf_counter() - w0), 2)}
    record = json.loads((ROOT / "tests" / "fixtures" / "diagnosis_batch_e.json").read_text())["cases"][4]["record"]
    prompt = "Validation accuracy 0.91, but the model keeps predicting the majority class for new customers."
    rows = {"model_load_once": load}
    rows["record_with_reader"] = _timed(lambda: diagnose(experiment=record, retriever=r))
    rows["prompt_with_reader"] = _timed(lambda: diagnose(prompt=prompt, retriever=r))
    with mock.patch("app.diagnosis.learned.decide.load_model", return_value=None):
        rows["record_rules_only"] = _timed(lambda: diagnose(experiment=record, retriever=r))
        rows["prompt_rules_only"] = _timed(lambda: diagnose(prompt=prompt, retriever=r))
    rows["load_average"] = {"1min": os.getloadavg()[0]}  # type: ignore[dict-item]
    for k, v in rows.items():
        print(json.dumps({"measure": k, **v}))


if __name__ == "__main__":
    main()
