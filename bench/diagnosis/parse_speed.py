"""How long the signature parsers take on large pasted text (issue 13: a 1 MB prompt must finish in under 5 s).

Every pattern in ``app/diagnosis/signatures`` is bounded (no nested repetition), so the time should grow
linearly with the text. This script times ``read_facts`` on realistic text (a write-up with a log, a confusion
matrix and code, repeated) and on adversarial runs of the characters the patterns repeat, at 20 kB (the prompt
cap and the most the parsers read of a record's notes) and 200 kB (ten times more: the growth is linear).

Run: PYTHONPATH=$PWD .venv/bin/python bench/diagnosis/parse_speed.py
"""

from __future__ import annotations

import time

from app.diagnosis import diagnose
from app.diagnosis.signatures import TEXT_LIMIT, read_facts
from app.errors import InputError

WRITE_UP = (
    "Fraud model, 94% accuracy on the hold-out. The validation loader wraps the training dataset.\n"
    "step 100 loss 0.69\nstep 200 loss 0.6931\nstep 300 loss nan\n"
    "[[1880   20]\n [  95    5]]\n"
    "X = StandardScaler().fit_transform(X)\nX_tr, X_te = train_test_split(X)\n"
    "| metric | offline | live |\n|---|---|---|\n| f1 | 0.97 | 0.41 |\n"
)
ADVERSARIAL = {
    "brackets": "[",
    "val words": "val ",
    "loss words": "loss ",
    "digits": "1 ",
    "one long word": "a",
    "step lines": "step 1 loss 2\n",
    "pipes": "| 1 ",
}


def _time(text: str) -> float:
    t = time.perf_counter()
    read_facts(text)
    return time.perf_counter() - t


def main() -> None:
    print("| input | 20 kB (s) | 200 kB (s) |")
    print("|---|---|---|")
    for name, unit in {"write-up": WRITE_UP, **ADVERSARIAL}.items():
        small = (unit * (TEXT_LIMIT // len(unit) + 1))[:TEXT_LIMIT]
        large = small * 10
        print(f"| {name} | {_time(small):.2f} | {_time(large):.2f} |")
    prompt = (WRITE_UP * (TEXT_LIMIT // len(WRITE_UP) + 1))[:TEXT_LIMIT]
    t = time.perf_counter()
    diagnose(prompt=prompt)
    print(f"\ndiagnose(prompt=...) of {len(prompt)} characters (the prompt cap), end to end: "
          f"{time.perf_counter() - t:.2f} s")
    t = time.perf_counter()
    try:
        diagnose(prompt=WRITE_UP * (1_000_000 // len(WRITE_UP)))
    except InputError as exc:
        print(f"a 1 MB prompt: refused in {time.perf_counter() - t:.3f} s ({exc})")

if __name__ == "__main__":
    main()
