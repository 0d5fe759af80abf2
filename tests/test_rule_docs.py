"""Every rule is documented, has failing and passing fixtures, and docs/rules.md is current."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ecrlint.docs import render_rules_markdown
from ecrlint.registry import DOC_SECTIONS, load_registry

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"
REGISTRY = load_registry(plugins=False)


def _expectation_text() -> str:
    chunks = []
    for path in FIXTURES.rglob("*"):
        if path.is_file() and path.suffix in (".yaml", ".yml", ".expect", ".template", ".json", ".tpl", ".tf"):
            chunks.append(path.read_text(errors="replace"))
    return "\n".join(chunks)


EXPECTATIONS = _expectation_text()


@pytest.mark.parametrize("rule", list(REGISTRY), ids=lambda r: r.id)
def test_rule_has_every_doc_section(rule):
    assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", rule.name), "names are kebab-case"
    assert rule.summary(), "a one-line summary"
    sections = rule.sections()
    for title in DOC_SECTIONS:
        assert sections.get(title), f"{rule.id} lacks a '{title}' section"


@pytest.mark.parametrize("rule", list(REGISTRY), ids=lambda r: r.id)
def test_rule_has_a_failing_fixture(rule):
    assert re.search(rf"(expect:[^\n]*\b{rule.id}\b|\d+:\d+ {rule.id}\b)", EXPECTATIONS), (
        f"no fixture expects {rule.id}"
    )


def test_every_fixture_family_has_a_passing_fixture():
    for family in sorted(p for p in FIXTURES.iterdir() if p.is_dir()):
        passing = [p for p in family.rglob("*") if "pass" in p.name]
        assert passing, f"tests/fixtures/{family.name} has no passing fixture (a name containing 'pass')"


def test_docs_rules_md_is_current():
    current = (ROOT / "docs" / "rules.md").read_text()
    assert current == render_rules_markdown(REGISTRY), "run: python scripts/gen_docs.py"
