"""Engines outside Python: helm-python-sdk (Helm v4 in-process, offline) and a `helm` binary."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from typing import Any

from .builtin import NAMESPACE, RELEASE_NAME

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
    try:
        import importlib.util

        return importlib.util.find_spec("helm_python") is not None
    except (ImportError, ValueError):
        return False


_SDK_PID: int | None = None  # the process in which ecrlint loaded Helm's Go runtime
_FORKED_WITH_SDK = False  # this process was forked from one that had helm_python loaded


def _forked_child() -> None:
    global _FORKED_WITH_SDK
    if "helm_python" in sys.modules:
        _FORKED_WITH_SDK = True


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forked_child)


def _load_sdk() -> Any:
    """helm_python, unless this process is a fork of one that had it loaded.

    Go's runtime does not survive fork(): its threads are gone in the child, and the first call
    into the library there waits forever (seen with `--jobs 2` after an in-process run). A fork
    made before the library was loaded imports it afresh, which is safe.
    """
    global _SDK_PID
    if _FORKED_WITH_SDK or (_SDK_PID is not None and _SDK_PID != os.getpid()):
        raise EngineUnavailable("helm-python-sdk was loaded before this worker process was forked")
    try:
        import helm_python
    except Exception as exc:  # noqa: BLE001 - a broken native library must not stop the lint
        raise EngineUnavailable(f"helm-python-sdk cannot be loaded: {exc}") from None
    _SDK_PID = os.getpid()
    return helm_python


def render_sdk(chart_dir: str, values: dict[str, Any]) -> ExternalResult:
    """Render with helm-python-sdk: Helm's own engine, no cluster and no network (lookup is empty)."""
    helm_python = _load_sdk()
    result = ExternalResult()
    try:
        with helm_python.Chart.load(chart_dir) as chart:
            result.outputs = chart.render(values or None, name=RELEASE_NAME, namespace=NAMESPACE)
    except helm_python.HelmError as exc:
        text = str(getattr(exc, "detail", None) or exc)
        result.error = parse_helm_error(text) or ("", 1, 1, text.strip())
    except (OSError, ValueError) as exc:
        raise EngineUnavailable(f"helm-python-sdk failed: {exc}") from None
    return result


def render_binary(chart_dir: str, values: dict[str, Any], helm: str | None = None) -> ExternalResult:
    """Render with `helm template` (asked for with --helm-engine binary); output split by ``# Source:``."""
    executable = helm or shutil.which("helm")
    if not executable:
        raise EngineUnavailable("no `helm` binary on PATH")
    result = ExternalResult()
    with tempfile.TemporaryDirectory(prefix="ecrlint-helm-") as tmp:
        args = [executable, "template", RELEASE_NAME, chart_dir, "--namespace", NAMESPACE]
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

