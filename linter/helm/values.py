"""Helm's values semantics: merging -f files, coalescing defaults, globals, dependency conditions/tags/alias/import-values.

Ported from helm pkg/chartutil (coalesce.go, dependencies.go, values.go) so the built-in engine
renders with the same ``.Values`` as ``helm template``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterator

from .loader import Chart
from .semver import satisfies

GLOBAL = "global"


@dataclass(eq=False)
class Node:
    """A chart as it takes part in one render: aliased, enabled, with its coalesced ``.Values``."""

    chart: Chart
    name: str  # the alias when the dependency has one
    full_path: str  # Helm's template prefix: "web", "web/charts/common"
    defaults: dict[str, Any]  # the chart's values.yaml (plus import-values)
    children: list["Node"] = field(default_factory=list)
    requirements: list[dict[str, Any]] = field(default_factory=list)  # plain Chart.yaml entries, alias applied

    @property
    def is_library(self) -> bool:
        return self.chart.chart_type == "library"


def dup(value: Any) -> Any:
    """A deep copy of plain values data (dicts, lists, scalars); much faster than copy.deepcopy."""
    if isinstance(value, dict):
        return {k: dup(v) for k, v in value.items()}
    if isinstance(value, list):
        return [dup(v) for v in value]
    return value


def merge_maps(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    """``helm -f a -f b``: b wins; nested maps merge (helm pkg/cli/values mergeMaps)."""
    out = dict(a)
    for key, value in b.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge_maps(out[key], value)
        else:
            out[key] = value
    return out


# --- coalescing (pkg/chartutil/coalesce.go, merge=false) ------------------------------------------


def coalesce(node: Node, dest: dict[str, Any], merge: bool = False) -> dict[str, Any]:
    """The values a chart renders with: ``dest`` (user values) over the chart's defaults, then subcharts.

    ``merge`` keeps nulls (Helm's MergeValues) instead of letting them delete defaults.
    """
    _coalesce_values(node, dest, merge)
    for child in node.children:
        sub = dest.get(child.name)
        if not isinstance(sub, dict):
            sub = {}  # Helm errors on a non-map here ("type mismatch"); rendering with defaults is kinder
        dest[child.name] = sub
        _coalesce_globals(sub, dest)
        coalesce(child, sub, merge)
    return dest


def _coalesce_values(node: Node, v: dict[str, Any], merge: bool = False) -> None:
    child_names = {c.name for c in node.children}
    for key, val in dup(node.defaults).items():
        if key in child_names and isinstance(val, dict) and not merge and key not in v:
            # Helm v4: a null in a parent's values.yaml deletes the subchart's default only when the
            # user also passes values for that subchart (checked against helm-python-sdk).
            val = _drop_nulls(val)
        if key in v:
            value = v[key]
            if value is None and not merge:
                del v[key]  # a null from the user deletes the default
            elif isinstance(value, dict) and isinstance(val, dict):
                _coalesce_tables(value, val, merge=merge or key in child_names)
        else:
            v[key] = val


def _drop_nulls(table: dict[str, Any]) -> dict[str, Any]:
    return {k: _drop_nulls(v) if isinstance(v, dict) else v for k, v in table.items() if v is not None}


def _coalesce_tables(dst: dict[str, Any], src: dict[str, Any], merge: bool = False) -> dict[str, Any]:
    for key, val in src.items():
        if key in dst:
            dv = dst[key]
            if dv is None and not merge:
                del dst[key]
            elif isinstance(val, dict) and isinstance(dv, dict):
                _coalesce_tables(dv, val, merge)
        else:
            dst[key] = val
    return dst


def _coalesce_globals(dest: dict[str, Any], src: dict[str, Any]) -> None:
    """The parent's ``global`` wins over the subchart's own (coalesceGlobals)."""
    dg = dest.get(GLOBAL)
    dg = dg if isinstance(dg, dict) else {}
    sg = src.get(GLOBAL)
    sg = sg if isinstance(sg, dict) else {}
    for key, val in sg.items():
        if isinstance(val, dict):
            vv = dup(val)
            if key not in dg:
                dg[key] = vv
            elif isinstance(dg[key], dict):
                _coalesce_tables(vv, dg[key], merge=True)
                dg[key] = vv
        elif isinstance(dg.get(key), dict):
            continue
        else:
            dg[key] = val
    dest[GLOBAL] = dg


def path_value(values: dict[str, Any], path: str) -> tuple[bool, Any]:
    """Values.PathValue: (found, value) for a dotted path whose last element is not a table."""
    parts = [p for p in path.split(".") if p]
    node: Any = values
    for part in parts[:-1]:
        if not isinstance(node, dict) or not isinstance(node.get(part), dict):
            return False, None
        node = node[part]
    if not parts or not isinstance(node, dict) or parts[-1] not in node or isinstance(node[parts[-1]], dict):
        return False, None
    return True, node[parts[-1]]


def table(values: dict[str, Any], path: str) -> dict[str, Any] | None:
    node: Any = values
    for part in [p for p in path.split(".") if p]:
        if not isinstance(node, dict) or not isinstance(node.get(part), dict):
            return None
        node = node[part]
    return node if isinstance(node, dict) else None


# --- dependencies (pkg/chartutil/dependencies.go) -------------------------------------------------


def build_tree(chart: Chart, name: str | None = None, parent_path: str = "") -> Node:
    """Every vendored subchart, with Chart.yaml aliases applied (before conditions are evaluated)."""
    node_name = name or chart.name
    full_path = f"{parent_path}/charts/{node_name}" if parent_path else node_name
    node = Node(chart, node_name, full_path, dup(chart.values))
    reqs = [dict(r) for r, _doc in chart.requirements]
    matched: set[int] = set()
    children: list[tuple[Chart, str]] = []
    for req in reqs:
        req_name = req.get("name")
        for index, sub in enumerate(chart.subcharts):
            # getAliasDependency: same name and a version inside the declared range
            if sub.name == req_name and _compatible(req.get("version"), sub.metadata.get("version")):
                matched.add(index)
                alias = req.get("alias")
                children.append((sub, alias if isinstance(alias, str) and alias else sub.name))
                break
        if isinstance(req.get("alias"), str) and req["alias"]:
            req["name"] = req["alias"]
    # Subcharts in charts/ that Chart.yaml does not list (or lists with another version) still render.
    for index, sub in enumerate(chart.subcharts):
        if index not in matched:
            children.insert(0, (sub, sub.name))
    node.requirements = reqs
    node.children = [build_tree(sub, child_name, full_path) for sub, child_name in children]
    return node


def _compatible(constraint: Any, version: Any) -> bool:
    return isinstance(constraint, str) and version is not None and satisfies(constraint, str(version))


def prune_disabled(root: Node, user: dict[str, Any]) -> list[str]:
    """Drop subcharts switched off by ``condition``/``tags`` (processDependencyEnabled).

    Returns the dotted paths of what was disabled, for --verbose notes.
    """
    disabled: list[str] = []
    cvals = coalesce(root, dup(user))
    _prune(root, cvals, "", disabled)
    return disabled


def _prune(node: Node, cvals: dict[str, Any], path: str, disabled: list[str]) -> None:
    tags = cvals.get("tags") if isinstance(cvals.get("tags"), dict) else None
    off: set[str] = set()
    for req in node.requirements:
        enabled = True
        if tags is not None:
            has_true = has_false = False
            for tag in req.get("tags") or []:
                value = tags.get(tag)
                if value is True:
                    has_true = True
                elif value is False:
                    has_false = True
            enabled = not (has_false and not has_true)
        condition = req.get("condition")
        if isinstance(condition, str):
            for cond in condition.strip().split(","):
                cond = cond.strip()
                if not cond:
                    continue
                found, value = path_value(cvals, path + cond)
                if found and isinstance(value, bool):
                    enabled = value
                    break
        if not enabled and isinstance(req.get("name"), str):
            off.add(req["name"])
    kept = []
    for child in node.children:
        if child.name in off:
            disabled.append(path + child.name)
        else:
            kept.append(child)
    node.children = kept
    node.requirements = [r for r in node.requirements if r.get("name") not in off]
    for child in node.children:
        _prune(child, cvals, f"{path}{child.name}.", disabled)


def import_values(node: Node) -> None:
    """Copy ``import-values`` (exports or child/parent pairs) from subcharts into parents, bottom up."""
    for child in node.children:
        import_values(child)
    if not any(r.get("import-values") for r in node.requirements):
        return
    cvals = coalesce(node, {}, merge=True)  # MergeValues: nulls survive to delete defaults later
    imported: dict[str, Any] = {}
    for req in node.requirements:
        name = req.get("name")
        for item in req.get("import-values") or []:
            if isinstance(item, dict):
                source, parent = item.get("child"), item.get("parent")
                if not isinstance(source, str) or not isinstance(parent, str):
                    continue
                found = table(cvals, f"{name}.{source}")
                if found is None:
                    continue
                imported = _coalesce_tables(imported, _path_to_map(parent, dup(found)))
            elif isinstance(item, str):
                found = table(cvals, f"{name}.exports.{item}")
                if found is not None:
                    imported = _coalesce_tables(imported, dup(found))
    # The parent's own values win over what it imports.
    node.defaults = _coalesce_tables(cvals, imported, merge=True)


def _path_to_map(path: str, data: dict[str, Any]) -> dict[str, Any]:
    if path in (".", ""):
        return data
    out: dict[str, Any] = data
    for part in reversed([p for p in path.split(".") if p]):
        out = {part: out}
    return out


def render_values(root: Node, user: dict[str, Any]) -> dict[str, Any]:
    """The coalesced values of the top chart (subcharts' under their names), nulls still in place.

    Templates see ``without_nulls`` of this: Helm v4 renders no null-valued keys.
    """
    return coalesce(root, dup(user))


def without_nulls(values: Any, user: Any = None) -> Any:
    """Maps without null-valued keys, as Helm v4's ``.Values`` (checked against helm-python-sdk).

    ``user``: the user's values (-f files). A null the user sets on a key the chart has no default
    for stays (Helm deletes only defaults with a user null, and keeps the key otherwise);
    coalescing has already deleted the keys whose defaults a user null overrides.
    """
    if isinstance(values, dict):
        mine = user if isinstance(user, dict) else None
        return {
            k: without_nulls(v, mine.get(k) if mine is not None else None)
            for k, v in values.items()
            if v is not None or (mine is not None and k in mine and mine[k] is None)
        }
    if isinstance(values, list):
        return [without_nulls(v) for v in values]
    return values


def value_strings(node: Any) -> Iterator[str]:
    """Every string in a values tree (mappings and lists walked on a stack: values may nest deep)."""
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, str):
            yield item
