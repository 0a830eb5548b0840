"""Slices (sizes, CIs, instability, order), error analysis and the multi-model pipeline."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics as skm

from app.evaluation import EvalOptions, evaluate, prepare
from app.evaluation.errors_analysis import analyze_errors
from app.evaluation.slices import all_metrics, slice_metrics


def _frame(seed: int = 0, n: int = 600) -> pd.DataFrame:
    """Region 'west' is small (20 rows) and 'east' is where the model is much worse (noisy scores)."""
    rng = np.random.default_rng(seed)
    region = np.array(["north"] * 290 + ["south"] * 200 + ["east"] * 90 + ["west"] * 20)[:n]
    y = rng.integers(0, 2, n)
    noise = np.where(region == "east", 0.45, 0.12)
    p = np.clip(0.2 + 0.6 * y + rng.normal(0, noise), 0, 1)
    x1 = rng.normal(0, 1, n) + 3 * (region == "east")
    return pd.DataFrame(
        {
            "y": y,
            "p": np.round(p, 4),
            "region": region,
            "x1": x1,
            "x2": rng.normal(5, 2, n),
            "case": [f"c{i}" for i in range(n)],
        }
    )


def test_every_slice_value_is_reported_with_metrics_equal_sklearn() -> None:
    data = prepare(_frame(), label="y", score="p", slices=["region"], id_column="case")
    overall = all_metrics(data, 0.5)
    slices = slice_metrics(data, overall, n_boot=100)
    assert {s.value for s in slices} == {"north", "south", "east", "west"}
    assert sum(s.n for s in slices) == len(data.y)
    f = _frame()
    for s in slices:
        sub = f[f.region == s.value]
        assert s.n == len(sub)
        assert s.metrics["accuracy"] == pytest.approx(skm.accuracy_score(sub.y, sub.p >= 0.5))
        assert s.metrics["roc_auc"] == pytest.approx(skm.roc_auc_score(sub.y, sub.p))
        assert s.metrics["brier"] == pytest.approx(skm.brier_score_loss(sub.y, sub.p))
        for name in ("accuracy", "recall", "roc_auc", "brier"):
            ci = s.ci[name]
            assert ci is not None and ci.low <= s.metrics[name] <= ci.high


def test_small_and_far_slices_are_unstable_and_worst_comes_first() -> None:
    data = prepare(_frame(), label="y", score="p", slices=["region"])
    slices = slice_metrics(data, all_metrics(data, 0.5), min_n=30, n_boot=100)
    by = {s.value: s for s in slices}
    assert by["west"].unstable and any(r.startswith("small_n") for r in by["west"].unstable_reasons)
    assert by["east"].unstable and any(r.startswith("far_from_overall") for r in by["east"].unstable_reasons)
    assert not by["north"].unstable
    assert slices[0].value == "east"  # the worst accuracy
    accs = [s.metrics["accuracy"] for s in slices]
    assert accs == sorted(accs)
    assert by["east"].gap < 0


def test_loss_metric_ranks_highest_first_and_numeric_slices_are_binned() -> None:
    data = prepare(_frame(), label="y", score="p", slices=["region", "x2"])
    slices = slice_metrics(data, all_metrics(data, 0.5), rank_metric="brier", n_boot=50)
    briers = [s.metrics["brier"] for s in slices]
    assert briers == sorted(briers, reverse=True)
    x2 = [s for s in slices if s.column == "x2"]
    assert len(x2) == 4 and sum(s.n for s in x2) == len(data.y)


def test_slice_cis_are_seeded() -> None:
    data = prepare(_frame(), label="y", score="p", slices=["region"])
    a = slice_metrics(data, all_metrics(data, 0.5), n_boot=60, seed=3)
    b = slice_metrics(data, all_metrics(data, 0.5), n_boot=60, seed=3)
    c = slice_metrics(data, all_metrics(data, 0.5), n_boot=60, seed=4)
    assert a == b
    assert [s.ci["roc_auc"] for s in a] != [s.ci["roc_auc"] for s in c]


def test_top_errors_are_the_most_confident_mistakes() -> None:
    f = _frame()
    data = prepare(f, label="y", score="p", slices=["region"], id_column="case")
    e = analyze_errors(data, 0.5, top_k=5)
    fp = f[(f.p >= 0.5) & (f.y == 0)]
    fn = f[(f.p < 0.5) & (f.y == 1)]
    assert e.n_false_positives == len(fp) and e.n_false_negatives == len(fn)
    assert [c.score for c in e.top_false_positives] == sorted(fp.p, reverse=True)[:5]
    assert [c.score for c in e.top_false_negatives] == sorted(fn.p)[:5]
    for c in e.top_false_positives:
        assert f.loc[c.row, "p"] == c.score and f.loc[c.row, "case"] == c.id and c.kind == "false_positive"
        assert c.slices["region"] == f.loc[c.row, "region"]
    conf = {r.value: r for r in e.per_slice_confusion}
    for region, sub in f.groupby("region"):
        r = conf[region]
        assert (r.tp, r.fp, r.tn, r.fn) == (
            int(((sub.p >= 0.5) & (sub.y == 1)).sum()),
            int(((sub.p >= 0.5) & (sub.y == 0)).sum()),
            int(((sub.p < 0.5) & (sub.y == 0)).sum()),
            int(((sub.p < 0.5) & (sub.y == 1)).sum()),
        )


def test_error_clusters_are_seeded_and_their_representatives_are_members() -> None:
    f = _frame()
    data = prepare(f, label="y", score="p", slices=["region"], id_column="case")
    e1 = analyze_errors(data, 0.5, max_clusters=4, seed=0)
    e2 = analyze_errors(data, 0.5, max_clusters=4, seed=0)
    assert e1.clusters == e2.clusters
    assert e1.cluster_features == ["x1", "x2"]  # id, label, score and slice columns are not features
    assert sum(c.size for c in e1.clusters) == e1.n_errors
    assert len(e1.clusters) >= 2
    wrong = set(f.index[(f.p >= 0.5) != (f.y == 1)])
    for c in e1.clusters:
        assert c.representative.row in wrong
        assert c.false_positives + c.false_negatives == c.size
    # the errors of the noisy 'east' region sit at high x1: some cluster's profile shows it
    assert max(c.profile.get("x1", 0.0) for c in e1.clusters) > 1.0


def test_multi_model_report_top_level_is_the_first_model() -> None:
    f = _frame()
    good = f.assign(model="good")
    bad = f.assign(model="bad", p=np.round(np.clip(f.p + np.random.default_rng(1).normal(0, 0.3, len(f)), 0, 1), 4))
    data = prepare(
        pd.concat([good, bad], ignore_index=True), label="y", score="p", slices=["region"], model_column="model"
    )
    r = evaluate(data, EvalOptions(cost_fp=1, cost_fn=3, bootstrap=50))
    assert list(r.models) == ["good", "bad"] and r.model == "good"
    assert r.metrics == r.models["good"].metrics and r.n == len(f)
    assert r.decision == r.models["good"].decision
    c = r.comparison
    assert c is not None and c.overall_winner == "good" and c.winner_at_given_costs == "good"
    assert all(p.winner in ("good", None) for p in c.by_cost_ratio)
    assert c.wins[0].ratio_from == pytest.approx(0.01) and c.wins[-1].ratio_to == pytest.approx(100)
    doc = r.to_json_dict()
    for key in ("n", "metrics", "calibration", "slices", "errors", "decision", "models"):
        assert key in doc


def test_multiclass_per_class_scores() -> None:
    rng = np.random.default_rng(0)
    n = 300
    y = rng.integers(0, 3, n)
    logits = rng.normal(size=(n, 3)) + 2 * np.eye(3)[y]
    p = np.round(np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True), 6)
    p[:, 2] = 1 - p[:, 0] - p[:, 1]
    names = np.array(["cat", "dog", "fox"])
    f = pd.DataFrame(
        {
            "label": names[y],
            "cat": p[:, 0],
            "dog": p[:, 1],
            "fox": p[:, 2],
            "g": rng.choice(["a", "b"], n),
            "x": rng.normal(size=n),
        }
    )
    r = evaluate(prepare(f, label="label", score=["cat", "dog", "fox"], slices=["g"]), EvalOptions(bootstrap=30))
    assert r.task == "multiclass" and r.decision is None and r.threshold is None
    assert r.metrics["accuracy"] == pytest.approx(skm.accuracy_score(y, p.argmax(axis=1)))
    assert r.metrics["log_loss"] == pytest.approx(skm.log_loss(y, p))
    assert r.errors.top_misclassified and not r.errors.top_false_positives
    assert r.errors.top_misclassified[0].score >= r.errors.top_misclassified[-1].score
    assert {s.value for s in r.slices} == {"a", "b"}
