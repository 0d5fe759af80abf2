"""Symbolic resolution of CloudFormation intrinsic functions to strings, without guessing values."""

from __future__ import annotations

import re
from typing import Any, Callable, Mapping

# Pseudo parameters keep their ``${AWS::X}`` token: their value is "the stack's", known only at deploy time.
PSEUDO_PARAMETERS = frozenset(
    [
        "AWS::AccountId",
        "AWS::Region",
        "AWS::Partition",
        "AWS::URLSuffix",
        "AWS::StackName",
        "AWS::StackId",
        "AWS::NotificationARNs",
    ]
)
_SUB_VAR = re.compile(r"\$\{([^}]*)\}")
_MAX_BRANCHES = 16  # !If fans out; cap the product so a pathological template stays cheap


class Template:
    """The parts of a template that resolution needs: parameters and mappings.

    Only these: a Template travels with every policy and image it can resolve, from the worker
    that read the file and for the rest of the run, and the whole document would go with it.
    """

    __slots__ = ("parameters", "mappings")

    def __init__(self, root: Mapping[str, Any]) -> None:
        self.parameters = _mapping(root.get("Parameters"))
        self.mappings = _mapping(root.get("Mappings"))


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, dict) else {}


def is_symbolic(text: str) -> bool:
    return "${" in text


def resolve_values(value: Any, template: Template, _depth: int = 0) -> list[str]:
    """Every string ``value`` can become (several with ``Fn::If``); ``[]`` when it cannot be known.

    Unknown parts stay as ``${Name}`` tokens: pseudo parameters, parameters without a default,
    ``Ref``/``GetAtt`` of resources (``${Logical}`` / ``${Logical.Attr}``).
    """
    if _depth > 20:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, bool) or value is None:
        return []
    if isinstance(value, (int, float)):
        return [str(value)]
    if not isinstance(value, dict) or len(value) != 1:
        return []
    (fn, arg), = value.items()
    function = _FUNCTIONS.get(fn)
    if function is None:
        return []  # ImportValue, Base64, GetAZs, ...: not knowable offline
    return function(arg, template, _depth + 1)


def resolve_string(value: Any, template: Template) -> tuple[str | None, bool]:
    """The single string ``value`` resolves to and whether it holds ``${...}`` tokens; None if unknown or ambiguous."""
    options = resolve_values(value, template)
    if len(set(options)) != 1:
        return None, False
    text = options[0]
    return text, is_symbolic(text)


def _ref(name: Any, template: Template, depth: int) -> list[str]:
    if not isinstance(name, str):
        return []
    if name in PSEUDO_PARAMETERS:
        return ["${%s}" % name]
    if name == "AWS::NoValue":
        return []
    param = template.parameters.get(name)
    if isinstance(param, dict):
        default = param.get("Default")
        if isinstance(default, (str, int, float)) and not isinstance(default, bool):
            return [str(default)]
        return ["${%s}" % name]
    return ["${%s}" % name]  # a resource: its physical ID is only known at deploy time


def _sub(arg: Any, template: Template, depth: int) -> list[str]:
    if isinstance(arg, str):
        text, variables = arg, {}
    elif isinstance(arg, list) and len(arg) == 2 and isinstance(arg[0], str) and isinstance(arg[1], dict):
        text, variables = arg[0], arg[1]
    else:
        return []
    options = [""]
    pos = 0
    for m in _SUB_VAR.finditer(text):
        literal = text[pos : m.start()]
        pos = m.end()
        name = m.group(1)
        if name.startswith("!"):  # ${!Literal} is written out as ${Literal}
            options = [o + literal + "${" + name[1:] + "}" for o in options]
            continue
        if name in variables:
            values = resolve_values(variables[name], template, depth)
        elif "." in name:
            values = ["${%s}" % name]
        else:
            values = _ref(name, template, depth)
        if not values:
            return []
        options = [o + literal + v for o in options for v in values][:_MAX_BRANCHES]
    return [o + text[pos:] for o in options]


def _find_in_map(arg: Any, template: Template, depth: int) -> list[str]:
    """``Fn::FindInMap [Map, Top, Second]``; a key known only at deploy time (``!Ref AWS::Partition``)
    stands for every entry of the map at that level, like both branches of an ``Fn::If``."""
    if not (isinstance(arg, list) and len(arg) in (3, 4)):  # 4: LanguageExtensions DefaultValue
        return []
    keys: list[list[str] | None] = []
    for part in arg[:3]:
        resolved = resolve_values(part, template, depth)
        if not resolved:
            return []
        # None: every entry (the key is symbolic, e.g. ${AWS::Region})
        keys.append(None if any(is_symbolic(k) for k in resolved) else resolved)
    if keys[0] is None:
        return []  # which map is only known at deploy time: too vague to be useful
    nodes: list[Any] = [template.mappings.get(k) for k in keys[0]]
    for level in keys[1:]:
        nxt: list[Any] = []
        for node in nodes:
            if not isinstance(node, dict):
                continue
            if level is None:
                nxt.extend(node.values())
            else:
                nxt.extend(node[k] for k in level if k in node)
        nodes = nxt
    out: list[str] = []
    for leaf in nodes:
        for value in resolve_values(leaf, template, depth):
            if value not in out:
                out.append(value)
    if not out and len(arg) == 4:
        return resolve_values(arg[3].get("DefaultValue") if isinstance(arg[3], dict) else None, template, depth)
    return out[:_MAX_BRANCHES]


def _get_att(arg: Any, template: Template, depth: int) -> list[str]:
    parts = arg.split(".", 1) if isinstance(arg, str) else arg
    if isinstance(parts, list) and len(parts) == 2 and all(isinstance(p, str) for p in parts):
        return ["${%s.%s}" % (parts[0], parts[1])]
    return []


def _join(arg: Any, template: Template, depth: int) -> list[str]:
    if not (isinstance(arg, list) and len(arg) == 2 and isinstance(arg[0], str)):
        return []
    items = arg[1]
    if isinstance(items, dict):  # a list-producing function we do not evaluate
        return []
    if not isinstance(items, list):
        return []
    options = [""]
    for i, item in enumerate(items):
        resolved = resolve_values(item, template, depth)
        if not resolved:
            return []
        sep = arg[0] if i else ""
        options = [o + sep + r for o in options for r in resolved][:_MAX_BRANCHES]
    return options


def _if(arg: Any, template: Template, depth: int) -> list[str]:
    if isinstance(arg, list) and len(arg) == 3:
        out = resolve_values(arg[1], template, depth) + resolve_values(arg[2], template, depth)
        return [o for o in out if o][:_MAX_BRANCHES]
    return []


def _select(arg: Any, template: Template, depth: int) -> list[str]:
    if isinstance(arg, list) and len(arg) == 2:
        index = resolve_values(arg[0], template, depth)
        if len(index) != 1 or not index[0].isdigit():
            return []
        i = int(index[0])
        if isinstance(arg[1], list) and i < len(arg[1]):
            return resolve_values(arg[1][i], template, depth)
        split = arg[1].get("Fn::Split") if isinstance(arg[1], dict) and len(arg[1]) == 1 else None
        if isinstance(split, list) and len(split) == 2 and isinstance(split[0], str) and split[0]:
            out = []
            for whole in resolve_values(split[1], template, depth):
                parts = whole.split(split[0])
                # a token such as ${Param} may hide delimiters: only split what is literal
                if i < len(parts) and not any(is_symbolic(p) for p in parts[: i + 1]):
                    out.append(parts[i])
                else:
                    return []
            return out
    return []


# The intrinsic functions resolve_values evaluates, each given (argument, template, depth).
_FUNCTIONS: dict[str, Callable[[Any, Template, int], list[str]]] = {
    "Ref": _ref,
    "Fn::GetAtt": _get_att,
    "Fn::Sub": _sub,
    "Fn::Join": _join,
    "Fn::If": _if,
    "Fn::Select": _select,
    "Fn::FindInMap": _find_in_map,
}
