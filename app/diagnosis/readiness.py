"""Readiness questions: 3-5 practice questions per diagnosis, each answered by (and citing) one knowledge section.

The answer key is the section's own bullets, quoted, so every answer can be checked against the cited
file. Questions target the diagnosed category (its symptoms, the test that confirms it, what argues
against it, the numbers that make it concrete) and, when present, the first secondary risk.
"""

from __future__ import annotations

from app.diagnosis.models import EvidenceItem, ReadinessQuestion
from app.diagnosis.plan import bullets, playbook_id
from app.knowledge.providers import LocalProvider

__all__ = ["MAX_QUESTIONS", "MIN_QUESTIONS", "readiness_questions"]

MIN_QUESTIONS, MAX_QUESTIONS = 3, 5
_KEY_POINTS = 3

# (section, question template); {name} is the category in words, {why} the diagnosis's first supporting evidence
_PRIMARY = (
    ("Tests to run", "{why}Which test would confirm or rule out {name} in this experiment?"),
    ("Symptoms", "Which symptoms in an experiment report point to {name}?"),
    ("Counter-signals", "What finding would argue against {name} before anyone acts on this diagnosis?"),
    ("Numeric signals", "Which numbers turn a suspicion of {name} into a concrete finding?"),
)
_SECONDARY = ("Tests to run", "This run also carries a {name} risk. Which test checks it?")


def _words(category: str) -> str:
    return "an unexplained failure" if category == "unknown" else category.replace("_", " ")


def _ask(local: LocalProvider, qid: str, category: str, section: str, question: str) -> ReadinessQuestion | None:
    doc = playbook_id(category)
    chunk = local.find(doc, section)
    key = bullets(chunk.text)[:_KEY_POINTS] if chunk else []
    if not key:
        return None
    cit = local.cite(doc, section, " ".join(key))
    if cit is None:
        return None
    return ReadinessQuestion(id=qid, category=category, question=question, answer_key=key, citation=cit)


def readiness_questions(
    local: LocalProvider, primary: str, secondary_risks: list[str], evidence: list[EvidenceItem]
) -> list[ReadinessQuestion]:
    """Up to MAX_QUESTIONS questions (MIN_QUESTIONS or more whenever the playbooks have their sections)."""
    support = next((e.statement for e in evidence if e.kind == "support"), None)
    why = f"The diagnosis rests on: {support.rstrip('.')}. " if support else ""
    out: list[ReadinessQuestion] = []
    for n, (section, template) in enumerate(_PRIMARY, start=1):
        q = _ask(local, f"rq{n}", primary, section, template.format(name=_words(primary), why=why))
        if q is not None:
            out.append(q)
    for sec in secondary_risks:
        if sec != primary:
            q = _ask(local, f"rq{len(_PRIMARY) + 1}", sec, _SECONDARY[0], _SECONDARY[1].format(name=_words(sec)))
            if q is not None:
                out.append(q)
                break
    return out[:MAX_QUESTIONS]
