"""The rule base class and the registry of built-in and entry-point rules."""

from __future__ import annotations

import importlib
import inspect
import os
import re
from dataclasses import dataclass, field
from types import ModuleType
from typing import TYPE_CHECKING, Any, Callable, ClassVar, Iterable, Iterator, TypeVar

from .model import Finding, Fix, Loc, Related, Severity, Span
from .workspace import Workspace

if TYPE_CHECKING:
    from .config import Config

ENTRY_POINT_GROUP = "ecrlint.rules"
RULE_ID = re.compile(r"^[A-Z][A-Z0-9]*[0-9]{3}$")
DOC_SECTIONS = ("What it does", "Why", "Example", "Fix", "Options")
T = TypeVar("T")


@dataclass(frozen=True)
class Option:
    """A rule option that lives in config (top-level key, e.g. ``allowed-registries``)."""

    key: str
    type: str  # JSON-schema type name: "array", "boolean", "string"
    default: Any
    help: str


@dataclass
class Context:
    """What a rule may know besides the workspace: config values and run settings."""

    config: Config
    verbose: bool = False
    notes: list[str] = field(default_factory=list)  # --verbose notes ("role X is external, not judged")
    _shared: dict[str, Any] = field(default_factory=dict, repr=False)

    def option(self, key: str, default: Any = None) -> Any:
        return self.config.options.get(key, default)

    def shared(self, key: str, build: Callable[[], T]) -> T:
        """An analysis several rules read (the links map, the node-role subjects), built once per run.

        The engine makes one Context per run, so nothing outlives the run or depends on identity.
        """
        if key not in self._shared:
            self._shared[key] = build()
        return self._shared[key]


class Rule:
    """Base class: subclasses set the class attributes and implement ``check``.

    The class docstring is the rule's documentation: a one-line summary, then the sections
    "What it does", "Why", "Example", "Fix" and "Options" as ``## Heading`` blocks (markdown).
    """

    id: ClassVar[str]
    name: ClassVar[str]
    severity: ClassVar[Severity]
    enabled_by_default: ClassVar[bool] = True
    options: ClassVar[tuple[Option, ...]] = ()

    def check(self, ws: Workspace, ctx: Context) -> Iterable[Finding]:  # pragma: no cover - abstract
        raise NotImplementedError

    def finding(
        self,
        loc: Loc,
        message: str,
        *,
        logical: str | None = None,
        related: Iterable[Related] = (),
        fix: Fix | None = None,
        severity: Severity | None = None,
        unless_shown: Iterable[tuple[str, str, int, int]] = (),
        only_if_shown: Iterable[tuple[str, str, int, int]] = (),
    ) -> Finding:
        path, span = loc.path, loc.span
        if ".tgz/" in path or ".tar.gz/" in path:
            # Inside a vendored subchart archive: the finding points at the archive, which an
            # editor can open, and names the file inside it.
            from .helm.facts import archive_message, in_archive

            inside = in_archive(path)
            if inside is not None:
                path, inner = inside
                message = archive_message(message, inner, span.line, span.column)
                span = Span(1, 1, 1, 2)
                fix = None  # a fix cannot edit a file inside an archive
        return Finding(
            self.id,
            self.name,
            severity or self.severity,
            path,
            span,
            message,
            logical,
            tuple(related),
            fix,
            unless_shown=tuple(unless_shown),
            only_if_shown=tuple(only_if_shown),
        )

    # --- documentation -----------------------------------------------------------------------
    @classmethod
    def doc(cls) -> str:
        return inspect.cleandoc(cls.__doc__ or "")

    @classmethod
    def summary(cls) -> str:
        return cls.doc().split("\n", 1)[0].strip()

    @classmethod
    def sections(cls) -> dict[str, str]:
        """``{"What it does": "...", ...}`` parsed from the docstring's ``## `` headings."""
        out: dict[str, str] = {}
        current = None
        lines: list[str] = []
        for line in cls.doc().splitlines()[1:]:
            if line.startswith("## "):
                if current:
                    out[current] = "\n".join(lines).strip()
                current, lines = line[3:].strip(), []
            else:
                lines.append(line)
        if current:
            out[current] = "\n".join(lines).strip()
        return out

    @classmethod
    def help_uri(cls) -> str:
        return f"https://github.com/ecrlint/ecrlint/blob/main/docs/rules.md#{cls.id.lower()}-{cls.name}"


class Registry:
    """All known rules by ID, in ID order."""

    def __init__(self, rules: Iterable[type[Rule]]) -> None:
        self.rules: dict[str, type[Rule]] = {}
        for rule in rules:
            if not RULE_ID.match(getattr(rule, "id", "")):
                raise ValueError(f"rule {rule!r} has no valid id")
            if rule.id in self.rules and self.rules[rule.id] is not rule:
                raise ValueError(f"two rules claim {rule.id}: {self.rules[rule.id].__module__} and {rule.__module__}")
            self.rules[rule.id] = rule
        self.rules = dict(sorted(self.rules.items()))

    def __iter__(self) -> Iterator[type[Rule]]:
        return iter(self.rules.values())

    def __contains__(self, rule_id: str) -> bool:
        return rule_id in self.rules

    def get(self, rule_id: str) -> type[Rule] | None:
        return self.rules.get(rule_id)

    def option_keys(self) -> dict[str, Option]:
        return {opt.key: opt for rule in self for opt in rule.options}


def rules_in_module(module: ModuleType) -> list[type[Rule]]:
    return [
        obj
        for obj in vars(module).values()
        if inspect.isclass(obj) and issubclass(obj, Rule) and obj is not Rule and getattr(obj, "id", None)
    ]


_REGISTRY: Registry | None = None


def load_registry(plugins: bool = True) -> Registry:
    """Built-in rules from ``ecrlint.rules`` plus third-party packs from the entry-point group."""
    global _REGISTRY
    if _REGISTRY is not None and plugins:
        return _REGISTRY
    from ecrlint.rules import BUILTIN_MODULES

    found: list[type[Rule]] = []
    for name in BUILTIN_MODULES:
        found.extend(rules_in_module(importlib.import_module(f"ecrlint.rules.{name}")))
    if plugins:
        found.extend(_entry_point_rules())
    registry = Registry(found)
    if plugins:
        _REGISTRY = registry
    return registry


def declares_entry_points(group: str) -> bool:
    """Whether any installed distribution declares entry points in ``group`` (rule packs, sources).

    ``importlib.metadata`` costs ~15 ms to import and scan on every run; most installs have no
    rule packs, so look for the group name in the metadata files first (a few stat calls).
    """
    import sys

    for entry in sys.path:
        try:
            names = os.listdir(entry or ".")
        except OSError:
            continue
        for name in names:
            if name.endswith((".dist-info", ".egg-info")):
                try:
                    with open(os.path.join(entry, name, "entry_points.txt"), encoding="utf-8") as handle:
                        if f"[{group}]" in handle.read():
                            return True
                except OSError:
                    continue
    return False


def _entry_point_rules() -> list[type[Rule]]:
    if not declares_entry_points(ENTRY_POINT_GROUP):
        return []
    from importlib.metadata import entry_points

    found: list[type[Rule]] = []
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        obj = ep.load()
        if inspect.isclass(obj) and issubclass(obj, Rule):
            found.append(obj)
        elif inspect.ismodule(obj):
            found.extend(rules_in_module(obj))
        elif isinstance(obj, (list, tuple)):
            found.extend(r for r in obj if inspect.isclass(r) and issubclass(r, Rule))
    return found
