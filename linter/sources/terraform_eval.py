"""Terraform expressions evaluated offline, as far as IAM documents and names need them.

Known: literals, variable defaults and ``*.tfvars`` of the module's directory, locals, string
templates, ``for`` expressions, conditionals and operators on known values, references between the
module's own resources and data sources, and a set of pure functions (``jsonencode``, ``format``,
``concat``, ``merge``, ``toset``, ...), and ``file()`` of a file inside the scanned tree. Everything
else - a variable without a default, a data source read from the cloud, a module output, a file
outside the tree - is ``Unknown``: never guessed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Callable

from ..model import Span, YMap, YSeq
from .terraform_hcl import (
    Attribute,
    Block,
    Body,
    Call,
    Conditional,
    Expr,
    ForExpr,
    Lit,
    ObjectExpr,
    Operation,
    Template,
    Traversal,
    TupleExpr,
)

MAX_STEPS = 200_000  # evaluation steps per module: a hostile local chain cannot run for ever
MAX_ITEMS = 10_000  # elements a collection may hold (for, concat, merge, count, for_each)
MAX_CHARS = 1_000_000  # characters a string may hold (templates, format, join)
MAX_PARTS = 1_000  # pieces of a string with unknown parts


def _bounded(value: Any) -> Any:
    """A value too large for what IAM and names need (a hostile doubling chain) becomes unknown."""
    if isinstance(value, (list, dict)) and len(value) > MAX_ITEMS:
        return Unknown("a collection larger than ecrlint evaluates")
    if isinstance(value, str) and len(value) > MAX_CHARS:
        return Unknown("a string longer than ecrlint evaluates")
    if isinstance(value, Partial) and (len(value.parts) > MAX_PARTS
                                       or sum(len(p) for p in value.parts if isinstance(p, str)) > MAX_CHARS):
        return Unknown("a string longer than ecrlint evaluates")
    return value


class Unknown:
    """A value not knowable offline; ``what`` names it for messages ("var.role_arn")."""

    __slots__ = ("what",)

    def __init__(self, what: str) -> None:
        self.what = what

    def __repr__(self) -> str:
        return f"Unknown({self.what})"


@dataclass(frozen=True)
class Ref:
    """A computed attribute of a resource of this module (an ``arn``, an ``id``): links, not text."""

    mode: str  # "resource" | "data"
    type: str
    name: str
    key: Any  # instance key (count index, for_each key) or None
    attr: str

    @property
    def address(self) -> str:
        base = f"{self.type}.{self.name}" if self.mode == "resource" else f"data.{self.type}.{self.name}"
        if self.key is not None:
            base += f"[{json.dumps(self.key)}]"
        return base

    def __str__(self) -> str:
        return f"{self.address}.{self.attr}"


class Partial:
    """A string with unknown pieces: literal text and Unknown/Ref parts."""

    __slots__ = ("parts",)

    def __init__(self, parts: list[Any]) -> None:
        self.parts = parts

    def symbolic(self) -> str:
        """The text with each unknown piece as ``${name}``: what IAM matching takes as a symbol."""
        return "".join(p if isinstance(p, str) else "${%s}" % _symbol(p) for p in self.parts)

    def __repr__(self) -> str:
        return f"Partial({self.symbolic()!r})"


class Json:
    """``jsonencode(value)``: kept as the value (with positions) until text is needed."""

    __slots__ = ("value", "span")

    def __init__(self, value: Any, span: Span) -> None:
        self.value = value
        self.span = span


class Yaml:
    """``yamlencode(value)``: kept as the value (with positions) until text is needed (Helm values)."""

    __slots__ = ("value", "span")

    def __init__(self, value: Any, span: Span) -> None:
        self.value = value
        self.span = span


class TfMap(YMap):
    """An object written in a .tf file: spans are in ``file``."""

    __slots__ = ("file",)

    def __init__(self, span: Span, file: str) -> None:
        super().__init__(span)
        self.file = file


class TfSeq(YSeq):
    __slots__ = ("file",)

    def __init__(self, span: Span, file: str) -> None:
        super().__init__(span)
        self.file = file


def _symbol(value: Any) -> str:
    text = str(value) if isinstance(value, Ref) else getattr(value, "what", "unknown")
    return "".join(c if c.isalnum() or c in "._-" else "_" for c in text)[:80] or "unknown"


def is_known(value: Any) -> bool:
    """No Unknown, Ref or Partial anywhere inside."""
    if isinstance(value, (Unknown, Ref, Partial)):
        return False
    if isinstance(value, (Json, Yaml)):
        return is_known(value.value)
    if isinstance(value, dict):
        return all(is_known(v) for v in value.values())
    if isinstance(value, list):
        return all(is_known(v) for v in value)
    return True


def plain(value: Any) -> Any:
    """The value as plain JSON data (spans dropped); unknown pieces stay objects."""
    if isinstance(value, (Json, Yaml)):
        return plain(value.value)
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def to_text(value: Any) -> str | None:
    """A known string form (numbers and bools as Terraform prints them), or None."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)
    if isinstance(value, str):
        return value
    if isinstance(value, Json) and is_known(value):
        return json.dumps(plain(value.value), separators=(",", ":"))
    return None


class FileText(str):
    """The text of a file ``file()`` read from the scanned tree, with its path as findings show it
    (``display``) and on disk (``path``)."""

    display: str
    path: str

    def __new__(cls, text: str, display: str, path: str = "") -> "FileText":
        obj = super().__new__(cls, text)
        obj.display = display
        obj.path = path
        return obj


MAX_FILE_BYTES = 1024 * 1024  # a file() read: policies and manifests, never large


class Scoped:
    """An expression evaluated with extra names in scope (a ``dynamic`` block's iterator)."""

    def __init__(self, expr: Any, scope: dict[str, Any]) -> None:
        self.expr = expr
        self.scope = scope
        self.span = expr.span


class EvalBudget(Exception):
    """The module's evaluation budget ran out (a hostile or pathological configuration)."""


@dataclass
class Resource:
    """One resource or data block of the module, with the file it is written in."""

    mode: str  # "resource" | "data"
    type: str
    name: str
    block: Block
    file: str

    @property
    def address(self) -> str:
        return f"{self.type}.{self.name}" if self.mode == "resource" else f"data.{self.type}.{self.name}"


@dataclass
class Instance:
    resource: Resource
    key: Any  # None (single), int (count) or str (for_each)
    scope: dict[str, Any]

    @property
    def address(self) -> str:
        return self.resource.address + ("" if self.key is None else f"[{json.dumps(self.key)}]")


class Module:
    """One directory's configuration: every .tf file's blocks, its variables and locals."""

    def __init__(self) -> None:
        self.variables: dict[str, tuple[Attribute | None, str]] = {}  # name -> (default, file)
        self.tfvars: dict[str, Any] = {}
        self.locals: dict[str, tuple[Attribute, str]] = {}
        self.resources: dict[tuple[str, str, str], Resource] = {}
        self.modules: dict[str, tuple[Block, str]] = {}
        self._local_values: dict[str, Any] = {}
        self._evaluating: set[str] = set()
        self._instances: dict[tuple[str, str, str], list[Instance]] = {}
        self.steps = 0
        # Where file() may read: the module's directory on disk, the tree it must stay in, and how
        # paths are shown (set by the source; unset, file() is unknown).
        self.directory: str | None = None
        self.tree: str | None = None
        self.cwd: str | None = None
        # Hooks the extractor sets: the value of a computed attribute it knows (a policy document's json).
        self.computed: Callable[[Instance, str], Any] | None = None

    def add_file(self, body: Body, file: str) -> None:
        for block in body.blocks:
            labels = block.labels
            if block.type == "variable" and labels:
                self.variables[labels[0]] = (block.body.attributes.get("default"), file)
            elif block.type == "locals":
                for name, attr in block.body.attributes.items():
                    self.locals[name] = (attr, file)
            elif block.type in ("resource", "data") and len(labels) >= 2:
                self.resources[(block.type, labels[0], labels[1])] = Resource(block.type, labels[0], labels[1], block, file)
            elif block.type == "module" and labels:
                self.modules[labels[0]] = (block, file)

    def add_tfvars(self, body: Body, file: str) -> None:
        for name, attr in body.attributes.items():
            self.tfvars[name] = Evaluator(self, file).ev(attr.expr, {})

    def of_type(self, rtype: str, mode: str = "resource") -> list[Resource]:
        return [r for (m, t, _n), r in self.resources.items() if m == mode and t == rtype]

    def read_file(self, name: str) -> Any:
        """``file(name)``: a file of the scanned tree, relative to the module's directory (Terraform
        resolves it from the root module's directory, which is this one when it is the root)."""
        import os

        if self.directory is None or self.tree is None or not name or "\x00" in name:
            return Unknown("file()")
        path = os.path.realpath(os.path.join(self.directory, name))
        tree = os.path.realpath(self.tree)
        if not path.startswith(tree.rstrip(os.sep) + os.sep) or not os.path.isfile(path):
            return Unknown("file() outside the scanned tree")
        try:
            with open(path, "rb") as handle:
                data = handle.read(MAX_FILE_BYTES + 1)
        except OSError:
            return Unknown("file()")
        if len(data) > MAX_FILE_BYTES:
            return Unknown("file() too large")
        from ..parsing import ParseProblem, decode

        try:
            text = decode(data)
        except ParseProblem:
            return Unknown("file() not text")
        display = os.path.relpath(path, self.cwd or tree).replace(os.sep, "/")
        return FileText(text, display, path)

    # --- values -----------------------------------------------------------------------------
    def variable(self, name: str) -> Any:
        if name in self.tfvars:
            return self.tfvars[name]
        default, file = self.variables.get(name, (None, ""))
        if default is None:
            return Unknown(f"var.{name}")  # no default and no .tfvars value: set at plan time
        return Evaluator(self, file).ev(default.expr, {})

    def local(self, name: str) -> Any:
        if name in self._local_values:
            return self._local_values[name]
        entry = self.locals.get(name)
        if entry is None or name in self._evaluating:
            return Unknown(f"local.{name}")
        self._evaluating.add(name)
        try:
            value = Evaluator(self, entry[1]).ev(entry[0].expr, {})
        finally:
            self._evaluating.discard(name)
        self._local_values[name] = value
        return value

    def instances(self, resource: Resource) -> list[Instance]:
        """count / for_each expanded over known collections; unknown ones stand for one instance."""
        key = (resource.mode, resource.type, resource.name)
        cached = self._instances.get(key)
        if cached is not None:
            return cached
        self._instances[key] = [Instance(resource, None, {})]  # while evaluating: no self-recursion
        attrs = resource.block.body.attributes
        ev = Evaluator(self, resource.file)
        out: list[Instance] = []
        if "count" in attrs:
            count = ev.ev(attrs["count"].expr, {})
            if isinstance(count, bool):
                count = int(count)
            if isinstance(count, (int, float)) and not isinstance(count, bool):
                out = [Instance(resource, i, {"count.index": i}) for i in range(min(int(count), MAX_ITEMS))]
            else:
                out = [Instance(resource, None, {"count.index": Unknown("count.index")})]
        elif "for_each" in attrs:
            coll = ev.ev(attrs["for_each"].expr, {})
            if isinstance(coll, dict):
                out = [Instance(resource, k, {"each.key": k, "each.value": v}) for k, v in list(coll.items())[:MAX_ITEMS]]
            elif isinstance(coll, list) and all(isinstance(v, (str, Partial)) for v in coll):
                # a set of strings; one with unknown pieces ("${partition}") is still one instance
                # each, keyed by its symbolic text (Terraform knows those pieces at plan time)
                out = [Instance(resource, v if isinstance(v, str) else v.symbolic(),
                                {"each.key": v, "each.value": v}) for v in coll[:MAX_ITEMS]]
            else:
                out = [Instance(resource, None, {"each.key": Unknown("each.key"), "each.value": Unknown("each.value")})]
        else:
            out = [Instance(resource, None, {})]
        self._instances[key] = out
        return out

    def attribute(self, instance: Instance, name: str) -> Any:
        """An argument of an instance as written, or its computed value (a Ref) when not written."""
        attr = instance.resource.block.body.attributes.get(name)
        if attr is not None:
            value = Evaluator(self, instance.resource.file).ev(attr.expr, instance.scope)
            if value is not None:
                return value  # null: as if not written (a name_prefix instead of a name: computed)
        if self.computed is not None:
            value = self.computed(instance, name)
            if value is not None:
                return value
        if name in ("arn", "id", "name", "json", "minified_json", "repository_url", "registry_id", "unique_id",
                    "role", "policy_arn"):
            return Ref(instance.resource.mode, instance.resource.type, instance.resource.name, instance.key, name)
        if instance.resource.mode == "data":
            return Unknown(f"{instance.address}.{name}")
        return Unknown(f"{instance.address}.{name}")


class Evaluator:
    """Evaluates expressions of one file (objects keep spans in that file)."""

    def __init__(self, module: Module, file: str) -> None:
        self.module = module
        self.file = file

    def ev(self, expr: Expr, scope: dict[str, Any]) -> Any:  # noqa: C901 - one branch per kind of expression
        m = self.module
        m.steps += 1
        if m.steps > MAX_STEPS:
            raise EvalBudget(f"more than {MAX_STEPS} evaluation steps")
        if isinstance(expr, Lit):
            return expr.value
        if isinstance(expr, Scoped):
            return self.ev(expr.expr, {**scope, **expr.scope})
        if isinstance(expr, Template):
            return self.template(expr, scope)
        if isinstance(expr, TupleExpr):
            seq = TfSeq(expr.span, self.file)
            for item in expr.items:
                seq.append(self.ev(item, scope))
                seq.spans.append(item.span)
            return seq
        if isinstance(expr, ObjectExpr):
            obj = TfMap(expr.span, self.file)
            for key_expr, value_expr in expr.items:
                key = self.ev(key_expr, scope)
                text = to_text(key)
                if text is None:
                    continue  # an unknown key: that entry is unknown, the rest is still known
                obj[text] = self.ev(value_expr, scope)
                obj.spans[text] = (key_expr.span, value_expr.span)
            return obj
        if isinstance(expr, Traversal):
            return self.traversal(expr, scope)
        if isinstance(expr, Call):
            return self.call(expr, scope)
        if isinstance(expr, Conditional):
            cond = self.ev(expr.cond, scope)
            if isinstance(cond, bool):
                return self.ev(expr.yes if cond else expr.no, scope)
            return Unknown("a condition not known offline")
        if isinstance(expr, Operation):
            return self.operation(expr, scope)
        if isinstance(expr, ForExpr):
            return self.for_expr(expr, scope)
        return Unknown("expression")

    def template(self, expr: Template, scope: dict[str, Any]) -> Any:
        if expr.directive:
            return Unknown("a template directive")
        parts = [p if isinstance(p, str) else self.ev(p, scope) for p in expr.parts]
        pieces = sum(len(p.parts) for p in parts if isinstance(p, Partial))
        if pieces > MAX_PARTS or sum(len(p) for p in parts if isinstance(p, str)) > MAX_CHARS:
            return Unknown("a string longer than ecrlint evaluates")
        if len(parts) == 1 and not isinstance(expr.parts[0], str):
            value = parts[0]
            return value if not isinstance(value, (dict, list)) else Unknown("an interpolated collection")
        out: list[Any] = []
        for part in parts:
            text = to_text(part) if not isinstance(part, str) else part
            if text is not None:
                if out and isinstance(out[-1], str):
                    out[-1] += text
                else:
                    out.append(text)
            elif isinstance(part, Partial):
                out.extend(part.parts)
            elif part is None:
                return Unknown("null in a template")
            else:
                out.append(part if isinstance(part, (Unknown, Ref)) else Unknown("a value in a template"))
        if not out:
            return ""
        if len(out) == 1 and isinstance(out[0], str):
            return _bounded(out[0])
        return _bounded(Partial(out))

    # --- references -------------------------------------------------------------------------
    def traversal(self, expr: Traversal, scope: dict[str, Any]) -> Any:
        steps = list(expr.steps)
        root = expr.root
        if expr.base is not None:
            return self.apply(self.ev(expr.base, scope), steps, scope)
        if root == "__unknown__":
            return Unknown("an interpolation")
        first = steps[0][1] if steps and steps[0][0] == "attr" else None
        if root in ("each", "count") and first is not None:
            name = f"{root}.{first}"
            if name in scope:
                return self.apply(scope[name], steps[1:], scope)
            return Unknown(name)
        if root in scope:
            return self.apply(scope[root], steps, scope)
        if isinstance(scope, _TemplateScope):
            return Unknown(f"{root} in a template file")  # only the template's variables are in scope
        if root == "path" and first in ("module", "root"):
            return "."  # file() paths are taken from the module's own directory
        if root == "var" and first is not None:
            return self.apply(self.module.variable(first), steps[1:], scope)
        if root == "local" and first is not None:
            return self.apply(self.module.local(first), steps[1:], scope)
        if root == "data" and len(steps) >= 2 and steps[0][0] == "attr" and steps[1][0] == "attr":
            resource = self.module.resources.get(("data", steps[0][1], steps[1][1]))
            if resource is None:
                return Unknown(f"data.{steps[0][1]}.{steps[1][1]}")
            return self.resource_steps(resource, steps[2:], scope)
        if first is not None and "_" in root:
            resource = self.module.resources.get(("resource", root, first))
            if resource is not None:
                return self.resource_steps(resource, steps[1:], scope)
        label = root + "".join(f".{s[1]}" for s in steps[:2] if s[0] == "attr")
        return Unknown(label)

    def resource_steps(self, resource: Resource, steps: list[tuple[str, Any]], scope: dict[str, Any]) -> Any:
        instances = self.module.instances(resource)
        if steps and steps[0][0] == "index":
            key = self.ev(steps[0][1], scope)
            match = [i for i in instances if i.key == key]
            if not match:
                if len(instances) == 1 and instances[0].key is None:
                    match = instances  # count/for_each not known: the one instance stands for all
                else:
                    return Unknown(f"{resource.address}[...]")
            return self.instance_steps(match[0], steps[1:], scope)
        if steps and steps[0][0] == "splat":
            return [self.instance_steps(i, steps[1:], scope) for i in instances]
        if len(instances) == 1 and instances[0].key is None:
            return self.instance_steps(instances[0], steps, scope)
        if not steps:
            return Unknown(resource.address)
        # resource.name.attr on a counted resource: a list of instances (Terraform: an error); unknown
        return Unknown(resource.address)

    def instance_steps(self, instance: Instance, steps: list[tuple[str, Any]], scope: dict[str, Any]) -> Any:
        if not steps or steps[0][0] != "attr":
            return Unknown(instance.address)
        value = self.module.attribute(instance, steps[0][1])
        return self.apply(value, steps[1:], scope)

    def apply(self, value: Any, steps: list[tuple[str, Any]], scope: dict[str, Any]) -> Any:
        for i, (kind, arg) in enumerate(steps):
            if isinstance(value, (Unknown, Ref, Partial)):
                return value if isinstance(value, Unknown) else Unknown(str(value))
            if kind == "attr":
                value = value.get(arg, Unknown(f"missing .{arg}")) if isinstance(value, dict) else Unknown(f".{arg}")
            elif kind == "index":
                key = self.ev(arg, scope)
                if isinstance(value, list) and isinstance(key, (int, float)) and not isinstance(key, bool):
                    value = value[int(key)] if 0 <= int(key) < len(value) else Unknown("index out of range")
                elif isinstance(value, dict) and isinstance(key, str):
                    value = value.get(key, Unknown(f"missing [{key}]"))
                else:
                    return Unknown("an index not known offline")
            elif kind == "splat":
                items = value if isinstance(value, list) else ([] if value is None else [value])
                return [self.apply(v, steps[i + 1 :], scope) for v in items]
        return value

    # --- operators --------------------------------------------------------------------------
    def operation(self, expr: Operation, scope: dict[str, Any]) -> Any:
        values = [self.ev(o, scope) for o in expr.operands]
        op = expr.op
        if op == "!u":
            return (not values[0]) if isinstance(values[0], bool) else Unknown("!")
        if op == "-u":
            return -values[0] if isinstance(values[0], (int, float)) and not isinstance(values[0], bool) else Unknown("-")
        left, right = values
        if op == "&&":
            if left is False or right is False:
                return False
            return True if left is True and right is True else Unknown("&&")
        if op == "||":
            if left is True or right is True:
                return True
            return False if left is False and right is False else Unknown("||")
        if not is_known(left) or not is_known(right):
            return Unknown(op)
        if op == "==":
            return plain(left) == plain(right)
        if op == "!=":
            return plain(left) != plain(right)
        nums = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (left, right))
        if not nums:
            return Unknown(op)
        try:
            return {
                "+": lambda: left + right, "-": lambda: left - right, "*": lambda: left * right,
                "/": lambda: left / right, "%": lambda: left % right, "<": lambda: left < right,
                ">": lambda: left > right, "<=": lambda: left <= right, ">=": lambda: left >= right,
            }[op]()
        except (KeyError, ZeroDivisionError, OverflowError):
            return Unknown(op)

    def for_expr(self, expr: ForExpr, scope: dict[str, Any]) -> Any:
        coll = self.ev(expr.collection, scope)
        if isinstance(coll, dict):
            pairs = list(coll.items())
        elif isinstance(coll, list):
            pairs = list(enumerate(coll))
        else:
            return Unknown("a for expression over a collection not known offline")
        result_list: list[Any] = []
        result_map: dict[str, Any] = {}
        for k, v in pairs[:MAX_ITEMS]:
            inner = dict(scope)
            inner[expr.value_var] = v
            if expr.key_var:
                inner[expr.key_var] = k
            if expr.cond is not None:
                cond = self.ev(expr.cond, inner)
                if not isinstance(cond, bool):
                    return Unknown("a for condition not known offline")
                if not cond:
                    continue
            if len(result_list) + len(result_map) > MAX_ITEMS:
                return Unknown("a collection larger than ecrlint evaluates")
            if expr.key is None:
                result_list.append(self.ev(expr.value, inner))
            else:
                key = to_text(self.ev(expr.key, inner))
                if key is None:
                    return Unknown("a for key not known offline")
                value = self.ev(expr.value, inner)
                if expr.grouping:
                    result_map.setdefault(key, []).append(value)
                else:
                    result_map[key] = value
        return _bounded(result_list if expr.key is None else result_map)

    # --- functions --------------------------------------------------------------------------
    def call(self, expr: Call, scope: dict[str, Any]) -> Any:
        name = expr.name.split("::")[-1]
        if name == "try":
            for arg in expr.args:
                value = self.ev(arg, scope)
                if not isinstance(value, Unknown) or not value.what.startswith("missing"):
                    return value
            return Unknown("try()")
        args = [self.ev(a, scope) for a in expr.args]
        if expr.expand and args and isinstance(args[-1], list):
            args = args[:-1] + list(args[-1])
        fn = _FUNCTIONS.get(name)
        if name == "jsonencode" and len(args) == 1:
            return Json(args[0], expr.span)
        if name == "yamlencode" and len(args) == 1:
            return Yaml(args[0], expr.span)
        if name == "file" and len(args) == 1:
            return self.module.read_file(args[0]) if isinstance(args[0], str) else Unknown("file()")
        if name == "templatefile" and len(args) == 2:
            return self.templatefile(args[0], args[1])
        if name == "yamldecode" and len(args) == 1:
            return _yamldecode(args[0])
        if fn is None:
            return Unknown(f"{name}()")
        if name not in _LENIENT and not all(is_known(a) for a in args):
            return Unknown(f"{name}()")
        try:
            return _bounded(fn(*args))
        except (TypeError, ValueError, KeyError, IndexError, AttributeError, OverflowError, RecursionError):
            return Unknown(f"{name}()")


    def templatefile(self, name: Any, variables: Any) -> Any:
        """``templatefile(path, vars)``: a file of the scanned tree as a Terraform template with only
        ``vars`` in scope (as Terraform evaluates it); directives (``%{if}``/``%{for}``) are unknown."""
        from ..parsing import ParseProblem
        from .terraform_hcl import template_parts

        if not isinstance(name, str) or not isinstance(variables, dict):
            return Unknown("templatefile()")
        text = self.module.read_file(name)
        if not isinstance(text, FileText):
            return Unknown(f"templatefile(): {getattr(text, 'what', 'not read')}")
        try:
            parts, directive = template_parts(text, Span(1, 1, 1, 1))
        except ParseProblem:
            return Unknown("templatefile() of a template ecrlint does not read")
        if directive:
            return Unknown("templatefile() with a template directive")
        if all(isinstance(p, str) for p in parts):
            return FileText("".join(str(p) for p in parts), text.display, text.path)
        scope = {str(k): v for k, v in variables.items()}
        inner = Evaluator(self.module, text.display)
        return inner.template(Template(parts, Span(1, 1, 1, 1)), _TemplateScope(scope))


class _TemplateScope(dict):
    """The scope of a template file: only its variables (``var.x`` and ``local.x`` are not in scope)."""


def _yamldecode(value: Any) -> Any:
    """``yamldecode(text)``: YAML (safe loading only) as values; from file() with that file's positions."""
    from ..parsing import parse_text

    if not isinstance(value, str) or len(value) > MAX_FILE_BYTES:
        return Unknown("yamldecode()")
    display = value.display if isinstance(value, FileText) else ""
    docs, problems = parse_text(display or "yamldecode", str(value))
    if problems or len(docs) != 1:
        return Unknown("yamldecode() of text that is not one YAML document")
    return _in_file(docs[0][0], display)


def _in_file(node: Any, file: str) -> Any:
    """A parsed YAML tree as TfMap/TfSeq whose spans are in ``file`` ("" when not a file's)."""
    if isinstance(node, YMap):
        out = TfMap(node.span, file)
        for k, v in node.items():
            out[k] = _in_file(v, file)
        out.spans = dict(node.spans)
        return out
    if isinstance(node, YSeq):
        seq = TfSeq(node.span, file)
        seq.extend(_in_file(v, file) for v in node)
        seq.spans = list(node.spans)
        return seq
    return node


def _format(fmt: str, *args: Any) -> str:
    out: list[str] = []
    i = 0
    it = iter(args)
    while i < len(fmt):
        c = fmt[i]
        if c == "%" and i + 1 < len(fmt):
            nxt = fmt[i + 1]
            if nxt == "%":
                out.append("%")
                i += 2
                continue
            j = i + 1
            while j < len(fmt) and fmt[j] in "0123456789.-+ #":
                j += 1
            if j < len(fmt) and fmt[j] in "svdqtfxXoeEgGb":
                value = next(it)
                spec, verb = fmt[i + 1 : j], fmt[j]
                if verb == "q":
                    out.append(json.dumps(value))
                elif verb in "dxXo" and isinstance(value, (int, float)) and not isinstance(value, bool):
                    out.append(("%" + spec + verb) % int(value))
                elif verb in "feEgG" and isinstance(value, (int, float)) and not isinstance(value, bool):
                    out.append(("%" + spec + verb) % float(value))
                elif verb == "b" and isinstance(value, int) and not isinstance(value, bool):
                    out.append(format(value, spec.replace("-", "<") + "b"))
                else:
                    text = to_text(value) if not isinstance(value, (dict, list)) else json.dumps(plain(value))
                    if text is None:
                        raise ValueError("format")
                    out.append(("%" + spec + "s") % text)
                i = j + 1
                continue
        out.append(c)
        i += 1
    return "".join(out)


def _concat(*lists: Any) -> list[Any]:
    out: list[Any] = []
    for item in lists:
        if not isinstance(item, list):
            raise TypeError("concat")
        out.extend(item)
    return out


def _merge(*maps: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for item in maps:
        if item is None:
            continue
        if not isinstance(item, dict):
            raise TypeError("merge")
        out.update(item)
    return out


def _toset(value: Any) -> list[Any]:
    if not isinstance(value, list):
        raise TypeError("toset")
    out: list[Any] = []
    for v in value:
        if v not in out:
            out.append(v)
    return sorted(out, key=lambda v: str(v)) if all(isinstance(v, str) for v in out) else out


def _flatten(value: Any) -> list[Any]:
    out: list[Any] = []
    stack = [iter(value)]
    while stack:
        for v in stack[-1]:
            if isinstance(v, list):
                stack.append(iter(v))
                break
            out.append(v)
        else:
            stack.pop()
    return out


def _lookup(mapping: Any, key: Any, *default: Any) -> Any:
    if isinstance(mapping, dict) and key in mapping:
        return mapping[key]
    if default:
        return default[0]
    raise KeyError(key)


def _coalesce(*values: Any) -> Any:
    for v in values:
        if isinstance(v, (Unknown, Ref, Partial)):
            return Unknown("coalesce()")
        if v is not None and v != "":
            return v
    raise ValueError("coalesce")


def _jsondecode(text: Any) -> Any:
    if not isinstance(text, str) or len(text) > 1_000_000:
        raise ValueError("jsondecode")
    return json.loads(text)


def _element(items: Any, index: Any) -> Any:
    return items[int(index) % len(items)]


def _replace(text: str, old: str, new: str) -> str:
    if len(old) > 1 and old.startswith("/") and old.endswith("/"):
        raise ValueError("regular expression replace not evaluated")
    return text.replace(old, new)


_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "format": _format,
    "concat": _concat,
    "merge": _merge,
    "toset": _toset,
    "tolist": lambda v: list(v) if isinstance(v, list) else _raise(),
    "tomap": lambda v: dict(v) if isinstance(v, dict) else _raise(),
    "tostring": lambda v: to_text(v) if to_text(v) is not None else _raise(),
    "flatten": _flatten,
    "distinct": lambda v: [x for i, x in enumerate(v) if x not in v[:i]],
    "compact": lambda v: [x for x in v if x not in (None, "")],
    "lookup": _lookup,
    "coalesce": _coalesce,
    "join": lambda sep, items: sep.join(to_text(i) or _raise() for i in items),
    "split": lambda sep, text: text.split(sep),
    "replace": _replace,
    "lower": lambda s: s.lower(),
    "upper": lambda s: s.upper(),
    "trimspace": lambda s: s.strip(),
    "trimprefix": lambda s, p: s[len(p):] if s.startswith(p) else s,
    "trimsuffix": lambda s, p: s[: -len(p)] if p and s.endswith(p) else s,
    "length": lambda v: len(v),
    "keys": lambda m: sorted(m.keys()),
    "values": lambda m: [m[k] for k in sorted(m.keys())],
    "contains": lambda items, v: v in items,
    "element": _element,
    "jsondecode": _jsondecode,
    "one": lambda v: (v[0] if len(v) == 1 else None if not v else _raise()),
    "sort": lambda v: sorted(v),
    "zipmap": lambda ks, vs: dict(zip(ks, vs, strict=True)),
    "startswith": lambda s, p: s.startswith(p),
    "endswith": lambda s, p: s.endswith(p),
    "can": lambda v: True,
}
# Functions that only move values around: they work on collections with unknown members.
_LENIENT = frozenset(["concat", "merge", "toset", "tolist", "tomap", "flatten", "compact", "distinct", "lookup", "coalesce",
                      "length", "keys", "values", "element", "one", "zipmap"])


def _raise() -> Any:
    raise ValueError("not convertible")
