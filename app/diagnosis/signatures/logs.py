"""Step and epoch logs as people paste them: the loss sequence and what its shape says.

A log line names a step (``step 1200``, ``Epoch 3``, ``Iteration 40``, ``[10]``) and a loss (``loss 3.2e+04``,
``TrainLossPerSample = 1.56``, ``loss: nan``). Facts: a non-finite loss, a loss that explodes, a loss stuck at
the chance level ln(K) of a K-class problem, a flat loss, a validation loss that rises while training falls, and
(session 18) loss spikes that recover and gradient-norm spikes (``grad_norm 41.3`` after ``grad_norm 0.71``).
"""

from __future__ import annotations

import math
import re

__all__ = ["grad_norms", "log_facts", "loss_series"]

_FLOAT = r"(nan|inf|-?\d+(?:\.\d+)?(?:e[+-]?\d+)?)"
_STEP = re.compile(r"(?:\b(?:step|iter(?:ation)?|epoch|batch|minibatch)\b|^\s*\[\d+\])", re.IGNORECASE)
_LOSS = re.compile(r"\b(?:(val(?:id(?:ation)?)?|eval|test|dev)[ _-]?)?(?:train(?:ing)?[ _-]?)?loss(?:PerSample)?\b"
                   r"['\"]?[^\S\n]{0,3}[:=]?[^\S\n]{0,3}" + _FLOAT, re.IGNORECASE)  # also {'loss': 0.45, ...}


_GNORM = re.compile(r"\b(?:grad(?:ient)?[ _-]?norm|gnorm|g_norm|grad_l2|total_norm)\b['\"]?[^\S\n]{0,3}[:=]?"
                    r"[^\S\n]{0,3}(?:tensor\()?" + _FLOAT, re.IGNORECASE)  # HF Trainer: {'grad_norm': 212.4, ...}
_RESTARTS = re.compile(r"\b(?:warm restarts?|restarts? of the (?:learning rate|lr|schedule)|cosine annealing with|"
                       r"cyclic\w*|cyclical|one-?cycle|sgdr)\b", re.IGNORECASE)


def grad_norms(text: str) -> list[float]:
    """The gradient norms logged on step lines, in order.

    >>> grad_norms("step 10 loss 3.9 grad_norm 0.71\\nstep 20 loss 6.8 grad_norm 41.3\\n| epoch 001: 1660 gnorm=2.602")
    [0.71, 41.3, 2.602]
    """
    return [float(m.group(1)) for line in text.splitlines() if _STEP.search(line) or "|" in line or "{" in line
            for m in _GNORM.finditer(line)]


def _spikes(values: list[float], jump: float, least: float) -> int:
    """Spikes in ``values``: a point at least ``jump`` times the median of the (up to) three before it and ``least``
    above it, that the series comes back from (a later point below the midpoint). Smooth growth has no spike, nor
    does a last point nothing follows."""
    n = 0
    for i in range(1, len(values) - 1):
        before = sorted(values[max(0, i - 3) : i])
        base = before[len(before) // 2]
        x = values[i]
        if x >= jump * max(base, 1e-9) and x - base >= least and min(values[i + 1 :]) <= (x + base) / 2:
            n += 1
    return n


def loss_series(text: str) -> tuple[list[float], list[float]]:
    """(training losses, validation losses) from the log lines of ``text``, in order.

    >>> loss_series("step 1 loss 2.3\\nstep 2 loss: nan\\nEpoch 3: train loss: 0.5 - validation loss: 0.7")
    ([2.3, nan, 0.5], [0.7])
    """
    train: list[float] = []
    val: list[float] = []
    for line in text.splitlines():
        if not _STEP.search(line):
            continue
        for m in _LOSS.finditer(line):
            (val if m.group(1) else train).append(float(m.group(2)))
    return train, val


_CLASS_COUNTS = sorted({*range(2, 21), *(k * 10**p for k in range(1, 10) for p in range(1, 5))})


def _chance_k(loss: float) -> int | None:
    """K when ``loss`` is within 1 % of ln(K), the cross-entropy of a uniform guess over K classes, for a
    plausible class count K (2 to 20, or a round number such as 100 or 1000).

    >>> _chance_k(0.6931), _chance_k(6.905), _chance_k(1.5)
    (2, 1000, None)
    """
    if loss <= 0.6:
        return None
    k = min(_CLASS_COUNTS, key=lambda c: abs(math.log(c) - loss))
    return k if abs(loss - math.log(k)) <= 0.01 * math.log(k) else None


def log_facts(text: str) -> dict[str, float | bool]:
    """What the pasted loss sequence shows.

    >>> log_facts("Iteration 0, loss = 6.91161\\nIteration 20, loss = 6.90501\\nIteration 40, loss = 6.90635")
    {'log_points': 3, 'log_loss_chance_plateau': True, 'log_loss_flat': True}
    >>> log_facts("step 1 loss 0.9\\nstep 2 loss 0.4\\nstep 3 loss 3.2e+04")["log_loss_explodes"]
    True
    """
    train, val = loss_series(text)
    facts: dict[str, float | bool] = {}
    if len(train) + len(val) < 2:
        return facts
    facts["log_points"] = len(train) + len(val)
    if any(not math.isfinite(x) for x in train + val):
        facts["log_loss_nan"] = True
    fin = [x for x in train if math.isfinite(x)]
    if len(fin) >= 2:
        low = fin[0]
        for x in fin[1:]:
            if x > 3 * max(low, 1e-6) and x - low > 1.0:  # a spike to 3x the best loss so far
                facts["log_loss_explodes"] = True
            low = min(low, x)
        tail = fin[-max(2, len(fin) // 3) :]
        if len(fin) >= 3 and all(_chance_k(x) for x in tail) and len({_chance_k(x) for x in tail}) == 1:
            facts["log_loss_chance_plateau"] = True
        if len(fin) >= 3 and (max(tail) - min(tail)) <= 0.02 * max(abs(max(tail)), 1e-6) and fin[-1] >= 0.98 * fin[0]:
            facts["log_loss_flat"] = True
        # spikes: the loss leaps to 1.5x its recent level and comes back, at least twice, or to 3x once (Chowdhery et
        # al. 2022, PaLM, section 5.1: spikes at irregular intervals, not a run that diverges for good; one leap of
        # 1.5x in a small-batch log is noise). Not on a schedule that restarts on purpose (warm restarts, cyclic rates).
        if (_spikes(fin, 1.5, 0.5) >= 2 or _spikes(fin, 3.0, 0.0) >= 1) and not _RESTARTS.search(text):
            facts["log_loss_spikes"] = True
    norms = [x for x in grad_norms(text) if math.isfinite(x)]
    if _spikes(norms, 10.0, 0.0) >= 1:  # a gradient norm ten times its recent level on one step, then back
        facts["log_grad_norm_spikes"] = True
    vfin = [x for x in val if math.isfinite(x)]
    if len(vfin) >= 3 and len(fin) >= 3 and fin[-1] < fin[0] and vfin[-1] > 1.1 * min(vfin):
        facts["log_val_loss_rises"] = True
    return facts
