"""Terraform's HCL read with positions: python-hcl2's grammar (lark, LALR) into a small expression tree.

python-hcl2's own ``loads`` keeps interpolations as text and block lines only; its lark parse tree
carries line *and* column for every node (``propagate_positions``), so ecrlint walks that tree
itself. Bounded on attacker input before lark sees it: the run's size limit, a bracket nesting
limit, and every heredoc opener must have its closing line (an unterminated one would make the
lexer rescan the rest of the file at each ``<<``). No Terraform binary, module or provider is ever
run or fetched.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path
from dataclasses import dataclass, field
from typing import Any, Union

from ..model import Span
from ..parsing import ParseProblem

MAX_NESTING = 64  # brackets, braces and parentheses open at once; real code stays under 15
MAX_DEPTH = 200  # tree levels walked (binary operators chain deeper than brackets)


@dataclass(eq=False)
class Lit:
    value: Any  # str, int, float, bool, None
    span: Span


@dataclass(eq=False)
class Template:
    """A quoted string or heredoc: literal text and ``${...}`` expressions (directives are unknown)."""

    parts: list[Union[str, "Expr"]]
    span: Span
    directive: bool = False  # holds %{if}/%{for}: not evaluated
    heredoc: str | None = None  # the raw heredoc body (JSON policies keep their own positions)
    body_line: int = 0  # the file line of the heredoc body's first line


@dataclass(eq=False)
class TupleExpr:
    items: list["Expr"]
    span: Span


@dataclass(eq=False)
class ObjectExpr:
    items: list[tuple["Expr", "Expr"]]  # (key expression, value expression)
    span: Span


@dataclass(eq=False)
class Traversal:
    """``root.attr[index].attr``; ``splat`` steps stand for ``[*]`` / ``.*``."""

    root: str
    steps: list[tuple[str, Any]]  # ("attr", name) | ("index", Expr) | ("splat", None)
    span: Span
    base: "Expr | None" = None  # a traversal of a computed value: (expr).attr, func()[0]


@dataclass(eq=False)
class Call:
    name: str
    args: list["Expr"]
    span: Span
    expand: bool = False  # f(list...)


@dataclass(eq=False)
class Conditional:
    cond: "Expr"
    yes: "Expr"
    no: "Expr"
    span: Span


@dataclass(eq=False)
class Operation:
    op: str
    operands: list["Expr"]
    span: Span


@dataclass(eq=False)
class ForExpr:
    key_var: str | None
    value_var: str
    collection: "Expr"
    key: "Expr | None"  # for an object result
    value: "Expr"
    cond: "Expr | None"
    span: Span
    grouping: bool = False


Expr = Union[Lit, Template, TupleExpr, ObjectExpr, Traversal, Call, Conditional, Operation, ForExpr]


@dataclass(eq=False)
class Attribute:
    name: str
    expr: Expr
    key_span: Span
    span: Span  # the value


@dataclass(eq=False)
class Block:
    type: str
    labels: list[str]
    body: "Body"
    span: Span  # the block type keyword
    label_spans: list[Span] = field(default_factory=list)

    @property
    def key_span(self) -> Span:
        """Where a finding about the whole block belongs: its last label (the name), else its type."""
        return self.label_spans[-1] if self.label_spans else self.span


@dataclass(eq=False)
class Body:
    attributes: dict[str, Attribute] = field(default_factory=dict)
    blocks: list[Block] = field(default_factory=list)

    def blocks_of(self, kind: str) -> list[Block]:
        return [b for b in self.blocks if b.type == kind]


# --- bounds checked before parsing --------------------------------------------------------------

_HEREDOC_OPEN = re.compile(r"<<-?([A-Za-z][A-Za-z0-9._-]*)\r?\n")


def check_limits(text: str) -> None:
    """Refuse what would make the parser slow or deep: raise ParseProblem with a position."""
    depth = 0
    line = 1
    in_string = False
    i = 0
    n = len(text)
    while i < n:
        c = text[i]
        if c == "\n":
            line += 1
        elif c == '"' and (i == 0 or text[i - 1] != "\\"):
            in_string = not in_string
        elif c in "([{" and not in_string:
            depth += 1
            if depth > MAX_NESTING:
                raise ParseProblem(f"nesting deeper than {MAX_NESTING} levels; not read", line, 1)
        elif c in ")]}" and not in_string:
            depth = max(0, depth - 1)
        elif c == "$" and in_string and text.startswith("${", i):
            # an interpolation opens expression context inside the string; its brackets count too
            in_string = False
            depth += 1
            i += 2
            continue
        i += 1
    for m in _HEREDOC_OPEN.finditer(text):
        marker = m.group(1)
        closing = re.compile(r"^[ \t]*" + re.escape(marker) + r"\r?$", re.MULTILINE)
        if not closing.search(text, m.end()):
            line = text.count("\n", 0, m.start()) + 1
            raise ParseProblem(f"heredoc <<{marker} is never closed", line, m.start() - text.rfind("\n", 0, m.start()))


# --- parsing ------------------------------------------------------------------------------------

# python-hcl2's own ``parser()`` builds its LALR tables once and caches them in a file it writes
# into its installed package: a write ecrlint must not make on the user's machine. Building the
# tables in memory takes 1-2 s per process, so ecrlint ships them prebuilt
# (scripts/build_hcl_parser.py writes linter/data/hcl2-parser.bin), keyed by the lark and
# python-hcl2 versions and the grammar's digest; with any other version it builds them in memory.
PARSER_DATA = "data/hcl2-parser.bin"


def parser_key() -> str:
    """What the prebuilt tables were built from: they are used only when all of it matches."""
    import hashlib
    from importlib.metadata import version

    import hcl2.parser
    import lark

    grammar = (Path(hcl2.parser.__file__).parent / "hcl2.lark").read_bytes()
    return f"lark {lark.__version__}; python-hcl2 {version('python-hcl2')}; grammar {hashlib.sha256(grammar).hexdigest()}"


def build_parser() -> Any:
    """python-hcl2's grammar as python-hcl2 builds it, without its cache file."""
    import hcl2.parser
    from hcl2.postlexer import PostLexer
    from lark import Lark

    return Lark.open("hcl2.lark", parser="lalr", rel_to=hcl2.parser.__file__, propagate_positions=True,
                     postlex=PostLexer())


@functools.lru_cache(maxsize=1)
def hcl_parser() -> Any:
    """The parser: the prebuilt tables when they match the installed versions, else built here."""
    import io
    from importlib import resources

    from hcl2.postlexer import PostLexer
    from lark import Lark

    try:
        blob = resources.files("ecrlint").joinpath(PARSER_DATA).read_bytes()
        header, _, payload = blob.partition(b"\n")
        if header.decode("utf-8") == parser_key():
            # ecrlint's own package data (pickle inside, as lark saves it), never a scanned file
            return Lark.__new__(Lark)._load(io.BytesIO(payload), postlex=PostLexer())
    except Exception:  # noqa: BLE001 - missing, stale or unreadable tables: build them instead
        pass
    return build_parser()


def parse(text: str) -> Body:
    """Parse one .tf / .tfvars text; raises ParseProblem (with line and column) on bad input."""
    check_limits(text)
    from lark.exceptions import LarkError, UnexpectedInput

    if not text.endswith("\n"):
        text += "\n"  # the grammar needs a newline after the last attribute
    try:
        tree = hcl_parser().parse(text)
    except UnexpectedInput as exc:
        line = getattr(exc, "line", 1) or 1
        column = getattr(exc, "column", 1) or 1
        token = getattr(exc, "token", None)
        if token is not None and getattr(token, "type", "") == "$END":
            what = "unexpected end of file (a block or bracket is not closed)"
            line, column = text.count("\n") + 1, len(text) - text.rfind("\n")  # where the file ends
        elif token is not None:
            what = f"unexpected {str(token).strip()[:40]!r}"
        else:
            what = "unexpected input"
        raise ParseProblem(f"invalid HCL: {what}", max(1, line), max(1, column)) from None
    except (LarkError, RecursionError) as exc:
        raise ParseProblem(f"invalid HCL: {type(exc).__name__}") from None
    try:
        return _Walker().body(tree.children[0], 0)
    except (IndexError, AttributeError, KeyError, ValueError, TypeError, StopIteration) as exc:
        # a parse tree of a shape the walker does not know (a newer grammar): a finding, never a traceback
        raise ParseProblem(f"invalid HCL: a construct ecrlint does not read ({type(exc).__name__})") from None


def _span(node: Any) -> Span:
    meta = getattr(node, "meta", None)
    if meta is not None and not getattr(meta, "empty", True):
        return Span(meta.line, meta.column, meta.end_line, meta.end_column)
    line = getattr(node, "line", None)
    if line is not None:  # a Token
        return Span(node.line, node.column, node.end_line or node.line, node.end_column or node.column + 1)
    return Span(1, 1, 1, 1)


_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\"}
_UNICODE = re.compile(r"\\(?:u([0-9A-Fa-f]{4})|U([0-9A-Fa-f]{8})|(.))", re.DOTALL)


def _unescape(text: str) -> str:
    def repl(m: re.Match[str]) -> str:
        code = m.group(1) or m.group(2)
        if code:
            try:
                return chr(int(code, 16))
            except ValueError:
                return m.group(0)
        return _ESCAPES.get(m.group(3), m.group(0))

    text = _UNICODE.sub(repl, text) if "\\" in text else text
    return text


class _Walker:
    """The lark tree into Body/Block/Attribute/Expr; depth-bounded."""

    def body(self, tree: Any, depth: int) -> Body:
        body = Body()
        for child in tree.children:
            data = getattr(child, "data", None)
            if data == "attribute":
                name_node = child.children[0]
                name = self._name(name_node)
                expr_node = child.children[-1]
                body.attributes[name] = Attribute(name, self.expr(expr_node, depth + 1), _span(name_node), _span(expr_node))
            elif data == "block":
                body.blocks.append(self.block(child, depth + 1))
        return body

    def block(self, tree: Any, depth: int) -> Block:
        if depth > MAX_DEPTH:
            raise ParseProblem("blocks nested too deeply; not read", *_span(tree)[:2])
        children = [c for c in tree.children if getattr(c, "data", None) != "new_line_or_comment"]
        kind = self._name(children[0])
        labels: list[str] = []
        label_spans: list[Span] = []
        body_node = None
        for child in children[1:]:
            data = getattr(child, "data", None)
            if data == "string":
                labels.append("".join(_unescape(str(p.children[0])) for p in child.children
                                      if getattr(p, "data", None) == "string_part" and not hasattr(p.children[0], "data")))
                label_spans.append(_span(child))
            elif data == "body":
                body_node = child
            elif data in ("identifier", "keyword", "literal_value"):
                labels.append(self._name(child))
                label_spans.append(_span(child))
        body = self.body(body_node, depth) if body_node is not None else Body()
        return Block(kind, labels, body, _span(children[0]), label_spans)

    @staticmethod
    def _name(node: Any) -> str:
        if hasattr(node, "children"):
            return str(node.children[0]) if node.children else ""
        return str(node)

    def expr(self, node: Any, depth: int) -> Expr:  # noqa: C901 - one branch per grammar rule, as the grammar lists them
        if depth > MAX_DEPTH:
            raise ParseProblem("expression nested too deeply; not read", *_span(node)[:2])
        data = getattr(node, "data", None)
        span = _span(node)
        kids = [c for c in getattr(node, "children", []) if getattr(c, "data", None) != "new_line_or_comment"]
        if data == "expr_term":
            inner = [k for k in kids if hasattr(k, "data")]
            if len(inner) == 1:
                return self.expr(inner[0], depth + 1)
            raise ParseProblem("invalid HCL expression", span.line, span.column)
        if data == "int_lit":
            return Lit(int(str(kids[0])), span)
        if data == "float_lit":
            return Lit(float(str(kids[0])), span)
        if data == "literal_value":
            return Lit({"true": True, "false": False, "null": None}[str(kids[0])], span)
        if data == "identifier":
            return Traversal(str(kids[0]), [], span)
        if data == "string":
            return self.template(kids, span, depth)
        if data == "template_string":
            return Lit(_unescape(str(kids[0])[2:-2]), span)
        if data in ("heredoc_template", "heredoc_template_trim"):
            return self.heredoc(str(kids[0]), span, data.endswith("trim"))
        if data == "tuple":
            return TupleExpr([self.expr(k, depth + 1) for k in kids if hasattr(k, "data")], span)
        if data == "object":
            items = []
            for elem in kids:
                if getattr(elem, "data", None) != "object_elem":
                    continue
                parts = [c for c in elem.children if hasattr(c, "data")]
                key_node = parts[0].children[0] if parts[0].children else parts[0]
                if getattr(key_node, "data", None) == "keyword":
                    key: Expr = Lit(self._name(key_node), _span(key_node))
                else:
                    key = self.expr(key_node, depth + 1)
                    if isinstance(key, Traversal) and not key.steps and key.base is None:
                        key = Lit(key.root, key.span)  # a bare name is the key itself
                items.append((key, self.expr(parts[-1], depth + 1)))
            return ObjectExpr(items, span)
        if data == "function_call":
            names = [str(k.children[0]) for k in kids if getattr(k, "data", None) == "identifier"]
            args_node = next((k for k in kids if getattr(k, "data", None) == "arguments"), None)
            args: list[Expr] = []
            expand = False
            if args_node is not None:
                for a in args_node.children:
                    if hasattr(a, "data") and a.data != "new_line_or_comment":
                        args.append(self.expr(a, depth + 1))
                    elif str(a) == "...":
                        expand = True
            return Call("::".join(names), args, span, expand)
        if data in ("get_attr_expr_term", "index_expr_term", "attr_splat_expr_term", "full_splat_expr_term"):
            return self.traversal(node, depth)
        if data == "conditional":
            parts = [k for k in kids if hasattr(k, "data")]
            return Conditional(self.expr(parts[0], depth + 1), self.expr(parts[1], depth + 1),
                               self.expr(parts[2], depth + 1), span)
        if data == "binary_op":
            left = self.expr(kids[0], depth + 1)
            term = kids[1]
            tparts = [c for c in term.children if hasattr(c, "data") and c.data != "new_line_or_comment"]
            op = str(tparts[0].children[0]).strip()
            return Operation(op, [left, self.expr(tparts[1], depth + 1)], span)
        if data == "unary_op":
            return Operation(str(kids[0]).strip() + "u", [self.expr(kids[1], depth + 1)], span)
        if data in ("for_tuple_expr", "for_object_expr"):
            return self.for_expr(node, kids, span, depth)
        raise ParseProblem(f"unsupported HCL expression ({data})", span.line, span.column)

    def template(self, kids: list[Any], span: Span, depth: int) -> Template:
        parts: list[str | Expr] = []
        directive = False
        for part in kids:
            if getattr(part, "data", None) != "string_part":
                continue
            inner = part.children[0]
            kind = getattr(inner, "data", None)
            if kind is None:
                text = str(inner)
                if inner.type in ("ESCAPED_INTERPOLATION", "ESCAPED_DIRECTIVE"):
                    text = text[1:]  # $${ is a literal ${
                parts.append(_unescape(text) if inner.type == "STRING_CHARS" else text)
            elif kind == "interpolation":
                exprs = [c for c in inner.children if hasattr(c, "data")]
                parts.append(self.expr(exprs[0], depth + 1))
            else:
                directive = True
        return Template(parts, span, directive)

    def heredoc(self, raw: str, span: Span, trim: bool) -> Template:
        first_nl = raw.index("\n")
        body = raw[first_nl + 1 :]
        body = body[: body.rstrip("\r\n").rfind("\n") + 1] if "\n" in body.rstrip("\r\n") else ""
        text = body
        if trim:
            lines = body.split("\n")
            indents = [len(ln) - len(ln.lstrip(" \t")) for ln in lines if ln.strip()]
            cut = min(indents) if indents else 0
            text = "\n".join(ln[cut:] for ln in lines)
        template = Template(self._heredoc_parts(text, span), span, heredoc=body, body_line=span.line + 1)
        template.directive = "%{" in text.replace("%%{", "")
        return template

    def _heredoc_parts(self, text: str, span: Span) -> list[str | Expr]:
        """Literal text and ``${...}`` expressions of a heredoc body (parsed on their own)."""
        parts: list[str | Expr] = []
        i = 0
        buf = []
        while i < len(text):
            if text.startswith("$${", i):
                buf.append("${")
                i += 3
                continue
            if text.startswith("${", i):
                end = _matching_brace(text, i + 2)
                if end < 0:
                    buf.append(text[i:])
                    break
                if buf:
                    parts.append("".join(buf))
                    buf = []
                parts.append(_parse_expression(text[i + 2 : end], span))
                i = end + 1
                continue
            buf.append(text[i])
            i += 1
        if buf:
            parts.append("".join(buf))
        return parts

    def traversal(self, node: Any, depth: int) -> Expr:
        # Flatten the left-nested chain: (((root).a)[0]).b
        steps: list[tuple[str, Any]] = []
        current = node
        while getattr(current, "data", None) in ("get_attr_expr_term", "index_expr_term", "attr_splat_expr_term",
                                                 "full_splat_expr_term", "expr_term"):
            kids = [c for c in current.children if hasattr(c, "data")]
            if current.data == "expr_term":
                if len(kids) != 1:
                    break
                current = kids[0]
                continue
            step_node = kids[1]
            steps[:0] = self._steps(step_node, current.data, depth)
            current = kids[0]
        span = _span(node)
        if getattr(current, "data", None) == "identifier":
            return Traversal(str(current.children[0]), steps, span)
        return Traversal("", steps, span, base=self.expr(current, depth + 1))

    def _steps(self, node: Any, kind: str, depth: int) -> list[tuple[str, Any]]:
        data = getattr(node, "data", None)
        if data == "get_attr":
            name = [c for c in node.children if hasattr(c, "data")][0]
            return [("attr", self._name(name))]
        if data == "braces_index":
            inner = [c for c in node.children if hasattr(c, "data") and c.data != "new_line_or_comment"]
            return [("index", self.expr(inner[0], depth + 1))]
        if data == "short_index":
            token = [c for c in node.children if not hasattr(c, "data") and str(c) != "."][0]
            return [("index", Lit(int(str(token)), _span(node)))]
        if data in ("attr_splat", "full_splat"):
            out: list[tuple[str, Any]] = [("splat", None)]
            for c in node.children:
                if hasattr(c, "data"):
                    out.extend(self._steps(c, kind, depth))
            return out
        return []

    def for_expr(self, node: Any, kids: list[Any], span: Span, depth: int) -> ForExpr:
        intro = next(k for k in kids if getattr(k, "data", None) == "for_intro")
        names = [str(c.children[0]) for c in intro.children if getattr(c, "data", None) == "identifier"]
        coll = [c for c in intro.children if hasattr(c, "data") and c.data not in ("identifier", "new_line_or_comment")]
        exprs = [k for k in kids if hasattr(k, "data") and k.data not in ("for_intro", "for_cond")]
        cond_node = next((k for k in kids if getattr(k, "data", None) == "for_cond"), None)
        cond = None
        if cond_node is not None:
            cond = self.expr([c for c in cond_node.children if hasattr(c, "data") and c.data != "new_line_or_comment"][0],
                             depth + 1)
        key_var, value_var = (names[0], names[1]) if len(names) == 2 else (None, names[0])
        collection = self.expr(coll[0], depth + 1)
        grouping = any(str(k) == "..." for k in kids if not hasattr(k, "data"))
        if node.data == "for_object_expr":
            return ForExpr(key_var, value_var, collection, self.expr(exprs[0], depth + 1),
                           self.expr(exprs[1], depth + 1), cond, span, grouping)
        return ForExpr(key_var, value_var, collection, None, self.expr(exprs[0], depth + 1), cond, span)


def template_parts(text: str, at: Span) -> tuple[list[str | Expr], bool]:
    """A template file's text (``templatefile``): literal text and ``${...}`` expressions, and
    whether it holds ``%{...}`` directives (not evaluated)."""
    check_limits_template(text)
    return _Walker()._heredoc_parts(text, at), "%{" in text.replace("%%{", "")


def check_limits_template(text: str) -> None:
    if text.count("${") > 1_000:  # each interpolation is parsed on its own (about a millisecond)
        raise ParseProblem("too many interpolations in a template file")


def _matching_brace(text: str, start: int) -> int:
    depth = 1
    quote = False
    for j in range(start, len(text)):
        c = text[j]
        if c == '"' and text[j - 1] != "\\":
            quote = not quote
        elif not quote and c == "{":
            depth += 1
        elif not quote and c == "}":
            depth -= 1
            if depth == 0:
                return j
    return -1


def _parse_expression(source: str, at: Span) -> Expr:
    """One interpolation of a heredoc, parsed on its own; its positions are the heredoc's."""
    try:
        body = parse(f"_ = {source}\n")
    except ParseProblem:
        return Traversal("__unknown__", [], at)  # not an expression we can read: unknown
    attr = body.attributes.get("_")
    if attr is None:
        return Traversal("__unknown__", [], at)
    _relocate(attr.expr, at)
    return attr.expr


def _relocate(expr: Any, at: Span) -> None:
    """Give every node of a re-parsed interpolation the heredoc's span (its own is of the snippet)."""
    stack = [expr]
    while stack:
        node = stack.pop()
        if hasattr(node, "span"):
            node.span = at
        for value in getattr(node, "__dict__", {}).values():
            if isinstance(value, list):
                for item in value:
                    if isinstance(item, tuple):
                        stack.extend(x for x in item if hasattr(x, "span"))
                    elif hasattr(item, "span"):
                        stack.append(item)
            elif hasattr(value, "span"):
                stack.append(value)
