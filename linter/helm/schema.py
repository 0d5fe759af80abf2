"""``values.schema.json``: the values of each chart validated as Helm validates them before rendering.

Helm (pkg/chart/common/util ValidateAgainstSchema) validates the coalesced values of the top
chart against its schema, then each enabled subchart's values (under its name or alias) against
the subchart's schema; any violation stops the install. Helm v4 compiles schemas with
santhosh-tekuri/jsonschema, whose default draft is 2020-12 when ``$schema`` names none; here the
``jsonschema`` package does the same. A schema that cannot be read, or that refers to another
document (remote ``$ref``, which an offline run cannot fetch), is not validated; the chart's
notes say so.

Each violation is one ECR401 on the values line behind it: the user's --helm-values file or the
chart's values.yaml that sets (or leaves empty) the key, else the nearest key above it.
"""

from __future__ import annotations

import json
import re
from typing import Any, Iterator, Sequence

from ..model import Loc, Span, YMap
from .facts import RenderError
from .values import Node

SCHEMA_FILE = "values.schema.json"
MAX_ERRORS = 20  # violations reported per chart (a wrong document can give hundreds)
_REQUIRED = re.compile(r"^'(.*)' is a required property$", re.S)


def validate(
    root: Node, values: dict[str, Any], user_docs: Sequence[tuple[str, YMap]], notes: list[str]
) -> list[RenderError]:
    """ECR401 findings for values that break a chart's values.schema.json (Helm refuses to render)."""
    out: list[RenderError] = []
    for node, scope, node_values in _walk(root, values, ()):
        data = node.chart.schema
        if data is None:
            continue
        errors = _errors(data, node_values, node.chart.display, notes)
        for path, message in errors[:MAX_ERRORS]:
            where = "/".join(str(p) for p in path)
            out.append(RenderError(
                f"values do not meet {node.chart.display}/{SCHEMA_FILE}: at '/{where}': {message}; "
                "Helm refuses to render the chart (fix the value or pass it with --helm-values)",
                _locate(root, node, scope, path, user_docs),
                None,
                "schema",
            ))
    return out


def _walk(node: Node, values: Any, scope: tuple[str, ...]) -> Iterator[tuple[Node, tuple[str, ...], Any]]:
    yield node, scope, values
    for child in node.children:
        sub = values.get(child.name) if isinstance(values, dict) else None
        yield from _walk(child, sub if isinstance(sub, dict) else {}, (*scope, child.name))


def _errors(data: bytes, instance: Any, display: str, notes: list[str]) -> list[tuple[list[Any], str]]:
    import jsonschema  # type: ignore[import-untyped]
    import referencing
    import referencing.exceptions

    try:
        schema = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        notes.append(f"{display}/{SCHEMA_FILE} cannot be read ({exc}); values not validated")
        return []
    if not isinstance(schema, (dict, bool)):
        return []

    def offline(uri: str) -> Any:
        raise referencing.exceptions.NoSuchResource(ref=uri)  # type: ignore[call-arg]

    try:
        cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator)
        cls.check_schema(schema)
        validator = cls(schema, registry=referencing.Registry(retrieve=offline))  # type: ignore[call-arg]
        found = [(list(e.absolute_path), e) for e in validator.iter_errors(instance)]
    except (jsonschema.exceptions.SchemaError, referencing.exceptions.Unresolvable,
            referencing.exceptions.NoSuchResource) as exc:
        notes.append(f"{display}/{SCHEMA_FILE} cannot be used offline ({type(exc).__name__}); values not validated")
        return []
    except RecursionError:
        notes.append(f"{display}/{SCHEMA_FILE} nests too deeply; values not validated")
        return []
    out = []
    for path, error in sorted(found, key=lambda item: [str(p) for p in item[0]]):
        message = error.message
        required = _REQUIRED.match(message) if error.validator == "required" else None
        if required:
            path = [*path, required.group(1)]
            message = f"missing property '{required.group(1)}'"
        out.append((path, message))
    return out


def _locate(root: Node, node: Node, scope: tuple[str, ...], path: list[Any],
            user_docs: Sequence[tuple[str, YMap]]) -> Loc:
    """The values line behind ``scope + path``: the deepest key found, users' files first."""
    full = [*scope, *path]
    candidates: list[tuple[str, Any, list[Any]]] = [(p, doc, full) for p, doc in reversed(user_docs)]
    chain = _chain(root, node)  # the top chart down to ``node``, each with its place in the values
    for ancestor, depth in chain:
        candidates.append((ancestor.chart.values_path, ancestor.chart.values_doc, full[depth:]))
    best: tuple[int, Loc] | None = None
    for file, doc, keys in candidates:
        found = _deepest(doc, keys)
        if found is not None and (best is None or found[0] > best[0]):
            best = (found[0], Loc(file, found[1]))
    if best is not None:
        return best[1]
    return Loc(node.chart.values_path, Span(1, 1, 1, 2))


def _chain(root: Node, target: Node) -> list[tuple[Node, int]]:
    def visit(node: Node, depth: int) -> list[tuple[Node, int]] | None:
        if node is target:
            return [(node, depth)]
        for child in node.children:
            below = visit(child, depth + 1)
            if below is not None:
                return [(node, depth), *below]
        return None

    return list(reversed(visit(root, 0) or [(target, 0)]))


def _deepest(doc: Any, keys: list[Any]) -> tuple[int, Span] | None:
    """(keys matched, span of the last key matched) in a values document with spans."""
    found: tuple[int, Span] | None = None
    node = doc
    for depth, key in enumerate(keys, 1):
        if isinstance(node, YMap) and isinstance(key, str) and key in node.spans:
            found = (depth, node.key_span(key))
            node = node.get(key)
        elif isinstance(node, list) and isinstance(key, int) and 0 <= key < len(node):
            node = node[key]
        else:
            break
    return found
