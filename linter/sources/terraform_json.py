"""Terraform's JSON syntax (``*.tf.json``, ``*.tfvars.json``) read into the same tree as HCL.

https://developer.hashicorp.com/terraform/language/syntax/json: the top-level object's properties
are block types (``resource``, ``data``, ``variable``, ``locals``, ``module``, ...), each nesting one
object level per block label; inside a block body a string is a template (``"${var.x}"``,
``"arn:${local.partition}:..."``) and a nested block is an object, or an array of objects for
repeated blocks. Which properties are nested blocks depends on each resource type's schema, which
ecrlint does not ship: the block types its extractors read (``statement``, ``principals``,
``selector``, ``set``, the Kubernetes provider's ``metadata``/``spec``/``container``, ...) are read
as blocks, every other property as an argument. Positions come from ecrlint's JSON parser.
``.tfvars.json`` values are literal (no templates), as Terraform reads them.
"""

from __future__ import annotations

from typing import Any

from ..model import Span, YMap, YSeq
from ..parsing import ParseProblem, parse_text
from .terraform_hcl import Attribute, Block, Body, Expr, Lit, ObjectExpr, Template, TupleExpr, template_parts

# Nested block types of the resources ecrlint reads (terraform_facts, terraform_helm, the eks module).
BLOCK_TYPES = frozenset([
    "statement", "principals", "not_principals", "condition", "inline_policy", "compute_config",
    "iam_instance_profile", "launch_template", "mixed_instances_policy", "launch_template_specification",
    "tag", "selector", "set", "set_sensitive", "set_list", "dynamic", "content", "lifecycle", "timeouts",
    "vpc_config", "scaling_config", "remote_access", "access_config", "encryption_config",
])
# Kubernetes provider workloads: every nested object is a block but these map arguments.
_K8S_MAPS = frozenset(["labels", "annotations", "match_labels", "node_selector", "limits", "requests", "data",
                       "binary_data", "string_data"])
_LABELS = {"resource": 2, "data": 2, "variable": 1, "module": 1, "output": 1, "provider": 1}
MAX_DEPTH = 100


def parse(text: str, display: str, tfvars: bool = False) -> Body:
    """One ``.tf.json`` / ``.tfvars.json`` text; raises ParseProblem (with line and column) on bad input."""
    docs, problems = parse_text(display, text, is_json=True)
    errors = [p for p in problems if p.severity.label == "error"]
    if errors:
        raise ParseProblem(errors[0].message, errors[0].span.line, errors[0].span.column)
    root = docs[0][0] if docs else None
    if not isinstance(root, YMap):
        raise ParseProblem("Terraform JSON must be one object at the top level")
    if tfvars:
        body = Body()
        for key, value in root.items():
            body.attributes[str(key)] = Attribute(str(key), _expr(value, root.value_span(key), True, 0),
                                                  root.key_span(key), root.value_span(key))
        return body
    return _top(root)


def _top(root: YMap) -> Body:
    body = Body()
    for kind, value in root.items():
        kind = str(kind)
        if kind == "//":
            continue  # a comment
        if kind == "locals":
            for item in value if isinstance(value, YSeq) else [value]:
                if isinstance(item, YMap):
                    inner = Body()
                    for name, v in item.items():
                        if name != "//":
                            inner.attributes[str(name)] = Attribute(str(name), _expr(v, item.value_span(name), False, 0),
                                                                    item.key_span(name), item.value_span(name))
                    body.blocks.append(Block("locals", [], inner, root.key_span(kind)))
            continue
        count = _LABELS.get(kind)
        if count is None or not isinstance(value, YMap):
            continue  # terraform, moved, import, check ...: nothing ecrlint reads
        for labels, spans, block_value in _labelled(value, count):
            rtype = labels[0] if kind in ("resource", "data") else kind
            for item in block_value if isinstance(block_value, YSeq) else [block_value]:
                if isinstance(item, YMap):
                    body.blocks.append(Block(kind, labels, _body(item, rtype, 0), root.key_span(kind), spans))
    return body


def _labelled(value: YMap, count: int) -> list[tuple[list[str], list[Span], Any]]:
    out: list[tuple[list[str], list[Span], Any]] = []
    stack: list[tuple[YMap, list[str], list[Span]]] = [(value, [], [])]
    while stack:
        node, labels, spans = stack.pop(0)
        for key, inner in node.items():
            if key == "//":
                continue
            here, at = [*labels, str(key)], [*spans, node.key_span(key)]
            if len(here) == count:
                out.append((here, at, inner))
            elif isinstance(inner, YMap):
                stack.append((inner, here, at))
    return out


def _body(node: YMap, rtype: str, depth: int) -> Body:
    if depth > MAX_DEPTH:
        raise ParseProblem("blocks nested too deeply; not read", node.span.line, node.span.column)
    body = Body()
    k8s = rtype.startswith("kubernetes_") and rtype != "kubernetes_manifest"  # its manifest is an argument
    for key, value in node.items():
        name = str(key)
        if name == "//":
            continue
        objects = isinstance(value, YMap) or isinstance(value, YSeq) and len(value) > 0 and all(
            isinstance(v, YMap) for v in value)
        is_block = objects and (name in BLOCK_TYPES or k8s and name not in _K8S_MAPS)
        if name == "dynamic" and isinstance(value, YMap):
            for label, inner in value.items():
                for item in inner if isinstance(inner, YSeq) else [inner]:
                    if isinstance(item, YMap):
                        body.blocks.append(Block("dynamic", [str(label)], _body(item, rtype, depth + 1),
                                                 node.key_span(key), [value.key_span(label)]))
            continue
        if is_block:
            items = value if isinstance(value, YSeq) else [value]
            spans = [value.item_span(i) for i in range(len(value))] if isinstance(value, YSeq) else [node.key_span(key)]
            for item, span in zip(items, spans, strict=True):
                block = Block(name, [], _body(item, rtype, depth + 1), node.key_span(key) if not isinstance(value, YSeq) else span)
                body.blocks.append(block)
            continue
        # a variable's default is a literal value in JSON syntax: "${...}" in it is text
        literal = rtype == "variable" and depth == 0 and name in ("default", "type")
        body.attributes[name] = Attribute(name, _expr(value, node.value_span(key), literal, depth + 1),
                                          node.key_span(key), node.value_span(key))
    return body


def _expr(value: Any, span: Span, literal: bool, depth: int) -> Expr:
    if depth > MAX_DEPTH:
        raise ParseProblem("values nested too deeply; not read", span.line, span.column)
    if isinstance(value, YMap):
        items: list[tuple[Expr, Expr]] = []
        for key, inner in value.items():
            items.append((Lit(str(key), value.key_span(key)), _expr(inner, value.value_span(key), literal, depth + 1)))
        return ObjectExpr(items, value.span)
    if isinstance(value, YSeq):
        return TupleExpr([_expr(v, value.item_span(i), literal, depth + 1) for i, v in enumerate(value)], value.span)
    if isinstance(value, str) and not literal and ("${" in value or "%{" in value):
        parts, directive = template_parts(value, span)
        return Template(parts, span, directive)
    return Lit(value, span)
