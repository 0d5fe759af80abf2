"""The language server: pygls over stdio; a lint thread (debounced, cancellable) and a chart thread.

Threads: pygls's event loop receives edits and answers requests; the lint thread owns every
``FolderState`` (reads, rules, diagnostics) and hands diagnostics back to the loop to send; the
chart thread renders Helm charts from disk, one at a time, with the built-in engine's budgets.
"""

from __future__ import annotations

import asyncio
import logging
import os
import queue
import sys
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable

from lsprotocol import types
from pygls.lsp.server import LanguageServer
from pygls.uris import to_fs_path

from .. import __version__
from ..engine import Cancelled
from ..parsing import decode
from ..sources.discovery import Input
from . import convert
from .positions import LineIndex
from .state import FolderState, LintResult, is_config_file

log = logging.getLogger("ecrlint.lsp")

# An edit after this long a pause is linted at once; edits closer together than this wait until
# the typing pauses this long (a burst of keystrokes is linted once).
DEBOUNCE = 0.15
# After this long without work, the heap is collected once and frozen (``gc.freeze``): the facts
# of the workspace live as long as the server, and a collection during an edit then does not walk
# them (measured on the shared corpus: the slowest lints of 100 went from ~100 ms to ~35 ms).
# Collecting first, at every idle spell, frees what the edits since made garbage.
IDLE_COLLECT = 2.0
WATCHED = "**/{*.yaml,*.yml,*.json,*.template,*.tpl,*.txt,pyproject.toml,.ecrlint.yaml,.ecrlint.yml,.helmignore}"


@dataclass(frozen=True)
class OpenDocument:
    uri: str
    version: int | None
    text: str


class Scheduler:
    """The lint thread's queue: which folders need a lint, and whether a newer edit came since."""

    def __init__(self, lint: Callable[[str, Callable[[], bool]], None],
                 on_idle: Callable[[], None] | None = None) -> None:
        self._lint = lint
        self._on_idle = on_idle
        self._worked = False  # linted since the last on_idle
        self._cv = threading.Condition()
        self._dirty: dict[str, None] = {}  # folder roots, in order
        self._changed_at = -DEBOUNCE
        self._immediate = True
        self.generation = 0
        self._stopped = False
        self.idle = threading.Event()
        self.idle.set()
        self._thread = threading.Thread(target=self._loop, name="ecrlint-lint", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        with self._cv:
            self._stopped = True
            self._cv.notify_all()

    def touch(self, root: str, *, edit: bool = False) -> None:
        """``root`` needs a lint. An edit that follows another within DEBOUNCE waits for a pause."""
        with self._cv:
            now = time.monotonic()
            self._immediate = not edit or now - self._changed_at >= DEBOUNCE
            if edit:  # a newer text: a lint under way is stale (other events only queue another)
                self._changed_at = now
                self.generation += 1
            self._dirty[root] = None
            self.idle.clear()
            self._cv.notify()

    def _next(self) -> tuple[list[str], int] | None:
        with self._cv:
            while not self._dirty and not self._stopped:
                self.idle.set()
                if not self._cv.wait(IDLE_COLLECT if self._worked and self._on_idle else None) and self._worked:
                    self._worked = False
                    self._cv.release()  # edits may queue meanwhile
                    try:
                        if self._on_idle is not None:
                            self._on_idle()
                    finally:
                        self._cv.acquire()
            while not self._immediate and not self._stopped:
                wait = self._changed_at + DEBOUNCE - time.monotonic()
                if wait <= 0:
                    break
                self._cv.wait(wait)
            if self._stopped:
                return None
            roots, self._dirty = list(self._dirty), {}
            self._worked = True
            return roots, self.generation

    def _loop(self) -> None:
        while True:
            batch = self._next()
            if batch is None:
                return
            roots, generation = batch

            def stop(generation: int = generation) -> bool:
                return self.generation != generation or self._stopped

            for i, root in enumerate(roots):
                try:
                    self._lint(root, stop)
                except Cancelled:
                    with self._cv:  # a newer edit: this lint's results would be stale; lint again
                        for again in roots[i:]:
                            self._dirty.setdefault(again, None)
                    break
                except Exception:  # noqa: BLE001 - the server stays up; the log says what broke
                    log.exception("lint of %s failed", root)


class EcrlintServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__("ecrlint", __version__, text_document_sync_kind=types.TextDocumentSyncKind.Incremental)
        self.loop: asyncio.AbstractEventLoop | None = None
        self.folders: dict[str, FolderState] = {}  # root -> state (workspace folders and loose files)
        self.pending_reload: set[str] = set()
        self.pending_rediscover: set[str] = set()
        self.pending_forget: dict[str, list[str]] = {}
        self.documents: dict[str, OpenDocument] = {}  # filesystem path -> the editor's text
        self.results: dict[str, LintResult] = {}
        self.published: dict[str, dict[str, Any]] = {}  # root -> {path: what was last published}
        self._links: dict[int, object] = {}
        self._lock = threading.Lock()
        self._disk: dict[str, tuple[tuple[int, int], LineIndex | None]] = {}
        self.scheduler = Scheduler(self._lint_folder, on_idle=_compact_heap)
        self.charts: queue.Queue[tuple[str, Input] | None] = queue.Queue()
        self._queued: set[tuple[str, str]] = set()
        self._told: set[str] = set()
        self._chart_thread = threading.Thread(target=self._render_charts, name="ecrlint-charts", daemon=True)

    # --- folders ---------------------------------------------------------------------------------

    def start_folders(self, roots: list[str]) -> None:
        for root in roots:
            self.add_folder(root, scan=True)

    def add_folder(self, root: str, *, scan: bool) -> FolderState:
        root = os.path.abspath(root)
        with self._lock:
            state = self.folders.get(root)
            if state is None:
                state = self.folders[root] = FolderState(root, scan=scan)
                self.pending_reload.add(root)
        self.scheduler.touch(root)
        return state

    def remove_folder(self, root: str) -> None:
        root = os.path.abspath(root)
        with self._lock:
            self.folders.pop(root, None)
            self.results.pop(root, None)
            published = self.published.pop(root, {})
        self._send([types.PublishDiagnosticsParams(uri=self._uri(p), diagnostics=[]) for p in published])

    def folder_of(self, path: str) -> FolderState:
        """The innermost workspace folder holding ``path``; a file outside all of them is linted alone."""
        with self._lock:
            best = max((s for s in self.folders.values() if s.scan and s.contains(path)),
                       key=lambda s: len(s.root), default=None)
        if best is not None:
            return best
        return self.add_folder(os.path.dirname(path), scan=False)

    # --- documents ----------------------------------------------------------------------------------

    def set_document(self, uri: str, *, edit: bool) -> None:
        path = _path(uri)
        if path is None:
            return
        doc = self.workspace.get_text_document(uri)
        with self._lock:
            self.documents[path] = OpenDocument(uri, doc.version, doc.source)
        if not is_config_file(path):
            self.scheduler.touch(self.folder_of(path).root, edit=edit)

    def close_document(self, uri: str) -> None:
        path = _path(uri)
        if path is None:
            return
        with self._lock:
            self.documents.pop(path, None)
        state = self.folder_of(path)
        self.scheduler.touch(state.root)

    def saved(self, uri: str) -> None:
        path = _path(uri)
        if path is None:
            return
        self.files_changed([path], created_or_deleted=False)

    def files_changed(self, paths: list[str], *, created_or_deleted: bool) -> None:
        """Files changed on disk: configs reload their folder, charts render again, files are re-read."""
        with self._lock:
            states = list(self.folders.values())
        for state in states:
            touched = False
            for path in paths:
                if not state.contains(path) and path != state.config_path:
                    continue
                touched = True
                with self._lock:
                    if is_config_file(path):
                        self.pending_reload.add(state.root)
                    elif created_or_deleted:
                        self.pending_rediscover.add(state.root)
                    self.pending_forget.setdefault(state.root, []).append(path)
            if touched:
                self.scheduler.touch(state.root)

    # --- the lint thread ------------------------------------------------------------------------------

    def _lint_folder(self, root: str, stop: Callable[[], bool]) -> None:
        with self._lock:
            state = self.folders.get(root)
            if state is None:
                return
            reload = root in self.pending_reload
            rediscover = root in self.pending_rediscover
            forget = self.pending_forget.pop(root, [])
            self.pending_reload.discard(root)
            self.pending_rediscover.discard(root)
            texts = {p: d.text for p, d in self.documents.items() if state.contains(p) or not state.scan}
        if reload:
            self._queue_charts(root, state.reload())
        else:
            if rediscover:
                self._queue_charts(root, state.rediscover())
            state.forget(forget)
            for path in forget:
                chart = state.chart_of(path)
                if chart is not None:
                    self._queue_charts(root, [chart])
        if not state.scan:  # a loose folder: only its open documents
            texts = {p: t for p, t in texts.items() if os.path.dirname(p) == root}
        for path in forget:
            self._disk.pop(path, None)
        result = state.lint(texts, stop)
        if stop():
            raise Cancelled()
        with self._lock:
            self.results[root] = result
        self._publish(root, result, stop, set(texts))
        for failure in result.rule_failures:
            if failure not in self._told:  # once each: a broken rule fails on every lint
                self._told.add(failure)
                self._message(types.MessageType.Error, f"ecrlint: {failure}; its findings are missing (please report it)")

    def _publish(self, root: str, result: LintResult, stop: Callable[[], bool], opened: set[str]) -> None:
        with self._lock:
            documents = dict(self.documents)
            before = self.published.get(root, {})
        now: dict[str, Any] = {}
        params: list[types.PublishDiagnosticsParams] = []
        paths = set(result.by_path) | set(before) | (opened & set(documents))
        if result.config_problem is not None:
            paths.add(result.config_problem.path)

        def index(path: str) -> LineIndex | None:
            return self._index(path, documents)

        def uri(path: str) -> str:
            doc = documents.get(path)
            return doc.uri if doc is not None else convert.file_uri(path)

        for path in sorted(paths):
            findings = result.by_path.get(path, [])
            problem = result.config_problem if result.config_problem and result.config_problem.path == path else None
            doc = documents.get(path)
            # An edited document is published again even when its findings are the same: the
            # editor then knows they were computed for this version.
            key = (tuple(findings), problem, doc.version if doc else None) if findings or problem or doc else None
            if key is not None:
                now[path] = key
            if before.get(path) == key or os.path.isdir(path):
                continue
            diagnostics = [convert.diagnostic(f, result, index, uri) for f in findings]
            if problem is not None:
                diagnostics.insert(0, convert.config_diagnostic(problem))
            params.append(types.PublishDiagnosticsParams(uri=uri(path), diagnostics=diagnostics,
                                                         version=doc.version if doc else None))
        if stop():
            raise Cancelled()
        with self._lock:
            self.published[root] = now
        self._send(params)

    def _send(self, params: list[types.PublishDiagnosticsParams]) -> None:
        if not params or self.loop is None:
            return

        def send() -> None:
            for p in params:
                self.text_document_publish_diagnostics(p)

        self.loop.call_soon_threadsafe(send)

    def _message(self, kind: types.MessageType, text: str) -> None:
        log.error("%s", text)
        if self.loop is not None:
            self.loop.call_soon_threadsafe(self.window_show_message, types.ShowMessageParams(kind, text))

    def _index(self, path: str, documents: dict[str, OpenDocument]) -> LineIndex | None:
        negotiated = self.workspace.position_encoding or "utf-16"
        encoding = str(getattr(negotiated, "value", negotiated))  # an lsprotocol enum: its value
        doc = documents.get(path)
        if doc is not None:
            return LineIndex(doc.text, encoding)
        try:
            st = os.stat(path)
        except OSError:
            return None
        stamp = (st.st_mtime_ns, st.st_size)
        cached = self._disk.get(path)
        if cached is not None and cached[0] == stamp:
            return cached[1]
        try:
            with open(path, "rb") as handle:
                index: LineIndex | None = LineIndex(decode(handle.read(16 * 1024 * 1024)), encoding)
        except Exception:  # noqa: BLE001 - unreadable or undecodable: positions as the spans say
            index = None
        self._disk[path] = (stamp, index)
        return index

    def index_for(self, path: str) -> LineIndex | None:
        with self._lock:
            documents = dict(self.documents)
        return self._index(path, documents)

    # --- charts ---------------------------------------------------------------------------------------

    def _queue_charts(self, root: str, charts: list[Input]) -> None:
        for chart in charts:
            with self._lock:  # a save also arrives as a watched-file change: render once
                if (root, chart.display) in self._queued:
                    continue
                self._queued.add((root, chart.display))
            self.charts.put((root, chart))

    def _render_charts(self) -> None:
        fresh = True
        while True:
            item = self.charts.get()
            if item is None:
                return
            if fresh:  # a batch of charts is one "run" of the Helm engine's run budget
                budgets = sys.modules.get("ecrlint.helm.budgets")
                if budgets is not None:
                    budgets.reset_run()
            root, chart = item
            with self._lock:
                state = self.folders.get(root)
                self._queued.discard((root, chart.display))
            if state is not None:
                try:
                    state.put_chart(chart.display, state.render_chart(chart))
                except Exception:  # noqa: BLE001 - render_chart turns failures into ECR001 already
                    log.exception("chart %s failed", chart.display)
                self.scheduler.touch(root)
            fresh = self.charts.empty()
            self.charts.task_done()

    # --- requests --------------------------------------------------------------------------------------

    def result_for(self, path: str) -> LintResult | None:
        state = self.folder_of(path)
        with self._lock:
            return self.results.get(state.root)

    def links(self, result: LintResult) -> object:
        key = id(result)
        if key not in self._links:
            from ..analysis.links import build_links

            self._links = {key: build_links(result.workspace, result.config)}  # the latest result's only
        return self._links[key]

    def _uri(self, path: str) -> str:
        doc = self.documents.get(path)
        return doc.uri if doc is not None else convert.file_uri(path)

    def begin(self) -> None:
        self.scheduler.start()
        self._chart_thread.start()

    def end(self) -> None:
        self.scheduler.stop()
        self.charts.put(None)


def _compact_heap() -> None:
    import gc

    gc.unfreeze()
    gc.collect()
    gc.freeze()


def _path(uri: str) -> str | None:
    path = to_fs_path(uri) if uri.startswith("file:") else None
    return os.path.normpath(path) if path else None


def build() -> EcrlintServer:
    server = EcrlintServer()
    _lifecycle(server)
    _documents(server)
    _requests(server)
    return server


def _lifecycle(server: EcrlintServer) -> None:
    @server.feature(types.INITIALIZED)
    def initialized(ls: EcrlintServer, params: types.InitializedParams) -> None:
        ls.loop = asyncio.get_running_loop()
        folders = [f.uri for f in (ls.workspace.folders or {}).values()]
        if not folders and ls.workspace.root_uri:
            folders = [ls.workspace.root_uri]
        ls.begin()
        ls.start_folders([p for p in map(_path, folders) if p])
        watch = ls.client_capabilities.workspace and ls.client_capabilities.workspace.did_change_watched_files
        if watch and watch.dynamic_registration:
            options = types.DidChangeWatchedFilesRegistrationOptions(watchers=[types.FileSystemWatcher(glob_pattern=WATCHED)])
            ls.client_register_capability(types.RegistrationParams(registrations=[types.Registration(
                id="ecrlint-watch", method=types.WORKSPACE_DID_CHANGE_WATCHED_FILES, register_options=options)]))

    @server.feature(types.SHUTDOWN)
    def shutdown(ls: EcrlintServer, params: None) -> None:
        ls.end()

    @server.feature(types.WORKSPACE_DID_CHANGE_WORKSPACE_FOLDERS)
    def folders_changed(ls: EcrlintServer, params: types.DidChangeWorkspaceFoldersParams) -> None:
        for removed in params.event.removed:
            path = _path(removed.uri)
            if path:
                ls.remove_folder(path)
        for added in params.event.added:
            path = _path(added.uri)
            if path:
                ls.add_folder(path, scan=True)


def _documents(server: EcrlintServer) -> None:
    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: EcrlintServer, params: types.DidOpenTextDocumentParams) -> None:
        ls.set_document(params.text_document.uri, edit=False)

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: EcrlintServer, params: types.DidChangeTextDocumentParams) -> None:
        ls.set_document(params.text_document.uri, edit=True)

    @server.feature(types.TEXT_DOCUMENT_DID_SAVE)
    def did_save(ls: EcrlintServer, params: types.DidSaveTextDocumentParams) -> None:
        ls.saved(params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: EcrlintServer, params: types.DidCloseTextDocumentParams) -> None:
        ls.close_document(params.text_document.uri)

    @server.feature(types.WORKSPACE_DID_CHANGE_WATCHED_FILES)
    def watched(ls: EcrlintServer, params: types.DidChangeWatchedFilesParams) -> None:
        paths = [p for p in (_path(c.uri) for c in params.changes) if p]
        moved = any(c.type != types.FileChangeType.Changed for c in params.changes)
        ls.files_changed(paths, created_or_deleted=moved)


def _requests(server: EcrlintServer) -> None:
    @server.feature(types.TEXT_DOCUMENT_CODE_ACTION,
                    types.CodeActionOptions(code_action_kinds=[types.CodeActionKind.QuickFix]))
    def code_action(ls: EcrlintServer, params: types.CodeActionParams) -> list[types.CodeAction] | None:
        path = _path(params.text_document.uri)
        result = ls.result_for(path) if path else None
        if path is None or result is None:
            return None
        with ls._lock:
            documents = dict(ls.documents)
        doc = documents.get(path)

        def uri(p: str) -> str:
            d = documents.get(p)
            return d.uri if d is not None else convert.file_uri(p)

        return convert.code_actions(path, params.range, result, lambda p: ls._index(p, documents), uri,
                                    doc.version if doc else None) or None

    @server.feature(types.TEXT_DOCUMENT_HOVER)
    def hover(ls: EcrlintServer, params: types.HoverParams) -> types.Hover | None:
        path = _path(params.text_document.uri)
        result = ls.result_for(path) if path else None
        index = ls.index_for(path) if path else None
        if path is None or result is None or index is None:
            return None
        return convert.hover(result, path, index, params.position, lambda: ls.links(result))


def serve() -> int:
    logging.basicConfig(stream=sys.stderr, level=logging.WARNING, format="ecrlint lsp: %(levelname)s %(message)s")
    # pygls warns of every message that arrives after "shutdown" (a late reply from the client).
    logging.getLogger("pygls.protocol.json_rpc").setLevel(logging.ERROR)
    server = build()
    server.start_io()
    server.end()
    return 0
