"""Rules whose inputs did not change are not run again: which Workspace fields each rule read.

A rule reads the workspace only through its fields (``ws.workloads``, ``ws.roles``, ...) and the
per-run analyses of ``Context.shared``, which read the same fields. Each rule runs against a
recording view of the workspace; its findings are kept with the fields it read. After an edit,
the fields the edited files' facts touch (before or after) are "changed": a rule that read none of
them gives the same findings again, without running. Editing a Kubernetes manifest (workloads,
images) then leaves the IAM evaluation of node roles alone.
"""

from __future__ import annotations

from typing import Any, Callable, Iterable, TypeVar

from ..model import Finding
from ..registry import Context, Rule
from ..workspace import Workspace

T = TypeVar("T")
FIELDS = frozenset(name for name in Workspace.__dataclass_fields__ if name != "pod_specs")


def fields_of(ws: Workspace | None) -> set[str]:
    """The fields a file's facts fill (what an edit of it can change)."""
    return {name for name in FIELDS if ws is not None and getattr(ws, name)}


class _Reads:
    """A workspace that records which of its attributes are read."""

    def __init__(self, ws: Workspace) -> None:
        self._ws = ws
        self.seen: set[str] = set()

    def __getattr__(self, name: str) -> Any:
        self.seen.add(name)
        return getattr(self._ws, name)


class _Shared:
    """The run's Context, recording what each shared analysis read when it was built, so that a
    rule that only takes the built analysis depends on those fields too."""

    def __init__(self, ctx: Context, reads: _Reads, built: dict[str, set[str]]) -> None:
        self._ctx = ctx
        self._reads = reads
        self._built = built

    def __getattr__(self, name: str) -> Any:
        return getattr(self._ctx, name)

    def shared(self, key: str, build: Callable[[], T]) -> T:
        if key in self._built:
            self._reads.seen |= self._built[key]
            return self._ctx.shared(key, build)
        outer, self._reads.seen = self._reads.seen, set()
        try:
            value = self._ctx.shared(key, build)
        finally:
            inner, self._reads.seen = self._reads.seen, outer
        self._built[key] = inner
        self._reads.seen |= self._built[key]
        return value


class RuleCache:
    """Each rule's last findings and the workspace fields they came from."""

    def __init__(self) -> None:
        self._entries: dict[str, tuple[frozenset[str], list[Finding]]] = {}
        self.changed: set[str] = set(FIELDS)  # since the last complete lint
        self.ran: list[str] = []  # the rules the last lint ran (the others were kept)
        self.failures: dict[str, str] = {}  # rule ID -> why it failed in the last lint

    def clear(self) -> None:
        self._entries.clear()
        self.changed = set(FIELDS)

    def runner(self) -> Callable[[type[Rule], Workspace, Context], Iterable[Finding]]:
        built: dict[str, set[str]] = {}
        self.ran = []
        self.failures = {}

        def run(rule_cls: type[Rule], ws: Workspace, ctx: Context) -> Iterable[Finding]:
            entry = self._entries.get(rule_cls.id)
            if entry is not None and not entry[0] & self.changed:
                return entry[1]
            reads = _Reads(ws)
            self.ran.append(rule_cls.id)
            try:
                found = list(rule_cls().check(reads, _Shared(ctx, reads, built)))  # type: ignore[arg-type]
            except Exception as exc:  # noqa: BLE001 - one broken rule must not blank every diagnostic
                # ``ecrlint check`` stops (exit 2); an editor keeps the other rules' findings, and is
                # told. Nothing is kept: the rule runs again at the next lint.
                self.failures[rule_cls.id] = f"rule {rule_cls.id} failed: {type(exc).__name__}: {exc}"
                self._entries.pop(rule_cls.id, None)
                return []
            self._entries[rule_cls.id] = (frozenset(reads.seen), found)
            return found

        return run

    def complete(self) -> None:
        """A lint finished: every kept entry is up to date."""
        self.changed = set()
