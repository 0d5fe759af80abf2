"""The pre-commit hooks, driven through real ``pre-commit try-repo`` against a throwaway repository."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent


def _git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True,
                   env={**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t",
                        "GIT_COMMITTER_EMAIL": "t@t"})


def test_hook_definitions_are_what_pre_commit_expects():
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    by_id = {h["id"]: h for h in hooks}
    assert by_id["ecrlint"]["language"] == "python"
    assert set(by_id["ecrlint"]["types_or"]) == {"yaml", "json", "terraform"}
    assert by_id["ecrlint-repo"]["pass_filenames"] is False


@pytest.fixture(scope="module")
def try_repo(tmp_path_factory):
    if shutil.which("git") is None:
        pytest.fail("git is required for the pre-commit test")
    pre_commit = Path(sys.executable).with_name("pre-commit")
    home = tmp_path_factory.mktemp("pre-commit-home")
    # pre-commit clones the hook repository: give it a committed copy of this working tree.
    hook_repo = tmp_path_factory.mktemp("hook-repo")
    for name in ("pyproject.toml", "README.md", ".pre-commit-hooks.yaml"):
        if (ROOT / name).exists():
            shutil.copy(ROOT / name, hook_repo / name)
    for name in ("linter", "rules"):
        shutil.copytree(ROOT / name, hook_repo / name, ignore=shutil.ignore_patterns("__pycache__"))
    _git(hook_repo, "init", "-q")
    _git(hook_repo, "add", "-A")
    _git(hook_repo, "commit", "-qm", "hooks")
    target = tmp_path_factory.mktemp("target")
    _git(target, "init", "-q")

    def run(hook: str, files: dict[str, str]) -> subprocess.CompletedProcess[str]:
        for name, text in files.items():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            (target / name).write_text(text)
        _git(target, "add", "-A")
        env = {**os.environ, "PRE_COMMIT_HOME": str(home), "NO_COLOR": "1"}
        return subprocess.run([str(pre_commit), "try-repo", str(hook_repo), hook, "--all-files", "--color", "never"],
                              cwd=target, capture_output=True, text=True, env=env, timeout=600)

    return run


BAD = """apiVersion: v1
kind: Pod
metadata:
  name: web
spec:
  containers:
    - name: app
      image: nginx
"""


@pytest.mark.slow
def test_hook_fails_on_a_bad_manifest(try_repo):
    proc = try_repo("ecrlint", {"pod.yaml": BAD})
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "pod.yaml:8:14: ECR101" in proc.stdout


@pytest.mark.slow
def test_repo_hook_passes_a_clean_repository(try_repo):
    clean = BAD.replace("image: nginx", "image: 123456789012.dkr.ecr.us-east-1.amazonaws.com/web:1.4.2")
    proc = try_repo("ecrlint-repo", {"pod.yaml": clean})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Passed" in proc.stdout


@pytest.mark.slow
def test_hook_passes_a_repository_with_unrelated_json_and_yaml(try_repo):
    clean = BAD.replace("image: nginx", "image: 123456789012.dkr.ecr.us-east-1.amazonaws.com/web:1.4.2")
    files = {
        "k8s/pod.yaml": clean,
        "tsconfig.json": '{\n  // comments are fine for tsc\n  "compilerOptions": {"strict": true},\n}\n',
        "mkdocs.yml": "site_name: d\nmarkdown_extensions:\n  - pymdownx.emoji:\n"
                      "      emoji_index: !!python/name:material.extensions.emoji.twemoji\n",
        "package.json": '{"name": "web", "version": "1.0.0"}\n',
        ".github/workflows/ci.yml": "on: push\njobs: {t: {runs-on: ubuntu-latest, steps: [{run: make}]}}\n",
        "deploy/app.yaml.template": "kind: Deployment\napiVersion: apps/v1\nmetadata: {name: {{ .Name }}}\n",
    }
    for hook in ("ecrlint", "ecrlint-repo"):
        proc = try_repo(hook, files)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert "Passed" in proc.stdout
