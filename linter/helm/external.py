"""Engines outside Python: helm-python-sdk (Helm v4 in a budgeted child process, offline) and a `helm` binary."""

from __future__ import annotations

import base64
import importlib.util
import json
import os
import re
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from typing import Any

from .builtin import MAX_OUTPUT_CHARS, NAMESPACE, RELEASE_NAME

# "execution error at (web/templates/deployment.yaml:67:28): message" / "parse error at (x:2): ..."
_HELM_ERROR = re.compile(r"(?:execution|parse) error at \(([^:()]+):(\d+)(?::(\d+))?\):\s*(.*)", re.S)
_TEMPLATE_ERROR = re.compile(r"template: ([^:\s]+):(\d+):(\d+): (.*)", re.S)
_SOURCE = re.compile(r"^# Source: (.+)$", re.M)
BINARY_TIMEOUT = 60


class EngineUnavailable(Exception):
    """The engine is not installed (or refused to start); the next engine is tried."""


@dataclass
class ExternalResult:
    outputs: dict[str, str] = field(default_factory=dict)
    error: tuple[str, int, int, str] | None = None  # (Helm template name, line, column, message)
    too_large: bool = False  # rendered, but more than the caller's max_output characters
    stats: dict[str, Any] = field(default_factory=dict)  # the SDK child's peak RSS and CPU time


def parse_helm_error(text: str) -> tuple[str, int, int, str] | None:
    """Template, line, column (1-based) and message of a Helm render error, when it names one."""
    m = _HELM_ERROR.search(text)
    if m:
        message = m.group(4).strip()
        inner = _TEMPLATE_ERROR.match(message)
        if inner:  # "template: x:3:5: executing ... error calling fail: boom"
            message = inner.group(4)
        message = re.sub(r"^.*?error calling \w+:\s*", "", message, flags=re.S)
        column = int(m.group(3)) + 1 if m.group(3) else 1  # Go reports a 0-based byte column
        return m.group(1), int(m.group(2)), column, message.strip()
    m = _TEMPLATE_ERROR.search(text)
    if m:
        message = re.sub(r"^.*?error calling \w+:\s*", "", m.group(4), flags=re.S)
        return m.group(1), int(m.group(2)), int(m.group(3)) + 1, message.strip()
    return None


def sdk_available() -> bool:
    """helm-python-sdk is installed: a look at the import path, without loading Go's runtime."""
    return _sdk_path() is not None


def _sdk_path() -> str | None:
    """The directory helm_python is imported from (the child gets it: it runs without site-packages)."""
    try:
        spec = importlib.util.find_spec("helm_python")
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    return os.path.dirname(os.path.abspath(next(iter(spec.submodule_search_locations))))


# --- helm-python-sdk, one child process per chart ---------------------------------------------------
#
# The chart's author controls the templates and Helm's engine has no limits of its own: a
# self-referential `tpl` overflows Go's 1 GB stack and aborts the whole process (exit 134, ~4 GB),
# `range until 99999` nested twice runs for minutes, a string doubled in a loop takes 7.5 GB. So
# each chart renders in a child process (_sdk_child.py) with the budgets below, in a session of its
# own that is killed whole on overrun. This process never loads the Go runtime itself, which also
# makes forking --jobs workers safe (Go's runtime does not survive fork()).
#
# Measured on the 39 real charts of ../shared/charts (2 cores), child start included: 0.06-0.23 s
# of CPU, 68-109 MB peak RSS, 127-177 MB VmData (what RLIMIT_DATA counts); the child costs about
# 80 ms per chart more than the old in-process render (Python's start and loading the 85 MB Go
# library, which the old way paid once per process).

SDK_CPU_SECONDS = 20  # CPU of all the child's threads (Go's GC runs in parallel): ~90x the costliest chart
SDK_WALL_SECONDS = 30  # also bounds a child that waits instead of computing, with slack for a loaded machine
# RLIMIT_DATA (private writable memory: Go's heap, stacks, malloc): ~11x the largest real chart. Not
# RLIMIT_AS: Go and glibc reserve ~1.7 GB of PROT_NONE address space before rendering anything
# (more with more threads), which RLIMIT_AS counts, leaving a normal chart a machine-dependent margin.
SDK_MEMORY_BYTES = 2 * 1024**3
# No GOMEMLIMIT: a soft target below the limit makes Go's GC run ever more often as a runaway
# chart nears it, which only delays the overrun (a self-referential `tpl` took 15 s instead of 6 s).
_SDK_CHILD = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_sdk_child.py")
_STDERR_KEEP = 8 * 1024


class EngineOverrun(Exception):
    """The engine ran out of its budget or crashed on this chart: an ECR401, no other engine.

    The built-in engine is not tried after an overrun: it would run the same runaway templates
    into its own budgets (doubling the time lost on the chart) and report the chart no better.
    A crash counts as an overrun: Go reports stack overflow and most out-of-memory states as fatal
    errors (SIGABRT), which cannot be told apart from a bug with certainty, and the chart is the
    attacker's as often as not. Only an engine that cannot start (EngineUnavailable) falls back.
    """


def render_sdk(
    chart_dir: str, values: dict[str, Any], *, max_output: int = MAX_OUTPUT_CHARS, archive: bytes | None = None,
    release: tuple[str, str] | None = None,
) -> ExternalResult:
    """Render with helm-python-sdk: Helm's own engine, no cluster and no network (lookup is empty).

    ``archive``: the chart as a .tgz to render instead of the directory (sdk_determinism's copy).
    Raises EngineUnavailable (the child could not run Helm: fall back) or EngineOverrun (budget
    or crash: report). Outputs above ``max_output`` characters come back as ``too_large``.
    """
    sdk_path = _sdk_path()
    if sdk_path is None:
        raise EngineUnavailable("helm-python-sdk is not installed")
    request = {
        "chart": os.path.abspath(chart_dir),
        "archive": None if archive is None else base64.b64encode(archive).decode("ascii"),
        "values": values or None,
        "release": (release or (RELEASE_NAME, NAMESPACE))[0],
        "namespace": (release or (RELEASE_NAME, NAMESPACE))[1],
        "cpu_seconds": SDK_CPU_SECONDS,
        "memory_bytes": SDK_MEMORY_BYTES,
        "max_output": max_output,
        "parent": os.getpid(),
        "sdk_path": sdk_path,
    }
    end = _run_child(json.dumps(request).encode("utf-8"))
    # A whole reply counts, however the child ended after writing it (killed on its way out).
    reply = None if end.timed_out else _reply(end.out)
    if reply is None:
        raise EngineOverrun(_failure(end))
    status = reply.get("status")
    result = ExternalResult()
    result.stats = reply.get("stats") or {}
    if status == "ok" and isinstance(reply.get("outputs"), dict):
        result.outputs = reply["outputs"]
    elif status == "error":
        text = str(reply.get("text", ""))
        result.error = parse_helm_error(text) or ("", 1, 1, text.strip())
    elif status == "oversize":
        result.too_large = True
    elif status == "unavailable":
        raise EngineUnavailable(str(reply.get("message", "helm-python-sdk failed")))
    elif status == "overrun":
        raise EngineOverrun(_budget_message(str(reply.get("budget", "memory"))))
    else:
        raise EngineOverrun(_failure(end))
    return result


def _child_env() -> dict[str, str]:
    """What the child needs and no more (like render_binary), and nowhere to write.

    Rendering reads the chart and writes nothing: Helm's directories and HOME are /dev/null, under
    which nothing can be created, and the child works in the root directory. So a run still writes
    nothing but its --output, not even temporary files (tests/test_hardening_writes.py).
    """
    keep = ("PATH", "LANG", "LC_ALL", "LD_LIBRARY_PATH", "SYSTEMROOT", "HELM_C_LIB")
    env = {k: v for k, v in os.environ.items() if k in keep}
    nowhere = os.devnull
    env.update(
        HOME=nowhere, TMPDIR=nowhere, HELM_CACHE_HOME=nowhere, HELM_CONFIG_HOME=nowhere, HELM_DATA_HOME=nowhere,
        HELM_PLUGINS=nowhere, HELM_REPOSITORY_CONFIG=nowhere, HELM_REGISTRY_CONFIG=nowhere, KUBECONFIG=nowhere,
        # `date` formats in the local zone: the same output on every machine
        TZ="UTC",
        # The same threads (and so the same memory) on a 2-core laptop and a 64-core CI runner.
        GOMAXPROCS="2", MALLOC_ARENA_MAX="2",
        GOTRACEBACK="single",
    )
    return env


def sdk_child_command() -> list[str]:
    """-I: no PYTHON* variables, no user site, not the working directory on sys.path; -S: no
    site-packages (.pth files run code). The child is standard library only and is handed
    helm_python's directory."""
    return [sys.executable, "-I", "-S", _SDK_CHILD]


@dataclass
class _Exit:
    """How the render child ended."""

    out: bytes  # its stdout
    returncode: int  # negative: the signal that ended it
    stderr: str  # the first and last _STDERR_KEEP bytes
    timed_out: bool  # killed at SDK_WALL_SECONDS
    cpu: float | None = None  # seconds of CPU, from wait4 (POSIX)
    maxrss: int | None = None  # peak resident memory in bytes, from wait4 (POSIX)


def _run_child(request: bytes) -> _Exit:
    """Run the render child on ``request``; its whole session is gone when this returns."""
    posix = os.name == "posix"
    try:
        proc = subprocess.Popen(
            sdk_child_command(), stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            cwd=os.path.abspath(os.sep), env=_child_env(), start_new_session=posix, close_fds=True,
        )
    except OSError as exc:
        raise EngineUnavailable(f"helm-python-sdk cannot be started: {exc}") from None
    try:
        if posix:
            out, err, timed_out = _exchange(proc, request, time.monotonic() + SDK_WALL_SECONDS)
        else:  # no select() on pipes: communicate, then kill the child itself on timeout
            try:
                out, err = proc.communicate(request, timeout=SDK_WALL_SECONDS)
                timed_out = False
            except subprocess.TimeoutExpired:
                out, err, timed_out = b"", b"", True
    finally:
        # Before the child is reaped, so its process group ID cannot belong to anyone else yet.
        # It is gone or going (its pipes closed), over budget, or this process is being
        # interrupted (KeyboardInterrupt): in every case nothing of it may stay behind. The child
        # starts no processes itself; the group kill is the guarantee should Helm ever do so.
        _kill_session(proc)
        usage = _reap(proc)
        for stream in (proc.stdin, proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()
    result = _Exit(out, proc.returncode, err.decode("utf-8", "replace"), timed_out)
    if usage is not None:
        result.cpu = usage.ru_utime + usage.ru_stime
        result.maxrss = usage.ru_maxrss * (1 if sys.platform == "darwin" else 1024)  # bytes on macOS, KiB elsewhere
    return result


def _reap(proc: subprocess.Popen[bytes]) -> Any:
    """Wait for the child and return its resource usage (None where wait4 does not exist)."""
    if not hasattr(os, "wait4"):
        proc.wait()
        return None
    try:
        _pid, status, usage = os.wait4(proc.pid, 0)
    except ChildProcessError:  # already reaped
        proc.wait()
        return None
    proc.returncode = os.waitstatus_to_exitcode(status)
    return usage


def _exchange(proc: subprocess.Popen[bytes], request: bytes, deadline: float) -> tuple[bytes, bytes, bool]:
    """Write the request, read stdout and stderr until both close (the child exited) or the deadline.

    Returns (stdout, the two ends of stderr, timed out). Go prints "fatal error: ..." first and
    then every goroutine's stack: stderr keeps its first and last _STDERR_KEEP bytes.
    """
    assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
    out: list[bytes] = []
    head, tail, dropped = bytearray(), bytearray(), False
    pending = memoryview(request)
    stdin, stdout, stderr = proc.stdin.fileno(), proc.stdout.fileno(), proc.stderr.fileno()
    os.set_blocking(stdin, False)
    with selectors.DefaultSelector() as selector:
        selector.register(stdin, selectors.EVENT_WRITE)
        selector.register(stdout, selectors.EVENT_READ)
        selector.register(stderr, selectors.EVENT_READ)
        reading = 2
        while reading:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return b"".join(out), bytes(head), True
            for key, _events in selector.select(remaining):
                if key.fd == stdin:
                    try:
                        pending = pending[os.write(stdin, pending[: 1 << 16]) :]
                    except BlockingIOError:
                        continue
                    except BrokenPipeError:  # the child is gone; its exit status says why
                        pending = pending[:0]
                    if not pending:
                        selector.unregister(stdin)
                        proc.stdin.close()
                    continue
                data = os.read(key.fd, 1 << 16)
                if not data:
                    selector.unregister(key.fd)
                    reading -= 1
                elif key.fd == stdout:
                    out.append(data)
                else:
                    room = _STDERR_KEEP - len(head)
                    head += data[:room]
                    tail += data[room:] if room > 0 else data
                    if len(tail) > _STDERR_KEEP:
                        del tail[: len(tail) - _STDERR_KEEP]
                        dropped = True
    return b"".join(out), bytes(head + (b"\n...\n" if dropped else b"") + tail), False


def _kill_session(proc: subprocess.Popen[bytes]) -> None:
    try:
        if os.name == "posix":
            os.killpg(proc.pid, signal.SIGKILL)
        elif proc.poll() is None:
            proc.kill()
    except (ProcessLookupError, PermissionError):
        pass


def _reply(out: bytes) -> dict[str, Any] | None:
    try:
        reply = json.loads(out)
    except (ValueError, UnicodeDecodeError):
        return None
    return reply if isinstance(reply, dict) else None


_OUT_OF_MEMORY = re.compile(
    r"out of memory|cannot allocate memory|MemoryError|stack overflow|goroutine stack exceeds", re.IGNORECASE
)
_FATAL = re.compile(r"^(?:fatal error: |panic: |(?=SIG[A-Z]+: ))(.{1,160})", re.MULTILINE)


_BUDGET_REASON = {
    "time": "a template loops or recurses for too long",
    "memory": "a template builds too much data or recurses too deeply",
}


def _budget_message(budget: str) -> str:
    return f"the chart exceeded the render budget ({budget}): {_BUDGET_REASON.get(budget, 'stopped')}"


def _failure(end: _Exit) -> str:
    """What stopped the child, in words that stay the same from run to run (SARIF fingerprints)."""
    sigxcpu = getattr(signal, "SIGXCPU", None)  # RLIMIT_CPU's signal (POSIX only)
    if end.timed_out or (sigxcpu is not None and end.returncode == -sigxcpu):
        return _budget_message("time")
    if end.cpu is not None and end.cpu >= SDK_CPU_SECONDS:  # SIGKILL at the hard CPU limit
        return _budget_message("time")
    if _OUT_OF_MEMORY.search(end.stderr):  # Go's "fatal error: out of memory" / "stack overflow"
        return _budget_message("memory")
    if end.maxrss is not None and end.maxrss >= SDK_MEMORY_BYTES // 2:
        # Go's runtime does not always die cleanly at the memory limit: its collector has been
        # seen to crash (SIGSEGV) when an allocation fails. A normal chart peaks at ~100 MB.
        return _budget_message("memory")
    fatal = _FATAL.search(end.stderr)
    detail = f": {fatal.group(1).strip()}" if fatal else ""
    if end.returncode < 0:
        return f"the Helm engine crashed (signal {-end.returncode}){detail}"
    if end.returncode != 0:
        return f"the Helm engine crashed (exit code {end.returncode}){detail}"
    return f"the Helm engine crashed ({'unreadable reply' if end.out.strip() else 'no reply'})"


def render_binary(chart_dir: str, values: dict[str, Any], helm: str | None = None,
                  release: tuple[str, str] | None = None) -> ExternalResult:
    """Render with `helm template` (asked for with --helm-engine binary); output split by ``# Source:``."""
    executable = helm or shutil.which("helm")
    if not executable:
        raise EngineUnavailable("no `helm` binary on PATH")
    result = ExternalResult()
    with tempfile.TemporaryDirectory(prefix="ecrlint-helm-") as tmp:
        name, namespace = release or (RELEASE_NAME, NAMESPACE)
        args = [executable, "template", name, chart_dir, "--namespace", namespace]
        if values:
            values_file = os.path.join(tmp, "values.json")  # JSON is YAML; Helm reads it as -f
            with open(values_file, "w", encoding="utf-8") as handle:
                json.dump(values, handle)
            args += ["--values", values_file]
        env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR")}
        # Keep Helm away from the user's repositories, caches and plugins, and off the network.
        env.update(HELM_CACHE_HOME=tmp, HELM_CONFIG_HOME=tmp, HELM_DATA_HOME=tmp, HELM_PLUGINS=tmp,
                   HELM_REPOSITORY_CONFIG=os.path.join(tmp, "repositories.yaml"), KUBECONFIG=os.devnull)
        try:
            proc = subprocess.run(args, capture_output=True, text=True, timeout=BINARY_TIMEOUT, env=env, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise EngineUnavailable(f"`helm template` did not run: {exc}") from None
    if proc.returncode != 0:
        text = proc.stderr.strip() or proc.stdout.strip()
        result.error = parse_helm_error(text) or ("", 1, 1, text.removeprefix("Error: "))
        return result
    result.outputs = split_sources(proc.stdout)
    return result


def split_sources(stream: str) -> dict[str, str]:
    """``helm template`` output back into per-template texts (documents of one template joined)."""
    out: dict[str, str] = {}
    marks = list(_SOURCE.finditer(stream))
    for i, mark in enumerate(marks):
        start = mark.end() + 1
        end = marks[i + 1].start() if i + 1 < len(marks) else len(stream)
        body = stream[start:end]
        body = re.sub(r"\n---\s*$", "\n", body)
        name = mark.group(1).strip()
        out[name] = out[name] + "---\n" + body if name in out else body
    return out

