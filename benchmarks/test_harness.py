"""Tests of the benchmark harness itself (not timings): run with `pytest benchmarks/test_harness.py`."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))

import floor  # noqa: E402
import run  # noqa: E402


def test_copy_variant_keeps_files_parseable_and_distinct(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    (corpus / "kubernetes").mkdir(parents=True)
    (corpus / "iam").mkdir()
    (corpus / "helm" / "c" / "templates").mkdir(parents=True)
    (corpus / "kubernetes" / "a.yaml").write_text("kind: Pod\nmetadata: {name: a}")  # no final newline
    (corpus / "iam" / "p.json").write_text('{"Version": "2012-10-17", "Statement": []}')
    (corpus / "helm" / "c" / "templates" / "d.yaml").write_text("kind: {{ .Values.kind }}\n")
    outs = []
    for copy in (0, 1):
        for src in sorted(corpus.rglob("*.*")):
            dst = tmp_path / f"out{copy}" / src.relative_to(corpus)
            dst.parent.mkdir(parents=True, exist_ok=True)
            run._copy_variant(src, dst, copy)
            outs.append((src, dst, copy))
    for src, dst, copy in outs:
        text = dst.read_text()
        assert text != src.read_text()
        if src.suffix == ".json":
            assert json.loads(text) == json.loads(src.read_text())
        elif "templates" not in src.parts:
            assert yaml.safe_load(text) == yaml.safe_load(src.read_text())
        else:
            assert text.endswith("{{/* ecrlint benchmark copy %d */}}\n" % copy)
    first = (tmp_path / "out0" / "kubernetes" / "a.yaml").read_bytes()
    second = (tmp_path / "out1" / "kubernetes" / "a.yaml").read_bytes()
    assert first != second


def test_generate_copies_lays_every_file_once_per_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    corpus = tmp_path / "corpus"
    for folder in run.CORPUS_FOLDERS:
        (corpus / folder).mkdir(parents=True)
        (corpus / folder / "x.yaml").write_text("a: 1\n")
    monkeypatch.setattr(run, "WORK", tmp_path / "work")
    monkeypatch.setattr(run, "REPO", tmp_path)
    target = run.generate_copies(corpus, "scale", 3, run.CORPUS_FOLDERS, lambda msg: None)
    files = sorted(p.relative_to(target).as_posix() for p in target.rglob("*") if p.is_file())
    assert len(files) == 3 * len(run.CORPUS_FOLDERS)
    assert files[0] == "copy-000/cloudformation/x.yaml"
    # A second call with the same corpus reuses the tree (the stamp matches).
    stamp_before = (tmp_path / "work" / ".scale.stamp").read_text()
    (target / "copy-000" / "marker").write_text("kept")
    run.generate_copies(corpus, "scale", 3, run.CORPUS_FOLDERS, lambda msg: None)
    assert (target / "copy-000" / "marker").exists()
    assert (tmp_path / "work" / ".scale.stamp").read_text() == stamp_before


def test_run_process_reports_exit_code_and_memory(tmp_path: Path) -> None:
    cmd = [sys.executable, "-c", "import sys; b = bytearray(30 * 2**20); sys.exit(3)"]
    sample, tree = run.run_process(cmd, {}, tmp_path / "o", tmp_path / "e", tmp_path, sample_tree=True)
    assert sample.rc == 3
    assert sample.maxrss_mb >= 30
    assert sample.wall > 0 and sample.cpu > 0
    assert not sample.timed_out and not sample.killed_mb


def test_run_process_memory_guard_kills_a_runaway(tmp_path: Path) -> None:
    cmd = [sys.executable, "-c", "import time; b = bytearray(200 * 2**20); b[::4096] = b'x' * len(b[::4096]); time.sleep(30)"]
    sample, _ = run.run_process(cmd, {}, tmp_path / "o", tmp_path / "e", tmp_path, max_rss_mb=100)
    assert sample.killed_mb > 100
    assert sample.wall < 20


def test_summaries_read_each_tools_output(tmp_path: Path) -> None:
    out, err = tmp_path / "o", tmp_path / "e"
    out.write_text('a.yaml:3:14: ECR101 error image "nginx" has no registry host (image-not-fully-qualified)\n')
    assert run.summarise_output("ecrlint", out, err) == "1 findings"
    out.write_text("kubernetes scan results:\n\nPassed checks: 5, Failed checks: 2, Skipped checks: 0\n\n"
                   "cloudformation scan results:\n\nPassed checks: 1, Failed checks: 0, Skipped checks: 0, Parsing errors: 1\n")
    assert run.summarise_output("checkov", out, err) == "6 passed, 2 failed checks, 1 parse errors"
    out.write_text("usage: checkov ...\n")
    assert run.summarise_output("checkov", out, err).startswith("NO SCAN SUMMARY")
    out.write_text("E3012 Property should be of type String\nt.yaml:4:7\n\nW2001 Parameter not used\nt.yaml:9:3\n")
    assert run.summarise_output("cfn-lint", out, err) == "2 findings"


def _result(name: str, scale: float = 1.0, **medians: float) -> run.ScenarioResult:
    cells = {}
    for tool, wall in medians.items():
        tool = tool.replace("_", "-")
        cells[tool] = run.Cell(tool, [run.Sample(wall=wall, cpu=wall, maxrss_mb=50, rc=0)])
    return run.ScenarioResult(name, name, 1, 1, [], cells, scale)


def test_budgets_compare_the_right_cells() -> None:
    results = {
        "manifest": _result("manifest", ecrlint=0.1, ecrlint_j1=0.1, checkov=2.0),
        "template": _result("template", ecrlint=0.1, cfn_lint=0.4),
        "corpus": _result("corpus", ecrlint=0.5, ecrlint_j1=0.5, checkov=12.0, floor=0.25),
    }
    verdicts = {label: (measured, verdict) for label, measured, verdict in run.budgets(results)}
    assert verdicts["one manifest: median ≤ 0.20 s"] == ("0.100 s", "PASS")
    assert verdicts["one template: ≥ 5× faster than cfn-lint"] == ("4.0×", "FAIL")
    assert verdicts["one manifest: ≥ 10× faster than checkov -f"] == ("20.0×", "PASS")
    assert verdicts["corpus: ≥ 20× faster than checkov"] == ("24.0×", "PASS")
    assert verdicts["corpus: ≤ 2.5× the parse floor"] == ("2.0×", "PASS")
    measured, verdict = verdicts["10× the files ≤ 11× the time (--jobs 1)"]
    assert measured == "—" and verdict.startswith("n/a (scenario `corpus-10x` not run")


def test_a_killed_run_is_not_a_measurement() -> None:
    cell = run.Cell("ecrlint", [run.Sample(wall=1.0, cpu=1.0, maxrss_mb=10, rc=-9, killed_mb=5000)])
    assert cell.valid == []
    assert cell.median != cell.median  # NaN: nothing to compare


def test_sanity_flags_a_scale_up_that_lost_findings() -> None:
    base = _result("corpus", ecrlint=1.0)
    base.cells["ecrlint"].output = "330 findings"
    scaled = _result("corpus-10x", 10, ecrlint=10.0)
    scaled.cells["ecrlint"].output = "3000 findings"
    lines = run.sanity({"corpus": base, "corpus-10x": scaled})
    assert len(lines) == 1 and "MISMATCH" in lines[0]


def test_floor_walks_like_a_linter(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "a.yaml").write_text("a: 1\n---\nb: 2\n")
    (tmp_path / "b.json").write_text('{"c": 3}')
    (tmp_path / "t.yaml").write_text("x: {{ .Values.x }\n")
    (tmp_path / ".hidden").mkdir()
    (tmp_path / ".hidden" / "h.yaml").write_text("h: 1\n")
    (tmp_path / "notes.txt").write_text("not yaml")
    assert floor.main([str(tmp_path)]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert (summary["files"], summary["documents"], summary["errors"]) == (3, 3, 1)
