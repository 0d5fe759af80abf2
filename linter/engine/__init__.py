"""The run: discover -> parse -> extract facts -> one workspace -> rules -> config and suppressions."""

from __future__ import annotations

import gc
import os
import sys
from dataclasses import replace
from typing import Callable, Iterable, Sequence

from ..config import Config, ConfigError, glob_match, is_enabled, load_config, parse_id_list
from ..model import Finding, ParsedFile, Severity
from ..registry import Context, Registry, Rule, load_registry
from ..sources import ExtractContext
from ..sources import finish as finish_sources
from ..sources.discovery import Input, discover, display_path
from ..workspace import PodSpecReader, Workspace
from .filtering import filter_findings
from .options import InternalError, RunOptions, RunResult, UnsupportedEnvironment
from .pool import is_unit, read_all

__all__ = ["Cancelled", "InternalError", "RunOptions", "RunResult", "UnsupportedEnvironment", "check_facts", "run",
           "selection"]

# Below this much work (in bytes of YAML) a process pool costs more than it saves (fork, and
# pickling facts back). A chart's templates cost about five times their size in YAML: measured on
# the shared corpus, 10 charts (0.76 MB of templates) render in 0.73 s where 1.2 MB of manifests
# and templates parse and extract in 0.25 s.


def run(options: RunOptions) -> RunResult:
    # A lint run allocates millions of small objects and keeps most of them (facts, findings):
    # CPython's collector then rescans the growing heap again and again, a quarter of the run on
    # the shared corpus. Automatic collection is off for the run; _process collects the young
    # generations before every chart and every few files, so cyclic garbage (gotpl's render state,
    # exception tracebacks) is still freed and memory stays flat (measured in benchmarks/).
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _run(options)
    finally:
        if enabled:
            gc.enable()


def _run(options: RunOptions) -> RunResult:
    # The built-in Helm engine's run budget counts per process: a process that runs again (tests,
    # an editor integration) starts afresh. Only if a chart was rendered before (importing the
    # engine costs ~0.1 s).
    budgets = sys.modules.get("ecrlint.helm.budgets")
    if budgets is not None:
        budgets.reset_run()
    registry = load_registry()
    known = set(registry.rules)
    names = {rule.name: rule.id for rule in registry}  # a rule's name is accepted wherever its ID is
    cwd = os.path.abspath(options.cwd)
    config = load_config(options.config, known, cwd, names,
                         search_from=_config_search_start(options.paths, options.stdin_filename, cwd))
    select, ignore = selection(config, options.select, options.ignore)
    fail_on = Severity.parse(options.fail_on) if options.fail_on else config.fail_on

    notes: list[str] = []
    paths = list(options.paths) or ["."]
    if options.stdin_filename and "-" not in paths:
        raise ConfigError("--stdin-filename needs '-' among the paths")
    sources = discover(paths, config.exclude, cwd, notes, exclude_root=config.root)
    if options.stdin_filename:
        display = display_path(options.stdin_filename, cwd)
        if config.exclude and any(glob_match(g, config.relative(display)) for g in config.exclude):
            notes.append(f"{display}: excluded by config")  # as it would be on disk
            sources = [s for s in sources if s.kind != "stdin"]
        sources = [replace(s, display=display) if s.kind == "stdin" else s for s in sources]
    reported = {s.display for s in sources}
    if any(is_unit(s) for s in sources):
        # Image findings are traced into --helm-values files, which may live outside the chart.
        reported |= {display_path(v, cwd) for v in [*config.helm_values, *options.helm_values]}
    context = context_sources(config, cwd, reported, notes)

    ctx = ExtractContext(config)
    tell = options.progress or (lambda _phase: None)
    count = len(sources) + len(context)
    tell(f"reading {count} file{'s' if count != 1 else ''} and charts")
    results = read_all(sources + context, ctx, options)
    tell("running the rules")
    findings, suppressed, ws = check_facts(results, config, select, ignore, reported, cwd, notes,
                                           verbose=options.verbose, registry=registry)
    digests = {p.path: p.digest for p, _ws in results if p.digest}
    return RunResult(findings, suppressed, len(sources), notes, registry, config, ws, fail_on, digests)


def selection(config: Config, select_text: str | None = None,
              ignore_text: str | None = None) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The rules a run enables: ``--select``/``--ignore`` (when given) over the config's."""
    registry = load_registry()
    known = set(registry.rules)
    names = {rule.name: rule.id for rule in registry}
    select = parse_id_list(select_text, known, "--select", names) or config.select
    ignore = config.ignore + (parse_id_list(ignore_text, known, "--ignore", names) or ())
    if config.options.get("require-digest") and "ECR106" not in select:
        select = select + ("ECR106",)
    return select, ignore


class Cancelled(Exception):
    """``check_facts`` was told to stop (a language server's newer edit superseded this lint)."""


def check_facts(
    results: Sequence[tuple[ParsedFile, Workspace]],
    config: Config,
    select: tuple[str, ...],
    ignore: tuple[str, ...],
    reported: set[str],
    cwd: str,
    notes: list[str],
    *,
    verbose: bool = False,
    registry: Registry | None = None,
    stop: Callable[[], bool] | None = None,
    run_rule: Callable[[type[Rule], Workspace, Context], Iterable[Finding]] | None = None,
) -> tuple[list[Finding], list[Finding], Workspace]:
    """Rules over already extracted per-input facts: (findings, suppressed, the merged workspace).

    ``run`` reads and extracts, then calls this; the language server (``ecrlint.lsp``) keeps each
    file's facts between edits and calls it again. ``stop`` is asked between rules: when it
    answers True, ``Cancelled`` is raised. ``run_rule`` runs one rule (default: its ``check``); the
    language server's keeps the findings of rules whose inputs did not change.
    """
    registry = registry or load_registry()
    names = {rule.name: rule.id for rule in registry}
    ws = Workspace(pod_specs=PodSpecReader(config.max_file_size))  # re-reads use this run's limit
    parse_findings: list[Finding] = []
    suppress_lines: dict[str, ParsedFile] = {}
    for parsed, part in results:
        ws.merge(part)
        parse_findings.extend(_file_problems(parsed, config, cwd, notes))
        suppress_lines[parsed.path] = parsed
        for companion in parsed.companions:
            suppress_lines.setdefault(companion.path, companion)

    ws.link_policies()
    finish_sources(ws)
    rule_ctx = Context(config=config, verbose=verbose, notes=notes)
    raw: list[Finding] = list(parse_findings)
    for rule_cls in registry:
        if not is_enabled(rule_cls.id, rule_cls.enabled_by_default, select, ignore):
            continue
        if stop is not None and stop():
            raise Cancelled()
        try:
            raw.extend(run_rule(rule_cls, ws, rule_ctx) if run_rule else rule_cls().check(ws, rule_ctx))
        except Exception as exc:  # a crashing rule must not look like a clean run
            if verbose:
                raise
            raise InternalError(f"rule {rule_cls.id} failed: {type(exc).__name__}: {exc}") from exc

    findings, suppressed = filter_findings(raw, config, select, ignore, reported, suppress_lines, ws, notes, verbose,
                                           cwd, set(registry.rules) | {name.upper() for name in names})
    return findings, suppressed, ws


def _file_problems(parsed: ParsedFile, config: Config, cwd: str, notes: list[str]) -> list[Finding]:
    """A read file's ECR001 findings, and its --verbose notes (skipped, not ours, chart notes)."""
    if parsed.chart is not None:
        notes.extend(f"{parsed.path}: {note}" for note in parsed.chart.notes)
    if parsed.foreign and parsed.errors and not _ours(parsed, config, cwd):
        first = parsed.errors[0]
        notes.append(f"{parsed.path}: {parsed.foreign}, and not parseable ({first.span.line}:{first.span.column}: "
                     f"{first.message}); skipped")
        return []
    if parsed.skipped_reason:
        notes.append(f"{parsed.path}: {parsed.skipped_reason}")
    elif parsed.kinds == {"unknown"} or not parsed.kinds and not parsed.errors and parsed.chart is None:
        notes.append(f"{parsed.path}: no known kind of document; skipped")
    return parsed.errors


# Config keys whose globs name files as ours: a broken file they match is ECR001 whatever its text.
_NAMING_KEYS = ("node-role-policies", "context")


def _ours(parsed: ParsedFile, config: Config, cwd: str) -> bool:
    """Is a file with parse problems ours: a document of it claimed by a kind, or named by config?"""
    if parsed.kinds - {"unknown"}:
        return True
    if not config.path:
        return False
    globs = [g for key in _NAMING_KEYS for g in (config.options.get(key) or ())]
    for cluster in config.options.get("clusters") or ():
        globs.extend([cluster.get("definition", ""), *(cluster.get("workloads") or ())])
    return config.path_matches([g for g in globs if g], parsed.path) or any(
        os.path.abspath(os.path.join(cwd, parsed.path)) == os.path.abspath(v) for v in config.helm_values)


def _config_search_start(paths: list[str], stdin_filename: str | None, cwd: str) -> str:
    """Where the nearest config is looked for: the directory holding every path being checked (as
    ruff does), so ``ecrlint check ../infra`` or a pre-commit run finds the checked tree's config."""
    dirs = []
    for path in paths or ["."]:
        if path == "-":
            if not stdin_filename:
                continue
            path = stdin_filename
        absolute = os.path.join(cwd, path)
        absolute = os.path.abspath(absolute)
        dirs.append(absolute if os.path.isdir(absolute) else os.path.dirname(absolute))
    try:
        return os.path.commonpath(dirs) if dirs else cwd
    except ValueError:  # paths on different drives
        return cwd


def context_sources(config: Config, cwd: str, reported: set[str], notes: list[str]) -> list[Input]:
    """Files the ``context`` option adds: read for their facts, never reported."""
    globs = config.options.get("context") or ()
    if not globs:
        return []
    root = config.root
    found = discover([root], config.exclude, cwd, [], exclude_root=root)
    return [s for s in found if s.display not in reported and config.path_matches(globs, s.display)]
