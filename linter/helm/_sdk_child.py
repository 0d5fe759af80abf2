"""One chart rendered by helm-python-sdk in a process of its own, inside resource limits.

Run by ``external.render_sdk`` as ``python -I -S <this file>``, never imported by ecrlint itself:
the chart's author controls the templates, and Helm's Go runtime has no budget of its own (a
self-referential ``tpl`` overflows Go's stack and aborts the process, a loop runs for minutes, a
string doubled in a loop takes gigabytes). Here such a chart can only end this process.

Standard library only (plus helm_python), so that ``-I -S`` works: no site-packages, no user
site, no PYTHON* variables and, above all, not the current directory on sys.path - a scanned
repository may hold a ``json.py``. The parent passes the directory it found helm_python in.

Protocol: one JSON request on stdin, one JSON reply on stdout.
  request: {"chart", "archive" (base64 .tgz or null), "values", "release", "namespace",
            "cpu_seconds", "memory_bytes", "max_output", "parent", "sdk_path"}
  reply:   {"status": "ok", "outputs": {...}} | {"status": "error", "text": "<Helm's error>"}
           | {"status": "unavailable", "message": ...} | {"status": "oversize", "chars": N}
           | {"status": "overrun", "budget": "memory"}; each with "stats" (peak RSS, CPU time).
"""

from __future__ import annotations

import base64
import json
import os
import sys
import time
from typing import Any

# Prepared up front: the reply after a MemoryError must not need memory of its own.
_MEMORY_REPLY = b'{"status": "overrun", "budget": "memory"}'


def _confine(request: dict[str, Any]) -> None:
    """Limits first: nothing of the chart has been read yet."""
    try:
        import resource
    except ImportError:  # not POSIX: the parent's wall-clock timeout is the only budget
        return

    def lower(limit: int, value: int, slack: int = 0) -> None:
        """Never raises a limit the user already set lower (``ulimit``)."""
        infinity = resource.RLIM_INFINITY
        soft, hard = resource.getrlimit(limit)
        new_hard = value + slack if hard == infinity else min(hard, value + slack)
        new_soft = min(value, new_hard) if soft == infinity else min(soft, value, new_hard)
        resource.setrlimit(limit, (new_soft, new_hard))

    # CPU time of all threads (Go's GC runs in parallel): SIGXCPU at the limit, SIGKILL 2 s later
    # should anything catch SIGXCPU.
    lower(resource.RLIMIT_CPU, int(request["cpu_seconds"]), 2)
    # Private writable memory (Go's heap, thread stacks, malloc) rather than address space: Go
    # and glibc reserve about 1.7 GB of PROT_NONE address space up front, more with more cores,
    # which RLIMIT_AS would count and RLIMIT_DATA does not (Linux >= 4.7; macOS does not enforce
    # it for mmap, leaving the CPU and wall-clock budgets there).
    lower(resource.RLIMIT_DATA, int(request["memory_bytes"]))
    lower(resource.RLIMIT_CORE, 0)  # Go aborts on a fatal error: no core file in the temp dir
    if sys.platform.startswith("linux"):
        try:  # die with the parent (a killed ecrlint must not leave a render running)
            import ctypes
            import signal

            ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            pass
        if os.getppid() != request.get("parent"):
            sys.exit(3)  # the parent is already gone
    # Elsewhere an orphaned child runs at most until its CPU limit.


def _stats(started: float) -> dict[str, Any]:
    out: dict[str, Any] = {"seconds": round(time.perf_counter() - started, 4)}
    try:
        import resource

        usage = resource.getrusage(resource.RUSAGE_SELF)
        out["cpu"] = round(usage.ru_utime + usage.ru_stime, 4)
        out["maxrss_kb"] = usage.ru_maxrss
    except ImportError:
        pass
    try:  # Linux: what RLIMIT_DATA counts
        with open("/proc/self/status", encoding="ascii", errors="replace") as status:
            for line in status:
                if line.startswith("VmData:"):
                    out["vmdata_kb"] = int(line.split()[1])
    except (OSError, ValueError):
        pass
    return out


def _render(request: dict[str, Any]) -> dict[str, Any]:
    sdk_path = request.get("sdk_path")
    if sdk_path and sdk_path not in sys.path:
        sys.path.append(sdk_path)  # after the standard library: it cannot shadow json or os
    try:
        import helm_python
    except Exception as exc:  # noqa: BLE001 - a broken native library: the parent falls back
        return {"status": "unavailable", "message": f"helm-python-sdk cannot be loaded: {exc}"}
    try:
        if request.get("archive"):  # a rewritten copy of the chart (sdk_determinism), in memory
            loaded = helm_python.Chart.load_archive(base64.b64decode(request["archive"]))
        else:
            loaded = helm_python.Chart.load(request["chart"])
        with loaded as chart:
            outputs = chart.render(
                request.get("values") or None, name=request["release"], namespace=request["namespace"]
            )
    except helm_python.HelmError as exc:
        return {"status": "error", "text": str(getattr(exc, "detail", None) or exc)}
    except (OSError, ValueError) as exc:
        return {"status": "unavailable", "message": f"helm-python-sdk failed: {exc}"}
    chars = sum(len(text) for text in outputs.values())
    if chars > int(request["max_output"]):
        return {"status": "oversize", "chars": chars}
    return {"status": "ok", "outputs": outputs}


def main() -> int:
    started = time.perf_counter()
    request = json.loads(sys.stdin.buffer.read())
    _confine(request)
    try:
        reply = _render(request)
        reply["stats"] = _stats(started)
        data = json.dumps(reply).encode("ascii")
    except MemoryError:
        data = _MEMORY_REPLY
    sys.stdout.buffer.write(data)
    sys.stdout.buffer.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
