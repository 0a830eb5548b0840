"""Training and validation accuracy read in pairs from epoch logs (``acc: 0.95 - val_acc: 0.61``).

A pair is one line that names a training accuracy (``acc``, ``accuracy``, ``train_acc``, ``Train Acc``) and a
held-out one (``val_acc``, ``val_accuracy``, ``test acc``, ``valid accuracy``). Values above 1 are read as percents.
Facts: the last and the largest gap (training minus held-out) and whether the gap grows over the epochs, which
is what overfitting looks like in a log. Every pattern is bounded, so a scan is linear in the text.
"""

from __future__ import annotations

import re

__all__ = ["accuracy_pairs", "epoch_facts"]

_ACC = re.compile(r"(?:(?P<held>\b(?:val(?:id(?:ation)?)?|test|dev|eval)\.?[ _-]{0,2})|(?:\btrain(?:ing)?[ _-]{0,2})|"
                  r"(?<![\w.]))acc(?:uracy)?\.?[ \t]{0,3}[:=]?[ \t]{0,3}(?P<v>\d{1,3}(?:\.\d+)?%?|\.\d+)", re.IGNORECASE)


def _fraction(v: str) -> float | None:
    x = float(v.rstrip("%"))
    x = x / 100.0 if v.endswith("%") or x > 1.0 else x
    return x if 0.0 <= x <= 1.0 else None


def accuracy_pairs(text: str) -> list[tuple[float, float]]:
    """(training, held-out) accuracy for each log line that gives both, in order.

    >>> accuracy_pairs("epoch 1 loss 0.09 acc 0.8755 val_loss 0.27 val_acc 0.5857\\nEpoch 2 - acc: 91% - val_acc: 60%")
    [(0.8755, 0.5857), (0.91, 0.6)]
    """
    out: list[tuple[float, float]] = []
    for line in text.splitlines():
        if len(line) > 500:
            continue
        train = held = None
        for m in _ACC.finditer(line):
            v = _fraction(m.group("v"))
            if v is None:
                continue
            if m.group("held"):
                held = v if held is None else held
            elif train is None:
                train = v
        if train is not None and held is not None:
            out.append((train, held))
    return out


def epoch_facts(text: str) -> dict[str, float | bool]:
    """``log_acc_pairs``, ``log_train_acc_last``, ``log_acc_gap_last``, ``log_acc_gap_max``,
    ``log_acc_gap_grows`` (the last gap at least 0.03 above the first, over three or more epochs) and, over three or
    more epochs, ``log_heldout_acc_range`` (highest minus lowest held-out accuracy) and ``log_train_acc_max``.

    >>> f = epoch_facts("epoch 1 acc 0.80 val_acc 0.70\\nepoch 2 acc 0.90 val_acc 0.68\\nepoch 3 acc 0.97 val_acc 0.66")
    >>> f["log_acc_gap_last"], f["log_acc_gap_grows"], f["log_heldout_acc_range"], f["log_train_acc_max"]
    (0.31, True, 0.04, 0.97)
    """
    pairs = accuracy_pairs(text)
    if not pairs:
        return {}
    gaps = [round(t - h, 6) for t, h in pairs]
    out: dict[str, float | bool] = {
        "log_acc_pairs": len(pairs),
        "log_train_acc_last": pairs[-1][0],
        "log_acc_gap_last": gaps[-1],
        "log_acc_gap_max": max(gaps),
    }
    if len(pairs) >= 3 and gaps[-1] >= gaps[0] + 0.03:
        out["log_acc_gap_grows"] = True
    if len(pairs) >= 3:  # a held-out accuracy that does not move while training runs: the model is not learning
        held = [h for _, h in pairs]
        out["log_heldout_acc_range"] = round(max(held) - min(held), 6)
        out["log_train_acc_max"] = max(t for t, _ in pairs)
    return out
