"""Golden tests for every output format, and SARIF validated against the official 2.1.0 schema."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from sarif_kit.validate import validation_errors

from ecrlint.output import formatter
from helpers import FIXTURES, lint

GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("ECRLINT_UPDATE_GOLDEN") == "1"


def _render(fmt: str) -> str:
    result = lint("golden", cwd=FIXTURES)
    if fmt == "sarif":
        text = formatter("sarif")(result, cwd=str(FIXTURES), root=str(FIXTURES))
        # The source root is an absolute file: URI; make the golden file machine-independent.
        return text.replace(FIXTURES.resolve().as_uri() + "/", "file:///SRCROOT/")
    if fmt == "text":
        return formatter("text")(result, color=False)
    if fmt in ("json", "gitlab"):
        return formatter(fmt)(result, cwd=str(FIXTURES), root=str(FIXTURES))
    return formatter(fmt)(result)


@pytest.mark.parametrize("fmt, suffix", [("text", "txt"), ("json", "json"), ("sarif", "sarif"), ("github", "txt"),
                                         ("gitlab", "json"), ("junit", "xml")])
def test_golden(fmt, suffix):
    path = GOLDEN / f"golden.{fmt}.{suffix}"
    actual = _render(fmt)
    if UPDATE:
        path.write_text(actual)
    assert actual == path.read_text(), f"output changed; if intended: ECRLINT_UPDATE_GOLDEN=1 pytest {__file__}"


def test_golden_sarif_validates_and_carries_the_details():
    doc = json.loads(_render("sarif"))
    assert validation_errors(doc) == []
    run = doc["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    for result in run["results"]:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
        region = result["locations"][0]["physicalLocation"]["region"]
        assert {"startLine", "startColumn", "endLine", "endColumn"} <= set(region)
        assert result["partialFingerprints"]
    assert any("suppressions" in r for r in run["results"]), "the ignore comment shows as a SARIF suppression"


def _fixture_dirs() -> list[Path]:
    return sorted(p for p in FIXTURES.iterdir() if p.is_dir())


@pytest.mark.parametrize("family", _fixture_dirs(), ids=lambda p: p.name)
def test_every_fixture_family_gives_schema_valid_sarif(family):
    result = lint(family.name, cwd=FIXTURES)
    doc = json.loads(formatter("sarif")(result, cwd=str(FIXTURES)))
    assert validation_errors(doc) == []
    assert len(doc["runs"][0]["results"]) == len(result.findings) + len(result.suppressed)


def test_clean_run_has_empty_results_and_nothing_else():
    result = lint("golden/pass-clean.yaml", cwd=FIXTURES)
    doc = json.loads(formatter("sarif")(result, cwd=str(FIXTURES)))
    assert doc["runs"][0]["results"] == []


def test_fingerprints_ignore_line_moves(tmp_path):
    text = (FIXTURES / "golden" / "app.yaml").read_text()
    (tmp_path / "a.yaml").write_text(text)
    first = json.loads(formatter("sarif")(lint("a.yaml", cwd=tmp_path), cwd=str(tmp_path)))
    (tmp_path / "a.yaml").write_text("# a comment that moves every line down\n\n" + text)
    second = json.loads(formatter("sarif")(lint("a.yaml", cwd=tmp_path), cwd=str(tmp_path)))
    fp = lambda d: [r["partialFingerprints"] for r in d["runs"][0]["results"]]
    assert fp(first) == fp(second) and fp(first)
