"""check's --quiet, --statistics, --show-source, --baseline/--write-baseline, progress, the JSON schemas
and shell completion: golden files for what they print, behaviour through the real command line."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from importlib import resources
from pathlib import Path

import jsonschema
import pytest

from ecrlint.output import formatter
from ecrlint.output.text import format_statistics
from helpers import FIXTURES, lint

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("ECRLINT_UPDATE_GOLDEN") == "1"

BAD = "apiVersion: v1\nkind: Pod\nmetadata: {name: web}\nspec:\n  containers:\n    - name: app\n      image: nginx:1.25\n"
SECOND = BAD.replace("name: web", "name: api").replace("nginx:1.25", "redis:7")


def ecrlint(*args: str, cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "ecrlint", *args], cwd=cwd, capture_output=True, text=True,
                          env={**os.environ, "NO_COLOR": "1", **(env or {})}, timeout=120)


def _golden(name: str, actual: str) -> None:
    path = GOLDEN / name
    if UPDATE:
        path.write_text(actual)
    assert actual == path.read_text(), f"output changed; if intended: ECRLINT_UPDATE_GOLDEN=1 pytest {__file__}"


# --- statistics, show-source, quiet --------------------------------------------------------------

def test_statistics_golden_text_and_json():
    result = lint("golden", cwd=FIXTURES)
    _golden("golden.statistics.txt", format_statistics(result))
    proc = ecrlint("check", "--statistics", "--format", "json", "golden", cwd=FIXTURES)
    assert proc.returncode == 1
    _golden("golden.statistics.json", proc.stdout)


def test_show_source_golden():
    proc = ecrlint("check", "--show-source", "golden", cwd=FIXTURES)
    assert proc.returncode == 1
    _golden("golden.show-source.txt", proc.stdout)


def test_show_source_leaves_out_frames_it_cannot_trust(tmp_path):
    (tmp_path / "pod.yaml").write_text(BAD)
    # standard input: the file on disk is not what was linted
    proc = subprocess.run([sys.executable, "-m", "ecrlint", "check", "--show-source", "--stdin-filename", "pod.yaml",
                           "-"], cwd=tmp_path, input=SECOND, capture_output=True, text=True, timeout=60)
    assert proc.stdout.startswith("pod.yaml:7:14: ECR101") and " | " not in proc.stdout


def test_statistics_and_show_source_refuse_formats_they_do_not_fit(tmp_path):
    for args in (["--statistics", "--format", "sarif"], ["--show-source", "--format", "json"]):
        proc = ecrlint("check", *args, ".", cwd=tmp_path)
        assert proc.returncode == 2 and len(proc.stderr.splitlines()) == 1, proc.stderr


def test_quiet_prints_findings_and_nothing_else(tmp_path):
    (tmp_path / "pod.yaml").write_text(BAD)
    proc = ecrlint("check", "--quiet", ".", cwd=tmp_path)
    assert proc.returncode == 1 and proc.stderr == ""
    assert proc.stdout.startswith("pod.yaml:7:14: ECR101")
    clean = ecrlint("check", "-q", "--exit-zero", ".", cwd=tmp_path)
    assert clean.stderr == "" and clean.returncode == 0
    both = ecrlint("check", "-q", "-v", ".", cwd=tmp_path)
    assert both.returncode == 2 and "not allowed with" in both.stderr


# --- baseline ------------------------------------------------------------------------------------

def test_baseline_fails_only_on_new_findings(tmp_path):
    (tmp_path / ".git").mkdir()
    (tmp_path / "k8s").mkdir()
    (tmp_path / "k8s" / "web.yaml").write_text(BAD)
    wrote = ecrlint("check", "--write-baseline", "baseline.json", ".", cwd=tmp_path)
    assert wrote.returncode == 0 and wrote.stdout == ""
    assert "wrote 1 finding to the baseline baseline.json" in wrote.stderr
    doc = json.loads((tmp_path / "baseline.json").read_text())
    assert doc["version"] == 1 and [(e["rule"], e["path"]) for e in doc["findings"]] == [("ECR101", "k8s/web.yaml")]

    # lines move and the run starts elsewhere: still the same finding, still baselined
    (tmp_path / "k8s" / "web.yaml").write_text("# moved\n\n" + BAD)
    same = ecrlint("check", "--baseline", "../baseline.json", ".", cwd=tmp_path / "k8s")
    assert same.returncode == 0 and same.stdout == "", same.stdout
    assert "no problems in 1 file, 1 baselined" in same.stderr

    (tmp_path / "k8s" / "api.yaml").write_text(SECOND)
    new = ecrlint("check", "--baseline", "baseline.json", ".", cwd=tmp_path)
    assert new.returncode == 1
    assert [line.split(":")[0] for line in new.stdout.splitlines()] == ["k8s/api.yaml"]

    (tmp_path / "k8s" / "web.yaml").write_text(BAD.replace("nginx:1.25", "123456789012.dkr.ecr.us-east-1.amazonaws.com/web:1.4.2"))
    fixed = ecrlint("check", "--baseline", "baseline.json", "--verbose", "k8s/web.yaml", cwd=tmp_path)
    assert fixed.returncode == 0 and "1 baselined finding is gone" in fixed.stderr


@pytest.mark.parametrize("content, message", [
    (None, "cannot read baseline missing.json"),
    ("{", "missing.json: not a baseline (invalid JSON"),
    ('{"version": 9, "findings": []}', "missing.json: not an ecrlint baseline of version 1"),
])
def test_a_bad_baseline_is_one_line_before_the_run(tmp_path, content, message):
    if content is not None:
        (tmp_path / "missing.json").write_text(content)
    proc = ecrlint("check", "--baseline", "missing.json", ".", cwd=tmp_path)
    assert proc.returncode == 2 and proc.stderr.startswith(f"ecrlint: {message}") and len(proc.stderr.splitlines()) == 1


# --- JSON output and its schema -------------------------------------------------------------------

def _schema(name: str) -> dict:
    shipped = json.loads(resources.files("ecrlint").joinpath(f"data/{name}-schema.json").read_text())
    documented = json.loads((ROOT / "docs" / "schemas" / f"ecrlint-{name}.schema.json").read_text())
    assert shipped == documented, "docs/schemas and the package's schema must be the same file"
    jsonschema.Draft202012Validator.check_schema(shipped)
    return shipped


def test_json_output_validates_against_the_shipped_schema(tmp_path):
    schema = _schema("output")
    for family in ("golden", "images", "iam", "fargate"):
        doc = json.loads(formatter("json")(lint(family, cwd=FIXTURES), cwd=str(FIXTURES)))
        jsonschema.validate(doc, schema)
    assert json.loads((GOLDEN / "golden.json.json").read_text())["version"] == schema["properties"]["version"]["const"]


def test_rules_json_is_versioned_and_validates():
    proc = ecrlint("rules", "--format", "json", cwd=ROOT)
    doc = json.loads(proc.stdout)
    jsonschema.validate(doc, _schema("rules"))
    assert doc["version"] == 1 and doc["rules"][0]["id"] == "ECR001"


# --- formats for GitLab ---------------------------------------------------------------------------

def test_gitlab_paths_are_relative_to_the_repository_root(tmp_path):
    (tmp_path / ".git").mkdir()
    (tmp_path / "k8s").mkdir()
    (tmp_path / "k8s" / "web.yaml").write_text(BAD + "---\n" + SECOND)
    proc = ecrlint("check", "--format", "gitlab", ".", cwd=tmp_path / "k8s")
    issues = json.loads(proc.stdout)
    assert [(i["check_name"], i["location"]["path"], i["location"]["lines"]["begin"]) for i in issues] == [
        ("ECR101", "k8s/web.yaml", 7), ("ECR101", "k8s/web.yaml", 15)]
    assert len({i["fingerprint"] for i in issues}) == 2


def test_junit_is_well_formed_xml_even_for_hostile_names(tmp_path):
    import xml.etree.ElementTree as ET

    name = "a<&\"'>\x1b.yaml"
    (tmp_path / name).write_text(BAD)
    proc = ecrlint("check", "--format", "junit", ".", cwd=tmp_path)
    suite = ET.fromstring(proc.stdout).find("testsuite")
    assert suite is not None and suite.get("failures") == "1"
    case = suite.find("testcase")
    assert case is not None and case.get("classname") == "a<&\"'>\\x1b.yaml"
    clean = ecrlint("check", "--format", "junit", "--exit-zero", "nothing.yaml", cwd=tmp_path)
    assert ET.fromstring(clean.stdout).find("testsuite").get("failures") == "1"  # the missing path is ECR001


# --- progress -------------------------------------------------------------------------------------

def _with_pty(args: list[str], cwd: Path, env: dict) -> tuple[int, str]:
    import pty

    leader, follower = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "ecrlint", *args], cwd=cwd, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=follower, env={**os.environ, **env})
    os.close(follower)
    chunks = []
    while True:
        try:
            data = os.read(leader, 4096)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    proc.wait(timeout=120)
    os.close(leader)
    return proc.returncode, b"".join(chunks).decode("utf-8", "replace")


def test_progress_on_a_terminal_only(tmp_path):
    (tmp_path / "pod.yaml").write_text(BAD)
    # ECRLINT_PROGRESS_AFTER=0: the delay (2 s) is not what is tested, the output is
    code, err = _with_pty(["check", "--exit-zero", "."], tmp_path, {"ECRLINT_PROGRESS_AFTER": "0", "TERM": "xterm"})
    assert code == 0
    assert "ecrlint: " in err and "\r\x1b[K" in err, err
    assert err.rstrip().endswith("ecrlint: 1 finding (1 error) in 1 file"), err
    # not a terminal: never
    proc = ecrlint("check", "--exit-zero", ".", cwd=tmp_path, env={"ECRLINT_PROGRESS_AFTER": "0"})
    assert "\r" not in proc.stderr and "\x1b" not in proc.stderr
    code, err = _with_pty(["check", "-q", "--exit-zero", "."], tmp_path, {"ECRLINT_PROGRESS_AFTER": "0", "TERM": "xterm"})
    assert err == ""
    # an error line is never erased by the progress line's clean-up
    code, err = _with_pty(["check", "--baseline", "missing.json", "."], tmp_path,
                          {"ECRLINT_PROGRESS_AFTER": "0", "TERM": "xterm"})
    assert code == 2 and err.replace("\r\x1b[K", "\n").splitlines()[-1] == "ecrlint: cannot read baseline missing.json: No such file or directory"


# --- shell completion -----------------------------------------------------------------------------

@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_completion_scripts_golden_and_valid(shell, tmp_path):
    proc = ecrlint("completion", shell, cwd=tmp_path)
    assert proc.returncode == 0
    _golden(f"completion.{shell}", proc.stdout)
    binary = shutil.which(shell)
    if binary is None:
        pytest.skip(f"{shell} is not installed: its syntax is not checked")
    script = tmp_path / f"ecrlint.{shell}"
    script.write_text(proc.stdout)
    check = subprocess.run([binary, "-n", str(script)], capture_output=True, text=True, timeout=60)
    assert check.returncode == 0, check.stderr


def test_bash_completion_completes_commands_options_values_and_rules(tmp_path):
    if shutil.which("bash") is None:
        pytest.skip("bash is not installed")
    script = tmp_path / "c.bash"
    script.write_text(ecrlint("completion", "bash", cwd=tmp_path).stdout)

    def complete(*words: str) -> list[str]:
        code = (f"source {script}; COMP_WORDS=({' '.join(repr(w) for w in words)}); "
                f"COMP_CWORD={len(words) - 1}; _ecrlint; printf '%s\\n' \"${{COMPREPLY[@]}}\"")
        out = subprocess.run(["bash", "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=60).stdout
        return out.split()

    assert complete("ecrlint", "ex") == ["explain"]
    assert complete("ecrlint", "check", "--form") == ["--format"]
    assert complete("ecrlint", "check", "--format", "g") == ["github", "gitlab"]
    assert complete("ecrlint", "check", "--select", "ECR1,image-tag-l") == ["ECR1,image-tag-latest"]
    assert complete("ecrlint", "completion", "f") == ["fish"]


def test_completion_is_a_usage_error_without_a_shell(tmp_path):
    proc = ecrlint("completion", "tcsh", cwd=tmp_path)
    assert proc.returncode == 2 and "did you mean" not in proc.stderr and "one of bash, zsh, fish" in proc.stderr


def test_the_command_line_offers_every_output_format():
    from ecrlint import cli, output

    assert cli.FORMATS == output.FORMATS
