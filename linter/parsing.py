"""Position-carrying, safe parsing of YAML (libyaml events) and JSON, with CloudFormation short tags."""

from __future__ import annotations

import codecs
import hashlib
import json
import re
from typing import Any, Callable

import yaml
from yaml import events as ev

from .model import BlockSpan, Document, Finding, ParsedFile, Severity, Span, YMap, YSeq

try:  # libyaml's C parser: ~2x faster and bounded nesting depth in C
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover - pure-Python fallback keeps working
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]

DEFAULT_MAX_BYTES = 10 * 1024 * 1024
MAX_DEPTH = 512
# An expanded tree may hold at most this many nodes more than the file itself contains:
# real files reuse anchors a handful of times; a "billion laughs" document multiplies.
MAX_ALIAS_EXPANSION = 200_000

PARSE_ERROR = "ECR001"
PARSE_ERROR_NAME = "parse-error"


class ParseProblem(Exception):
    """A file that cannot be parsed; carries the position for ECR001."""

    def __init__(self, message: str, line: int = 1, column: int = 1) -> None:
        super().__init__(message)
        self.message = message
        self.line = line
        self.column = column


# --- scalar resolution (YAML 1.1 core types, as PyYAML's SafeLoader resolves them) -------------

_BOOLS = {
    "true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False,
    "yes": True, "Yes": True, "YES": True, "no": False, "No": False, "NO": False,
    "on": True, "On": True, "ON": True, "off": False, "Off": False, "OFF": False,
}
# Plain scalars that are not strings and do not start like a number: one dict lookup decides.
_PLAIN_CONSTANTS: dict[str, Any] = {**dict.fromkeys(["~", "null", "Null", "NULL"]), **_BOOLS}
_INT = re.compile(r"[-+]?(?:0|[1-9][0-9_]*)$")
# The last alternative (an exponent without a dot, "1e+21") is not YAML 1.1 but is JSON, and
# the YAML reader of kubectl and Helm (go-yaml) takes it as a number too.
_FLOAT = re.compile(
    r"[-+]?(?:[0-9][0-9_]*)?\.[0-9_]*(?:[eE][-+]?[0-9]+)?$|[-+]?\.(?:inf|Inf|INF)$|\.(?:nan|NaN|NAN)$"
    r"|[-+]?[0-9]+[eE][-+]?[0-9]+$"
)
_NUMERIC_START = frozenset("0123456789+-.")


def _resolve_plain(value: str) -> Any:
    if not value:
        return None
    if value in _PLAIN_CONSTANTS:
        return _PLAIN_CONSTANTS[value]
    if value[0] in _NUMERIC_START:
        if _INT.match(value):
            try:
                return int(value.replace("_", ""))
            except ValueError:  # pragma: no cover - regex guarantees digits
                return value
        if _FLOAT.match(value) and value not in (".", "-", "+"):
            # YAML's .inf/.nan spellings are not Python's: resolve them as PyYAML does
            lowered = value.lower()
            if lowered.endswith(".inf"):
                return float("-inf") if value[0] == "-" else float("inf")
            if lowered == ".nan":
                return float("nan")
            try:
                return float(value.replace("_", ""))
            except ValueError:
                return value
    return value


# libyaml's line breaks (YAML 1.1): CRLF, CR, LF, NEL, LS, PS. Spans count lines this way, so
# whatever turns a span back into an offset (--fix) must count them the same way.
_LINE_BREAK = re.compile("\r\n|[\r\n\x85\u2028\u2029]")
_YAML_ONLY_BREAKS = re.compile("[\x85\u2028\u2029]")  # ordinary characters inside JSON strings


def line_starts(text: str) -> list[int]:
    """Offsets where each line of ``text`` starts, lines broken as libyaml breaks them."""
    return [0] + [m.end() for m in _LINE_BREAK.finditer(text)]


def text_position(text: str, offset: int) -> tuple[int, int]:
    """1-based (line, column) of a character offset, counted like the parser's spans."""
    starts = line_starts(text[:offset])
    return len(starts), offset - starts[-1] + 1


def _span(start: Any, end: Any) -> Span:  # libyaml's marks: yaml.Mark, or the C parser's own
    return Span(start.line + 1, start.column + 1, end.line + 1, end.column + 1)


_STANDARD_TAG = "tag:yaml.org,2002:"
_UNSAFE_TAG = "tag:yaml.org,2002:python/"


def _wrap_tag(tag: str, value: Any, span: Span) -> Any:
    """CloudFormation short form: ``!Ref x`` -> ``{"Ref": x}``, ``!X v`` -> ``{"Fn::X": v}``."""
    name = tag[1:]
    if name == "GetAtt" and isinstance(value, str):
        value = _getatt_list(value, span)
    key = name if name in ("Ref", "Condition") else f"Fn::{name}"
    wrapper = YMap(span)
    wrapper[key] = value
    wrapper.spans[key] = (span, span)
    return wrapper


def _getatt_list(value: str, span: Span) -> YSeq:
    resource, _, attribute = value.partition(".")
    seq = YSeq(span)
    seq.extend([resource, attribute])
    seq.spans.extend([span, span])
    return seq


class _Builder:
    """Builds YMap/YSeq trees from libyaml events without recursion, guarding depth and aliases."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.warnings: list[tuple[str, Span]] = []
        self.text = ""
        self.lines: list[str] | None = None  # split once, at the first literal block scalar

    def build(self, text: str) -> list[tuple[Any, Span]]:
        self.text = text
        loader = _Loader(text)
        docs: list[tuple[Any, Span]] = []
        try:
            self._run(loader, docs)
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            problem = exc.problem or str(exc)
            if exc.context and exc.problem:
                problem = f"{exc.problem} ({exc.context})"
            if mark is None:
                raise ParseProblem(f"invalid YAML: {problem}") from None
            raise ParseProblem(f"invalid YAML: {problem}", mark.line + 1, mark.column + 1) from None
        except yaml.reader.ReaderError as exc:
            # A character YAML forbids (NUL past the binary sniff, other C0/C1 controls): the
            # default message is multi-line and points nowhere, so locate it ourselves.
            offset = exc.position
            if _Loader is getattr(yaml, "CSafeLoader", None):  # libyaml counts UTF-8 bytes
                offset = len(text.encode("utf-8")[:offset].decode("utf-8", "ignore"))
            line, column = text_position(text, offset)
            char = exc.character if isinstance(exc.character, int) else ord(str(exc.character)[:1] or "\0")
            raise ParseProblem(
                f"invalid YAML: control character U+{char:04X} is not allowed; remove it or save the file as text",
                line,
                column,
            ) from None
        except yaml.YAMLError as exc:
            raise ParseProblem(f"invalid YAML: {exc}") from None
        except RecursionError:
            raise ParseProblem(f"nesting deeper than {MAX_DEPTH} levels") from None
        finally:
            loader.dispose()
        return docs

    def _run(self, loader: Any, docs: list[tuple[Any, Span]]) -> None:  # noqa: C901 - the event loop, inlined on purpose
        # The hot loop of every run: one iteration per libyaml event. Scalars are attached to
        # their parent inline and spans are built with tuple.__new__ directly, because a Python
        # call per node (a helper, NamedTuple's __new__) doubled the cost of parsing.
        get_event = loader.get_event
        new_span = tuple.__new__
        span_cls = Span
        scalar_event, alias_event = ev.ScalarEvent, ev.AliasEvent
        map_start, seq_start = ev.MappingStartEvent, ev.SequenceStartEvent
        map_end, seq_end = ev.MappingEndEvent, ev.SequenceEndEvent
        plain_const, numeric_start, missing = _PLAIN_CONSTANTS, _NUMERIC_START, _NO_KEY
        anchors: dict[str, Any] = {}
        sizes: dict[int, int] = {}  # id(container) -> expanded node count, for aliased nodes
        # stack entries: [container, pending_key, pending_key_span, anchor, start_mark, size, tag, is_seq]
        stack: list[list[Any]] = []
        top: list[Any] | None = None
        expanded = 0
        doc_start = None
        root: Any = None

        def attach(value: Any, span: Span, size: int) -> None:
            # The less common path: containers and aliases (scalars are attached inline below).
            nonlocal root
            if top is None:
                root = value
                return
            top[5] += size
            container = top[0]
            if top[7]:
                container.append(value)
                container.spans.append(span)
            elif top[1] is missing:
                top[1] = _freeze_key(value) if isinstance(value, (YMap, YSeq)) else value
                top[2] = span
            else:
                key = top[1]
                if key is _MERGE:
                    _merge_into(container, value)
                else:
                    container[key] = value
                    container.spans[key] = (top[2], span)
                top[1] = missing

        while True:
            event = get_event()
            if event is None:
                break
            cls = event.__class__
            if cls is scalar_event:
                sm = event.start_mark
                em = event.end_mark
                span = new_span(span_cls, (sm.line + 1, sm.column + 1, em.line + 1, em.column + 1))
                tag = event.tag
                value: Any = event.value
                if event.style == "|" and value:
                    span = self._block_span(span, value)
                if tag is None or tag == "!":
                    if not event.style and event.implicit[0]:  # plain scalar ('' from libyaml, None from pure)
                        if not value:
                            value = None
                        elif value[0] in numeric_start:
                            value = _resolve_plain(value)
                        else:
                            value = plain_const.get(value, value)
                elif tag.startswith(_STANDARD_TAG):
                    value = self._standard_scalar(tag, value, span)
                else:
                    value = _wrap_tag(tag, value, span)
                if event.anchor is not None:
                    anchors[event.anchor] = value
                if top is None:
                    root = value
                    continue
                top[5] += 1
                if top[7]:
                    top[0].append(value)
                    top[0].spans.append(span)
                elif top[1] is missing:
                    # a tagged key (``!GetAtt a.b: x``) wraps into a YMap: keep keys hashable;
                    # only a plain ``<<`` is YAML's merge key, a quoted '<<' is an ordinary key
                    if value == "<<" and not event.style and tag is None:
                        top[1] = _MERGE
                    else:
                        top[1] = _freeze_key(value) if isinstance(value, YMap) else value
                    top[2] = span
                else:
                    key = top[1]
                    if key is _MERGE:
                        _merge_into(top[0], value)
                    else:
                        top[0][key] = value
                        top[0].spans[key] = (top[2], span)
                    top[1] = missing
            elif cls is map_start or cls is seq_start:
                if len(stack) >= MAX_DEPTH:
                    raise ParseProblem(
                        f"nesting deeper than {MAX_DEPTH} levels",
                        event.start_mark.line + 1,
                        event.start_mark.column + 1,
                    )
                sm = event.start_mark
                start = new_span(span_cls, (sm.line + 1, sm.column + 1, 0, 0))
                is_seq = cls is seq_start
                container = YSeq(start) if is_seq else YMap(start)
                top = [container, missing, None, event.anchor, sm, 1, event.tag, is_seq]
                stack.append(top)
            elif cls is map_end or cls is seq_end:
                container, _, _, anchor, sm, size, tag, _ = stack.pop()
                top = stack[-1] if stack else None
                em = event.end_mark
                span = new_span(span_cls, (sm.line + 1, sm.column + 1, em.line + 1, em.column + 1))
                container.span = span
                value = container
                if tag and tag != "!" and not tag.startswith(_STANDARD_TAG):
                    value = _wrap_tag(tag, container, span)
                elif tag and tag.startswith(_UNSAFE_TAG):
                    self.warnings.append((_unsafe_tag_message(tag), span))
                if anchor is not None:
                    anchors[anchor] = value
                    sizes[id(value)] = size
                attach(value, span, size)
            elif cls is alias_event:
                span = _span(event.start_mark, event.end_mark)
                if event.anchor not in anchors:
                    raise ParseProblem(
                        f"invalid YAML: found undefined alias {event.anchor!r}", span.line, span.column
                    )
                target = anchors[event.anchor]
                size = sizes.get(id(target), 1)
                expanded += size
                if expanded > MAX_ALIAS_EXPANSION:
                    raise ParseProblem(
                        f"YAML aliases expand to more than {MAX_ALIAS_EXPANSION} nodes (an alias bomb?)",
                        span.line,
                        span.column,
                    )
                attach(target, span, size)
            elif cls is ev.DocumentStartEvent:
                doc_start = event.start_mark
                anchors = {}
                sizes = {}
                root = None
                top = None
            elif cls is ev.DocumentEndEvent:
                docs.append((root, _span(doc_start, event.end_mark)))
            elif cls is ev.StreamEndEvent:
                break

    def _block_span(self, span: Span, value: str) -> Span:
        """A literal block scalar's span with its content indentation (BlockSpan): the first
        non-blank content line as written, less the same line of the value, is the indentation
        (exact with an explicit indentation indicator too: literal scalars keep everything past it)."""
        if self.lines is None:
            self.lines = self.text.split("\n")
        lines = self.lines
        for row, content in enumerate(value.split("\n")):
            if not content.strip():
                continue
            at = span.line + row  # 0-based index of the row's source line (the indicator is span.line - 1)
            if at >= len(lines):
                return span
            written = lines[at].rstrip("\r")
            indent = len(written) - len(content)
            if indent < 0 or not written.endswith(content) or written[:indent].strip():
                return span  # tabs, or a line the reader normalised: positions are not linear
            block = BlockSpan(*span)
            block.indent = indent
            return block
        return span

    def _standard_scalar(self, tag: str, value: str, span: Span) -> Any:
        short = tag[len(_STANDARD_TAG):]
        if short == "str":
            return value
        if short in ("int", "float", "bool", "null"):
            return _resolve_plain(value) if value else None
        if short.startswith("python/"):
            self.warnings.append((_unsafe_tag_message(tag), span))
        return value


def relocate(node: Any, block: Span) -> None:
    """Move the spans of a tree parsed from a scalar's text to where that text sits in the file: a
    literal block (BlockSpan) line by line; any other form (quoted, folded, plain) onto the scalar."""
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, YMap):
            item.span = _moved(item.span, block)
            item.spans = {k: (_moved(a, block), _moved(b, block)) for k, (a, b) in item.spans.items()}
            stack.extend(v for v in item.values() if isinstance(v, (YMap, YSeq)))
        elif isinstance(item, YSeq):
            item.span = _moved(item.span, block)
            item.spans = [_moved(a, block) for a in item.spans]
            stack.extend(v for v in item if isinstance(v, (YMap, YSeq)))


def _moved(span: Span, block: Span) -> Span:
    if not isinstance(block, BlockSpan):
        return Span(*block)
    line, column = block.inner(span.line, span.column)
    end_line, end_column = block.inner(span.end_line, span.end_column)
    return Span(line, column, end_line, end_column)


class _LimitCounter:
    """Nesting depth and alias expansion over libyaml events, counted as _Builder counts them."""

    def __init__(self) -> None:
        self.anchors: dict[str, int] = {}  # anchor -> expanded node count of the node it names
        self.stack: list[list[Any]] = []  # open collections: [expanded node count, anchor]
        self.expanded = 0

    def feed(self, event: Any) -> None:
        cls = event.__class__
        stack = self.stack
        if cls is ev.ScalarEvent:
            if event.anchor is not None:
                self.anchors[event.anchor] = 1
            if stack:
                stack[-1][0] += 1
        elif cls is ev.MappingStartEvent or cls is ev.SequenceStartEvent:
            if len(stack) >= MAX_DEPTH:
                mark = event.start_mark
                raise ParseProblem(f"nesting deeper than {MAX_DEPTH} levels", mark.line + 1, mark.column + 1)
            stack.append([1, event.anchor])
        elif cls is ev.MappingEndEvent or cls is ev.SequenceEndEvent:
            size, anchor = stack.pop()
            if anchor is not None:
                self.anchors[anchor] = size
            if stack:
                stack[-1][0] += size
        elif cls is ev.AliasEvent:
            self._alias(event)
        elif cls is ev.DocumentStartEvent:
            self.anchors = {}

    def _alias(self, event: Any) -> None:
        size = self.anchors.get(event.anchor, 1)
        self.expanded += size
        if self.expanded > MAX_ALIAS_EXPANSION:
            mark = event.start_mark
            raise ParseProblem(
                f"YAML aliases expand to more than {MAX_ALIAS_EXPANSION} nodes (an alias bomb?)",
                mark.line + 1,
                mark.column + 1,
            )
        if self.stack:
            self.stack[-1][0] += size


def check_yaml_limits(text: str, max_chars: int = DEFAULT_MAX_BYTES) -> None:
    """Raise ParseProblem when ``text`` is larger, deeper or expands aliases more than parse_text allows.

    For YAML that another loader constructs (a chart template's ``fromYaml``): the same size,
    nesting and alias limits as ecrlint's own parser, counted as _Builder counts them on libyaml's
    events, before anything is built. Syntax errors are left to that loader.
    """
    if len(text) > max_chars:
        raise ParseProblem(f"YAML text is larger than {max_chars} characters")
    if "*" not in text and sum(text.count(c) for c in ":-[{?") < MAX_DEPTH:
        return  # no alias, and every level of nesting needs one of these indicators: nothing to count
    loader = _Loader(text)
    counter = _LimitCounter()
    try:
        while True:
            event: Any = loader.get_event()
            if event is None:
                break
            counter.feed(event)
    except yaml.YAMLError:
        return  # not YAML: the loader reports it its own way
    finally:
        loader.dispose()


def _unsafe_tag_message(tag: str) -> str:
    # One wording for scalars and collections, in the "!!python/..." form users write.
    return (f'unsafe tag "!!{tag[len(_STANDARD_TAG):]}" is never constructed; the value is read as plain data '
            "(remove the tag)")


class _NoKey:
    __slots__ = ()


class _MergeKey:
    __slots__ = ()


_MERGE = _MergeKey()  # a plain ``<<`` key: merge the value's mappings into this one


_NO_KEY = _NoKey()


def _freeze_key(value: Any) -> Any:
    # Complex keys ({a: 1}: x) are legal YAML but never meaningful to us; keep them hashable.
    return repr(value)


def _merge_into(container: YMap, value: Any) -> None:
    """YAML merge key ``<<``: existing keys win, earlier maps in a list win over later ones."""
    sources = value if isinstance(value, YSeq) else [value]
    for source in sources:
        if isinstance(source, YMap):
            for key, item in source.items():
                if key not in container:
                    container[key] = item
                    container.spans[key] = source.spans.get(key, (source.span, source.span))


# --- JSON with positions (fallback when libyaml refuses valid JSON) ------------------------------

_WS = re.compile(r"[ \t\n\r]*")
_NUMBER = re.compile(r"-?(?:0|[1-9]\d*)(\.\d+)?([eE][-+]?\d+)?")
# json's own string scanner (the C one when built): public in json.decoder, left out of typeshed's stub.
_scanstring: Callable[[str, int], tuple[str, int]] = json.decoder.scanstring  # type: ignore[attr-defined]


class _JsonParser:
    """A small recursive-descent JSON parser that records spans (depth-capped like YAML)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.line_starts = line_starts(text)

    def pos(self, offset: int) -> tuple[int, int]:
        import bisect

        line = bisect.bisect_right(self.line_starts, offset) - 1
        return line + 1, offset - self.line_starts[line] + 1

    def span(self, start: int, end: int) -> Span:
        return Span(*self.pos(start), *self.pos(end))

    def skip(self, i: int) -> int:
        """The offset of the first character at or after ``i`` that is not JSON whitespace."""
        m = _WS.match(self.text, i)
        return m.end() if m else i  # the pattern matches the empty string: always a match

    def parse(self) -> tuple[Any, Span]:
        i = self.skip(0)
        value, end = self.value(i, 0)
        j = self.skip(end)
        if j != len(self.text):
            raise ParseProblem("invalid JSON: extra data", *self.pos(j))
        return value, self.span(i, end)

    def value(self, i: int, depth: int) -> tuple[Any, int]:  # noqa: C901 - one frame per nesting level, see below
        # Objects and arrays are parsed inline, not by helpers: a helper per container would take two
        # stack frames per level and reach Python's recursion limit before MAX_DEPTH does.
        if depth >= MAX_DEPTH:
            raise ParseProblem(f"nesting deeper than {MAX_DEPTH} levels", *self.pos(i))
        text = self.text
        ch = text[i : i + 1]
        if ch == "{":
            obj = YMap()
            i = self.skip(i + 1)
            start = i - 1
            if text[i : i + 1] == "}":
                obj.span = self.span(start, i + 1)
                return obj, i + 1
            while True:
                if text[i : i + 1] != '"':
                    raise ParseProblem("invalid JSON: expected a string key", *self.pos(i))
                key, kend = _scanstring(text, i + 1)
                kspan = self.span(i, kend)
                i = self.skip(kend)
                if text[i : i + 1] != ":":
                    raise ParseProblem("invalid JSON: expected ':'", *self.pos(i))
                i = self.skip(i + 1)
                val, vend = self.value(i, depth + 1)
                obj[key] = val
                obj.spans[key] = (kspan, self.span(i, vend))
                i = self.skip(vend)
                ch = text[i : i + 1]
                if ch == ",":
                    i = self.skip(i + 1)
                    continue
                if ch == "}":
                    obj.span = self.span(start, i + 1)
                    return obj, i + 1
                raise ParseProblem("invalid JSON: expected ',' or '}'", *self.pos(i))
        if ch == "[":
            arr = YSeq()
            start = i
            i = self.skip(i + 1)
            if text[i : i + 1] == "]":
                arr.span = self.span(start, i + 1)
                return arr, i + 1
            while True:
                val, vend = self.value(i, depth + 1)
                arr.append(val)
                arr.spans.append(self.span(i, vend))
                i = self.skip(vend)
                ch = text[i : i + 1]
                if ch == ",":
                    i = self.skip(i + 1)
                    continue
                if ch == "]":
                    arr.span = self.span(start, i + 1)
                    return arr, i + 1
                raise ParseProblem("invalid JSON: expected ',' or ']'", *self.pos(i))
        if ch == '"':
            try:
                return _scanstring(text, i + 1)
            except json.JSONDecodeError as exc:
                raise ParseProblem(f"invalid JSON: {exc.msg}", *self.pos(exc.pos)) from None
        for literal, val in (("true", True), ("false", False), ("null", None)):
            if text.startswith(literal, i):
                return val, i + len(literal)
        m = _NUMBER.match(text, i)
        if m and m.end() > i:
            num = m.group(0)
            return (float(num) if m.group(1) or m.group(2) else int(num)), m.end()
        raise ParseProblem("invalid JSON: expected a value", *self.pos(i))


# --- files ---------------------------------------------------------------------------------------

_BINARY_SNIFF = 8192
_SUPPRESS = re.compile(r"#\s*ecrlint:\s*(ignore-file|ignore)\b(?:\[([A-Za-z0-9_,\s-]*)\])?")


def _decode_marked(data: bytes, codec: str, name: str) -> str:
    # A byte-order mark promises UTF-16/32; truncated or broken data must be ECR001, not a crash.
    try:
        return data.decode(codec)
    except UnicodeDecodeError as exc:
        before = data[: exc.start].decode(codec, "ignore")
        line, column = text_position(before, len(before))
        raise ParseProblem(f"invalid {name} ({exc.reason}); save the file as UTF-8", line, column) from None


def decode(data: bytes) -> str:
    """Bytes to text: UTF-8 (BOM stripped), or UTF-16/32 when a BOM says so."""
    if data.startswith(codecs.BOM_UTF32_LE) or data.startswith(codecs.BOM_UTF32_BE):
        return _decode_marked(data, "utf-32", "UTF-32")
    if data.startswith(codecs.BOM_UTF16_LE) or data.startswith(codecs.BOM_UTF16_BE):
        return _decode_marked(data, "utf-16", "UTF-16")
    if b"\x00" in data[:_BINARY_SNIFF]:
        raise ParseProblem("binary file (NUL bytes); not YAML or JSON")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        col = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise ParseProblem(f"invalid UTF-8 (byte 0x{data[exc.start]:02x}); save the file as UTF-8", line, col) from None
    if text.startswith("\ufeff"):
        text = text[1:]
    return text


def _error(path: str, message: str, line: int = 1, column: int = 1) -> Finding:
    return Finding(
        PARSE_ERROR, PARSE_ERROR_NAME, Severity.ERROR, path, Span(line, column, line, column + 1), message
    )


def parse_text(path: str, text: str, is_json: bool = False) -> tuple[list[tuple[Any, Span]], list[Finding]]:
    """Parse one file's text into (root, span) documents; problems become ECR001 findings."""
    if is_json:
        # YAML flow syntax is laxer than JSON (trailing commas, unquoted keys): a .json file
        # must be JSON. The C decoder costs little next to the positioned parse that follows.
        try:
            json.loads(text)
        except json.JSONDecodeError as exc:
            return [], [_error(path, f"invalid JSON: {exc.msg}", exc.lineno, exc.colno)]
        except (ValueError, RecursionError):
            return [], [_error(path, "invalid JSON: nesting deeper than the parser allows")]
    if is_json and _YAML_ONLY_BREAKS.search(text):
        # NEL/LS/PS are ordinary characters in JSON strings but line breaks to YAML, which would
        # fold them into spaces: such JSON goes to the JSON parser (same spans, same line counting).
        try:
            return [_JsonParser(text).parse()], []
        except (ParseProblem, RecursionError) as jp:
            msg = jp.message if isinstance(jp, ParseProblem) else "nesting too deep"
            return [], [_error(path, msg, getattr(jp, "line", 1), getattr(jp, "column", 1))]
    builder = _Builder(path)
    try:
        docs = builder.build(text)
    except ParseProblem as problem:
        if is_json or text.lstrip()[:1] in ("{", "["):
            try:
                json.loads(text)
            except (ValueError, RecursionError):
                return [], [_error(path, problem.message, problem.line, problem.column)]
            try:
                return [_JsonParser(text).parse()], []
            except (ParseProblem, RecursionError) as jp:
                msg = jp.message if isinstance(jp, ParseProblem) else "nesting too deep"
                return [], [_error(path, msg, getattr(jp, "line", 1), getattr(jp, "column", 1))]
        return [], [_error(path, problem.message, problem.line, problem.column)]
    warnings = [
        Finding(PARSE_ERROR, PARSE_ERROR_NAME, Severity.WARNING, path, span, msg) for msg, span in builder.warnings
    ]
    return docs, warnings


def scan_suppressions(text: str, parsed: ParsedFile) -> None:
    """Record ``# ecrlint: ignore[...]`` comments (line and the line below) and ``ignore-file``."""
    if "ecrlint:" not in text:
        return
    in_header = True
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if in_header and stripped and not stripped.startswith("#"):
            in_header = False
        m = _SUPPRESS.search(line)
        if not m or not _is_comment(line, m.start()):
            continue
        ids = frozenset(x.strip().upper() for x in (m.group(2) or "").split(",") if x.strip()) or None
        if m.group(1) == "ignore-file":
            if in_header:
                parsed.file_ignored = ids if parsed.file_ignored is False else _union(parsed.file_ignored, ids)
            continue
        # A comment on its own line covers the next line; a trailing comment covers its own line.
        target = number + 1 if stripped.startswith("#") else number
        parsed.lines_ignored[target] = _union(parsed.lines_ignored.get(target, frozenset()), ids)


def _union(a: Any, b: Any) -> frozenset[str] | None:
    if a is None or b is None:
        return None
    return a | b


def _is_comment(line: str, hash_at: int) -> bool:
    # A '#' inside a quoted scalar is not a comment; good enough: count quotes before it.
    before = line[:hash_at]
    return before.count('"') % 2 == 0 and before.count("'") % 2 == 0 and (hash_at == 0 or line[hash_at - 1] in " \t")


def parse_file(path: str, display: str, data: bytes | None = None, max_bytes: int = DEFAULT_MAX_BYTES) -> ParsedFile:
    """Read (unless ``data`` is given), decode and parse one file; never raises for bad input."""
    parsed = ParsedFile(display)
    try:
        if data is None:
            data = _read_capped(path, max_bytes)
            parsed.digest = hashlib.sha256(data).hexdigest()  # what --fix checks before writing
        elif len(data) > max_bytes:
            raise ParseProblem(f"file is larger than {max_bytes} bytes; raise max-file-size to lint it")
        text = decode(data)
    except ParseProblem as problem:
        parsed.errors.append(_error(display, problem.message, problem.line, problem.column))
        return parsed
    except OSError as exc:
        reason = exc.strerror or str(exc)
        parsed.errors.append(_error(display, f"cannot read file: {reason[:1].lower()}{reason[1:]}"))
        return parsed
    docs, problems = parse_text(display, text, is_json=display.endswith(".json"))
    parsed.errors.extend(problems)
    parsed.documents = [Document(display, i, root) for i, (root, _span) in enumerate(docs) if root is not None]
    scan_suppressions(text, parsed)
    return parsed


def _read_capped(path: str, max_bytes: int) -> bytes:
    import os
    import stat

    # O_NONBLOCK: opening a FIFO must never block the run; regular files ignore the flag.
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise ParseProblem("not a regular file (a pipe, socket or device); skipped")
        if st.st_size > max_bytes:
            raise ParseProblem(
                f"file is {st.st_size} bytes, larger than the {max_bytes}-byte limit (max-file-size)"
            )
        chunks = []
        remaining = max_bytes + 1
        while remaining > 0:
            chunk = os.read(fd, min(remaining, 1 << 20))
            if not chunk:
                break
            chunks.append(chunk)
            remaining -= len(chunk)
        data = b"".join(chunks)
        if len(data) > max_bytes:
            raise ParseProblem(f"file is larger than the {max_bytes}-byte limit (max-file-size)")
        return data
    finally:
        os.close(fd)
