"""One way to show file-controlled text on a terminal or in a CI log: control characters made visible.

Everything a scanned repository controls (file names, image strings, config keys, template output)
can reach a finding message or a stderr line. Printed as is, ESC/OSC sequences would drive the
reader's terminal, a CR would overwrite a line, a newline would forge a finding line, and a line
starting with ``::`` (or holding ``##[``) would be a GitHub Actions workflow command
(``::add-mask::``, ``::error``; see the runner's ActionCommand parser). ``visible`` turns each of
those into inert, readable text; JSON and SARIF escape through their encoders and use ``no_surrogates``.
"""

from __future__ import annotations

import re

# C0 and C1 controls, DEL, the Unicode line and paragraph separators, the bidirectional overrides
# and isolates ("Trojan Source", CVE-2021-42574) and every lone surrogate: a file name that is not
# UTF-8 arrives as U+DC80..U+DCFF through Python's surrogateescape, and no encoder can write it.
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069\ud800-\udfff]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t", "\x1b": "\\x1b"}
# GitHub's runner still parses the legacy ``##[command]`` form anywhere in a line.
_LEGACY_COMMAND = "##["


def _one(match: re.Match[str]) -> str:
    char = match.group()
    named = _NAMED.get(char)
    if named is not None:
        return named
    code = ord(char)
    if 0xDC80 <= code <= 0xDCFF:  # an undecodable byte of a file name: show that byte
        return f"\\x{code - 0xDC00:02x}"
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def visible(text: str) -> str:
    """``text`` with every control character written as an escape (``\\x1b``, ``\\r``, ``\\n``)."""
    if _UNSAFE.search(text) is not None:
        text = _UNSAFE.sub(_one, text)
    if _LEGACY_COMMAND in text:
        text = text.replace(_LEGACY_COMMAND, "##\\[")
    return text


def line_start(text: str) -> str:
    """A path that begins a printed line: never the start of a workflow command (``::``)."""
    if text.lstrip().startswith("::"):
        return "./" + text
    return text


def no_surrogates(text: str) -> str:
    """For JSON and SARIF: undecodable file-name bytes as ``\\xNN`` text; all else untouched."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return re.sub("[\ud800-\udfff]", _one, text)
    return text


def no_surrogates_in(value: object) -> object:
    """``no_surrogates`` over every string of a JSON-able document (keys included)."""
    if isinstance(value, str):
        return no_surrogates(value)
    if isinstance(value, dict):
        return {no_surrogates_in(k): no_surrogates_in(v) for k, v in value.items()}
    if isinstance(value, list):
        return [no_surrogates_in(v) for v in value]
    return value


def dump_json(doc: object) -> str:
    """``json.dumps`` for reports: readable UTF-8, and never a lone surrogate that no writer can encode."""
    import json

    text = json.dumps(doc, indent=2, ensure_ascii=False)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # rare: an undecodable file name; clean the whole document once
        text = json.dumps(no_surrogates_in(doc), indent=2, ensure_ascii=False)
    return text + "\n"


def uri_bytes(path: str) -> bytes:
    """The bytes a (possibly undecodable) path names, for percent-encoding into a URI."""
    try:
        return path.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:  # a surrogate that is not an escaped byte: keep it visible instead
        return no_surrogates(path).encode("utf-8")
