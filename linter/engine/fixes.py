"""``--fix``: apply findings' text replacements, only when unambiguous and only to unchanged files."""

from __future__ import annotations

import codecs
import hashlib
import os
from typing import Callable, Iterable

from ..model import Finding, Fix, Span
from ..parsing import decode, line_starts
from .safe_write import ChangedOnDisk, write_atomic


class StaleFile(Exception):
    """The file changed between reading and fixing: refuse rather than clobber an edit."""


# Longest BOM first: the UTF-32-LE BOM begins with the UTF-16-LE one.
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


def _encoder(data: bytes) -> Callable[[str], bytes]:
    """Encode fixed text exactly as the file was: same encoding, same byte-order mark (or none)."""
    bom, codec = next(((b, c) for b, c in _BOMS if data.startswith(b)), (b"", "utf-8"))
    return lambda text: bom + text.encode(codec)


def _offset(starts: list[int], text: str, line: int, column: int) -> int | None:
    """The character offset of a 1-based (line, column), or None when it is not inside the text."""
    if not 1 <= line <= len(starts) or column < 1:
        return None
    start = starts[line - 1]
    end = starts[line] if line < len(starts) else len(text)
    offset = start + column - 1
    return offset if offset <= end else None


def apply_fixes(findings: Iterable[Finding], digests: dict[str, str] | None = None) -> int:
    """Apply every fix whose region does not overlap another's; returns how many were applied.

    ``digests`` (path -> sha256 of the bytes the run read) makes a changed file an error, and a
    file the run did not read is never written.
    """
    # Links are resolved once: a file read under two names (``link.yaml -> real.yaml`` in the same
    # tree) is one file, fixed once; fixing it under each name would find it "changed" the second time.
    by_path: dict[str, list[Fix]] = {}
    names: dict[str, list[str]] = {}
    for f in findings:
        if f.fix is not None:
            real = os.path.realpath(f.fix.path)
            by_path.setdefault(real, []).append(f.fix)
            if f.fix.path not in names.setdefault(real, []):
                names[real].append(f.fix.path)
    applied = 0
    for path, fixes in sorted(by_path.items()):
        shown = names[path][0]
        with open(path, "rb") as handle:
            read_stat = os.fstat(handle.fileno())
            data = handle.read()
        if digests is not None:
            expected = [digests[n] for n in names[path] if n in digests]
            if not expected:
                raise StaleFile(f"{shown} was not read by this run; not fixed")
            if any(hashlib.sha256(data).hexdigest() != e for e in expected):
                raise StaleFile(f"{shown} changed since it was read; not fixed")
        text = decode(data)
        # Spans count lines the way the parser does (CR, NEL, LS and PS break lines too).
        starts = line_starts(text)
        edits: list[tuple[int, int, Span, str]] = []
        for span, replacement in sorted({(fx.span, fx.replacement) for fx in fixes}, reverse=True):
            start = _offset(starts, text, span.line, span.column)
            end = _offset(starts, text, span.end_line, span.end_column)
            if start is None or end is None or end < start:
                continue  # a span outside the file is a rule bug; never guess where it meant
            edits.append((start, end, span, replacement))
        last_start = len(text) + 1
        changed = False
        for start, end, _span, replacement in sorted(edits, key=lambda e: (e[0], e[1], e[3]), reverse=True):
            if end > last_start:  # overlapping edits are ambiguous: keep the later one only
                continue
            text = text[:start] + replacement + text[end:]
            last_start = start
            applied += 1
            changed = True
        if not changed:
            continue
        try:
            write_atomic(path, _encoder(data)(text), mode=read_stat.st_mode & 0o7777, unchanged_since=read_stat)
        except ChangedOnDisk as exc:
            raise StaleFile(f"{shown}: {exc}; not fixed") from None
    return applied
