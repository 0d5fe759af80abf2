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


def format_text(result: RunResult, color: bool = False, show_source: bool = False,
                skip_source: frozenset[str] = frozenset()) -> str:
    """One line per finding; with ``show_source``, each followed by a code frame of its line.

    ``skip_source``: paths whose text on disk is not what was linted (standard input)."""
    if not show_source:
        return "".join(format_line(f, color) + "\n" for f in result.findings)
    lines = _SourceLines(result, skip_source)
    out = []
    for f in result.findings:
        out.append(format_line(f, color) + "\n")
        out.append(code_frame(f, lines.get(f.path, f.span.line), color))
    return "".join(out)


class _SourceLines:
    """The lines of linted files, read once each, and only while they still hold what was linted."""

    def __init__(self, result: RunResult, skip: frozenset[str]) -> None:
        self.digests = result.digests
        self.max_bytes = result.config.max_file_size
        self.skip = skip
        self.files: dict[str, list[str] | None] = {}

    def get(self, path: str, line: int) -> str | None:
        if path not in self.files:
            self.files[path] = self._read(path)
        text = self.files[path]
        return text[line - 1] if text is not None and 0 < line <= len(text) else None

    def _read(self, path: str) -> list[str] | None:
        if path in self.skip or path == "-":
            return None
        import hashlib
        import os
        import stat

        try:
            fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
            try:
                if not stat.S_ISREG(os.fstat(fd).st_mode):
                    return None
                data = os.read(fd, self.max_bytes + 1)
            finally:
                os.close(fd)
        except OSError:
            return None
        if len(data) > self.max_bytes:
            return None
        digest = self.digests.get(path)
        if digest is not None and hashlib.sha256(data).hexdigest() != digest:
            return None  # changed since it was linted: no frame rather than a wrong one
        return data.decode("utf-8", "replace").lstrip("\ufeff").splitlines()


def code_frame(f: Finding, source: str | None, color: bool = False) -> str:
    """ruff's and rustc's code frame: the finding's line, with carets under its span."""
    if source is None:
        return ""
    number = str(f.span.line)
    pad = " " * len(number)
    text = source.replace("\t", " ")
    start = min(max(f.span.column, 1), len(text) + 1)
    end = f.span.end_column if f.span.end_line == f.span.line else len(text) + 1
    width = max(1, min(end, len(text) + 1) - start)
    carets = "^" * width
    if color:
        carets = f"{_COLORS[f.severity]}{carets}{_RESET}"
    # The source line is file-controlled: shown with its control characters escaped, which can make
    # it longer than the columns count; the carets then point at the unescaped text's columns.
    return f"{pad} |\n{number} | {visible(text)}\n{pad} | {' ' * (start - 1)}{carets}\n"


def summary(result: RunResult) -> str:
    """The one-line summary written to stderr."""
    counts = {s: 0 for s in Severity}
    for f in result.findings:
        counts[f.severity] += 1
    files = f"{result.files} file{'s' if result.files != 1 else ''}"
    extra = f", {len(result.suppressed)} suppressed" if result.suppressed else ""
    extra += f", {result.baselined} baselined" if result.baselined else ""
    if not result.files:
        # Say so: a pre-commit or CI run that read nothing should not look like a clean one.
        return "ecrlint: warning: no files to lint (YAML, JSON or .template files, or Helm charts) in the paths given"
    if not result.findings:
        return f"ecrlint: no problems in {files}{extra}"
    parts = [f"{counts[s]} {s.label}{'s' if counts[s] != 1 else ''}" for s in (Severity.ERROR, Severity.WARNING, Severity.NOTE) if counts[s]]
    n = len(result.findings)
    return f"ecrlint: {n} finding{'s' if n != 1 else ''} ({', '.join(parts)}) in {files}{extra}"


def statistics(result: RunResult) -> list[tuple[str, str, str, int]]:
    """(rule, name, severity, count) per rule, the most frequent first (ruff's --statistics)."""
    counts: dict[tuple[str, str, str], int] = {}
    for f in result.findings:
        key = (f.rule, f.name, f.severity.label)
        counts[key] = counts.get(key, 0) + 1
    return sorted(((r, n, s, c) for (r, n, s), c in counts.items()), key=lambda t: (-t[3], t[0], t[2]))


def format_statistics(result: RunResult) -> str:
    rows = statistics(result)
    width = max((len(str(c)) for *_x, c in rows), default=1)
    return "".join(f"{c:>{width}}  {r}  {s:<7}  {n}\n" for r, n, s, c in rows)
