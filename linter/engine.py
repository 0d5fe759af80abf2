"""The run: discover -> parse -> extract facts -> one workspace -> rules -> config and suppressions."""

from __future__ import annotations

import gc
import os
import sys
import threading
from collections import deque
from dataclasses import dataclass, field, replace
from typing import Any, Iterable

from .config import Config, ConfigError, ignored_for_path, is_enabled, load_config, parse_id_list
from .discovery import Source, discover, display_path
from .extract import ExtractContext, extract_file
from .model import Finding, ParsedFile, Severity, Span
from .parsing import PARSE_ERROR, PARSE_ERROR_NAME, ParseProblem, decode, parse_file, scan_suppressions
from .registry import Context, Registry, load_registry
from .workspace import PodSpecReader, Workspace, compact_for_transfer

# Below this much work (in bytes of YAML) a process pool costs more than it saves (fork, and
# pickling facts back). A chart's templates cost about five times their size in YAML: measured on
# the shared corpus, 10 charts (0.76 MB of templates) render in 0.73 s where 1.2 MB of manifests
# and templates parse and extract in 0.25 s.
PARALLEL_MIN_BYTES = 512 * 1024
CHART_COST_PER_BYTE = 5
CHUNK_FILES = 16
YOUNG_COLLECT_EVERY = 64  # sources between collections of the young generations (see run)


class InternalError(Exception):
    """A bug or an environment failure: exit 2 with a one-line message."""


@dataclass
class RunOptions:
    paths: list[str] = field(default_factory=lambda: ["."])
    config: str | None = None
    select: str | None = None
    ignore: str | None = None
    stdin_filename: str | None = None
    fail_on: str | None = None
    jobs: int | None = None
    helm_values: list[str] = field(default_factory=list)
    helm_engine: str | None = None
    verbose: bool = False
    cwd: str = "."
    stdin: Any = None  # bytes for "-" (tests); default: sys.stdin


@dataclass
class RunResult:
    findings: list[Finding]
    suppressed: list[Finding]
    files: int
    notes: list[str]
    registry: Registry
    config: Config
    workspace: Workspace
    fail_on: Severity
    digests: dict[str, str] = field(default_factory=dict)  # display path -> sha256 of what was read

    @property
    def failed(self) -> bool:
        return any(f.severity >= self.fail_on for f in self.findings)


# --- reading sources (runs in worker processes for large inputs) --------------------------------

_WORKER_CTX: tuple[ExtractContext, RunOptions] | None = None


def _read_source(source: Source, ctx: ExtractContext, options: RunOptions) -> ParsedFile:
    max_bytes = ctx.config.max_file_size
    if source.kind == "missing":
        parsed = ParsedFile(source.display)
        parsed.errors.append(
            Finding(PARSE_ERROR, PARSE_ERROR_NAME, Severity.ERROR, source.display, Span(1, 1, 1, 1),
                    "cannot read path: no such file or directory")
        )
        return parsed
    if source.kind == "stdin":
        data = options.stdin if options.stdin is not None else sys.stdin.buffer.read(max_bytes + 1)
        return parse_file("-", source.display, data=data, max_bytes=max_bytes)
    if source.kind == "chart":
        return _read_chart(source, ctx, options)
    return parse_file(source.path, source.display, max_bytes=max_bytes)


def _read_chart(source: Source, ctx: ExtractContext, options: RunOptions) -> ParsedFile:
    from . import helm

    loader = getattr(helm, "load_chart", None)
    if loader is None:  # pragma: no cover - only while the Helm engine is absent
        parsed = ParsedFile(source.display)
        parsed.skipped_reason = "Helm rendering is not available"
        return parsed
    values = list(ctx.config.helm_values) + list(options.helm_values)
    engine = options.helm_engine or ctx.config.helm_engine
    parsed = loader(source.path, source.display, values_files=values,
                    engine=None if engine == "auto" else engine, max_bytes=ctx.config.max_file_size)
    # Image findings point into values files: their "# ecrlint: ignore" comments must count.
    chart_values = os.path.join(source.path, "values.yaml")
    for fs_path in [chart_values, *values]:
        if fs_path == chart_values and not _within_dir(chart_values, source.path):
            continue  # a values.yaml linked out of the chart is not read (the loader refuses it too)
        try:
            with open(fs_path, "rb") as handle:
                text = decode(handle.read(ctx.config.max_file_size))
        except (OSError, ParseProblem):
            continue
        companion = ParsedFile(display_path(fs_path, options.cwd))
        scan_suppressions(text, companion)
        parsed.companions.append(companion)
    return parsed


def _within_dir(path: str, directory: str) -> bool:
    real, root = os.path.realpath(path), os.path.realpath(directory)
    return real.startswith(root.rstrip(os.sep) + os.sep)


_processed = 0


def _process(source: Source, ctx: ExtractContext, options: RunOptions) -> tuple[ParsedFile, Workspace]:
    global _processed
    _processed += 1
    if source.kind == "chart" or _processed % YOUNG_COLLECT_EVERY == 0:
        gc.collect(1)  # only what was allocated since the last one: cheap (see run)
    parsed = _read_source(source, ctx, options)
    try:
        ws = extract_file(parsed, ctx)
    except Exception as exc:  # a bug on one odd file must not stop the run over every other file
        if options.verbose:
            raise
        parsed.errors.append(
            Finding(PARSE_ERROR, PARSE_ERROR_NAME, Severity.ERROR, source.display, Span(1, 1, 1, 1),
                    f"ecrlint could not read facts from this file ({type(exc).__name__}: {exc}); "
                    "please report it with the file")
        )
        ws = Workspace()
    if source.kind == "file":
        # Pod specs are the bulk of the facts and few rules read them (Fargate-selected
        # workloads): drop them and re-read on demand, to keep memory flat at 10,000 files and
        # results small across the process pool. The same in every mode, so --jobs never changes output.
        compact_for_transfer(ws, source.path)
    parsed.documents = []  # facts are extracted; the trees need not travel back from a worker
    return parsed, ws


def _process_chunk(chunk: list[Source]) -> list[tuple[ParsedFile, Workspace]]:
    assert _WORKER_CTX is not None
    ctx, options = _WORKER_CTX
    return [_process(s, ctx, options) for s in chunk]


def _process_task(task: tuple[int, list[Source]]) -> tuple[int, list[tuple[ParsedFile, Workspace]]]:
    first, chunk = task
    return first, _process_chunk(chunk)


def _source_cost(source: Source) -> int:
    """Rough work estimate in "YAML bytes": what scheduling and the pool decision go by."""
    try:
        if source.kind == "file":
            return os.stat(source.path).st_size
        if source.kind == "chart":
            return CHART_COST_PER_BYTE * _template_bytes(source.path)
    except OSError:
        pass
    return 0


def _template_bytes(chart_dir: str) -> int:
    # Rendering costs in proportion to template text, the chart's and its vendored subcharts'
    # (.tgz archives count at their compressed size: they are rare, and only order work).
    total = 0
    for top, dirs, files in os.walk(chart_dir):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        if "templates" in top.split(os.sep) or top.endswith(os.sep + "charts"):
            total += sum(_size(os.path.join(top, f)) for f in files)
    return total


def _size(path: str) -> int:
    try:
        return os.lstat(path).st_size
    except OSError:
        return 0


def _read_all(sources: list[Source], ctx: ExtractContext, options: RunOptions) -> list[tuple[ParsedFile, Workspace]]:
    global _WORKER_CTX
    if any(s.kind == "stdin" for s in sources):
        return [_process(s, ctx, options) for s in sources]
    costs = [_source_cost(s) for s in sources] if options.jobs != 1 else []
    jobs = options.jobs
    if jobs is None:
        big = len(sources) >= 2 and sum(costs) >= PARALLEL_MIN_BYTES
        jobs = (os.cpu_count() or 1) if big else 1
    jobs = max(1, min(jobs, len(sources)))
    if jobs == 1:
        return [_process(s, ctx, options) for s in sources]
    import multiprocessing

    _WORKER_CTX = (ctx, options)
    # Import every extractor (and the Helm engine) once, before forking: otherwise each worker
    # pays the imports again for the first file of each kind.
    from .extract import preload_extractors

    preload_extractors(charts=any(s.kind == "chart" for s in sources))
    # Charts cost far more than files: each is a task of its own, dearest first, so that the
    # processes share them. Files follow in chunks, which keep pickling overhead low. Results go
    # back to input order: output is the same for any --jobs.
    tasks: list[tuple[int, list[Source]]] = []
    charts = sorted((i for i, s in enumerate(sources) if s.kind == "chart"), key=lambda i: -costs[i])
    tasks.extend((i, [sources[i]]) for i in charts)
    files = [i for i, s in enumerate(sources) if s.kind != "chart"]
    # Few files: smaller chunks, so that every worker gets some.
    chunk_files = max(1, min(CHUNK_FILES, len(files) // (jobs * 4)))
    for start in range(0, len(files), chunk_files):
        group = files[start : start + chunk_files]
        # Consecutive in input order (charts are taken out), so one index locates the chunk.
        for sub in _consecutive(group):
            tasks.append((sub[0], [sources[i] for i in sub]))
    results: list[Any] = [None] * len(sources)

    def store(done: tuple[int, list[tuple[ParsedFile, Workspace]]]) -> None:
        first, items = done
        results[first : first + len(items)] = items

    # The parent is one of the `jobs` processes: it works through the same queue instead of
    # waiting, from the other end - workers take the charts (dearest first), the parent the
    # files, whose bulky facts then never have to be pickled across. Every result a worker sends
    # back hands it the next task from the pool's result thread, so a worker never waits for the
    # parent to finish a chart before it gets more work.
    workers = jobs - 1
    pending = deque(tasks)
    state = threading.Condition()
    outstanding = 0
    stopping = False
    failures: list[BaseException] = []
    from concurrent.futures import Future, ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    # concurrent.futures, not multiprocessing.Pool: when a worker dies (the OOM killer, a crash in
    # a native library) its tasks fail with BrokenProcessPool instead of never finishing.
    executor = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context(method))

    def submit() -> None:
        nonlocal outstanding
        if stopping or failures:
            return
        try:
            task = pending.popleft()
        except IndexError:
            return
        with state:
            outstanding += 1
        try:
            future = executor.submit(_process_task, task)
        except (RuntimeError, BrokenProcessPool) as exc:  # shut down, or a worker died
            settle(exc)
            return
        future.add_done_callback(finished)

    def settle(exc: BaseException | None) -> None:
        nonlocal outstanding
        with state:
            if exc is not None:
                failures.append(exc)
            outstanding -= 1
            state.notify()

    # Runs on the executor's own thread, which must never raise: the count of outstanding tasks
    # would stay up and the run would wait for ever.
    def finished(future: Future) -> None:
        exc: BaseException | None = None
        try:
            if future.cancelled():
                return
            exc = future.exception()
            if exc is None:
                store(future.result())
                submit()
        except BaseException as problem:  # noqa: BLE001 - handed to the main thread
            exc = problem
        finally:
            settle(exc)

    try:
        # Two tasks in hand per worker when there are plenty; with few, the parent takes its share.
        for _ in range((2 if len(tasks) > 4 * jobs else 1) * workers):
            submit()
        while not failures:
            try:
                task = pending.pop()
            except IndexError:
                break
            store(_process_task(task))
        with state:
            state.wait_for(lambda: outstanding == 0)
    except BaseException:
        stopping = True  # no more submissions from the executor's thread while it goes down
        executor.shutdown(wait=False, cancel_futures=True)
        raise
    finally:
        _WORKER_CTX = None
    executor.shutdown(wait=True)
    if failures:
        if isinstance(failures[0], BrokenProcessPool):
            raise InternalError(
                "a worker process died (out of memory?); run again with --jobs 1 to read every file in one process"
            ) from failures[0]
        raise failures[0]
    return results


def _consecutive(indices: list[int]) -> list[list[int]]:
    runs: list[list[int]] = []
    for i in indices:
        if runs and runs[-1][-1] == i - 1:
            runs[-1].append(i)
        else:
            runs.append([i])
    return runs


# --- the run -----------------------------------------------------------------------------------


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
    cwd = os.path.abspath(options.cwd)
    config = load_config(options.config, known, cwd)
    select = parse_id_list(options.select, known, "--select") or config.select
    ignore = config.ignore + (parse_id_list(options.ignore, known, "--ignore") or ())
    fail_on = Severity.parse(options.fail_on) if options.fail_on else config.fail_on
    if config.options.get("require-digest") and "ECR106" not in select:
        select = select + ("ECR106",)

    notes: list[str] = []
    paths = list(options.paths) or ["."]
    if options.stdin_filename and "-" not in paths:
        raise ConfigError("--stdin-filename needs '-' among the paths")
    sources = discover(paths, config.exclude, cwd, notes)
    if options.stdin_filename:
        sources = [replace(s, display=display_path(options.stdin_filename, cwd)) if s.kind == "stdin" else s
                   for s in sources]
    reported = {s.display for s in sources}
    if any(s.kind == "chart" for s in sources):
        # Image findings are traced into --helm-values files, which may live outside the chart.
        reported |= {display_path(v, cwd) for v in [*config.helm_values, *options.helm_values]}
    context_sources = _context_sources(config, cwd, reported, notes)

    ctx = ExtractContext(config)
    results = _read_all(sources + context_sources, ctx, options)
    ws = Workspace(pod_specs=PodSpecReader(config.max_file_size))  # re-reads use this run's limit
    parse_findings: list[Finding] = []
    suppress_lines: dict[str, ParsedFile] = {}
    for parsed, part in results:
        ws.merge(part)
        parse_findings.extend(parsed.errors)
        suppress_lines[parsed.path] = parsed
        for companion in parsed.companions:
            suppress_lines.setdefault(companion.path, companion)
        if parsed.chart is not None:
            notes.extend(f"{parsed.path}: {note}" for note in getattr(parsed.chart, "notes", ()))
        if parsed.skipped_reason:
            notes.append(f"{parsed.path}: {parsed.skipped_reason}")
        elif parsed.kinds == {"unknown"} or not parsed.kinds and not parsed.errors and parsed.chart is None:
            notes.append(f"{parsed.path}: no known kind of document; skipped")

    rule_ctx = Context(config=config, verbose=options.verbose, notes=notes)
    raw: list[Finding] = list(parse_findings)
    for rule_cls in registry:
        if not is_enabled(rule_cls.id, rule_cls.enabled_by_default, select, ignore):
            continue
        try:
            raw.extend(rule_cls().check(ws, rule_ctx))
        except Exception as exc:  # a crashing rule must not look like a clean run
            if options.verbose:
                raise
            raise InternalError(f"rule {rule_cls.id} failed: {type(exc).__name__}: {exc}") from exc

    findings, suppressed = _filter(raw, config, select, ignore, reported, suppress_lines, ws, notes, options.verbose,
                                   cwd, set(registry.rules))
    digests = {p.path: p.digest for p, _ws in results if p.digest}
    return RunResult(findings, suppressed, len(sources), notes, registry, config, ws, fail_on, digests)


def _context_sources(config: Config, cwd: str, reported: set[str], notes: list[str]) -> list[Source]:
    globs = config.options.get("context") or ()
    if not globs:
        return []
    root = config.root
    found = discover([root], config.exclude, cwd, [])
    return [s for s in found if s.display not in reported and any(
        config.path_matches([g], os.path.relpath(os.path.abspath(s.path), root).replace(os.sep, "/")) for g in globs)]


def _config_relative(path: str, config: Config, cwd: str) -> str:
    """Config globs are relative to the config file's directory, wherever ecrlint runs from."""
    return os.path.relpath(os.path.join(cwd, path), config.root).replace(os.sep, "/")


def _in_reported(path: str, reported: set[str]) -> bool:
    if path in reported:
        return True
    return any(path.startswith(r + "/") for r in reported)


def _filter(
    raw: Iterable[Finding],
    config: Config,
    select: tuple[str, ...],
    ignore: tuple[str, ...],
    reported: set[str],
    parsed: dict[str, ParsedFile],
    ws: Workspace,
    notes: list[str],
    verbose: bool,
    cwd: str,
    known: set[str],
) -> tuple[list[Finding], list[Finding]]:
    kept: dict[tuple, Finding] = {}
    suppressed: dict[tuple, Finding] = {}
    used: set[tuple[str, int]] = set()
    regions_by_path: dict[str, list[tuple[Span, frozenset[str] | None]]] = {}
    for path, region, ids, _how in ws.suppression_regions:
        regions_by_path.setdefault(path, []).append((region, ids))
    for finding in raw:
        if finding.rule == PARSE_ERROR and not is_enabled(PARSE_ERROR, True, select, ignore):
            continue  # other rules that are not enabled never ran
        if not _in_reported(finding.path, reported):
            continue
        if config.per_file_ignores and ignored_for_path(finding.rule, _config_relative(finding.path, config, cwd), config.per_file_ignores):
            continue
        if finding.rule in config.severity:
            finding = replace(finding, severity=config.severity[finding.rule])
        how = None if finding.rule == PARSE_ERROR else _suppressed_by(finding, parsed.get(finding.path), regions_by_path, used)
        key = (finding.sort_key(), finding.span)
        if how:
            suppressed.setdefault(key, replace(finding, suppressed_by=how))
        else:
            kept.setdefault(key, finding)
    if verbose:
        for path, pf in parsed.items():
            for line, ids in pf.lines_ignored.items():
                if (path, line) not in used:
                    notes.append(f"{path}:{line}: unused suppression comment")
                for rule_id in sorted(ids or ()):
                    if not any(k.startswith(rule_id) for k in known):
                        notes.append(f"{path}:{line}: suppression names unknown rule ID '{rule_id}'")
    return sorted(kept.values(), key=Finding.sort_key), sorted(suppressed.values(), key=Finding.sort_key)


def _covers(ids: frozenset[str] | None, rule: str) -> bool:
    # IDs or prefixes, as --select/--ignore and per-file-ignores take them.
    return ids is None or any(rule.startswith(i) for i in ids)


def _suppressed_by(
    finding: Finding,
    parsed: ParsedFile | None,
    regions: dict[str, list[tuple[Span, frozenset[str] | None]]],
    used: set[tuple[str, int]],
) -> str | None:
    if parsed is not None:
        if parsed.file_ignored is not False and _covers(parsed.file_ignored, finding.rule):
            return "inSource"
        line = finding.span.line
        if line in parsed.lines_ignored and _covers(parsed.lines_ignored[line], finding.rule):
            used.add((finding.path, line))
            return "inSource"
    at = (finding.span.line, finding.span.column)
    for region, ids in regions.get(finding.path, ()):
        if (region.line, region.column) <= at < (region.end_line, region.end_column) and _covers(ids, finding.rule):
            return "inSource"
    return None
