"""Readiness questions: 3-5 per diagnosis, each answer key quoted from the knowledge section it cites."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from app.config import REPO_ROOT
from app.diagnosis import diagnose
from app.diagnosis.export import render_html
from app.diagnosis.models import EvidenceItem
from app.diagnosis.readiness import MAX_QUESTIONS, MIN_QUESTIONS, readiness_questions
from app.diagnosis.vocab import FAILURE_CATEGORIES
from app.knowledge.providers import LocalProvider

LOCAL = LocalProvider()


def _section_text(path: str, section: str) -> str:
    text = (REPO_ROOT / path).read_text(encoding="utf-8")
    body = text.split(f"\n## {section}\n", 1)[1]
    return re.sub(r"\s+", " ", body.split("\n## ", 1)[0])


@pytest.mark.parametrize("category", [*FAILURE_CATEGORIES, "unknown"])
def test_every_category_gets_3_to_5_questions_answered_by_their_cited_section(category: str) -> None:
    secondary = ["data_leakage"] if category != "data_leakage" else ["overfitting"]
    qs = readiness_questions(LOCAL, category, secondary, [])
    assert MIN_QUESTIONS <= len(qs) <= MAX_QUESTIONS
    assert len({q.id for q in qs}) == len(qs) and len({q.question for q in qs}) == len(qs)
    for q in qs:
        assert q.citation.path.startswith("knowledge/") and Path(REPO_ROOT / q.citation.path).is_file()
        body = _section_text(q.citation.path, q.citation.section)
        assert q.answer_key and all(a in body for a in q.answer_key), (q.id, q.citation.section)
    assert qs[-1].category == secondary[0]


def test_first_question_is_targeted_at_the_evidence() -> None:
    ev = EvidenceItem(id="e1", kind="support", category="overfitting", statement="Train 0.99 vs validation 0.71.")
    q = readiness_questions(LOCAL, "overfitting", [], [ev])[0]
    assert q.question.startswith("The diagnosis rests on: Train 0.99 vs validation 0.71.")
    assert q.citation.section == "Tests to run"


def test_payload_and_html_export_carry_the_questions_and_their_answer_keys() -> None:
    d = diagnose(prompt="train 99% / validation 71%, I worry about leakage")
    p = d.payload()
    qs = p["readiness_questions"]
    assert MIN_QUESTIONS <= len(qs) <= MAX_QUESTIONS and qs[0]["category"] == p["primary_category"]
    assert set(qs[0]) == {"id", "category", "question", "answer_key", "citation"}
    html = render_html(d)
    assert "<h2>Readiness questions</h2>" in html
    for q in qs:
        assert f'id="{q["id"]}"' in html and q["citation"]["path"] in html
