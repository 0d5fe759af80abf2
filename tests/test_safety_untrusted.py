"""Safe on untrusted pull requests (issue 13): what a scanned repository must never get.

Every tree here is what an attacker could commit: links, file names, config values, manifests.
Runs go through the real command line (``ecrlint check`` as a subprocess, from the repository root,
as the README's CI snippet runs it) unless the test needs the in-process API.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from ecrlint.config import glob_match
from ecrlint.escape import line_start, visible

ECRLINT = [sys.executable, "-c", "import sys; from ecrlint.cli import main; sys.exit(main())"]
HANG_GUARD = 120  # seconds: a hung run fails the test instead of the suite (not a timing assertion)

POD = """apiVersion: v1
kind: Pod
metadata:
  name: web
spec:
  containers:
    - name: app
      image: nginx:1.25
"""


def ecrlint(cwd: Path, *args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([*ECRLINT, *args], cwd=cwd, capture_output=True, timeout=HANG_GUARD,
                          input=stdin, check=False)


def _snapshot(root: Path) -> dict[str, tuple[int, bytes | str]]:
    """Every entry below ``root`` (links not followed) with its content: proof that nothing changed."""
    out: dict[str, tuple[int, bytes | str]] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            full = os.path.join(dirpath, name)
            st = os.lstat(full)
            if stat.S_ISLNK(st.st_mode):
                out[full] = (st.st_mode, os.readlink(full))
            elif stat.S_ISREG(st.st_mode):
                out[full] = (st.st_mode, Path(full).read_bytes())
            else:
                out[full] = (st.st_mode, b"")
    return out


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A checkout inside a directory that also holds a file the attacker wants to reach."""
    (tmp_path / "victim.txt").write_text("precious\n")
    root = tmp_path / "repo"
    root.mkdir()
    (root / "web.yaml").write_text(POD)
    return root


# --- 1. --output: never through a link, never a directory, never a read-only file -----------------


def test_output_does_not_follow_a_committed_link_out_of_the_repository(repo: Path) -> None:
    (repo / "ecrlint.sarif").symlink_to("../victim.txt")
    before = _snapshot(repo.parent)
    proc = ecrlint(repo, "check", "--format", "sarif", "--output", "ecrlint.sarif", ".")
    assert proc.returncode == 2
    assert proc.stderr.decode() == (
        "ecrlint: --output ecrlint.sarif is a symbolic link; ecrlint does not write through links "
        "(remove it or choose another path)\n"
    )
    assert _snapshot(repo.parent) == before


def test_output_does_not_follow_a_link_to_git_config(repo: Path) -> None:
    (repo / ".git").mkdir()
    (repo / ".git" / "config").write_text("[core]\n\tbare = false\n")
    (repo / "report.txt").symlink_to(".git/config")
    # The file name carries the line an attacker wants written into .git/config.
    (repo / "x\n[core]\n\tfsmonitor = touch pwned\n.yaml").write_text(POD)
    before = _snapshot(repo)
    proc = ecrlint(repo, "check", "--output", "report.txt", ".")
    assert proc.returncode == 2
    assert _snapshot(repo) == before


def test_output_does_not_go_through_a_linked_directory(repo: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (repo / "reports").symlink_to(outside)
    proc = ecrlint(repo, "check", "--output", "reports/ecrlint.txt", ".")
    assert proc.returncode == 2
    assert b"goes through the symbolic link" in proc.stderr
    assert list(outside.iterdir()) == []


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: p.mkdir(), "--output out is a directory; name a file"),
        (lambda p: (p.write_text("keep"), p.chmod(0o444)), "--output out is read-only; ecrlint will not replace it"),
        (lambda p: os.mkfifo(p), "--output out is not a regular file"),
    ],
    ids=["directory", "read-only", "fifo"],
)
def test_output_refuses_what_is_not_a_writable_file(repo: Path, make, message: str) -> None:
    make(repo / "out")
    before = _snapshot(repo)
    proc = ecrlint(repo, "check", "--output", "out", ".")
    assert (proc.returncode, proc.stderr.decode()) == (2, f"ecrlint: {message}\n")
    assert _snapshot(repo) == before


def test_output_in_a_missing_directory_is_one_line_not_an_internal_error(repo: Path) -> None:
    proc = ecrlint(repo, "check", "--output", "missing/dir/x.txt", ".")
    assert proc.returncode == 2
    assert proc.stderr.decode() == f"ecrlint: --output missing/dir/x.txt: directory {repo}/missing/dir does not exist\n"


def test_output_replaces_an_earlier_report_and_keeps_its_mode(repo: Path) -> None:
    report = repo / "ecrlint.txt"
    report.write_text("old\n")
    report.chmod(0o640)
    proc = ecrlint(repo, "check", "--output", "ecrlint.txt", ".")
    assert proc.returncode == 1
    assert report.read_text().startswith("web.yaml:8:14: ECR101 error")
    assert stat.S_IMODE(report.stat().st_mode) == 0o640
    assert sorted(p.name for p in repo.iterdir()) == ["ecrlint.txt", "web.yaml"]  # no temporary left


# --- 2. config paths stay inside the config's tree -------------------------------------------------

CHART_YAML = "apiVersion: v2\nname: web\nversion: 1.0.0\n"
CHART_TEMPLATE = """apiVersion: v1
kind: Pod
metadata:
  name: web
spec:
  containers:
    - name: app
      image: "{{ .Values.token }}"
"""


def _chart(root: Path) -> None:
    (root / "chart" / "templates").mkdir(parents=True)
    (root / "chart" / "Chart.yaml").write_text(CHART_YAML)
    (root / "chart" / "values.yaml").write_text("token: x\n")
    (root / "chart" / "templates" / "pod.yaml").write_text(CHART_TEMPLATE)


@pytest.mark.parametrize("named", ["ABSOLUTE", "../kubeconfig.yaml", "link.yaml"])
def test_config_cannot_name_a_values_file_outside_its_tree(repo: Path, tmp_path: Path, named: str) -> None:
    secret = tmp_path / "kubeconfig.yaml"
    secret.write_text("token: s3cr3t-t0ken\n")
    (repo / "link.yaml").symlink_to(secret)
    _chart(repo)
    value = str(secret) if named == "ABSOLUTE" else named
    (repo / ".ecrlint.yaml").write_text(json.dumps({"helm": {"values": [value]}}))
    proc = ecrlint(repo, "check", "--helm-engine", "builtin", "--format", "github", ".")
    assert proc.returncode == 2
    err = proc.stderr.decode()
    assert err.startswith(f"ecrlint: {repo}/.ecrlint.yaml: helm.values names {value!r}, which is outside")
    assert err.count("\n") == 1
    assert b"s3cr3t" not in proc.stdout + proc.stderr


def test_values_named_on_the_command_line_may_live_anywhere(repo: Path, tmp_path: Path) -> None:
    outside = tmp_path / "prod-values.yaml"
    outside.write_text("token: 111122223333.dkr.ecr.us-east-1.amazonaws.com/web:1.0\n")
    _chart(repo)
    proc = ecrlint(repo, "check", "--helm-engine", "builtin", "--helm-values", str(outside), "chart")
    assert (proc.returncode, proc.stdout) == (0, b"")


def test_config_values_inside_the_tree_still_work(repo: Path) -> None:
    _chart(repo)
    (repo / "prod.yaml").write_text("token: nginx:1.25\n")
    (repo / ".ecrlint.yaml").write_text("helm: {values: [prod.yaml]}\n")
    proc = ecrlint(repo, "check", "--helm-engine", "builtin", "chart")
    assert proc.returncode == 1
    assert proc.stdout.decode().startswith("prod.yaml:1:8: ECR101 error")


def test_max_file_size_has_a_ceiling(repo: Path) -> None:
    (repo / ".ecrlint.yaml").write_text("max-file-size: 107374182400\n")
    proc = ecrlint(repo, "check", ".")
    assert (proc.returncode, proc.stderr.decode()) == (2, f"ecrlint: {repo}/.ecrlint.yaml: max-file-size: must be at most 20971520\n")


# --- 7 and 8. nothing file-controlled reaches a terminal or a CI log raw ----------------------------

EVIL_IMAGE = "ngin\x1b]0;pwn\x07x\r\n::add-mask::secret ##[error]x \u202e \x9b31m"


def _evil_repo(repo: Path) -> None:
    (repo / "web.yaml").write_text(POD.replace("nginx:1.25", json.dumps(EVIL_IMAGE)))


def _raw_controls(text: str) -> list[str]:
    return [c for c in text if (ord(c) < 0x20 and c != "\n") or 0x7F <= ord(c) <= 0x9F or c == "\u202e"]


@pytest.mark.parametrize("fmt", ["text", "github"])
def test_file_text_is_printed_with_controls_made_visible(repo: Path, fmt: str) -> None:
    _evil_repo(repo)
    proc = ecrlint(repo, "check", "--format", fmt, "web.yaml")
    out = proc.stdout.decode()
    assert proc.returncode == 1
    assert _raw_controls(out) == []
    assert "\\x1b]0;pwn\\x07x\\r\\n::add-mask::secret ##\\[error]x \\u202e \\x9b31m" in out
    lines = out.splitlines()
    assert len(lines) == 1  # no forged second finding line
    assert not any(line.lstrip().startswith("::add-mask") or "##[" in line for line in lines)


def test_a_file_name_cannot_start_a_workflow_command(repo: Path) -> None:
    (repo / "::add-mask::x.yaml").write_text(POD)
    proc = ecrlint(repo, "check", ".")
    lines = proc.stdout.decode().splitlines()
    assert lines[0].startswith("./::add-mask::x.yaml:8:14: ECR101")
    assert not any(line.startswith("::") for line in lines)


def test_stderr_notes_and_errors_escape_config_keys_and_file_names(repo: Path) -> None:
    (repo / "x\r\n::error::forged\x1b[2J.yaml").write_text("just: text\n")
    proc = ecrlint(repo, "check", "--verbose", ".")
    err = proc.stderr.decode()
    assert _raw_controls(err) == [] and "\\r\\n::error::forged\\x1b[2J" in err
    assert not any(line.startswith("::") for line in err.splitlines())
    (repo / ".ecrlint.yaml").write_text('"bad\\n::add-mask::key": 1\n')
    proc = ecrlint(repo, "check", ".")
    assert proc.returncode == 2
    assert proc.stderr.decode() == f"ecrlint: {repo}/.ecrlint.yaml: unknown config key 'bad\\n::add-mask::key'\n"


@pytest.mark.skipif(sys.platform == "darwin", reason="macOS file systems refuse names that are not UTF-8")
@pytest.mark.parametrize("fmt", ["text", "json", "sarif", "github"])
def test_a_file_name_that_is_not_utf8_keeps_the_report(repo: Path, fmt: str) -> None:
    name = b"bad-\xff\xfe.yaml"
    with open(os.path.join(os.fsencode(repo), name), "w") as handle:
        handle.write(POD)
    (repo / "web.yaml").unlink()
    proc = ecrlint(repo, "check", "--format", fmt, "--output", "report.out", ".")
    assert proc.returncode == 1, proc.stderr
    report = (repo / "report.out").read_text(encoding="utf-8")  # strict: the report is valid UTF-8
    if fmt == "sarif":
        uri = json.loads(report)["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        assert uri == "bad-%FF%FE.yaml"  # the real bytes, percent-encoded: a viewer can open the file
    elif fmt == "json":
        assert json.loads(report)["findings"][0]["path"] == "bad-\\xff\\xfe.yaml"
    else:
        assert "bad-\\xff\\xfe.yaml" in report


def test_visible_leaves_ordinary_text_alone() -> None:
    text = 'image "111122223333.dkr.ecr.eu-west-1.amazonaws.com/ünïcode/app:1.0" — fine: 100%'
    assert visible(text) is text
    assert line_start("k8s/web.yaml") == "k8s/web.yaml"


# --- 9. globs from config match in linear time --------------------------------------------------------


def test_hostile_exclude_globs_end_on_long_names_and_deep_trees(repo: Path) -> None:
    deep = repo
    for _ in range(40):
        deep = deep / ("a" * 60)
    deep.mkdir(parents=True)
    (deep / ("a" * 200 + ".yaml")).write_text(POD)
    globs = ["*a" * 40 + "b", "**/a" * 30 + "/b", "a**a**a**a**a**a**a**a**a**a**b"]
    (repo / ".ecrlint.yaml").write_text(json.dumps({"exclude": globs, "per-file-ignores": {globs[0]: ["ECR1"]}}))
    proc = ecrlint(repo, "check", ".")  # a backtracking matcher would not end for hours
    assert proc.returncode == 1
    assert proc.stdout.decode().count("ECR101") == 2


@pytest.mark.parametrize(
    ("pattern", "path", "expected"),
    [
        ("vendor/**", "vendor/a/b.yaml", True),
        ("vendor/", "vendor/a.yaml", True),
        ("*.json", "deep/er/x.json", True),
        ("iam/node-*.json", "iam/node-a.json", True),
        ("iam/node-*.json", "iam/sub/node-a.json", False),
        ("**/test/**", "a/test/b.yaml", True),
        ("a?c", "a/c", False),
        ("legacy", "legacy/x.yaml", True),
        ("(x)[y]$.yaml", "(x)[y]$.yaml", True),
        ("*", "bad-\udcff.yaml", True),
        ("*" * 50 + "b", "a" * 3000, False),
    ],
)
def test_glob_semantics_are_unchanged(pattern: str, path: str, expected: bool) -> None:
    assert glob_match(pattern, path) is expected


# --- 10. deep trees, --fix through a link, python -m from the repository ------------------------------


@pytest.mark.slow
def test_a_directory_tree_1500_levels_deep_is_walked(repo: Path) -> None:
    deep = os.fsencode(repo)
    os.chdir(deep)  # the path is longer than PATH_MAX: build it one level at a time
    try:
        for _ in range(1500):
            os.mkdir(b"d")
            os.chdir(b"d")
        Path("pod.yaml").write_text(POD)
    finally:
        os.chdir(Path(__file__).parent)
    try:
        proc = ecrlint(repo, "check", ".")
    finally:
        _remove_chain(repo / "d", 1500)  # pytest's own clean-up recurses and would fail on it
    assert proc.returncode == 1, proc.stderr[-500:]
    assert proc.stdout.decode().count("ECR101") == 2
    assert proc.stderr.decode() == "ecrlint: 2 findings (2 errors) in 2 files\n"


def _remove_chain(top: Path, depth: int) -> None:
    """Remove ``top/d/d/.../pod.yaml`` bottom-up, one level at a time, without recursion."""
    here = os.getcwd()
    os.chdir(top)
    try:
        for _ in range(depth - 1):
            os.chdir(b"d")
        os.unlink("pod.yaml")
        for _ in range(depth - 1):
            os.chdir(b"..")
            os.rmdir(b"d")
    finally:
        os.chdir(here)
    top.rmdir()


TYPO_POLICY = ('{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["ecr:GetAuthorizationTokn", '
               '"ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"], "Resource": "*"}]}\n')


def test_fix_through_an_in_tree_link_fixes_once_and_says_so(tmp_path: Path) -> None:
    (tmp_path / "real.json").write_text(TYPO_POLICY)
    (tmp_path / "link.json").symlink_to("real.json")
    proc = ecrlint(tmp_path, "check", "--fix", ".")
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.decode() == (
        "ecrlint: fixed 1 finding; re-run to see what is left\necrlint: no problems in 2 files\n"
    )
    assert "ecr:GetAuthorizationToken" in (tmp_path / "real.json").read_text()
    assert (tmp_path / "link.json").is_symlink()


def test_python_m_from_the_repository_imports_nothing_from_it(repo: Path) -> None:
    (repo / "yaml.py").write_text("raise SystemExit('a committed yaml.py was imported')\n")
    egg = repo / "evil.egg-info"
    egg.mkdir()
    (egg / "PKG-INFO").write_text("Metadata-Version: 2.1\nName: evil\nVersion: 1.0\n")
    (egg / "entry_points.txt").write_text("[ecrlint.rules]\nevil = evilpack\n")
    (repo / "evilpack.py").write_text("raise SystemExit('a committed rule pack was imported')\n")
    proc = subprocess.run([sys.executable, "-m", "ecrlint", "check", "web.yaml"], cwd=repo, capture_output=True,
                          timeout=HANG_GUARD, check=False)
    assert proc.returncode == 1, proc.stderr
    assert proc.stdout.decode().startswith("web.yaml:8:14: ECR101")


def test_paths_stay_relative_when_the_working_directory_is_reached_through_a_link(repo: Path, tmp_path: Path) -> None:
    from ecrlint.engine import RunOptions, run

    link = tmp_path / "linked-checkout"
    link.symlink_to(repo)
    here = os.getcwd()
    os.chdir(link)  # the process sees the real directory; the caller names the link
    try:
        result = run(RunOptions(paths=["web.yaml"], cwd=str(link), jobs=1))
    finally:
        os.chdir(here)
    assert [(f.path, f.rule, f.span.line) for f in result.findings] == [("web.yaml", "ECR101", 8)]
