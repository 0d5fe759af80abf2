"""The composite GitHub Action (action.yml): its steps' shell commands, run locally as a runner would."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
ACTION = yaml.safe_load((ROOT / "action.yml").read_text())

BAD = "apiVersion: v1\nkind: Pod\nmetadata: {name: web}\nspec:\n  containers:\n    - {name: app, image: nginx}\n"
GOOD = BAD.replace("image: nginx", "image: 123456789012.dkr.ecr.us-east-1.amazonaws.com/web:1.4.2")


def _expression(expr: str, inputs: dict[str, str]) -> str:
    expr = expr.strip()
    m = re.fullmatch(r"inputs\.([\w-]+)", expr)
    if m:
        return inputs[m.group(1)]
    raise AssertionError(f"the test does not know the expression {expr!r}")


def _run_steps(tmp_path: Path, workspace: Path, given: dict[str, str], skip_install: bool):
    """Run every `run:` step with bash, as the runner does: inputs through env, GITHUB_* files."""
    inputs = {name: spec.get("default", "") for name, spec in ACTION["inputs"].items()}
    inputs.update(given)
    github_path, github_output = tmp_path / "github_path", tmp_path / "github_output"
    github_path.write_text("")
    github_output.write_text("")
    path = os.environ["PATH"]
    if skip_install:
        path = f"{Path(sys.executable).parent}{os.pathsep}{path}"
    results = []
    for step in ACTION["runs"]["steps"]:
        if "run" not in step or (skip_install and step["name"] == "Install ecrlint"):
            continue
        assert "${{" not in step["run"], "inputs must reach the script through env, never pasted into it"
        env = {k: re.sub(r"\$\{\{(.*?)\}\}", lambda m: _expression(m.group(1), inputs), str(v))
               for k, v in step.get("env", {}).items()}
        extra = [line for line in github_path.read_text().splitlines() if line]
        env = {**os.environ, **env, "GITHUB_ACTION_PATH": str(ROOT), "RUNNER_TEMP": str(tmp_path),
               "GITHUB_PATH": str(github_path), "GITHUB_OUTPUT": str(github_output), "NO_COLOR": "1",
               "PATH": os.pathsep.join([*extra, path])}
        proc = subprocess.run(["bash", "-c", step["run"]], cwd=workspace, env=env, capture_output=True, text=True,
                              timeout=900)
        results.append((step["name"], proc))
        if proc.returncode:
            break
    outputs = dict(line.split("=", 1) for line in github_output.read_text().splitlines() if "=" in line)
    return results, outputs


def test_action_metadata_is_a_composite_action_with_an_optional_sarif_upload():
    assert ACTION["runs"]["using"] == "composite"
    steps = ACTION["runs"]["steps"]
    assert all(s.get("shell") == "bash" for s in steps if "run" in s)
    upload = next(s for s in steps if "uses" in s)
    assert upload["uses"].startswith("github/codeql-action/upload-sarif@")
    assert "inputs.upload-sarif == 'true'" in upload["if"]
    assert ACTION["inputs"]["upload-sarif"]["default"] == "false"


def test_run_step_annotates_fails_on_findings_and_writes_sarif(tmp_path):
    ws = tmp_path / "repo"
    ws.mkdir()
    (ws / "pod.yaml").write_text(BAD)
    results, outputs = _run_steps(tmp_path, ws, {"upload-sarif": "true"}, skip_install=True)
    name, proc = results[-1]
    assert name == "Run ecrlint" and proc.returncode == 1, proc.stderr
    assert proc.stdout.startswith("::error file=pod.yaml,line=6,col=26,")
    assert outputs["exit-code"] == "1"
    sarif = json.loads((ws / "ecrlint.sarif").read_text())
    assert [r["ruleId"] for r in sarif["runs"][0]["results"]] == ["ECR101", "ECR102"]


def test_run_step_passes_a_clean_repository_and_splits_paths_without_globbing(tmp_path):
    ws = tmp_path / "repo"
    (ws / "k8s").mkdir(parents=True)
    (ws / "k8s" / "pod.yaml").write_text(GOOD)
    (ws / "other.yaml").write_text(BAD)
    results, outputs = _run_steps(tmp_path, ws, {"paths": "k8s *.yaml", "args": "--format text"},
                                  skip_install=True)
    _name, proc = results[-1]
    # "*.yaml" is not expanded by the shell: it is a missing path (ECR001), other.yaml is never read
    assert proc.returncode == 1 and "other.yaml" not in proc.stdout, proc.stdout
    assert "*.yaml:1:1: ECR001" in proc.stdout
    assert not (ws / "ecrlint.sarif").exists()
    results, outputs = _run_steps(tmp_path, ws, {"paths": "k8s"}, skip_install=True)
    assert results[-1][1].returncode == 0 and outputs["exit-code"] == "0"


@pytest.mark.slow
def test_install_step_installs_this_checkout_into_a_venv(tmp_path):
    if shutil.which("bash") is None:
        pytest.skip("bash is needed")
    ws = tmp_path / "repo"
    ws.mkdir()
    (ws / "pod.yaml").write_text(GOOD)
    results, outputs = _run_steps(tmp_path, ws, {"python": sys.executable}, skip_install=False)
    assert [n for n, _p in results] == ["Install ecrlint", "Run ecrlint"]
    assert all(p.returncode == 0 for _n, p in results), [p.stderr[-2000:] for _n, p in results]
    assert (tmp_path / "ecrlint-venv" / "bin" / "ecrlint").exists()
    assert outputs["exit-code"] == "0"
