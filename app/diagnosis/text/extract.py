"""Run every pattern family over every sentence and collect what they found into one Facts."""

from __future__ import annotations

import re

from app.diagnosis.text.classes import class_facts, task_facts
from app.diagnosis.text.concerns import complaint_facts, concern_facts
from app.diagnosis.text.data_checks import data_checks
from app.diagnosis.text.evaluation_setup import setup_facts
from app.diagnosis.text.features import feature_facts
from app.diagnosis.text.fragments import Facts
from app.diagnosis.text.predictions import model_facts
from app.diagnosis.text.scan import Scan
from app.diagnosis.text.training import training_facts

__all__ = ["AI_SERVICE", "Facts", "extract_facts"]

_I = re.IGNORECASE

AI_SERVICE = re.compile(
    r"azure openai|azure ai\b|cognitive services|document intelligence|form recognizer|"
    r"custom vision|azure (?:ai )?(?:vision|language|speech) (?:service|api)|azure ai search|"
    r"openai service",
    _I,
)
"""A managed AI service named in the text: "we call Azure OpenAI for the summaries"."""


def extract_facts(scan: Scan, sentences: list[tuple[int, int]]) -> Facts:
    """Run every pattern over every sentence; numbers used here are not read again as metric values.

    >>> AI_SERVICE.search("we call Azure OpenAI for the summaries").group(0)
    'Azure OpenAI'
    >>> from app.diagnosis.text.scan import scan, sentences_of
    >>> sc = scan("Only 2% of claims are fraud. The loss became NaN.")
    >>> extract_facts(sc, sentences_of(sc.masked)).values
    {'class_distribution': {'positive': 0.02, 'negative': 0.98}, 'training_issues': ['nan_loss']}
    """
    out = Facts()
    for s, e in sentences:
        task_facts(scan, s, e, out)
        class_facts(scan, s, e, out)
        data_checks(scan, s, e, out)
        model_facts(scan, s, e, out)
        training_facts(scan, s, e, out)
        setup_facts(scan, s, e, out, scan.masked)
        feature_facts(scan, s, e, out)
        concern_facts(scan, s, e, out)
        complaint_facts(scan, s, e, out)
    if AI_SERVICE.search(scan.masked):
        out.values["platform"] = "azure_ai_service"
        out.provenance["platform"] = f'prompt: "{AI_SERVICE.search(scan.masked).group(0)}"'  # type: ignore[union-attr]
    return out
