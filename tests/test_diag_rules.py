"""The rules file is data validated by a strict schema, and every rule cites a real knowledge section."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.diagnosis.plan import SECTION_3_DAY, SECTION_7_DAY, playbook_id
from app.diagnosis.rules import RULES_PATH, load_rules
from app.diagnosis.vocab import FAILURE_CATEGORIES
from app.errors import InputError
from app.knowledge.providers import LocalProvider
from app.rules import Test, holds


def test_rules_validate_and_cover_every_category() -> None:
    rules = load_rules()
    for cat in FAILURE_CATEGORIES:
        assert any(r.category == cat and r.kind == "support" for r in rules.rules), cat
        assert any(r.category == cat and r.kind == "counter" for r in rules.rules), cat
    concrete = {r.id for r in rules.rules if r.concrete}
    assert concrete and all(r.startswith("leak.") for r in concrete)


def test_every_rule_and_playbook_section_exists_in_the_knowledge_base() -> None:
    local = LocalProvider()
    for r in load_rules().rules:
        assert local.find(r.cite.doc, r.cite.section) is not None, (r.id, r.cite)
    for cat in (*FAILURE_CATEGORIES, "unknown"):
        for section in ("Symptoms", "Tests to run", "Counter-signals", SECTION_3_DAY, SECTION_7_DAY):
            assert local.find(playbook_id(cat), section) is not None, (cat, section)


def test_a_misspelt_field_fails_loudly(tmp_path: Path) -> None:
    text = RULES_PATH.read_text()
    assert "\nweight = " in text
    bad = tmp_path / "rules.toml"
    bad.write_text(text.replace("\nweight = ", "\nwieght = ", 1))
    with pytest.raises(InputError, match="invalid taxonomy rules file rules.toml: rules.0."):
        load_rules(bad)


def test_comparison_on_a_missing_signal_is_false() -> None:
    assert not holds(Test(fact="gap", op=">=", value=0.1), {})
    assert holds(Test(fact="gap", op="absent"), {}) and holds(Test(fact="flag", op="is_false"), {})
