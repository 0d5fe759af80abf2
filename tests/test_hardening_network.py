"""No network, provably (issue 8.3): the guards themselves work, and whole lint runs pass under them.

The session-wide Python guard (conftest.py) covers every in-process lint of the suite. The kernel guard
(seccomp, ``conftest_network.seal``) covers what Python cannot see: native code such as the Go library
behind helm-python-sdk, and every process a run forks or execs. Each proof pairs a guarded attempt
with an unguarded control against a loopback listener owned by the test, so a guard that silently
did nothing would fail the test rather than pass it.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import socket
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from pathlib import Path

import pytest

import conftest_network
from conftest_network import GUARD, NetworkBlocked, seccomp_available, sealed
from helpers import FIXTURES, SHARED

ROOT = Path(__file__).resolve().parent.parent
needs_seccomp = pytest.mark.skipif(not seccomp_available(), reason="seccomp-bpf needs Linux on x86_64 or aarch64")


class Listener:
    """A loopback TCP server that counts connections: the witness that nothing got through."""

    def __init__(self) -> None:
        self._mp_socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._mp_socket.bind(("127.0.0.1", 0))  # bind/listen/accept are local; the guard blocks outgoing
        self._mp_socket.listen(16)
        self.port = self._mp_socket.getsockname()[1]
        self.hits = 0
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self._mp_socket.accept()
            except OSError:
                return
            self.hits += 1
            conn.close()

    def close(self) -> None:
        self._mp_socket.close()


@pytest.fixture
def listener():
    if conftest_network.SESSION_SEALED:
        pytest.skip("ECRLINT_TEST_SEAL=1: the whole session is sealed, so no loopback witness can be opened")
    server = Listener()
    yield server
    server.close()


def _attempt_connect(port: int) -> str:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=5).close()
    except OSError as exc:
        return type(exc).__name__
    return "connected"


def test_python_guard_blocks_connections_lookups_and_datagrams(listener):
    with GUARD.expecting() as made:
        with pytest.raises(NetworkBlocked):
            socket.create_connection(("127.0.0.1", listener.port), timeout=5)
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            with pytest.raises(NetworkBlocked):
                s.connect(("127.0.0.1", listener.port))
            with pytest.raises(NetworkBlocked):
                s.connect_ex(("127.0.0.1", listener.port))
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
            with pytest.raises(NetworkBlocked):
                u.sendto(b"x", ("127.0.0.1", listener.port))
        with pytest.raises(NetworkBlocked):
            socket.getaddrinfo("example.com", 443)
        with pytest.raises((NetworkBlocked, urllib.error.URLError)):
            urllib.request.urlopen(f"http://127.0.0.1:{listener.port}/", timeout=5)
        # code that swallows the error is still caught: the attempt is recorded
        try:
            socket.create_connection(("127.0.0.1", listener.port), timeout=5)
        except OSError:
            pass
    assert len(made) >= 7, made
    assert listener.hits == 0


def test_python_guard_allows_local_ipc_only():
    # AF_UNIX is process plumbing (multiprocessing, resource trackers), not network
    a, b = socket.socketpair(socket.AF_UNIX)
    with a, b:
        a.sendall(b"ping")
        assert b.recv(4) == b"ping"


def test_python_guard_covers_forked_jobs_workers(listener):
    # ``--jobs N`` forks workers: they inherit the patched socket module
    ctx = multiprocessing.get_context("fork")
    with ctx.Pool(1) as pool:
        outcome = pool.apply(_attempt_connect, (listener.port,))
    assert outcome == "NetworkBlocked"
    assert listener.hits == 0


def _child(code: str, guard: str | None = None, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-c", code]
    if guard is not None:
        command = sealed(command, kill=guard == "kill")
    return subprocess.run(command, capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"})


@needs_seccomp
def test_kernel_guard_blocks_python_sockets_and_a_control_gets_through(listener):
    code = f"import socket; socket.create_connection(('127.0.0.1', {listener.port}), timeout=5); print('connected')"
    control = _child(code)
    assert control.stdout.strip() == "connected" and listener.hits == 1
    refused = _child(code, guard="errno")
    assert refused.returncode == 1 and "Operation not permitted" in refused.stderr
    killed = _child(code, guard="kill")
    assert killed.returncode == -signal.SIGSYS
    assert listener.hits == 1


@needs_seccomp
def test_kernel_guard_blocks_native_code_in_helms_go_library(listener):
    # helm-python-sdk's Go runtime opens its own sockets: only the kernel layer can see them
    pytest.importorskip("helm_python", reason="helm-python-sdk (the ecrlint[helm] extra) is not installed")
    code = (
        "import helm_python.registry as r, tempfile\n"
        "try:\n"
        f"    r.pull('oci://127.0.0.1:{listener.port}/charts/x', version='1.0.0', plain_http=True,"
        " destination=tempfile.mkdtemp())\n"
        "except Exception as e:\n"
        "    print(type(e).__name__, e)\n"
    )
    control = _child(code)
    assert listener.hits >= 1, control.stdout + control.stderr
    before = listener.hits
    refused = _child(code, guard="errno")
    assert "operation not permitted" in refused.stdout, refused.stdout + refused.stderr
    assert listener.hits == before


CHART_YAML = "apiVersion: v2\nname: web\nversion: 0.1.0\nappVersion: '1.0'\n"
VALUES = "image:\n  repository: nginx\n  tag: '1.25'\n"
TEMPLATE = """apiVersion: apps/v1
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


def _chart(root: Path) -> Path:
    chart = root / "web"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text(CHART_YAML)
    (chart / "values.yaml").write_text(VALUES)
    (chart / "templates" / "deployment.yaml").write_text(TEMPLATE)
    return chart


def _sealed_check(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        sealed([sys.executable, "-m", "ecrlint", "check", "--format", "json", "--exit-zero", *args]),
        cwd=cwd, capture_output=True, text=True, timeout=300,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1", "HOME": str(cwd)},
    )


@needs_seccomp
@pytest.mark.parametrize("engine", ["builtin", "sdk"])
def test_helm_rendering_runs_sealed(tmp_path, engine):
    if engine == "sdk":
        pytest.importorskip("helm_python", reason="helm-python-sdk (the ecrlint[helm] extra) is not installed")
    _chart(tmp_path)
    proc = _sealed_check(["--helm-engine", engine, "web"], tmp_path)
    assert proc.returncode == 0, f"killed or failed (SIGSYS is -31): {proc.returncode}\n{proc.stderr}"
    findings = json.loads(proc.stdout)["findings"]
    rules = {(f["rule"], f["path"], f["line"]) for f in findings}
    assert not any(f["rule"] == "ECR401" for f in findings), findings
    # the rendered image "nginx:1.25" is traced back to the values.yaml line that the user edits
    assert ("ECR101", "web/values.yaml", 2) in rules, findings


@pytest.mark.slow
@needs_seccomp
def test_whole_lint_of_fixtures_examples_and_corpus_runs_sealed(tmp_path):
    paths = [str(FIXTURES), str(ROOT / "examples")]
    if (SHARED / "corpus").is_dir():  # optional: the shared real-world corpus
        paths.append(str(SHARED / "corpus"))
    proc = _sealed_check(["--jobs", "2", *paths], tmp_path)
    assert proc.returncode == 0, f"killed or failed (SIGSYS is -31): {proc.returncode}\n{proc.stderr[-2000:]}"
    report = json.loads(proc.stdout)
    assert report["summary"]["files"] > 10
