"""Safe on untrusted pull requests: helm-python-sdk renders each chart in a budgeted child process.

The chart's author controls the templates; Helm's Go engine has no limits of its own. A chart
that recurses, loops or allocates without end must cost one ECR401 for that chart - not the run
(a Go stack overflow used to abort ecrlint with exit 134 and no report), not minutes, not
gigabytes, and never a process left running. And a chart that calls Helm's clock or random
functions must render the same on every run.

Runs go through the real CLI in a child process (a crash must fail the test, not the session) with
the budgets lowered by patching external's constants there: the parent sends them to each render
child in its request. No assertion is about time; HANG_GUARD only turns a hang into a failure.
"""

from __future__ import annotations

import base64
import io
import json
import os
import signal
import subprocess
import sys
import tarfile
import time
from pathlib import Path
from typing import Any

import pytest

HANG_GUARD = 180  # seconds; a hung run is a failure (not a timing assertion)
CHILD_MARK = "_sdk_child"  # in the command line of every render child
# Small budgets keep the suite fast; a normal chart needs ~0.1 s of CPU and ~150 MB of VmData.
TEST_BUDGETS = {"SDK_CPU_SECONDS": 3, "SDK_WALL_SECONDS": 20, "SDK_MEMORY_BYTES": 768 * 1024**2}

# The render child ignores its arguments: MARK in its command line tells this test's children apart.
_CLI = """
import sys
import ecrlint.helm.external as external
for name, value in {budgets!r}.items():
    setattr(external, name, value)
command = external.sdk_child_command
external.sdk_child_command = lambda: [*command(), {mark!r}]
from ecrlint.cli import main
sys.exit(main(sys.argv[1:]))
"""

CHART_YAML = "apiVersion: v2\nname: {name}\nversion: 1.0.0\n"
DEPLOYMENT = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .Release.Name }}-web
spec:
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
        - name: web
          image: "{{ .Values.image.repository }}:{{ .Values.image.tag }}"
"""
# The three attacks of the issue.
SELF_TPL = {"values.yaml": "a: '{{ tpl .Values.a . }}'\n", "templates/x.yaml": "{{ tpl .Values.a . }}\n"}
CPU_HOG = {"templates/x.yaml": "{{- range until 99999 }}{{- range until 99999 }}{{- end }}{{- end }}\n"}
MEMORY_HOG = {"templates/x.yaml": '{{- $s := "xxxxxxxxxxxxxxxx" }}{{- range until 40 }}{{- $s = print $s $s }}{{- end }}{{ len $s }}\n'}


def _chart(root: Path, name: str, files: dict[str, str]) -> Path:
    chart = root / name
    for rel, text in {"Chart.yaml": CHART_YAML.format(name=name), **files}.items():
        path = chart / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return chart


def _web(root: Path, name: str = "web") -> Path:
    return _chart(root, name, {
        "values.yaml": "image:\n  repository: nginx\n  tag: '1.25'\n",
        "templates/deployment.yaml": DEPLOYMENT,
    })


def _pod(root: Path) -> Path:
    path = root / "k8s" / "pod.yaml"
    path.parent.mkdir(parents=True)
    path.write_text("apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n    - name: c\n      image: nginx:1.25\n")
    return path


def _mark(tmp_path: Path) -> str:
    return f"--ecrlint-test={tmp_path}"


def _cli(tmp_path: Path, budgets: dict[str, Any]) -> list[str]:
    return [sys.executable, "-I", "-c", _CLI.format(budgets=budgets, mark=_mark(tmp_path))]


def _children(tmp_path: Path) -> list[int]:
    """Render children of this test's runs still alive (zombies are dead: only not reaped yet)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            args = (entry / "cmdline").read_bytes().split(b"\0")
            stat = (entry / "stat").read_text()
        except OSError:
            continue  # gone meanwhile
        ours = _mark(tmp_path).encode() in args and any(CHILD_MARK.encode() in a for a in args)
        if ours and stat[stat.rindex(")") + 2] != "Z":
            found.append(int(entry.name))
    return found


def _session(sid: int) -> list[int]:
    """Processes still in session ``sid`` (the run's --jobs workers would be)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()  # after "pid (comm) ": state ppid pgrp session
        if int(fields[3]) == sid and fields[0] != "Z":
            found.append(int(entry.name))
    return found


def _check(tmp_path: Path, *args: str, budgets: dict[str, Any] | None = None) -> tuple[int, dict[str, Any], str]:
    """``ecrlint check --format json ARGS`` from tmp_path/repo in a process of its own: (exit code, report, stderr)."""
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    command = [*_cli(tmp_path, budgets or TEST_BUDGETS), "check", "--format", "json", "--helm-engine", "sdk", *args]
    proc = subprocess.Popen(command, cwd=tmp_path / "repo", stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=env, start_new_session=True)
    try:
        out, err = proc.communicate(timeout=HANG_GUARD)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        pytest.fail(f"the run hung (no result after {HANG_GUARD} s)")
    assert not _children(tmp_path), "a render child outlived the run"
    assert not _session(proc.pid), "a worker outlived the run"
    try:
        report = json.loads(out)
    except ValueError:
        pytest.fail(f"no report (exit code {proc.returncode}): {err[-3000:]}")
    return proc.returncode, report, err


def _findings(report: dict[str, Any]) -> list[tuple[str, str, str]]:
    return [(f["rule"], f["path"], f["message"]) for f in report["findings"]]


def _budget_error(report: dict[str, Any], chart: str, *budgets: str) -> None:
    """One ECR401 for the chart, naming one of ``budgets``."""
    errors = [f["message"] for f in report["findings"] if f["rule"] == "ECR401" and f["path"].startswith(f"{chart}/")]
    assert len(errors) == 1, _findings(report)
    assert any(f"render budget ({budget})" in errors[0] for budget in budgets), errors


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    pytest.importorskip("helm_python", reason="helm-python-sdk (the ecrlint[helm] extra) is not installed")
    if not Path("/proc/self/cwd").exists():
        pytest.skip("needs /proc to look for leftover processes")
    root = tmp_path / "repo"
    root.mkdir()
    return root


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_self_referential_tpl_is_one_ecr401_and_the_run_goes_on(tmp_path, repo, jobs):
    # Used to overflow Go's stack in-process: exit 134, ~4 GB, no report for any file, and with
    # --jobs 2 an orphaned worker. Now: an ECR401 for that chart, everything else as usual.
    _chart(repo, "evil", SELF_TPL)
    _web(repo)
    _pod(repo)
    code, report, err = _check(tmp_path, "--jobs", jobs, ".")
    assert code == 1, err[-3000:]
    # Go's stack grows until the memory limit, its collector burning CPU meanwhile: either may end it.
    _budget_error(report, "evil", "memory", "time")
    rules = {(f["rule"], f["path"]) for f in report["findings"]}
    assert ("ECR101", "web/values.yaml") in rules  # the chart after it rendered, with Helm
    assert ("ECR101", "k8s/pod.yaml") in rules  # and the plain manifest was read


def test_a_cpu_hog_is_an_ecr401_within_the_budget(tmp_path, repo):
    _chart(repo, "hog", CPU_HOG)
    _pod(repo)
    code, report, _err = _check(tmp_path, ".")
    assert code == 1
    _budget_error(report, "hog", "time")
    assert "ECR101" in {f["rule"] for f in report["findings"] if f["path"] == "k8s/pod.yaml"}


def test_the_wall_clock_budget_holds_when_cpu_time_does_not_run_out(tmp_path, repo):
    # A CPU budget above the wall-clock one: only the parent's timeout can stop the loop.
    _chart(repo, "hog", CPU_HOG)
    budgets = {**TEST_BUDGETS, "SDK_CPU_SECONDS": 600, "SDK_WALL_SECONDS": 2}
    code, report, _err = _check(tmp_path, ".", budgets=budgets)
    assert code == 1
    _budget_error(report, "hog", "time")


def test_a_memory_hog_is_an_ecr401(tmp_path, repo):
    # A string doubled in a loop took 7.5 GB.
    _chart(repo, "hog", {**MEMORY_HOG, "values.yaml": "image: {repository: nginx, tag: '1.25'}\n"})
    code, report, _err = _check(tmp_path, ".", budgets={**TEST_BUDGETS, "SDK_CPU_SECONDS": 20})
    assert code == 1
    _budget_error(report, "hog", "memory")
    # No documents: the image blocks of values.yaml are still checked, and no other engine ran.
    assert ("ECR101", "hog/values.yaml") in {(f["rule"], f["path"]) for f in report["findings"]}


def test_an_overrun_is_not_rendered_again_by_the_builtin_engine(repo, monkeypatch):
    from ecrlint.helm import ENGINE_SDK, external, load_chart

    chart = _chart(repo, "hog", CPU_HOG)
    for name, value in {**TEST_BUDGETS, "SDK_CPU_SECONDS": 1}.items():
        monkeypatch.setattr(external, name, value)
    parsed = load_chart(str(chart), "hog", engine="sdk")
    assert parsed.chart.engine == ENGINE_SDK
    assert [e.message for e in parsed.chart.render_errors] == [
        "the chart exceeded the render budget (time): a template loops or recurses for too long"
    ]
    assert not any("built-in engine" in n for n in parsed.chart.notes), parsed.chart.notes


@pytest.mark.parametrize(("child", "message"), [
    ("import os; os.abort()", "the Helm engine crashed (signal 6)"),
    ("import sys; sys.stderr.write('fatal error: concurrent map writes\\n'); sys.exit(2)",
     "the Helm engine crashed (exit code 2): concurrent map writes"),
    ("print('not json')", "the Helm engine crashed (unreadable reply)"),
    ("import sys; sys.stderr.write('fatal error: runtime: out of memory\\n'); sys.exit(2)",
     "the chart exceeded the render budget (memory): a template builds too much data or recurses too deeply"),
])
def test_a_crashed_engine_is_an_ecr401_for_that_chart(repo, monkeypatch, child, message):
    from ecrlint.helm import ENGINE_SDK, external, load_chart

    monkeypatch.setattr(external, "sdk_child_command", lambda: [sys.executable, "-c", child])
    parsed = load_chart(str(_web(repo)), "web", engine="sdk")
    assert parsed.chart.engine == ENGINE_SDK
    assert [e.message for e in parsed.chart.render_errors] == [message]
    assert [v.value for v in parsed.chart.values_images] == ["nginx:1.25"]  # still checked


def test_an_engine_that_cannot_start_falls_back_to_the_builtin_engine(repo, monkeypatch):
    from ecrlint.helm import ENGINE_BUILTIN, external, load_chart

    reply = json.dumps({"status": "unavailable", "message": "helm-python-sdk cannot be loaded: no libhelm_c"})
    monkeypatch.setattr(external, "sdk_child_command", lambda: [sys.executable, "-c", f"print({reply!r})"])
    parsed = load_chart(str(_web(repo)), "web", engine="sdk")
    assert parsed.chart.engine == ENGINE_BUILTIN and not parsed.chart.render_errors
    assert parsed.chart.notes == ["web: helm-python-sdk cannot be loaded: no libhelm_c; rendered with the built-in engine"]
    assert [d.root["spec"]["template"]["spec"]["containers"][0]["image"] for d in parsed.documents] == ["nginx:1.25"]


def test_a_killed_ecrlint_leaves_no_render_running(tmp_path, repo):
    # The render child dies with its parent (PR_SET_PDEATHSIG), not at the end of its budget.
    if not sys.platform.startswith("linux"):
        pytest.skip("PR_SET_PDEATHSIG is Linux only")
    _chart(repo, "hog", CPU_HOG)
    budgets = {**TEST_BUDGETS, "SDK_CPU_SECONDS": 600, "SDK_WALL_SECONDS": 600}
    proc = subprocess.Popen([*_cli(tmp_path, budgets), "check", "--helm-engine", "sdk", "."], cwd=repo,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + HANG_GUARD
        while not _children(tmp_path):
            assert proc.poll() is None and time.monotonic() < deadline, "the render child never started"
            time.sleep(0.05)
        proc.kill()  # SIGKILL: ecrlint cannot clean up after itself
        proc.wait()
        while _children(tmp_path):
            assert time.monotonic() < deadline, "the render child outlived ecrlint"
            time.sleep(0.05)
    finally:
        for pid in _children(tmp_path):
            os.kill(pid, signal.SIGKILL)
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def test_a_normal_chart_renders_exactly_as_the_sdk_renders_it_in_process(tmp_path, repo):
    from ecrlint.helm import external

    chart = _web(repo)
    (chart / "templates" / "cm.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-{{ .Release.Namespace }}\n"
        "data:\n  values: {{ toJson .Values | quote }}\n  chart: {{ .Chart.Name }}-{{ .Chart.Version }}\n"
    )
    values = {"image": {"tag": "1.26"}, "extra": [1, "two", None]}
    # The old way, in a process of its own (Go's runtime must not be loaded into the test session).
    script = (
        "import json, sys, helm_python\n"
        "with helm_python.Chart.load(sys.argv[1]) as c:\n"
        "    print(json.dumps(c.render(json.loads(sys.argv[2]), name='release-name', namespace='default')))\n"
    )
    old = subprocess.run([sys.executable, "-c", script, str(chart), json.dumps(values)], capture_output=True,
                         text=True, timeout=HANG_GUARD, check=True)
    new = external.render_sdk(str(chart), values)
    assert new.error is None and not new.too_large
    assert new.outputs == json.loads(old.stdout)
    code, report, _err = _check(tmp_path, ".")
    assert code == 1
    assert [(f["rule"], f["path"]) for f in report["findings"]] == [("ECR101", "web/values.yaml")]


def test_ecrlint_itself_never_loads_gos_runtime(repo):
    # Go's runtime does not survive fork(): with it out of ecrlint's processes, --jobs workers are safe.
    chart = _web(repo)
    script = (
        "import sys\nfrom ecrlint.helm import load_chart\n"
        "engine = load_chart(sys.argv[1], 'web', engine='sdk').chart.engine\n"
        "print(engine, 'helm_python' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-I", "-c", script, str(chart)], capture_output=True, text=True,
                         timeout=HANG_GUARD, check=True).stdout
    assert out.split() == ["helm-python-sdk", "False"]


def test_the_render_child_ignores_modules_in_its_working_directory(tmp_path, repo):
    # A scanned repository may hold json.py or yaml.py: the child runs with -I -S.
    from ecrlint.helm import external

    chart = _web(repo)
    evil = tmp_path / "evil"
    evil.mkdir()
    for name in ("json", "ctypes", "helm_python", "resource"):
        (evil / f"{name}.py").write_text("raise SystemExit('imported from the working directory')\n")
    request = {"chart": str(chart), "values": None, "release": "r", "namespace": "n", "cpu_seconds": 20,
               "memory_bytes": 1 << 30, "max_output": 1 << 20, "parent": os.getpid(), "sdk_path": external._sdk_path()}
    proc = subprocess.run(external.sdk_child_command(), check=False, input=json.dumps(request), capture_output=True, text=True,
                          cwd=evil, env={"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(evil)}, timeout=HANG_GUARD)
    assert proc.returncode == 0, proc.stderr[-3000:]
    reply = json.loads(proc.stdout)
    assert reply["status"] == "ok" and "web/templates/deployment.yaml" in reply["outputs"]


# --- determinism ---------------------------------------------------------------------------------

NONDETERMINISTIC = """apiVersion: v1
kind: Secret
metadata:
  name: s
  annotations:
    at: {{ now | date "2006-01-02" | quote }}
    year: {{ date "2006" .Values.missing | quote }}
    since: {{ durationRound (toDate "2006-01-02" "1999-12-01") | quote }}
    unix: {{ now.Unix | quote }}
    id: {{ uuidv4 | quote }}
    n: {{ randInt 1 10 | quote }}
data:
  password: {{ randAlphaNum 12 | b64enc | quote }}
  pin: {{ 6 | randNumeric | b64enc | quote }}
  bytes: {{ randBytes 4 | quote }}
  shuffled: {{ shuffle "abc" | b64enc | quote }}
  auth: {{ htpasswd "user" "pass" | b64enc | quote }}
  hash: {{ bcrypt "pass" | b64enc | quote }}
  aes: {{ encryptAES "k" "text" | b64enc | quote }}
  ago: {{ ago now | b64enc | quote }}
  {{- $ca := genCA "x-ca" 365 }}
  {{- $cert := genSignedCert "x" nil (list "x.svc") 365 $ca }}
  ca.crt: {{ $ca.Cert | b64enc | quote }}
  tls.crt: {{ $cert.Cert | b64enc | quote }}
  tls.key: {{ genPrivateKey "rsa" | b64enc | quote }}
  self: {{ (genSelfSignedCert "x" nil nil 365).Key | b64enc | quote }}
  viaTpl: {{ tpl .Values.generated . | b64enc | quote }}
  {{- $now := "field" }}
  untouched: {{ printf "%s %s %s" .Values.now $now "now uuidv4" | quote }} {{/* randAlpha 5 */}}
"""


def _archive(path: Path, name: str, files: dict[str, str]) -> None:
    with tarfile.open(path, "w:gz") as archive:
        for rel, text in {"Chart.yaml": CHART_YAML.format(name=name), **files}.items():
            data = text.encode()
            info = tarfile.TarInfo(f"{name}/{rel}")
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))


def _nondeterministic_chart(repo: Path) -> Path:
    chart = _chart(repo, "gen", {
        "values.yaml": "now: a value named now\ngenerated: '{{ randAlpha 8 }}-{{ uuidv4 }}'\n",
        "templates/secret.yaml": NONDETERMINISTIC,
    })
    (chart / "charts").mkdir()
    _archive(chart / "charts" / "sub-1.0.0.tgz", "sub", {
        "templates/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: sub\ndata:\n  id: {{ uuidv4 | quote }}\n",
    })
    return chart


def _documents(chart: Path, user: Path | None = None) -> tuple[str, Any]:
    from ecrlint.helm import load_chart

    parsed = load_chart(str(chart), "gen", engine="sdk", values_files=[str(user)] if user else ())
    assert parsed.chart.engine == "helm-python-sdk", parsed.chart.notes
    assert not parsed.chart.render_errors, parsed.chart.render_errors
    return json.dumps([(d.path, d.root) for d in parsed.documents], sort_keys=True), parsed


def test_clock_random_and_key_functions_render_the_same_on_every_run(tmp_path, repo, monkeypatch):
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    chart = _nondeterministic_chart(repo)
    user = tmp_path / "user.yaml"
    user.write_text("generated: '{{ randAscii 3 }}'\n")
    first, parsed = _documents(chart)
    second, _ = _documents(chart)
    assert first == second
    assert any("rendered with fixed values" in n for n in parsed.chart.notes), parsed.chart.notes
    by_name = {d.root["metadata"]["name"]: d.root for d in parsed.documents}
    secret = by_name["s"]
    annotations = secret["metadata"]["annotations"]
    assert (annotations["at"], annotations["year"], annotations["since"]) == ("2000-01-01", "2000", "1mo")
    assert secret["metadata"]["annotations"]["id"] == "00000000-0000-4000-8000-000000000000"
    data = {k: base64.b64decode(v).decode() for k, v in secret["data"].items() if k not in ("bytes", "untouched")}
    assert data["password"] == "x" * 12 and data["pin"] == "0" * 6 and data["shuffled"] == "abc"
    assert data["viaTpl"] == "xxxxxxxx-00000000-0000-4000-8000-000000000000"  # values given to tpl
    assert data["ca.crt"].startswith("-----BEGIN CERTIFICATE-----") and data["auth"].startswith("user:$2a$")
    assert secret["data"]["untouched"] == "a value named now field now uuidv4"
    assert by_name["sub"]["data"]["id"] == "00000000-0000-4000-8000-000000000000"  # a .tgz subchart
    # --helm-values strings reach tpl too
    with_user, parsed = _documents(chart, user)
    assert with_user == _documents(chart, user)[0]
    secret = {d.root["metadata"]["name"]: d.root for d in parsed.documents}["s"]
    assert base64.b64decode(secret["data"]["viaTpl"]).decode() == "xxx"
    # SOURCE_DATE_EPOCH sets the time, as for the built-in engine
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    _, parsed = _documents(chart)
    secret = {d.root["metadata"]["name"]: d.root for d in parsed.documents}["s"]
    assert secret["metadata"]["annotations"]["at"] == "2023-11-14"


def test_a_chart_without_such_calls_renders_from_its_own_directory(repo):
    from ecrlint.helm import loader, sdk_determinism

    chart = _web(repo)
    assert sdk_determinism.calls(loader.load(str(chart), "web", 1 << 20), {}) == set()


_NOW = "(toDate `2006-01-02T15:04:05Z07:00` `2000-01-01T00:00:00Z`)"


@pytest.mark.parametrize(("source", "expected"), [
    ("{{ randAlphaNum 5 }}", "{{ include `__ecrlint_nd_letters` 5 }}"),
    ("{{- 5 | randAlpha -}}", "{{- 5 | include `__ecrlint_nd_letters` -}}"),
    ("{{ now.Year }}", f"{{{{ {_NOW}.Year }}}}"),
    ('{{ dateInZone "2006" now "UTC" | quote }}',
     f'{{{{ list "2006" {_NOW} "UTC" | include `__ecrlint_nd_dateInZone` | quote }}}}'),
    ('{{ if (date "2006" .Values.d) }}', '{{ if (list "2006" .Values.d | include `__ecrlint_nd_date`) }}'),
    ('{{ printf "%s" (ago $t) uuidv4 }}',
     '{{ printf "%s" (list $t | include `__ecrlint_nd_ago`) (`00000000-0000-4000-8000-000000000000`) }}'),
    ("{{ .Values.now }} {{ $now }} {{ $x.uuidv4 }} {{ \"now\" }} {{ `now` }} {{/* now */}} {{ 1e5 }}", None),
    ("now {{ nowhere }} {{ randAlphaNumX }} {{ .date }}", None),
    ('{{ printf "}}" }}{{ uuidv4 }}', '{{ printf "}}" }}{{ (`00000000-0000-4000-8000-000000000000`) }}'),
])
def test_the_rewrite_touches_function_calls_only(source, expected, monkeypatch):
    from ecrlint.helm.sdk_determinism import rewrite

    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    text, names = rewrite(source)
    assert text == (expected or source)
    assert bool(names) == (expected is not None)


def test_every_function_the_builtin_engine_fixes_is_fixed_in_the_sdk_too():
    from ecrlint.helm.nondeterministic import NONDETERMINISTIC_FUNCTIONS
    from ecrlint.helm.sdk_determinism import FIXED_BY_THE_CHILD, REWRITTEN

    assert NONDETERMINISTIC_FUNCTIONS <= REWRITTEN | FIXED_BY_THE_CHILD
    assert "derivePassword" not in REWRITTEN  # deterministic: same inputs, same password
