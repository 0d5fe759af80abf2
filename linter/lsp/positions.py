"""ecrlint spans (1-based, lines broken as libyaml breaks them, columns in code points) as LSP positions."""

from __future__ import annotations

import re
from bisect import bisect_right

from ..model import Span
from ..parsing import line_starts

# LSP breaks lines at CRLF, CR and LF only; the parser (libyaml) also at NEL, LS and PS.
_LSP_BREAK = re.compile("\r\n|[\r\n]")

UTF8, UTF16, UTF32 = "utf-8", "utf-16", "utf-32"


class LineIndex:
    """Converts between ecrlint's spans and LSP (line, character) positions for one text.

    ``encoding`` is the negotiated LSP position encoding: "utf-16" (the protocol's default: a
    character outside the BMP counts twice), "utf-8" (bytes) or "utf-32" (code points).
    """

    def __init__(self, text: str, encoding: str = UTF16) -> None:
        self.text = text
        self.encoding = encoding
        self._parser = line_starts(text)
        self._lsp = [0] + [m.end() for m in _LSP_BREAK.finditer(text)]
        # Most files are ASCII: then every unit count is the code point count.
        self._simple = text.isascii() or (encoding == UTF16 and not any(ord(c) > 0xFFFF for c in text)) \
            or encoding == UTF32

    def offset(self, line: int, column: int) -> int:
        """The character offset of a 1-based parser (line, column), clamped into the text."""
        if line < 1:
            return 0
        if line > len(self._parser):
            return len(self.text)
        start = self._parser[line - 1]
        end = self._parser[line] if line < len(self._parser) else len(self.text)
        return min(start + max(column, 1) - 1, end)

    def position(self, offset: int) -> tuple[int, int]:
        """The 0-based LSP (line, character) of a character offset."""
        offset = max(0, min(offset, len(self.text)))
        line = bisect_right(self._lsp, offset) - 1
        start = self._lsp[line]
        return line, self._units(self.text[start:offset])

    def range(self, span: Span) -> tuple[tuple[int, int], tuple[int, int]]:
        """An ecrlint span as an LSP range; an empty or inverted span covers at least one character."""
        start = self.offset(span.line, span.column)
        end = self.offset(span.end_line, span.end_column)
        if end <= start:
            end = min(start + 1, self._line_end(start))
        return self.position(start), self.position(end)

    def lsp_offset(self, line: int, character: int) -> int:
        """The character offset of a 0-based LSP position (clamped to its line)."""
        if line < 0:
            return 0
        if line >= len(self._lsp):
            return len(self.text)
        start = self._lsp[line]
        end = self._line_end(start)
        if self._simple:
            return min(start + max(character, 0), end)
        units = 0
        for i in range(start, end):
            if units >= character:
                return i
            units += self._units(self.text[i])
        return end

    def parser_line(self, offset: int) -> int:
        """The 1-based parser line of a character offset (what suppression comments count)."""
        return bisect_right(self._parser, offset)

    def parser_line_text(self, line: int) -> tuple[int, str]:
        """(offset of the line's start, its text without the line break) for a 1-based parser line."""
        start = self.offset(line, 1)
        end = self._parser[line] if 1 <= line < len(self._parser) else len(self.text)
        text = self.text[start:end]
        return start, text.rstrip("\r\n\x85\u2028\u2029")

    def _line_end(self, offset: int) -> int:
        """The offset of the LSP line break (or the end of text) at or after ``offset``."""
        line = bisect_right(self._lsp, offset) - 1
        end = self._lsp[line + 1] if line + 1 < len(self._lsp) else len(self.text)
        while end > self._lsp[line] and self.text[end - 1] in "\r\n":
            end -= 1
        return max(end, offset)

    def _units(self, text: str) -> int:
        if self._simple or not text:
            return len(text)
        if self.encoding == UTF8:
            return len(text.encode("utf-8", "surrogatepass"))
        return len(text) + sum(1 for c in text if ord(c) > 0xFFFF)
