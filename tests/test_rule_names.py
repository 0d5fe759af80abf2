"""A rule's name (printed in every finding) is accepted wherever its ID is: flags, config, comments, explain."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

POD = """apiVersion: v1
kind: Pod
metadata:
  name: web
spec:
  containers:
    - name: app
      image: nginx:latest
"""
ECR101 = 'pod.yaml:8:14: ECR101 error image "nginx:latest" has no registry host'
ECR103 = 'pod.yaml:8:14: ECR103 warning image "nginx:latest" uses the mutable tag "latest"'


def ecrlint(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "ecrlint", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=120, check=False)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    (tmp_path / "pod.yaml").write_text(POD)
    return tmp_path


def _lines(proc: subprocess.CompletedProcess[str]) -> list[str]:
    return [line.split(" (")[0][: len(ECR101)] for line in proc.stdout.splitlines()]


def test_select_and_ignore_take_names(repo: Path) -> None:
    assert _lines(ecrlint(repo, "check", "--select", "image-tag-latest", ".")) == [ECR103[: len(ECR101)]]
    assert _lines(ecrlint(repo, "check", "--ignore", "image-not-fully-qualified", ".")) == [ECR103[: len(ECR101)]]


def test_config_takes_names(repo: Path) -> None:
    (repo / ".ecrlint.yaml").write_text("ignore: [image-tag-latest]\nseverity: {image-not-fully-qualified: warning}\n")
    proc = ecrlint(repo, "check", ".")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith('pod.yaml:8:14: ECR101 warning image "nginx:latest"')
    assert "ECR103" not in proc.stdout


def test_suppression_comments_take_names(repo: Path) -> None:
    (repo / "pod.yaml").write_text(POD.replace("nginx:latest", "nginx:latest  # ecrlint: ignore[image-tag-latest]"))
    proc = ecrlint(repo, "check", ".")
    assert _lines(proc) == [ECR101]
    assert "1 suppressed" in proc.stderr


def test_explain_takes_a_name(repo: Path) -> None:
    proc = ecrlint(repo, "explain", "image-tag-latest")
    assert proc.returncode == 0
    assert proc.stdout.startswith("# ECR103 image-tag-latest (warning)")


def test_an_unknown_name_says_what_it_resembles(repo: Path) -> None:
    proc = ecrlint(repo, "check", "--select", "image-tag-lates", ".")
    assert (proc.returncode, proc.stderr) == (2, "ecrlint: --select: unknown rule ID 'image-tag-lates' (did you mean image-tag-latest?)\n")
