"""A fast path for gotpl's template parser: the same syntax tree, built in one pass over the source.

Parsing is most of the built-in Helm engine's cost (on the shared corpus's ten charts, about 60 % of
rendering them). gotpl lexes a template into token objects and then walks them with a recursive
descent of small methods; this module reads each action with the fast lexer's regular expression
and builds gotpl's own node objects directly, keeping a stack for if/with/range/define instead of
recursing.

It covers what charts are made of: text, trim markers, comments, actions and pipelines with
declarations, fields, variables, strings, decimal numbers, parentheses, if/else if/with/range/
define/template/end. Anything else - a syntax error, `block`, `break`/`continue`, character or
complex constants, unusual numbers, escapes other than the simple ones, non-ASCII text, deep
nesting, huge sources - makes it give up (``Unsupported``) and gotpl's own parser runs, so errors
and rare forms read exactly as before. tests/test_helm_speed.py checks that both parsers build
equal trees over the corpus, the fixtures and thousands of mutated templates.
"""

from __future__ import annotations

import re
from typing import Any

from .gotpl_speed import ACTION_TOKEN, COMMENT, END_OF_SOURCE, next_piece

MAX_SOURCE_CHARS = 1_000_000  # below gotpl's token limit whatever the text, so it never applies here
MAX_DEPTH = 64  # gotpl allows 100 nested lists or parentheses; deeper goes to gotpl for its message
_SPACES = " \t\r\n"
_SIMPLE_NUMBER = re.compile(r"[+-]?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?")
# Shorter than any integer outside gotpl's range (-2**63 .. 2**64-1) or any decimal that overflows.
_MAX_NUMBER_CHARS = 18
_SIMPLE_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", '"': '"'}
_STATEMENTS = frozenset({"if", "with", "range", "else", "end", "define", "template", "block", "break", "continue"})
# Words the lexer makes keywords: as a term only `nil` (and true/false) is valid.
_KEYWORD_TERMS = _STATEMENTS | {"nil"}


class Unsupported(Exception):
    """Not a form this parser builds: gotpl's own parser decides (and reports any error)."""


def make_parser(nodes: Any) -> Any:  # noqa: C901 - one hand-written parser, inlined: the hot path of compiling
    """``parse(source, name) -> ParsedTemplate`` over gotpl's node classes (``gotpl.parse.nodes``)."""
    TextNode, ActionNode, ListNode = nodes.TextNode, nodes.ActionNode, nodes.ListNode
    IfNode, WithNode, RangeNode = nodes.IfNode, nodes.WithNode, nodes.RangeNode
    DefinitionNode, TemplateCallNode, ParsedTemplate = nodes.DefinitionNode, nodes.TemplateCallNode, nodes.ParsedTemplate
    PipeNode, CommandNode, ParenthesizedNode = nodes.PipeNode, nodes.CommandNode, nodes.ParenthesizedNode
    DotNode, NilNode, BoolNode, NumberNode = nodes.DotNode, nodes.NilNode, nodes.BoolNode, nodes.NumberNode
    StringNode, IdentifierNode, FieldNode, VariableNode = (
        nodes.StringNode, nodes.IdentifierNode, nodes.FieldNode, nodes.VariableNode
    )
    branch_types = {"if": IfNode, "with": WithNode, "range": RangeNode}
    # gotpl refuses these as the first word of a later pipeline stage ("non executable command").
    literals = (DotNode, NilNode, BoolNode, NumberNode, StringNode)
    match = ACTION_TOKEN.match

    def lex_action(  # noqa: C901 - one branch per kind of token, as gotpl's lexer has
        source: str, position: int, n: int
    ) -> tuple[list[tuple[str, str, int, int]], int, int]:
        """Tokens of one action up to its right delimiter: (tokens, delimiter start, resume at)."""
        toks: list[tuple[str, str, int, int]] = []
        append = toks.append
        depth = 0
        while True:
            m = match(source, position)
            if m is None:
                raise Unsupported
            kind = m.lastgroup
            end = m.end()
            if kind == "close":
                if depth:
                    raise Unsupported
                return toks, position, end
            if kind == "space":
                if end < n and source[end] == "-" and source.startswith("}}", end + 1):
                    if depth:
                        raise Unsupported
                    resume = end + 3
                    while resume < n and source[resume] in _SPACES:
                        resume += 1
                    return toks, end + 1, resume
            elif kind == "single":
                value = m.group()
                if value == "(":
                    depth += 1
                elif value == ")":
                    depth -= 1
                    if depth < 0:
                        raise Unsupported
            elif kind == "field" and end == position + 1:
                kind = "dot"
            elif kind == "char":
                if m.group() != ",":
                    raise Unsupported  # stray characters: gotpl's error
            elif kind not in ("identifier", "field", "variable", "string", "raw_string", "number", "declare"):
                raise Unsupported  # character constants
            append((kind, m.group(), position, end))
            position = end

    def unquote(quoted: str) -> str:
        inner = quoted[1:-1]
        if "\\" not in inner:
            return inner
        out = []
        i = 0
        while i < len(inner):
            ch = inner[i]
            if ch == "\\":
                i += 1
                escaped = _SIMPLE_ESCAPES.get(inner[i])
                if escaped is None:
                    raise Unsupported  # octal, hex, unicode and the rare letters: gotpl decodes them
                out.append(escaped)
            else:
                out.append(ch)
            i += 1
        return "".join(out)

    def parse_pipeline(toks: list, i: int, in_paren: bool, depth: int) -> tuple[Any, int]:  # noqa: C901 - inlined
        n = len(toks)
        while i < n and toks[i][0] == "space":
            i += 1
        if i == n:
            raise Unsupported  # "missing value for command"
        start = toks[i][2]
        declarations: tuple = ()
        is_assignment = False
        if toks[i][0] == "variable":
            j = i
            found = []
            while True:
                kind, value, s, e = toks[j]
                found.append(VariableNode(value, (), s, e))
                j += 1
                while j < n and toks[j][0] == "space":
                    j += 1
                if j < n and toks[j][0] == "char":  # `$key, $value := ...`
                    j += 1
                    while j < n and toks[j][0] == "space":
                        j += 1
                    if j == n or toks[j][0] != "variable":
                        raise Unsupported
                    continue
                if j < n and toks[j][0] == "declare":
                    declarations = tuple(found)
                    i = j + 1
                elif j < n and toks[j][0] == "single" and toks[j][1] == "=":
                    declarations = tuple(found)
                    is_assignment = True
                    i = j + 1
                break  # otherwise not a declaration: the variable starts a command
        commands = []
        while True:
            while i < n and toks[i][0] == "space":
                i += 1
            if i == n or toks[i][1] == "|" or (in_paren and toks[i][1] == ")" and toks[i][0] == "single"):
                raise Unsupported  # "missing value for command" / "unexpected pipe"
            arguments = []
            command_start = toks[i][2]
            separated = True
            while i < n:
                kind, value, s, e = toks[i]
                if kind == "single" and (value == "|" or (value == ")" and in_paren)):
                    break
                if not separated:
                    raise Unsupported
                term, i = parse_term(toks, i, depth)
                arguments.append(term)
                separated = False
                while i < n and toks[i][0] == "space":
                    i += 1
                    separated = True
            commands.append(CommandNode(tuple(arguments), command_start, arguments[-1].end))
            if i < n and toks[i][1] == "|" and toks[i][0] == "single":
                i += 1
                while i < n and toks[i][0] == "space":
                    i += 1
                if i < n and toks[i][1] == "|" and toks[i][0] == "single":
                    raise Unsupported  # "empty command after pipe"
                if i == n or (in_paren and toks[i][1] == ")" and toks[i][0] == "single"):
                    break  # gotpl accepts a trailing pipe
                continue
            break
        for command in commands[1:]:
            if isinstance(command.arguments[0], literals):
                raise Unsupported
        return PipeNode(declarations, is_assignment, tuple(commands), start, commands[-1].end), i

    def following_fields(toks: list, i: int, fields: list, end: int) -> tuple[tuple[str, ...], int, int]:
        n = len(toks)
        while i < n and toks[i][0] == "field":
            fields.append(toks[i][1][1:])
            end = toks[i][3]
            i += 1
        return tuple(fields), end, i

    def parse_term(toks: list, i: int, depth: int) -> tuple[Any, int]:  # noqa: C901 - one branch per kind of operand
        kind, value, s, e = toks[i]
        i += 1
        if kind == "field":
            fields, end, i = following_fields(toks, i, [value[1:]], e)
            return FieldNode(fields, s, end), i
        if kind == "string":
            return StringNode(unquote(value), value, s, e), i
        if kind == "identifier":
            if value == "true" or value == "false":
                return BoolNode(value == "true", s, e), i
            if value in _KEYWORD_TERMS:
                if value == "nil":
                    return NilNode(s, e), i
                raise Unsupported
            return IdentifierNode(value, s, e), i
        if kind == "dot":
            return DotNode(s, e), i
        if kind == "variable":
            fields, end, i = following_fields(toks, i, [], e)
            return VariableNode(value, fields, s, end), i
        if kind == "single" and value == "(":
            if depth >= MAX_DEPTH:
                raise Unsupported
            pipeline, i = parse_pipeline(toks, i, True, depth + 1)
            n = len(toks)
            while i < n and toks[i][0] == "space":
                i += 1
            if i == n or toks[i][1] != ")":
                raise Unsupported
            fields, end, i = following_fields(toks, i + 1, [], toks[i][3])
            return ParenthesizedNode(pipeline, fields, s, end), i
        if kind == "number":
            if not _SIMPLE_NUMBER.fullmatch(value) or len(value) > _MAX_NUMBER_CHARS:
                raise Unsupported  # hex, octal, exponents, imaginary, out of range: gotpl validates them
            return NumberNode(value, s, e), i
        if kind == "raw_string":
            return StringNode(value[1:-1].replace("\r", ""), value, s, e), i
        raise Unsupported

    def statement(toks: list) -> tuple[str | None, int]:
        """The statement keyword an action starts with (after spaces), and the index after it."""
        i = 0
        n = len(toks)
        while i < n and toks[i][0] == "space":
            i += 1
        if i < n and toks[i][0] == "identifier" and toks[i][1] in _STATEMENTS:
            return toks[i][1], i + 1
        return None, i

    def only_spaces(toks: list, i: int) -> None:
        for tok in toks[i:]:
            if tok[0] != "space":
                raise Unsupported

    def template_name(toks: list, i: int) -> tuple[str, int]:
        n = len(toks)
        while i < n and toks[i][0] == "space":
            i += 1
        if i == n:
            raise Unsupported
        kind, value, _s, _e = toks[i]
        if kind == "string":
            return unquote(value), i + 1
        if kind == "raw_string":
            return value[1:-1].replace("\r", ""), i + 1
        raise Unsupported

    def parse(source: str, name: str) -> Any:  # noqa: C901 - one loop over text, actions and block keywords
        if len(source) > MAX_SOURCE_CHARS or not source.isascii():
            raise Unsupported
        n = len(source)
        root: list[Any] = []
        current = root
        # Open blocks: [keyword, start, pipeline_or_name, body, else_body, chained]; "chained"
        # marks an `else if`/`else with`, which shares its parent's `end`.
        stack: list[list[Any]] = []
        definitions: list[Any] = []
        defined: set[str] = set()
        cursor = 0
        while cursor < n:
            kind, text_end, action_start, content = next_piece(source, cursor, n, Unsupported)
            if text_end > cursor:
                current.append(TextNode(source[cursor:text_end], cursor, text_end))
            if kind == END_OF_SOURCE:
                break
            if kind == COMMENT:
                cursor = content
                continue
            toks, right_start, cursor = lex_action(source, content, n)
            right_end = right_start + 2
            keyword, i = statement(toks)
            if keyword is None:
                pipeline, i = parse_pipeline(toks, i, False, 0)
                only_spaces(toks, i)
                current.append(ActionNode(pipeline, action_start, right_end))
            elif keyword == "if" or keyword == "with" or keyword == "range":
                if len(stack) >= MAX_DEPTH:
                    raise Unsupported
                pipeline, i = parse_pipeline(toks, i, False, 0)
                only_spaces(toks, i)
                body: list[Any] = []
                stack.append([keyword, action_start, pipeline, body, None, False])
                current = body
            elif keyword == "end":
                only_spaces(toks, i)
                if not stack:
                    raise Unsupported
                frame = stack.pop()
                node = _close(frame, right_end)
                while frame[5]:  # an `else if` closes the branch it continues too
                    frame = stack.pop()
                    frame[4] = ListNode((node,))
                    node = _close(frame, node.end)
                if frame[0] == "define":
                    if frame[2] in defined:
                        raise Unsupported  # gotpl's add_definition rules for redefinitions
                    defined.add(frame[2])
                    definitions.append(node)
                    current = root
                else:
                    current = stack[-1][4] if stack and stack[-1][4] is not None else (stack[-1][3] if stack else root)
                    current.append(node)
            elif keyword == "else":
                if not stack or stack[-1][0] == "define" or stack[-1][4] is not None:
                    raise Unsupported
                frame = stack[-1]
                j = i
                while j < len(toks) and toks[j][0] == "space":
                    j += 1
                nested = toks[j][1] if j < len(toks) and toks[j][0] == "identifier" else None
                if nested is not None and nested == frame[0] and nested != "range":
                    pipeline, j = parse_pipeline(toks, j + 1, False, 0)
                    only_spaces(toks, j)
                    frame[4] = []  # replaced by the chained branch when it ends
                    body = []
                    stack.append([nested, action_start, pipeline, body, None, True])
                    current = body
                else:
                    only_spaces(toks, i)
                    frame[4] = []
                    current = frame[4]
            elif keyword == "define":
                if stack:
                    raise Unsupported  # "unexpected define in control body"
                define_name, i = template_name(toks, i)
                only_spaces(toks, i)
                body = []
                stack.append(["define", action_start, define_name, body, None, False])
                current = body
            elif keyword == "template":
                call_name, i = template_name(toks, i)
                j = i
                while j < len(toks) and toks[j][0] == "space":
                    j += 1
                if j == len(toks):
                    pipeline = None
                else:
                    if j == i:
                        raise Unsupported  # no space after the name
                    pipeline, j = parse_pipeline(toks, j, False, 0)
                    only_spaces(toks, j)
                current.append(TemplateCallNode(call_name, pipeline, action_start, right_end))
            else:
                raise Unsupported  # block, break, continue
        if stack:
            raise Unsupported  # "unexpected EOF"
        return ParsedTemplate(name, ListNode(tuple(root)), tuple(definitions))

    def _close(frame: list[Any], end: int) -> Any:
        keyword, start, head, body, else_body, _chained = frame
        if keyword == "define":
            return DefinitionNode(head, ListNode(tuple(body)), start, end)
        else_list = None if else_body is None else (else_body if isinstance(else_body, ListNode) else ListNode(tuple(else_body)))
        return branch_types[keyword](head, ListNode(tuple(body)), else_list, start, end)

    return parse
