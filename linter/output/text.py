"""Text output: one ``path:line:col: ID severity message (name)`` line per finding."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..escape import line_start, visible
from ..model import Finding, Severity

if TYPE_CHECKING:
    from ..engine.options import RunResult

_COLORS = {Severity.ERROR: "\033[31m", Severity.WARNING: "\033[33m", Severity.NOTE: "\033[36m"}
_BOLD, _RESET = "\033[1m", "\033[0m"


def format_line(f: Finding, color: bool = False) -> str:
    # Paths and messages carry file-controlled text: shown with its control characters escaped.
    where = f"{line_start(visible(f.path))}:{f.span.line}:{f.span.column}:"
    message = visible(f.message)
    if color:
        return f"{_BOLD}{where}{_RESET} {_BOLD}{f.rule}{_RESET} {_COLORS[f.severity]}{f.severity.label}{_RESET} {message} ({f.name})"
    return f"{where} {f.rule} {f.severity.label} {message} ({f.name})"


def format_text(result: RunResult, color: bool = False) -> str:
    return "".join(format_line(f, color) + "\n" for f in result.findings)


def summary(result: RunResult) -> str:
    """The one-line summary written to stderr."""
    counts = {s: 0 for s in Severity}
    for f in result.findings:
        counts[f.severity] += 1
    files = f"{result.files} file{'s' if result.files != 1 else ''}"
    extra = f", {len(result.suppressed)} suppressed" if result.suppressed else ""
    if not result.files:
        # Say so: a pre-commit or CI run that read nothing should not look like a clean one.
        return "ecrlint: warning: no files to lint (YAML, JSON or .template files, or Helm charts) in the paths given"
    if not result.findings:
        return f"ecrlint: no problems in {files}{extra}"
    parts = [f"{counts[s]} {s.label}{'s' if counts[s] != 1 else ''}" for s in (Severity.ERROR, Severity.WARNING, Severity.NOTE) if counts[s]]
    n = len(result.findings)
    return f"ecrlint: {n} finding{'s' if n != 1 else ''} ({', '.join(parts)}) in {files}{extra}"
