"""Value types shared by every stage: spans, position-carrying containers, documents, findings."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum
from typing import TYPE_CHECKING, Any, Literal, NamedTuple

if TYPE_CHECKING:
    from .helm.facts import ChartFacts


class Span(NamedTuple):
    """A 1-based, inclusive-start / exclusive-end region of a source file."""

    line: int
    column: int
    end_line: int
    end_column: int


NO_SPAN = Span(1, 1, 1, 1)


class BlockSpan(Span):
    """The span of a literal block scalar (``|``): its content starts on the line after the
    indicator, every line ``indent`` columns in, so a position inside the string (a manifest or a
    kustomize patch written inline) maps back to the file by ``span.line + 1 + row`` and
    ``indent + column``. Equal to the plain Span of the same region."""

    indent: int  # set by the parser (an instance attribute: a NamedTuple subclass cannot add fields)

    def inner(self, line: int, column: int) -> tuple[int, int]:
        """(line, column) in the file of 1-based (line, column) inside the scalar's value."""
        return self.line + line, self.indent + column


class YMap(dict):
    """A mapping from a parsed file; ``spans[key]`` is ``(key_span, value_span)``."""

    __slots__ = ("span", "spans")

    def __init__(self, span: Span = NO_SPAN) -> None:
        super().__init__()
        self.span = span
        self.spans: dict[Any, tuple[Span, Span]] = {}

    def key_span(self, key: Any) -> Span:
        entry = self.spans.get(key)
        return entry[0] if entry else self.span

    def value_span(self, key: Any) -> Span:
        entry = self.spans.get(key)
        return entry[1] if entry else self.span

    def __reduce__(self) -> tuple[Any, ...]:  # pickling keeps spans (process pool)
        return (_rebuild_map, (self.span, dict(self), self.spans))


class YSeq(list):
    """A sequence from a parsed file; ``spans[i]`` is the span of item ``i``."""

    __slots__ = ("span", "spans")

    def __init__(self, span: Span = NO_SPAN) -> None:
        super().__init__()
        self.span = span
        self.spans: list[Span] = []

    def item_span(self, index: int) -> Span:
        return self.spans[index] if 0 <= index < len(self.spans) else self.span

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild_seq, (self.span, list(self), self.spans))


def _rebuild_map(span: Span, items: dict, spans: dict) -> YMap:
    m = YMap(span)
    m.update(items)
    m.spans = spans
    return m


def _rebuild_seq(span: Span, items: list, spans: list) -> YSeq:
    s = YSeq(span)
    s.extend(items)
    s.spans = spans
    return s


def dig(node: Any, *keys: str) -> Any:
    """``node[k1][k2]...`` through mappings, or None as soon as a step is missing or not a mapping."""
    for key in keys:
        if not isinstance(node, dict):
            return None
        node = node.get(key)
    return node


class Severity(IntEnum):
    NOTE = 1
    WARNING = 2
    ERROR = 3

    @classmethod
    def parse(cls, text: str) -> "Severity":
        try:
            return cls[text.upper()]
        except KeyError:
            raise ValueError(f"unknown severity {text!r} (use error, warning or note)") from None

    @property
    def label(self) -> str:
        return self.name.lower()


class Loc(NamedTuple):
    """A place in a file: the path as given to ecrlint plus a span."""

    path: str
    span: Span

    @property
    def line(self) -> int:
        return self.span.line

    def short(self) -> str:
        return f"{self.path}:{self.span.line}"


@dataclass(frozen=True)
class Document:
    """One parsed YAML/JSON document of a file."""

    path: str
    index: int
    root: Any
    kind: str = "unknown"
    # Helm: JSON pointer of a value in the rendered document -> (values.yaml location, what it is).
    trace: dict[str, tuple["Loc", str]] | None = None
    origin: str | None = None  # Helm: the chart-relative template that rendered this document


@dataclass(frozen=True)
class Related:
    """A second location behind a finding (the role or profile that causes it)."""

    loc: Loc
    message: str


@dataclass(frozen=True)
class Fix:
    """A text replacement that makes a finding go away."""

    description: str
    path: str
    span: Span
    replacement: str


@dataclass(frozen=True)
class Finding:
    rule: str
    name: str
    severity: Severity
    path: str
    span: Span
    message: str
    logical: str | None = None
    related: tuple[Related, ...] = ()
    fix: Fix | None = None
    suppressed_by: str | None = None  # "inline" / "annotation" / "metadata" when suppressed in source
    # One mistake, one finding, but only while that one is shown: a finding that follows from others
    # (ECR201 from a misspelt action, ECR204) names them as (rule, path, line, column) keys. With
    # ``unless_shown`` it is dropped while all of them are shown; with ``only_if_shown`` it is kept
    # only then. Decided after filtering (engine/filtering.py), so an ignored, switched-off or
    # suppressed cause brings the full finding back.
    unless_shown: tuple[tuple[str, str, int, int], ...] = ()
    only_if_shown: tuple[tuple[str, str, int, int], ...] = ()

    @property
    def key(self) -> tuple[str, str, int, int]:
        return (self.rule, self.path, self.span.line, self.span.column)

    def sort_key(self) -> tuple:
        return (self.path, self.span.line, self.span.column, self.rule, self.message)


@dataclass
class ParsedFile:
    """Everything a worker learns about one file; small enough to pickle back to the parent."""

    path: str
    documents: list[Document] = field(default_factory=list)
    reader: str = "documents"  # the FileSource or UnitSource that read it (sources.registered())
    errors: list[Finding] = field(default_factory=list)
    lines_ignored: dict[int, frozenset[str] | None] = field(default_factory=dict)
    file_ignored: frozenset[str] | None | Literal[False] = False  # False: none; None: all rules; set: those
    skipped_reason: str | None = None
    chart: ChartFacts | None = None  # when this "file" is a rendered chart
    kinds: set[str] = field(default_factory=set)  # document kinds seen (for --verbose notes)
    # Other files this unit read whose suppression comments apply (a chart's values.yaml).
    companions: list["ParsedFile"] = field(default_factory=list)
    digest: str | None = None  # sha256 of the bytes read from disk: --fix refuses a file that changed since
    # A file with problems whose text names no kind ecrlint reads: why (sources/documents.py). Unless a
    # document of it was claimed or config names it, its problems are a --verbose note, not ECR001.
    foreign: str | None = None
