"""Learning paths come from the knowledge base's map: DP-100 for data-science failures, AI-102 for AI services."""

from __future__ import annotations

from app.diagnosis import diagnose
from app.diagnosis.learning import learning_map, learning_path
from app.diagnosis.vocab import CATEGORIES
from app.knowledge.providers import LocalProvider


def test_every_category_has_a_row_and_leakage_never_maps_to_dp203() -> None:
    rows = learning_map(LocalProvider())
    assert {r["category"] for r in rows} >= set(CATEGORIES)
    assert all(r["certification"] != "DP-203" for r in rows)
    leak = learning_path(LocalProvider(), "data_leakage", [])
    assert leak[0].certification == "DP-100" and {i.category for i in leak} == {"data_leakage"}


def test_secondary_risks_and_context_rows() -> None:
    items = learning_path(LocalProvider(), "overfitting", ["data_leakage"], ai_service=True, fairness_given=True)
    ids = [i.id for i in items]
    assert ids[:2] == ["lp-dp100-training", "lp-mlcc-overfitting"]
    assert "lp-dp100-experiments" in ids and "lp-ai102-engineer" in ids and "lp-dp100-responsible-ai" in ids
    assert len(ids) == len(set(ids))


def test_ai_service_mentioned_in_the_prompt_adds_ai102() -> None:
    p = diagnose(prompt="Our Azure OpenAI classifier: train accuracy 0.99, validation accuracy 0.70.").payload()
    assert "AI-102" in {i["certification"] for i in p["learning_path"]}
    assert p["primary_category"] == "overfitting"
