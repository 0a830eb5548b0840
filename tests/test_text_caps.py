"""Issue 14 item 3: every text field of an experiment record is capped at intake, and text parsing is linear."""

from __future__ import annotations

import json
import random
import time

from app.diagnosis.intake import MAX_TEXT_CHARS, from_dict
from app.diagnosis.text.parse import parse_text

WORDS = ["train", "accuracy", "0.91", "validation", "0.71", "the", "model", "overfits", "feature", "leak", "after", "we", "added", "col_x,", "loss", "went", "up", "at", "epoch", "12;", "class", "balance", "80/20", "seed", "3", "gave", "0.70", "annotators", "agree", "on"]


def _text(n: int) -> str:
    rng = random.Random(0)
    return " ".join(rng.choice(WORDS) for _ in range(n // 5))[:n]


def test_a_megabyte_of_notes_is_cut_with_a_warning():
    warnings: list[str] = []
    rec = from_dict({"notes": _text(1_100_000), "dataset_name": "d" * 50_000}, warnings)
    assert len(rec.notes or "") == MAX_TEXT_CHARS
    assert any(w.startswith("notes: cut from 1100000 to 20000 characters") for w in warnings), warnings


def test_parsing_time_grows_linearly_with_the_text():
    def cost(n: int) -> float:
        text = _text(n)
        t0 = time.process_time()
        parse_text(text)
        return time.process_time() - t0

    small, big = cost(4_000), cost(16_000)
    assert big < 8 * max(small, 0.01), (small, big)      # 4x the text: about 4x the time (it was 16x and more)


def test_diagnose_an_experiment_with_a_huge_notes_field(tmp_path, mlfi_env, capsys):
    from app.cli import main

    f = tmp_path / "exp.json"
    f.write_text(json.dumps({"metrics": {"train": {"accuracy": 0.99}, "validation": {"accuracy": 0.7}},
                             "notes": _text(1_100_000)}))
    t0 = time.monotonic()
    try:
        main(["diagnose", "--experiment", str(f), "--json"])
    except SystemExit as exc:
        assert exc.code in (0, None), capsys.readouterr().err
    out = json.loads(capsys.readouterr().out)
    assert out["primary_category"] and time.monotonic() - t0 < 120
