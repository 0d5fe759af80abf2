"""Speed-ups for gotpl's template compilation that leave every token, tree and program unchanged."""

# Parsing templates is most of the built-in engine's cost. These patches are installed once per
# process by builtin.speed_up_gotpl() and each proven equivalent in tests/test_helm_speed.py; they
# lean on gotpl's internals, which gotpl_api checks (the gotpl versions they were checked on, and
# every private name they use) before anything is patched:
#
# - the lexer's source map is built in O(lines) instead of O(characters) for ASCII sources;
# - ASCII templates with Helm's delimiters are tokenized by one regular expression instead of a
#   character loop; anything unusual (a lexing error, other delimiters, non-ASCII text, more tokens
#   than the parser accepts) is handed to gotpl's own lexer, so errors read exactly as before;
# - compiled programs are cached per process by the template's exact text: the three bitnami
#   charts of a repository (or the subcharts of one umbrella chart) each vendor the same
#   charts/common, which is then parsed once. What is cached is the parse result of one source
#   file, compiled - never a namespace and never rendered output: each chart still associates its
#   own programs in its own order (Helm's define/template override rules), and a cached program
#   is handed out renamed for the file asking for it;
# - templates are parsed by gotpl_parse's one-pass parser, which builds the same tree and hands
#   anything unusual (errors included) back to gotpl's parser;
# - a `tpl` call links each definition of the chart once, not once per call (see the last section).

from __future__ import annotations

import bisect
import hashlib
import re
from collections import OrderedDict
from dataclasses import replace
from typing import Any, Callable, Iterator

# Bounds of the compiled-program cache: whichever is reached first evicts the least recently used.
MAX_PROGRAMS = 1_000
MAX_PROGRAM_CHARS = 1_000_000  # source characters behind the cached programs (about 12 MB of programs)

_installed = False
ORIGINAL_SOURCE_MAP_BUILD: Callable[[str], Any] | None = None  # gotpl's own, kept for the tests
ORIGINAL_LEX: Callable[..., Iterator[Any]] | None = None
ORIGINAL_PARSE: Callable[..., Any] | None = None  # what the program cache wraps: the fast parser, then gotpl's
GOTPL_PARSE: Callable[..., Any] | None = None  # gotpl's own parse_template, under the fast path
ORIGINAL_COMPILE: Callable[..., Any] | None = None
ORIGINAL_LINK: Callable[..., Any] | None = None


def install() -> None:
    """Patch gotpl in place (idempotent); gotpl_api raises UnsupportedEnvironment for a gotpl they do not fit."""
    global _installed
    if _installed:
        return
    from . import gotpl_api

    _installed = True
    _install_source_map(gotpl_api.lexer)
    _install_lexer(gotpl_api.lexer, gotpl_api.parser)
    _install_fast_parser(gotpl_api.template, gotpl_api.nodes, gotpl_api.parser)  # before the cache, which wraps it
    _install_program_cache(gotpl_api.template)
    _install_link_memo(gotpl_api.linked)


# --- the source map ------------------------------------------------------------------------------


class _LineIndex:
    """Line number at a character index, by bisecting newline positions (no per-character table)."""

    __slots__ = ("newlines",)

    def __init__(self, source: str) -> None:
        self.newlines = [m.start() for m in re.finditer("\n", source)]

    def __getitem__(self, index: int) -> int:
        return 1 + bisect.bisect_left(self.newlines, index)


def _install_source_map(lexer: Any) -> None:
    global ORIGINAL_SOURCE_MAP_BUILD
    source_map = lexer._SourceMap
    original = source_map.build
    ORIGINAL_SOURCE_MAP_BUILD = original

    def build(cls: Any, source: str) -> Any:
        # For ASCII sources the byte offset of character i is i, and its line is one plus the
        # newlines before it. gotpl builds two per-character tuples instead.
        if not source.isascii():
            return original(source)
        return cls(range(len(source) + 1), _LineIndex(source))

    source_map.build = classmethod(build)


# --- the lexer -----------------------------------------------------------------------------------

# One alternative per branch of gotpl's _lex_action, in the same order (the first that applies
# wins there too). Only ASCII sources come here, where str.isalpha/isdigit/isprintable are these
# character classes. Numbers take what gotpl's _scan_number takes and are then checked by its own
# patterns; quoted strings end where gotpl's _scan_quoted ends them.
ACTION_TOKEN = re.compile(
    r"""(?P<close>\}\})
    |(?P<space>[ \t\r\n]+)
    |(?P<number>(?:\.(?=[0-9])|[0-9]|[+-](?=[0-9.]))[A-Za-z0-9.+_-]*)
    |(?P<field>\.[A-Za-z0-9_]*)
    |(?P<variable>\$[A-Za-z0-9_]*)
    |(?P<string>"(?:[^"\\\n]|\\.)*")
    |(?P<char_constant>'(?:[^'\\\n]|\\.)*')
    |(?P<raw_string>`[^`]*`)
    |(?P<identifier>[A-Za-z_][A-Za-z0-9_]*)
    |(?P<declare>:=)
    |(?P<single>[=|()])
    |(?P<char>(?!["'`])[\x20-\x7e])""",  # an unterminated quote matches nothing: gotpl's error
    re.VERBOSE | re.DOTALL,
)


# --- text between actions (shared with gotpl_parse) ----------------------------------------------

ACTION, COMMENT, END_OF_SOURCE = "action", "comment", "end"
_SPACE_CHARS = " \t\r\n"


def next_piece(source: str, cursor: int, n: int, unsupported: type[Exception]) -> tuple[str, int, int, int]:
    """What follows ``cursor`` as gotpl's lexer reads it: (kind, text_end, action_start, position).

    The text before it runs from ``cursor`` to ``text_end`` (trailing blanks cut by a ``{{- ``).
    ACTION: an action opens at ``action_start``, its content at ``position``. COMMENT: a comment
    action was skipped, reading resumes at ``position`` (blanks eaten by `` -}}``). END_OF_SOURCE:
    the text runs to the end. ``unsupported`` is raised for a comment gotpl refuses.
    """
    action_start = source.find("{{", cursor)
    if action_start < 0:
        return END_OF_SOURCE, n, n, n
    content = action_start + 2
    left_trim = content + 1 < n and source[content] == "-" and source[content + 1] in _SPACE_CHARS
    text_end = action_start
    if left_trim:
        while text_end > cursor and source[text_end - 1] in _SPACE_CHARS:
            text_end -= 1
        content += 2
    if not source.startswith("/*", content):
        return ACTION, text_end, action_start, content
    end = source.find("*/", content + 2)
    if end < 0:
        raise unsupported
    end += 2
    if source.startswith("}}", end):
        return COMMENT, text_end, action_start, end + 2
    if end + 2 <= n and source[end] in _SPACE_CHARS and source[end + 1] == "-" and source.startswith("}}", end + 2):
        position = end + 4
        while position < n and source[position] in _SPACE_CHARS:
            position += 1
        return COMMENT, text_end, action_start, position
    raise unsupported


class _Fallback(Exception):
    """The source needs gotpl's own lexer (an error to report exactly, or an unusual input)."""


def _install_lexer(lexer: Any, parser: Any) -> None:  # noqa: C901 - builds the tokenizer below
    global ORIGINAL_LEX
    original = lexer.lex
    ORIGINAL_LEX = original
    kinds = lexer.TokenKind
    token_type = lexer.Token
    keywords = dict(lexer._KEYWORDS)
    number_pattern = lexer._NUMBER_PATTERN
    complex_pattern = lexer._COMPLEX_PATTERN
    max_tokens = parser.DEFAULT_LIMITS.max_tokens
    single = {"=": kinds.ASSIGN, "|": kinds.PIPE, "(": kinds.LEFT_PAREN, ")": kinds.RIGHT_PAREN}
    quoted = {"string": kinds.STRING, "char_constant": kinds.CHAR_CONSTANT, "raw_string": kinds.RAW_STRING}
    TEXT, LEFT, RIGHT, SPACE = kinds.TEXT, kinds.LEFT_DELIMITER, kinds.RIGHT_DELIMITER, kinds.SPACE
    DOT, FIELD, VARIABLE, NUMBER, COMPLEX = kinds.DOT, kinds.FIELD, kinds.VARIABLE, kinds.NUMBER, kinds.COMPLEX
    BOOL, IDENTIFIER, DECLARE, CHAR, EOF = kinds.BOOL, kinds.IDENTIFIER, kinds.DECLARE, kinds.CHAR, kinds.EOF
    spaces = " \t\r\n"

    def tokens(source: str, functions: Any) -> list[Any]:  # noqa: C901 - a branch per token kind, inlined (hot)
        out: list[Any] = []
        append = out.append
        match = ACTION_TOKEN.match
        count = source.count
        n = len(source)
        line, line_at = 1, 0  # the line of character line_at; tokens come in source order
        kind: str | None  # what next_piece found, then the group of each token in an action

        def at(position: int) -> int:
            nonlocal line, line_at
            line += count("\n", line_at, position)
            line_at = position
            return line

        cursor = 0
        while cursor < n:
            kind, text_end, action_start, content = next_piece(source, cursor, n, _Fallback)
            if text_end > cursor:
                append(token_type(TEXT, source[cursor:text_end], cursor, text_end, at(cursor)))
            if kind == END_OF_SOURCE:
                cursor = n
                break
            if kind == COMMENT:
                cursor = content
                continue
            append(token_type(LEFT, "{{", action_start, action_start + 2, at(action_start)))
            position = content
            depth = 0
            while True:
                m = match(source, position)
                if m is None:
                    raise _Fallback  # end of source inside the action, or a character gotpl refuses
                kind = m.lastgroup
                end = m.end()
                if kind == "close":
                    if depth:
                        raise _Fallback
                    append(token_type(RIGHT, "}}", position, end, at(position)))
                    cursor = end
                    break
                if kind == "space":
                    if depth == 0 and end < n and source[end] == "-" and source.startswith("}}", end + 1):
                        append(token_type(RIGHT, "}}", end + 1, end + 3, at(end + 1)))
                        cursor = end + 3
                        while cursor < n and source[cursor] in spaces:
                            cursor += 1
                        break
                    append(token_type(SPACE, m.group(), position, end, at(position)))
                elif kind == "field":
                    append(token_type(DOT if end == position + 1 else FIELD, m.group(), position, end, at(position)))
                elif kind == "identifier":
                    value = m.group()
                    if value == "true" or value == "false":
                        token_kind = BOOL
                    elif (value == "break" or value == "continue") and value in functions:
                        token_kind = IDENTIFIER
                    else:
                        token_kind = keywords.get(value, IDENTIFIER)
                    append(token_type(token_kind, value, position, end, at(position)))
                elif kind == "string" or kind == "char_constant" or kind == "raw_string":
                    append(token_type(quoted[kind], m.group(), position, end, at(position)))
                elif kind == "variable":
                    append(token_type(VARIABLE, m.group(), position, end, at(position)))
                elif kind == "single":
                    value = m.group()
                    if value == "(":
                        depth += 1
                    elif value == ")":
                        if depth == 0:
                            raise _Fallback
                        depth -= 1
                    append(token_type(single[value], value, position, end, at(position)))
                elif kind == "number":
                    value = m.group()
                    if complex_pattern.fullmatch(value):
                        token_kind = COMPLEX
                    elif number_pattern.fullmatch(value):
                        token_kind = NUMBER
                    else:
                        raise _Fallback
                    append(token_type(token_kind, value, position, end, at(position)))
                elif kind == "declare":
                    append(token_type(DECLARE, ":=", position, end, at(position)))
                else:
                    append(token_type(CHAR, m.group(), position, end, at(position)))
                position = end
                if len(out) > max_tokens:
                    # The parser stops at this token ("template token limit exceeded", at its
                    # position): lexing the rest of an unclosed megabyte action first took
                    # gigabytes (it used to fall back to gotpl's lexer once the action ended).
                    return out
        append(token_type(EOF, "", n, n, at(n)))
        return out

    def lex(
        source: str,
        *,
        left_delimiter: str = "{{",
        right_delimiter: str = "}}",
        emit_comments: bool = False,
        functions: Any = (),
    ) -> Iterator[Any]:
        if (
            left_delimiter == "{{"
            and right_delimiter == "}}"
            and not emit_comments
            and isinstance(source, str)
            and source.isascii()
        ):
            try:
                return iter(tokens(source, functions))
            except _Fallback:
                pass
        return original(
            source,
            left_delimiter=left_delimiter,
            right_delimiter=right_delimiter,
            emit_comments=emit_comments,
            functions=functions,
        )

    parser.lex = lex


# --- the parser ----------------------------------------------------------------------------------


def _install_fast_parser(template_module: Any, nodes: Any, parser: Any) -> None:
    global GOTPL_PARSE
    original = template_module.parse_template
    validate = parser.validate_template
    from .gotpl_parse import Unsupported, make_parser

    GOTPL_PARSE = original
    fast = make_parser(nodes)

    def parse_template(
        source: str,
        *,
        name: str = "",
        left_delimiter: str = "{{",
        right_delimiter: str = "}}",
        functions: Any = (),
        **rest: Any,
    ) -> Any:
        if not rest and left_delimiter == "{{" and right_delimiter == "}}" and isinstance(source, str):
            try:
                template = fast(source, name)
            except Unsupported:
                pass
            else:
                validate(source, template, functions=functions)  # gotpl's scope checks, as its parser runs them
                return template
        return original(
            source, name=name, left_delimiter=left_delimiter, right_delimiter=right_delimiter, functions=functions, **rest
        )

    template_module.parse_template = parse_template


# --- the compiled-program cache ------------------------------------------------------------------


class _Compiled:
    """What the cached parse hands to the compile step: the program, already compiled."""

    __slots__ = ("program",)

    def __init__(self, program: Any) -> None:
        self.program = program


_programs: OrderedDict[tuple[Any, ...], Any] = OrderedDict()
_program_chars = 0
_stats = {"hits": 0, "misses": 0}
_function_names: dict[int, tuple[Any, frozenset[str]]] = {}  # id(registry) -> (registry, its names)


def clear_cache() -> None:
    """Forget every cached program (benchmarks measure a cold run this way)."""
    global _program_chars
    _programs.clear()
    _function_names.clear()
    _linked.clear()
    _program_chars = 0
    _stats["hits"] = _stats["misses"] = 0


def cache_info() -> dict[str, int]:
    return {"programs": len(_programs), "chars": _program_chars, **_stats}


def _names(functions: Any) -> frozenset[str]:
    # The parser checks every called function against the registry (and the lexer reads
    # break/continue as functions when registered): the set of names is part of the key.
    entry = _function_names.get(id(functions))
    if entry is None or entry[0] is not functions:
        if len(_function_names) >= 8:
            _function_names.clear()
        entry = (functions, frozenset(functions))  # the registry is kept so its id is not reused
        _function_names[id(functions)] = entry
    return entry[1]


def renamed(program: Any, name: str) -> Any:
    """``program`` as compiling its source under ``name`` gives it (the name is only recorded)."""
    if program.name == name:
        return program
    return replace(
        program,
        name=name,
        source_name=name,
        definitions=tuple(replace(d, source_name=name) for d in program.definitions),
    )


def _install_program_cache(template_module: Any) -> None:
    global ORIGINAL_PARSE, ORIGINAL_COMPILE
    parse = template_module.parse_template
    compile_ = template_module.compile_template
    ORIGINAL_PARSE, ORIGINAL_COMPILE = parse, compile_
    cacheable = {"name", "left_delimiter", "right_delimiter", "functions"}

    def parse_template(source: str, **kwargs: Any) -> Any:
        global _program_chars
        if not kwargs.keys() <= cacheable or not isinstance(source, str):
            return parse(source, **kwargs)
        name = kwargs.get("name", "")
        try:
            digest = hashlib.sha256(source.encode("utf-8", "surrogatepass")).digest()
        except UnicodeError:  # pragma: no cover - surrogatepass encodes every str
            return parse(source, **kwargs)
        key = (
            digest,
            len(source),
            kwargs.get("left_delimiter", "{{"),
            kwargs.get("right_delimiter", "}}"),
            _names(kwargs.get("functions", ())),
        )
        program = _programs.get(key)
        if program is not None:
            _programs.move_to_end(key)
            _stats["hits"] += 1
            return _Compiled(renamed(program, name))
        _stats["misses"] += 1
        program = compile_(parse(source, **kwargs), source=source)  # a syntax error is never cached
        _programs[key] = program
        _program_chars += len(source)
        while _programs and (len(_programs) > MAX_PROGRAMS or _program_chars > MAX_PROGRAM_CHARS):
            _old_key, old = _programs.popitem(last=False)
            _program_chars -= len(old.source)
        return _Compiled(program)

    def compile_template(root: Any, **kwargs: Any) -> Any:
        if type(root) is _Compiled:
            return root.program
        return compile_(root, **kwargs)

    template_module.parse_template = parse_template
    template_module.compile_template = compile_template


# --- linking `tpl` sources -----------------------------------------------------------------------

# Every `tpl` call compiles its string into a new association with the chart's whole namespace,
# and gotpl links (resolves the functions of) every definition of that namespace again. A linked
# definition depends only on the definition and the function registry, both immutable, so it is
# linked once per chart instead. Memos are kept for the last few registries (one per compiled
# chart), so this holds at most about one chart's linked programs.
MAX_LINK_REGISTRIES = 2
MAX_LINKED_PER_REGISTRY = 20_000

_linked: OrderedDict[int, tuple[Any, dict[tuple[int, Any], tuple[Any, Any]]]] = OrderedDict()


def _install_link_memo(linked_module: Any) -> None:
    global ORIGINAL_LINK
    original = linked_module.link_program
    ORIGINAL_LINK = original

    def link_program(program: Any, functions: Any, *, logical_builtins: Any = frozenset({"and", "or"})) -> Any:
        # Only gotpl's recursion into definitions calls this module-level name; the association
        # itself (a fresh object on every compile) is linked by gotpl.template's own reference.
        entry = _linked.get(id(functions))
        if entry is None or entry[0] is not functions:
            entry = (functions, {})  # the registry is kept so its id is not reused
            _linked[id(functions)] = entry
            while len(_linked) > MAX_LINK_REGISTRIES:
                _linked.popitem(last=False)
        memo = entry[1]
        key = (id(program), logical_builtins)
        hit = memo.get(key)
        if hit is not None and hit[0] is program:
            return hit[1]
        result = original(program, functions, logical_builtins=logical_builtins)
        if len(memo) >= MAX_LINKED_PER_REGISTRY:
            memo.clear()
        memo[key] = (program, result)  # the program is kept so its id is not reused
        return result

    linked_module.link_program = link_program
