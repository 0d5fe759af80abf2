"""The command line as users run it: exit codes, stdin, output files, selection, the other commands."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

BAD_YAML = "apiVersion: v1\nkind: Pod\nspec: [1\n"
CLEAN = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n"


def ecrlint(*args: str, cwd: Path, stdin: str | None = None, env: dict | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ecrlint", *args], cwd=cwd, input=stdin, capture_output=True, text=True,
        env={**os.environ, **(env or {})}, timeout=120,
    )


@pytest.fixture
def repo(tmp_path):
    (tmp_path / "bad.yaml").write_text(BAD_YAML)
    (tmp_path / "clean.yaml").write_text(CLEAN)
    return tmp_path


def test_exit_0_when_clean(repo):
    proc = ecrlint("check", "clean.yaml", cwd=repo)
    assert proc.returncode == 0
    assert proc.stdout == ""
    assert "no problems in 1 file" in proc.stderr


def test_exit_1_with_findings_and_the_run_continues(repo):
    proc = ecrlint("check", ".", cwd=repo)
    assert proc.returncode == 1
    assert proc.stdout.startswith("bad.yaml:4:1: ECR001 error invalid YAML")
    assert "in 2 files" in proc.stderr


def test_exit_zero_and_fail_on(repo):
    assert ecrlint("check", "--exit-zero", ".", cwd=repo).returncode == 0
    assert ecrlint("check", "--ignore", "ECR001", ".", cwd=repo).returncode == 0


def test_usage_errors_exit_2_without_traceback(repo):
    for args in (["check", "--format", "xml"], ["check", "--select", "ECR999"], ["check", "--jobs", "0"],
                 ["check", "--config", "missing.toml"], ["explain", "ECR999"]):
        proc = ecrlint(*args, cwd=repo)
        assert proc.returncode == 2, args
        assert "Traceback" not in proc.stderr


def test_missing_path_is_a_finding(repo):
    proc = ecrlint("check", "nope.yaml", cwd=repo)
    assert proc.returncode == 1
    assert proc.stdout.startswith("nope.yaml:1:1: ECR001 error cannot read path")


def test_stdin_with_stdin_filename(repo):
    proc = ecrlint("check", "--stdin-filename", "deploy/x.yaml", "-", cwd=repo, stdin=BAD_YAML)
    assert proc.returncode == 1
    assert proc.stdout.startswith("deploy/x.yaml:4:1: ECR001")


def test_output_file_is_written_and_never_over_an_input(repo):
    proc = ecrlint("check", "--format", "json", "--output", "report.json", "bad.yaml", cwd=repo)
    assert proc.returncode == 1 and proc.stdout == ""
    assert json.loads((repo / "report.json").read_text())["summary"]["findings"] == 1
    before = (repo / "bad.yaml").read_text()
    proc = ecrlint("check", "--output", "bad.yaml", "bad.yaml", cwd=repo)
    assert proc.returncode == 2 and "overwrite" in proc.stderr
    assert (repo / "bad.yaml").read_text() == before


def test_no_color_when_not_a_terminal(repo):
    proc = ecrlint("check", "bad.yaml", cwd=repo)
    assert "\033[" not in proc.stdout


def test_version_rules_explain(repo):
    assert ecrlint("--version", cwd=repo).stdout.startswith("ecrlint ")
    rules = json.loads(ecrlint("rules", "--format", "json", cwd=repo).stdout)
    assert rules["version"] == 1 and {"id": "ECR001", "name": "parse-error"}.items() <= rules["rules"][0].items()
    text = ecrlint("rules", cwd=repo).stdout
    assert text.splitlines()[0].startswith("ECR001  parse-error")
    explain = ecrlint("explain", "ecr001", cwd=repo)
    assert explain.returncode == 0 and "## What it does" in explain.stdout
    assert "check" in ecrlint("--help", cwd=repo).stdout
    assert "--stdin-filename" in ecrlint("check", "--help", cwd=repo).stdout


def test_an_in_process_check_leaves_garbage_collection_as_it_found_it(repo, capsys):
    # The console script turns automatic collection off and freezes the heap on its way out;
    # a caller running `check` in its own process keeps its collector.
    import gc

    from ecrlint.cli import main

    assert gc.isenabled()
    frozen = gc.get_freeze_count()
    main(["check", str(repo)])
    assert gc.isenabled() and gc.get_freeze_count() == frozen
    gc.disable()
    try:
        main(["check", str(repo)])
        assert not gc.isenabled()
    finally:
        gc.enable()
    capsys.readouterr()


@pytest.mark.parametrize(
    ("args", "stderr"),
    [
        (["check", "--formt", "json"],
         "ecrlint check: unknown option --formt (did you mean --format?) (see ecrlint check --help)\n"),
        (["check", "--format", "jsn"],
         "ecrlint check: --format: unknown value 'jsn' (did you mean json? one of text, json, sarif, github, gitlab, junit) "
         "(see ecrlint check --help)\n"),
        (["rulez"],
         "ecrlint: unknown command 'rulez' (did you mean rules? one of check, rules, explain, links, completion, lsp) "
         "(see ecrlint --help)\n"),
        (["links", "--confg", "x"],
         "ecrlint links: unknown option --confg (did you mean --config?) (see ecrlint links --help)\n"),
        (["explain", "ECR201", "extra"], "ecrlint explain: unexpected argument extra (see ecrlint explain --help)\n"),
        (["explain", "ECR999"], "ecrlint: unknown rule ID 'ECR999' (see `ecrlint rules`)\n"),
    ],
)
def test_usage_errors_are_one_line_with_a_suggestion_and_exit_2(repo, args, stderr):
    proc = ecrlint(*args, cwd=repo)
    assert (proc.returncode, proc.stdout, proc.stderr) == (2, "", stderr)


@pytest.mark.parametrize("command", [[], ["check"], ["rules"], ["explain"], ["links"], ["completion"]])
def test_every_command_has_the_same_help_style(repo, command):
    proc = ecrlint(*command, "--help", cwd=repo)
    assert proc.returncode == 0
    assert proc.stdout.startswith(f"usage: ecrlint{''.join(' ' + c for c in command)} [-h]")
    assert "options:\n  -h, --help" in proc.stdout


def test_a_run_that_finds_nothing_to_lint_says_so(tmp_path):
    (tmp_path / "notes.txt").write_text("nothing here\n")
    proc = ecrlint("check", ".", cwd=tmp_path)
    assert (proc.returncode, proc.stdout) == (0, "")
    assert proc.stderr == "ecrlint: warning: no files to lint (YAML, JSON or .template files, or Helm charts) in the paths given\n"
