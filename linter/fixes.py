"""``--fix``: apply findings' text replacements, only when unambiguous and only to unchanged files."""

from __future__ import annotations

import hashlib
import os
from typing import Iterable

from .model import Finding, Fix
from .parsing import decode
from .safe_write import write_atomic


class StaleFile(Exception):
    """The file changed between reading and fixing: refuse rather than clobber an edit."""


def _offsets(text: str) -> list[int]:
    starts = [0]
    for i, ch in enumerate(text):
        if ch == "\n":
            starts.append(i + 1)
    return starts


def _index(starts: list[int], line: int, column: int) -> int:
    return starts[line - 1] + column - 1


def apply_fixes(findings: Iterable[Finding], digests: dict[str, str] | None = None) -> int:
    """Apply every fix whose region does not overlap another's; returns how many were applied.

    ``digests`` (path -> sha256 of the bytes the run read) makes a changed file an error.
    """
    by_path: dict[str, list[Fix]] = {}
    for f in findings:
        if f.fix is not None:
            by_path.setdefault(f.fix.path, []).append(f.fix)
    applied = 0
    for path, fixes in sorted(by_path.items()):
        with open(path, "rb") as handle:
            data = handle.read()
        if digests and path in digests and hashlib.sha256(data).hexdigest() != digests[path]:
            raise StaleFile(f"{path} changed since it was read; not fixed")
        text = decode(data)
        starts = _offsets(text)
        edits = sorted({(fx.span, fx.replacement) for fx in fixes}, reverse=True)
        last_start = len(text) + 1
        for span, replacement in edits:
            start = _index(starts, span.line, span.column)
            end = _index(starts, span.end_line, span.end_column)
            if end > last_start:  # overlapping edits are ambiguous: keep the later one only
                continue
            text = text[:start] + replacement + text[end:]
            last_start = start
            applied += 1
        write_atomic(path, text, mode=os.stat(path).st_mode & 0o7777)
    return applied
