"""One workspace folder kept in memory: its config, its inputs and each input's extracted facts.

An edit re-reads one input (the editor's unsaved text when the file is open, the file on disk
otherwise) and the rules run again over every input's cached facts (``engine.check_facts``).
Nothing here imports pygls: the server (``server.py``) drives it from its lint thread, and tests
drive it directly.
"""

from __future__ import annotations

import os
import re
import threading
from dataclasses import dataclass, field
from typing import Callable

from ..config import CONFIG_FILES, Config, ConfigError, find_config, load_config
from ..engine import check_facts, context_sources, selection
from ..engine.options import RunOptions, UnsupportedEnvironment
from ..engine.pool import is_unit, read_one
from ..model import Finding, ParsedFile, Severity, Span
from ..parsing import PARSE_ERROR, PARSE_ERROR_NAME
from ..registry import Registry, load_registry
from ..sources import ExtractContext
from ..sources.discovery import Input, Layout, discover, display_path, unit_root
from ..workspace import Workspace
from .rulecache import RuleCache, fields_of

Result = tuple[ParsedFile, Workspace]


@dataclass(frozen=True)
class ConfigProblem:
    """A config file that cannot be used: where (0-based line and column when known) and why."""

    path: str
    message: str
    line: int = 0
    column: int = 0


@dataclass
class LintResult:
    """One lint of a folder: the findings shown, the merged facts, what they were judged with."""

    findings: list[Finding]
    workspace: Workspace
    config: Config
    registry: Registry
    root: str
    config_problem: ConfigProblem | None = None
    rule_failures: tuple[str, ...] = ()  # rules that raised (their findings are missing)
    by_path: dict[str, list[Finding]] = field(default_factory=dict)  # filesystem path -> findings

    def __post_init__(self) -> None:
        for finding in self.findings:
            self.by_path.setdefault(self.fs_path(finding.path), []).append(finding)

    def fs_path(self, display: str) -> str:
        return fs_path(self.root, display)


def fs_path(root: str, display: str) -> str:
    return os.path.normpath(display if os.path.isabs(display) else os.path.join(root, display))


def is_config_file(path: str) -> bool:
    return os.path.basename(path) in CONFIG_FILES


_AT_LINE = re.compile(r":(\d+):(\d+): ")
_TOML_AT = re.compile(r"\(at line (\d+), column (\d+)\)")


def config_problem(path: str | None, root: str, message: str) -> ConfigProblem:
    """A ConfigError's one line as a place in the config file (its first line when none is said)."""
    where = path or os.path.join(root, ".ecrlint.yaml")
    line = column = 0
    rest = message
    for prefix in (f"cannot read config {where}: ", f"{where}: ", str(where)):
        if rest.startswith(prefix):
            rest = rest[len(prefix):]
            break
    at = _AT_LINE.match(rest)
    if at:
        line, column = int(at.group(1)) - 1, int(at.group(2)) - 1
        rest = rest[at.end():]
    else:
        toml = _TOML_AT.search(rest)
        if toml:
            line, column = int(toml.group(1)) - 1, int(toml.group(2)) - 1
    return ConfigProblem(where, rest.strip() or message, max(line, 0), max(column, 0))


class FolderState:
    """A workspace folder: config, inputs, per-input facts. Used from one thread at a time (the
    server's lint thread), except ``render_chart`` and ``put_chart``, which a chart thread calls."""

    def __init__(self, root: str, *, scan: bool = True) -> None:
        self.root = os.path.abspath(root)
        self.scan = scan  # False: only the open documents (a file opened outside every folder)
        self.registry = load_registry()
        self.config = Config(root=self.root)
        self.config_path: str | None = None
        self.problem: ConfigProblem | None = None
        self.select: tuple[str, ...] = self.config.select
        self.ignore: tuple[str, ...] = ()
        self.generation = 0  # bumped by every reload: chart renders of an older config are dropped
        self.inputs: dict[str, Input] = {}  # display -> a discovered file or unit (a chart)
        self.context: list[Input] = []
        self.extra: dict[str, Input] = {}  # open documents discovery did not list (new, unsaved files)
        self.cache: dict[str, Result] = {}
        self._from_text: dict[str, str] = {}  # display -> the editor text its cached facts came from
        self._charts_done: dict[str, tuple[int, Result]] = {}
        self._lock = threading.Lock()
        self.layout = Layout.registered()
        self.rules = RuleCache()

    # --- configuration and discovery -----------------------------------------------------------

    def reload(self) -> list[Input]:
        """Read the config and discover the inputs again; every cached fact is dropped (extraction
        reads the config). Returns the charts to render."""
        names = {rule.name: rule.id for rule in self.registry}
        try:
            found = find_config(self.root)
        except OSError:
            found = None
        self.config_path = str(found) if found else None
        try:
            config = load_config(None, set(self.registry.rules), self.root, names)
            select, ignore = selection(config)
        except (ConfigError, ValueError, OSError) as exc:  # a bad config is a diagnostic, never a dead server
            self.problem = config_problem(self.config_path, self.root, str(exc))
            if self.generation == 0:  # no good config yet: the defaults, until it is fixed
                self.config = Config(root=self.root)
                self.select, self.ignore = self.config.select, ()
        else:
            self.problem = None
            self.config, self.select, self.ignore = config, select, ignore
        self.generation += 1
        self.cache.clear()
        self._from_text.clear()
        self.rules.clear()
        with self._lock:
            self._charts_done.clear()
        return self.rediscover()

    def rediscover(self) -> list[Input]:
        """Walk the folder again (files created or deleted); returns the charts not yet rendered."""
        notes: list[str] = []
        inputs = discover([self.root], self.config.exclude, self.root, notes, self.layout) if self.scan else []
        self.inputs = {i.display: i for i in inputs if i.kind != "missing"}
        reported = set(self.inputs)
        self.context = context_sources(self.config, self.root, reported, notes) if self.scan else []
        for display in list(self.cache):
            if display not in self.inputs and display not in self.extra and \
                    not any(c.display == display for c in self.context):
                self._drop(display)
        for display in list(self.extra):
            if display in self.inputs:
                del self.extra[display]
        return [i for i in self.inputs.values() if is_unit(i) and i.display not in self.cache]

    def options(self) -> RunOptions:
        return RunOptions(paths=[self.root], cwd=self.root, jobs=1)

    # --- which input a file is ------------------------------------------------------------------

    def display(self, path: str) -> str:
        return display_path(path, self.root)

    def contains(self, path: str) -> bool:
        path = os.path.abspath(path)
        return path == self.root or path.startswith(self.root.rstrip(os.sep) + os.sep)

    def chart_of(self, path: str) -> Input | None:
        """The chart a file belongs to (its templates, values.yaml, Chart.yaml), if any."""
        unit = unit_root(path, self.root, self.layout)
        if unit is None:
            return None
        display = self.display(unit[0])
        found = self.inputs.get(display)
        return found if found is not None and is_unit(found) else None

    def file_input(self, path: str) -> Input | None:
        """The file input an open document is linted as, or None (not a kind ecrlint reads, excluded,
        or part of a chart, which renders from disk)."""
        display = self.display(path)
        found = self.inputs.get(display) or self.extra.get(display)
        if found is not None:
            return found if found.kind == "file" else None
        if not os.path.basename(path).endswith(self.layout.suffixes):
            return None
        # Part of a chart (a template is not YAML before rendering): the chart renders from disk. A
        # file opened outside every folder may belong to a chart above its own directory.
        if unit_root(path, self.root if self.scan else os.path.abspath(os.sep), self.layout) is not None:
            return None
        from ..config import glob_match

        if any(glob_match(g, display) for g in self.config.exclude):
            return None
        return Input(path, display, "file")

    # --- reading --------------------------------------------------------------------------------

    def update(self, texts: dict[str, str]) -> set[str]:
        """Bring the cache up to date with the open documents (path -> text) and the disk.

        Returns the display paths that were read again.
        """
        ctx = ExtractContext(self.config)
        options = self.options()
        wanted: dict[str, tuple[Input, str | None]] = {}
        for source in [*self.inputs.values(), *self.context]:
            if source.kind == "file":
                wanted[source.display] = (source, None)
        extra: dict[str, Input] = {}
        for path, text in texts.items():
            opened = self.file_input(path)
            if opened is None:
                continue
            wanted[opened.display] = (opened, text)
            if opened.display not in self.inputs:
                extra[opened.display] = opened
        self.extra = extra
        for display in list(self.cache):
            if display not in wanted and not is_unit(self._input(display)):
                self._drop(display)
        changed: set[str] = set()
        for display, (source, buffer) in wanted.items():
            if display in self.cache and self._from_text.get(display) == buffer:
                continue
            self._store(display, _read(source, buffer, ctx, options))
            if buffer is None:
                self._from_text.pop(display, None)
            else:
                self._from_text[display] = buffer
            changed.add(display)
        return changed

    def forget(self, paths: list[str]) -> None:
        """Files changed on disk (not through the editor): read them again at the next update."""
        for path in paths:
            display = self.display(path)
            if display not in self._from_text and display in self.cache:
                self._drop(display)

    def _store(self, display: str, result: Result) -> None:
        old = self.cache.get(display)
        self.rules.changed |= fields_of(old[1] if old else None) | fields_of(result[1])
        self.cache[display] = result

    def _drop(self, display: str) -> None:
        old = self.cache.pop(display, None)
        self._from_text.pop(display, None)
        self.rules.changed |= fields_of(old[1] if old else None)

    def _input(self, display: str) -> Input:
        return self.inputs.get(display) or Input(display, display, "file")

    # --- charts (rendered on another thread) ----------------------------------------------------

    def render_chart(self, chart: Input) -> tuple[int, Result]:
        """Render one chart from disk (the chart thread): (the config generation it used, result)."""
        generation, ctx = self.generation, ExtractContext(self.config)
        return generation, _guarded(chart, lambda: read_one(chart, ctx, self.options()))

    def put_chart(self, display: str, rendered: tuple[int, Result]) -> None:
        with self._lock:
            self._charts_done[display] = rendered

    def _take_charts(self) -> None:
        with self._lock:
            done, self._charts_done = self._charts_done, {}
        for display, (generation, result) in done.items():
            if generation == self.generation and display in self.inputs:
                self._store(display, result)

    # --- linting --------------------------------------------------------------------------------

    def lint(self, texts: dict[str, str], stop: Callable[[], bool] | None = None) -> LintResult:
        """Read what changed, then run the rules over every cached input. Raises engine.Cancelled
        when ``stop`` says so between rules."""
        self._take_charts()
        self.update(texts)
        order = [*self.inputs, *self.extra, *(c.display for c in self.context)]
        results = [self.cache[d] for d in order if d in self.cache]
        reported = set(self.inputs) | set(self.extra)
        if any(is_unit(i) for i in self.inputs.values()):
            reported |= {self.display(v) for v in self.config.helm_values}
        findings, _suppressed, ws = check_facts(results, self.config, self.select, self.ignore, reported, self.root,
                                                [], registry=self.registry, stop=stop, run_rule=self.rules.runner())
        self.rules.complete()
        return LintResult(findings, ws, self.config, self.registry, self.root, self.problem,
                          tuple(self.rules.failures.values()))


def _read(source: Input, text: str | None, ctx: ExtractContext, options: RunOptions) -> Result:
    data = text.encode("utf-8", "surrogatepass") if text is not None else None
    return _guarded(source, lambda: read_one(source, ctx, options, data))


def _guarded(source: Input, read: Callable[[], Result]) -> Result:
    """A file that breaks its reader or extractor is an ECR001 finding on it, never a dead server."""
    try:
        return read()
    except UnsupportedEnvironment as exc:
        message = str(exc)
    except Exception as exc:  # noqa: BLE001 - one odd file must not stop the server
        message = (f"ecrlint could not read facts from this file ({type(exc).__name__}: {exc}); "
                   "please report it with the file")
    parsed = ParsedFile(source.display)
    parsed.errors.append(Finding(PARSE_ERROR, PARSE_ERROR_NAME, Severity.ERROR, source.display, Span(1, 1, 1, 2), message))
    return parsed, Workspace()
