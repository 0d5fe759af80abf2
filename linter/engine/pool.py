"""Reading inputs into facts, in this process or a pool of them: charts first, files in chunks."""

from __future__ import annotations

import gc
import os
import sys
import threading
from collections import deque
from typing import TYPE_CHECKING, Any, Callable

from ..model import Finding, ParsedFile, Severity, Span
from ..parsing import PARSE_ERROR, PARSE_ERROR_NAME
from ..sources import ExtractContext, extract_file, registered
from ..sources.discovery import Input
from ..workspace import Workspace, compact_for_transfer
from .options import InternalError, RunOptions, UnsupportedEnvironment

if TYPE_CHECKING:
    from concurrent.futures import Executor

PARALLEL_MIN_BYTES = 512 * 1024
CHART_COST_PER_BYTE = 5
CHUNK_FILES = 16
YOUNG_COLLECT_EVERY = 64  # sources between collections of the young generations (see run)


_WORKER_CTX: tuple[ExtractContext, RunOptions] | None = None


def _read_source(source: Input, ctx: ExtractContext, options: RunOptions) -> ParsedFile:
    max_bytes = ctx.config.max_file_size
    if source.kind == "missing":
        parsed = ParsedFile(source.display)
        parsed.errors.append(
            Finding(PARSE_ERROR, PARSE_ERROR_NAME, Severity.ERROR, source.display, Span(1, 1, 1, 1),
                    "cannot read path: no such file or directory")
        )
        return parsed
    sources = registered()
    if source.kind not in ("file", "stdin"):
        return sources.unit(source.kind).read(source.path, source.display, ctx, options)
    data = None
    if source.kind == "stdin":
        data = options.stdin if options.stdin is not None else sys.stdin.buffer.read(max_bytes + 1)
    # Read by the source that claims the name's suffix; anything else (a file named on the command
    # line, stdin without --stdin-filename) as YAML/JSON.
    reader = sources.file_source(source.display) or sources.file_source(".yaml")
    assert reader is not None
    parsed = reader.read(source.path, source.display, max_bytes, data)
    parsed.reader = reader.name
    return parsed


_processed = 0


def _process(source: Input, ctx: ExtractContext, options: RunOptions) -> tuple[ParsedFile, Workspace]:
    global _processed
    _processed += 1
    if source.kind != "file" or _processed % YOUNG_COLLECT_EVERY == 0:
        gc.collect(1)  # only what was allocated since the last one: cheap (see run)
    parsed = _read_source(source, ctx, options)
    try:
        ws = extract_file(parsed, ctx)
    except UnsupportedEnvironment:
        raise  # not this file's doing (an unusable dependency): the run stops with exit 2
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


def read_one(source: Input, ctx: ExtractContext, options: RunOptions,
             data: bytes | None = None) -> tuple[ParsedFile, Workspace]:
    """One input read and extracted in this process (the language server); ``data``: the text of an
    unsaved editor buffer, read instead of the file (its pod specs are then kept: the file on disk
    is not what was linted)."""
    if data is not None:
        from dataclasses import replace

        return _process(Input(source.path, source.display, "stdin"), ctx, replace(options, stdin=data))
    return _process(source, ctx, options)


def _process_chunk(chunk: list[Input]) -> list[tuple[ParsedFile, Workspace]]:
    assert _WORKER_CTX is not None
    ctx, options = _WORKER_CTX
    return [_process(s, ctx, options) for s in chunk]


def _process_task(task: tuple[int, list[Input]]) -> tuple[int, list[tuple[ParsedFile, Workspace]]]:
    first, chunk = task
    return first, _process_chunk(chunk)


def _source_cost(source: Input) -> int:
    """Rough work estimate in "YAML bytes": what scheduling and the pool decision go by."""
    try:
        if source.kind == "file":
            return os.stat(source.path).st_size
        if source.kind not in ("stdin", "missing"):  # a unit: a chart renders its templates
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


def read_all(sources: list[Input], ctx: ExtractContext, options: RunOptions) -> list[tuple[ParsedFile, Workspace]]:
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
    return _read_parallel(sources, costs, jobs, ctx, options)


def _tasks(sources: list[Input], costs: list[int], jobs: int) -> list[tuple[int, list[Input]]]:
    """(index of the first source, the sources) of each task, in the order they are handed out.

    Charts cost far more than files: each is a task of its own, dearest first, so that the
    processes share them. Files follow in chunks, which keep pickling overhead low. Results go
    back to input order: output is the same for any --jobs.
    """
    tasks: list[tuple[int, list[Input]]] = []
    charts = sorted((i for i, s in enumerate(sources) if is_unit(s)), key=lambda i: -costs[i])
    tasks.extend((i, [sources[i]]) for i in charts)
    files = [i for i, s in enumerate(sources) if not is_unit(s)]
    # Few files: smaller chunks, so that every worker gets some.
    chunk_files = max(1, min(CHUNK_FILES, len(files) // (jobs * 4)))
    for start in range(0, len(files), chunk_files):
        group = files[start : start + chunk_files]
        # Consecutive in input order (charts are taken out), so one index locates the chunk.
        for sub in _consecutive(group):
            tasks.append((sub[0], [sources[i] for i in sub]))
    return tasks


def _read_parallel(
    sources: list[Input], costs: list[int], jobs: int, ctx: ExtractContext, options: RunOptions
) -> list[tuple[ParsedFile, Workspace]]:
    global _WORKER_CTX
    import multiprocessing

    _WORKER_CTX = (ctx, options)
    # Import every extractor (and the Helm engine) once, before forking: otherwise each worker
    # pays the imports again for the first file of each kind.
    from ..sources import preload

    preload(units=any(s.kind not in ("file", "stdin", "missing") for s in sources))
    tasks = _tasks(sources, costs, jobs)
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    # concurrent.futures, not multiprocessing.Pool: when a worker dies (the OOM killer, a crash in
    # a native library) its tasks fail with BrokenProcessPool instead of never finishing.
    executor = ProcessPoolExecutor(jobs - 1, mp_context=multiprocessing.get_context(method))
    try:
        results, failures = _share(executor, tasks, jobs, len(sources))
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


def _share(
    executor: Executor, tasks: list[tuple[int, list[Input]]], jobs: int, size: int
) -> tuple[list[Any], list[BaseException]]:
    """Work through ``tasks`` with the executor's ``jobs - 1`` workers: (results in input order, failures).

    The parent is one of the `jobs` processes: it works through the same queue instead of
    waiting, from the other end - workers take the charts (dearest first), the parent the
    files, whose bulky facts then never have to be pickled across. Every result a worker sends
    back hands it the next task from the pool's result thread, so a worker never waits for the
    parent to finish a chart before it gets more work.
    """
    from concurrent.futures import Future
    from concurrent.futures.process import BrokenProcessPool

    results: list[Any] = [None] * size  # every slot is filled unless a task failed

    def store(done: tuple[int, list[tuple[ParsedFile, Workspace]]]) -> None:
        first, items = done
        results[first : first + len(items)] = items

    workers = jobs - 1
    pending = deque(tasks)
    state = threading.Condition()
    outstanding = 0
    stopping = False
    failures: list[BaseException] = []

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
        _parent_share(pending, failures, store)
        with state:
            state.wait_for(lambda: outstanding == 0)
    except BaseException:
        stopping = True  # no more submissions from the executor's thread while it goes down
        executor.shutdown(wait=False, cancel_futures=True)
        raise
    return results, failures


def _parent_share(
    pending: deque[tuple[int, list[Input]]],
    failures: list[BaseException],
    store: Callable[[tuple[int, list[tuple[ParsedFile, Workspace]]]], None],
) -> None:
    """The parent's own work: tasks from the back of the queue until none is left or a worker failed."""
    while not failures:
        try:
            task = pending.pop()
        except IndexError:
            break
        store(_process_task(task))


def is_unit(source: Input) -> bool:
    return source.kind not in ("file", "stdin", "missing")


def _consecutive(indices: list[int]) -> list[list[int]]:
    runs: list[list[int]] = []
    for i in indices:
        if runs and runs[-1][-1] == i - 1:
            runs[-1].append(i)
        else:
            runs.append([i])
    return runs
