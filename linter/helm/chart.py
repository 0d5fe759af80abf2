"""One chart from directory to rendered, traced Kubernetes documents (``load_chart``'s work)."""

from __future__ import annotations

import os
import posixpath
import re
from typing import Any, Sequence

from ..engine.options import UnsupportedEnvironment
from ..model import Document, Loc, ParsedFile, Span, YMap
from ..parsing import parse_file, parse_text
from . import loader
from .builtin import MAX_OUTPUT_CHARS, MAX_SEQUENCE, NAMESPACE, RELEASE_NAME, Engine, TemplateFailure, iter_nodes
from .external import EngineOverrun, EngineUnavailable, ExternalResult, render_binary, render_sdk, sdk_available
from .gofidelity import go_numbers
from .facts import ENGINE_BINARY, ENGINE_BUILTIN, ENGINE_SDK, ChartDependency, ChartFacts, InlineValues, RenderError, ValuesImage
from .trace import Sentinels, image_fields, parts_direct, parts_from_sentinel, resolve, template_image_lines, trace_image
from .values import (
    Node,
    build_tree,
    dup,
    import_values,
    merge_maps,
    prune_disabled,
    render_values,
    value_strings,
    without_nulls,
)

NOTES = "NOTES.txt"
INPUT_PLACEHOLDER = "ecrlint-install-time-value"


def load_chart(
    chart_dir: str,
    display: str,
    *,
    values_files: Sequence[Any] = (),
    engine: str | None = None,
    max_bytes: int = 10 * 1024 * 1024,
    release: tuple[str, str] | None = None,
) -> ParsedFile:
    parsed = _load_chart(chart_dir, display, values_files=values_files, engine=engine, max_bytes=max_bytes,
                         release=release)
    parsed.errors = [_out_of_archive(error) for error in parsed.errors]
    return parsed


def _out_of_archive(error: Any) -> Any:
    """An ECR001 inside a vendored .tgz subchart, moved onto the archive (the inner path in its message)."""
    import dataclasses

    from .facts import archive_message, in_archive

    inside = in_archive(error.path)
    if inside is None:
        return error
    archive, inner = inside
    return dataclasses.replace(
        error, path=archive, span=Span(1, 1, 1, 2),
        message=archive_message(error.message, inner, error.span.line, error.span.column), fix=None,
    )


def _load_chart(
    chart_dir: str,
    display: str,
    *,
    values_files: Sequence[Any],
    engine: str | None,
    max_bytes: int,
    release: tuple[str, str] | None = None,
) -> ParsedFile:
    parsed = ParsedFile(display)
    facts = ChartFacts.for_dir(chart_dir, display)
    parsed.chart = facts
    try:
        chart = loader.load(chart_dir, display, max_bytes)
    except loader.ChartLoadError as exc:
        facts.render_errors.append(loader.load_problem(display, f"the chart cannot be loaded: {exc}"))
        return parsed
    facts.name = chart.name
    facts.api_version = chart.metadata.get("apiVersion") if isinstance(chart.metadata.get("apiVersion"), str) else None
    facts.chart_type = chart.chart_type
    for sub in loader.walk(chart):
        parsed.errors.extend(sub.parse_errors)
        facts.render_errors.extend(sub.load_problems)
        facts.dependencies.extend(_dependencies(sub))
    for dep in facts.dependencies:
        if dep.chart == display and not dep.vendored:
            source = f" from {dep.repository}" if dep.repository else ""
            facts.render_errors.append(
                RenderError(
                    f'dependency "{dep.name}"{source} is not vendored in charts/: run "helm dependency build" and '
                    "commit charts/; the chart's own templates are still checked",
                    dep.loc,
                    None,
                    "missing-dependency",
                )
            )
    texts: dict[str, str] = {}
    user_docs = _user_values(values_files, max_bytes, parsed, texts)
    user: dict[str, Any] = {}
    for path, doc in user_docs:
        user = merge_maps(user, loader.go_values(doc, texts.get(path, "")))
    root = build_tree(chart)
    for path in prune_disabled(root, user):
        facts.notes.append(f"{display}: subchart {path!r} is disabled by its condition or tags; not rendered")
    import_values(root)
    values = render_values(root, user)  # nulls kept: they mark values.yaml's install-time inputs
    if chart.chart_type == "library":
        facts.notes.append(f"{display}: library chart; it has no manifests of its own to render")
        return parsed
    from .schema import validate

    facts.render_errors.extend(validate(root, without_nulls(values, user), user_docs, facts.notes))
    renderer = _Renderer(chart_dir, display, chart, root, values, user, facts, max_bytes)
    if release is not None:
        renderer.release = release
    outputs = renderer.run(engine or "auto")
    facts.engine = renderer.engine_name
    _documents(parsed, root, outputs, renderer, user_docs)
    if not parsed.documents and facts.render_errors:
        facts.values_images = values_images(chart)
    return parsed


def _dependencies(chart: loader.Chart) -> list[ChartDependency]:
    out = []
    path = chart.requirements_path
    for entry, doc in chart.requirements:
        name = entry.get("name")
        name = name if isinstance(name, str) else str(name or "")
        tags = entry.get("tags")
        out.append(
            ChartDependency(
                name=name,
                loc=_value_loc(path, doc, "name") or Loc(path, doc.span),
                version=_text(entry.get("version")),
                version_loc=_value_loc(path, doc, "version"),
                repository=_text(entry.get("repository")),
                repository_loc=_value_loc(path, doc, "repository"),
                alias=_text(entry.get("alias")),
                condition=_text(entry.get("condition")),
                tags=tuple(str(t) for t in tags) if isinstance(tags, list) else (),
                vendored=any(sub.name == name for sub in chart.subcharts),
                vendored_version=next(
                    (sub.metadata_raw.get("version", str(sub.metadata.get("version"))) for sub in chart.subcharts
                     if sub.name == name and sub.metadata.get("version") is not None),
                    None,
                ),
                chart=chart.display,
            )
        )
    return out


def _read_text(path: str, max_bytes: int) -> str:
    """A values file's text again (for loader.go_values: how each scalar was written)."""
    try:
        with open(path, "rb") as handle:
            return handle.read(max_bytes).decode("utf-8", "replace")
    except OSError:
        return ""


def _value_loc(path: str, doc: YMap, key: str) -> Loc | None:
    return Loc(path, doc.value_span(key)) if key in doc.spans else None


def _text(value: Any) -> str | None:
    return None if value is None else value if isinstance(value, str) else loader.go_string(value)


def _user_values(
    paths: Sequence[Any], max_bytes: int, parsed: ParsedFile, texts: dict[str, str] | None = None
) -> list[tuple[str, YMap]]:
    """--helm-values files in order; a file that cannot be parsed is an ECR001 of its own.

    Each item is a path, a ``(path, display)`` pair when the caller names files its own way, or
    ``InlineValues`` already parsed with their positions (a Terraform ``helm_release``'s values).
    """
    from ..sources.discovery import display_path

    out = []
    for item in paths:
        if isinstance(item, InlineValues):
            out.append((item.display, item.doc))
            if texts is not None:
                texts[item.display] = item.text
            continue
        path, display = item if isinstance(item, tuple) else (item, display_path(item, os.getcwd()))
        values_file = parse_file(path, display, max_bytes=max_bytes)
        parsed.errors.extend(e for e in values_file.errors if e.severity.label == "error")
        for document in values_file.documents[:1]:
            if isinstance(document.root, YMap):
                out.append((display, document.root))
                if texts is not None:
                    texts[display] = _read_text(path, max_bytes)
    return out


# --- rendering -----------------------------------------------------------------------------------


class _Renderer:
    """Runs the engines and turns their failures into RenderErrors.

    auto: the built-in engine first; helm-python-sdk (when installed) only for a chart it cannot
    render, as below. binary / sdk: a `helm` binary / helm-python-sdk first - either only on a
    plain, complete chart without huge literals. The built-in engine renders every other chart, and
    renders again when an external engine is unavailable, stops with an error or writes too much;
    an external engine that overruns its budgets is reported, not retried.
    """

    def __init__(
        self,
        chart_dir: str,
        display: str,
        chart: loader.Chart,
        root: Node,
        values: dict[str, Any],
        user: dict[str, Any],
        facts: ChartFacts,
        max_bytes: int = 10 * 1024 * 1024,
    ) -> None:
        self.chart_dir = chart_dir
        self.max_bytes = max_bytes  # max-file-size, for the copy sdk_determinism renders from
        self.release = (RELEASE_NAME, NAMESPACE)  # .Release.Name and .Release.Namespace
        self.display = display
        self.chart = chart
        self.root = root
        self.declared = values
        self.values = go_numbers(without_nulls(values, user))
        self.user = user
        self.facts = facts
        self.engine_name = ENGINE_BUILTIN
        self.engine_tried = ENGINE_BUILTIN
        self._builtin: Engine | None = None
        self._exempted: list[TemplateFailure] = []
        self.max_output = MAX_OUTPUT_CHARS
        self.nodes = {node.full_path: node for node, _ in iter_nodes(root)}

    @property
    def builtin(self) -> Engine:
        if self._builtin is None:
            self._builtin = Engine(self.root, _template_strings(self.values))
            self._builtin.release = self.release
        return self._builtin

    def run(self, mode: str) -> dict[str, str]:
        if mode == "auto":
            return self._run_builtin_first()
        return self._run_external_first(mode)

    def _run_builtin_first(self) -> dict[str, str]:
        """"auto": the built-in engine, and Helm itself (when installed) only to confirm a failure.

        Measured on the 39 real charts of ../shared/charts (benchmarks/helm_diff.py,
        helm_engines.py): the built-in engine renders every template byte for byte as Helm does
        and fails exactly where Helm fails, at a fifth of the SDK engine's CPU per chart in a run
        (no child process, no Go runtime per chart). A chart the built-in engine cannot render
        (an ECR401) is rendered again by helm-python-sdk when it is installed, and Helm's verdict
        stands: Helm's output when it renders, the built-in engine's errors (at their template
        lines) when it fails too.
        """
        errors, notes = len(self.facts.render_errors), len(self.facts.notes)
        outputs = self._render_builtin()
        failed = len(self.facts.render_errors) > errors or any(e.kind == "schema" for e in self.facts.render_errors)
        if not failed or not sdk_available():
            return outputs
        del self.facts.render_errors[errors:]
        del self.facts.notes[notes:]
        self._exempted.clear()
        return self._run_external_first("auto")

    def _run_external_first(self, mode: str) -> dict[str, str]:
        external: ExternalResult | None = None
        missing = any(e.kind == "missing-dependency" for e in self.facts.render_errors)
        # External engines read the directory themselves: only when it is a plain, complete chart,
        # and not when a template asks for more than they can be trusted to build: the built-in
        # engine caps these literals and renders on (the SDK's budgets would only stop the chart,
        # and a `helm` binary has no memory budget).
        usable = not self.chart.has_symlinks and not missing and not self.chart.load_problems
        external_wanted = mode == "binary" or (mode in ("auto", "sdk") and sdk_available())
        if usable and external_wanted and _oversized_literal(self.root):
            usable = False
            self.facts.notes.append(f"{self.display}: a template builds a huge list or string; rendered with the built-in engine")
        try:
            if mode == "binary" and usable:
                self.engine_tried = ENGINE_BINARY
                external = render_binary(self.chart_dir, self.user, release=self.release)
                self.engine_name = ENGINE_BINARY
            elif mode in ("auto", "sdk") and usable and sdk_available():
                self.engine_tried = ENGINE_SDK
                external = self._render_sdk()
                self.engine_name = ENGINE_SDK
        except EngineUnavailable as exc:
            self.facts.notes.append(f"{self.display}: {exc}; rendered with the built-in engine")
            external = None
        except EngineOverrun as exc:
            # No fallback (see EngineOverrun): the chart is reported and its values.yaml images
            # are still checked (load_chart does that for a chart without documents).
            self.engine_name = self.engine_tried
            self.facts.render_errors.append(loader.load_problem(self.display, str(exc)))
            return {}
        if external is not None and external.error is None:
            # Helm validated the values itself and rendered: its verdict stands over ours.
            self.facts.render_errors[:] = [e for e in self.facts.render_errors if e.kind != "schema"]
            if not external.too_large and sum(len(text) for text in external.outputs.values()) <= self.max_output:
                return external.outputs
            self.facts.notes.append(f"{self.display}: the rendered chart is larger than {self.max_output} characters")
            external = None
        self.engine_name = ENGINE_BUILTIN
        outputs = self._render_builtin()
        if external is not None and external.error is not None:
            self.facts.notes.append(
                f"{self.display}: {self.engine_tried} stopped ({external.error[3]}); rendered with the built-in engine"
            )
            reported = any(e.kind in ("required", "fail", "template", "syntax", "schema")
                           for e in self.facts.render_errors)
            if not reported and not self._exempted:
                # The built-in engine is more lenient here than Helm: Helm's error stands.
                self.facts.render_errors.append(self._external_error(external.error))
        return outputs

    def _render_sdk(self) -> ExternalResult:
        """helm-python-sdk, with calls of clock/random/key functions fixed (sdk_determinism)."""
        from . import sdk_determinism

        names = sdk_determinism.calls(self.chart, self.user)
        if not names:
            return render_sdk(self.chart_dir, self.user, max_output=self.max_output, release=self.release)
        try:
            archive = sdk_determinism.archive(self.chart_dir, self.max_bytes)
        except (loader.ChartLoadError, OSError) as exc:
            raise EngineUnavailable(f"the chart cannot be copied to fix {', '.join(sorted(names))} ({exc})") from None
        user, _ = sdk_determinism.rewrite_values(self.user)
        result = render_sdk(self.chart_dir, user, max_output=self.max_output, archive=archive, release=self.release)
        if result.error is None and not result.too_large:
            self.facts.notes.append(
                f"{self.display}: {', '.join(sorted(names))} rendered with fixed values (reproducible output)"
            )
        return result

    def _render_builtin(self) -> dict[str, str]:
        engine = self.builtin
        real = engine.render(self.values)
        outputs = dict(real.outputs)
        stopped = [f for f in real.failures if f.kind in ("required", "fail")]
        exempt: set[tuple[str, str, int]] = set()
        if stopped:
            templates = {f.template for f in stopped}
            # A `required` that only asks for a value the chart's values.yaml declares empty is an
            # install-time input (`--set clusterName=...`), not a broken chart: render on as `helm lint` does.
            filled = engine.render(go_numbers(without_nulls(_fill_declared(self.declared))), only=templates)
            still = {(g.template, g.source, g.line) for g in filled.failures if g.kind == "required"}
            for f in stopped:
                if f.kind == "required" and (f.template, f.source, f.line) not in still:
                    exempt.add((f.template, f.source, f.line))
            lint = engine.render(self.values, lint=True, only=templates)
            outputs.update(lint.outputs)
        for f in real.failures:
            if (f.template, f.source, f.line) in exempt:
                self._exempted.append(f)
                self.facts.notes.append(
                    f"{self.display_of(f.source)}:{f.line}: required value not set ({f.message}); "
                    "rendered as `helm lint` does - pass it with --helm-values to render it for real"
                )
                continue
            self.facts.render_errors.append(self._error(f))
        return outputs

    def display_of(self, helm_name: str) -> str:
        node = self._node_of(helm_name)
        if node is None:
            return f"{self.display}/{helm_name.split('/', 1)[-1]}"
        return f"{node.chart.display}/{helm_name[len(node.full_path) + 1:]}"

    def origin_of(self, helm_name: str) -> str:
        node = self._node_of(helm_name)
        if node is None:
            return helm_name.split("/", 1)[-1]
        return f"{node.chart.origin}{helm_name[len(node.full_path) + 1:]}"

    def _node_of(self, helm_name: str) -> Node | None:
        best = None
        for path, node in self.nodes.items():
            if helm_name.startswith(path + "/") and (best is None or len(path) > len(best.full_path)):
                best = node
        return best

    def source_of(self, helm_name: str) -> str | None:
        node = self._node_of(helm_name)
        if node is None:
            return None
        return node.chart.templates.get(helm_name[len(node.full_path) + 1 :])

    def _line_span(self, helm_name: str, line: int, kind: str = "template") -> Span:
        """The failing call on the template line: `required`/`fail` when written there, else the line."""
        source = self.source_of(helm_name) or ""
        lines = source.splitlines()
        if not 0 < line <= len(lines):
            return Span(max(line, 1), 1, max(line, 1), 2)
        text = lines[line - 1]
        start = len(text) - len(text.lstrip())
        end = len(text.rstrip())
        if kind in ("required", "fail"):
            m = re.search(rf"\b{kind}\b", text)
            if m:
                start = m.start()
                close = text.find("}}", m.end())
                end = close if close >= 0 else end
        return Span(line, start + 1, line, max(end + 1, start + 2))

    def _error(self, f: TemplateFailure) -> RenderError:
        if f.kind == "required":
            what = f"required value missing: {f.message}; set it in values.yaml or pass it with --helm-values"
        elif f.kind == "fail":
            what = f"the chart rejects its values: {f.message}; change the values it checks"
        elif f.kind == "syntax":
            what = f"template syntax error: {f.message}; fix the template"
        else:
            what = f"template error: {f.message}"
        if f.source != f.template:
            what += f" (in {self.origin_of(f.source)})"
        return RenderError(
            what,
            Loc(self.display_of(f.source), self._line_span(f.source, f.line, f.kind)),
            self.origin_of(f.template),
            f.kind,
        )

    def _external_error(self, error: tuple[str, int, int, str]) -> RenderError:
        name, line, _column, message = error
        if name and self._node_of(name) is not None:
            return RenderError(
                f"template error: {message}",
                Loc(self.display_of(name), self._line_span(name, line)),
                self.origin_of(name),
                "template",
            )
        return loader.load_problem(self.display, f"the chart cannot be rendered: {message}")


def _clone(node: Node, sentinels: Sentinels, scope: str, depth: int) -> Node:
    """The render tree with sentinel values; ``scope`` is the node's place in the top values."""
    doc = node.chart.values_doc
    defaults = sentinels.substitute(doc, node.chart.values_path, scope, depth) if isinstance(doc, YMap) else {}
    out = Node(node.chart, node.name, node.full_path, defaults, requirements=dup(node.requirements))
    out.children = [_clone(child, sentinels, f"{scope}{child.name}.", depth + 1) for child in node.children]
    return out


# `\s+(?:\(\s*)?` and not `\s+\(?\s*`: two blank runs side by side backtrack quadratically
# (`until` and a megabyte of spaces took minutes).
_ALLOCATING_CALL = re.compile(r"\b(?:until|untilStep|seq|repeat|randAlpha\w*|randNumeric|randAscii)\s+(?:\(\s*)?(\d{6,})")


def _oversized_literal(root: Node) -> bool:
    """A template calling `until`/`seq`/`repeat`/... with a literal above the built-in engine's caps."""
    for node, _ in iter_nodes(root):
        for source in node.chart.templates.values():
            for m in _ALLOCATING_CALL.finditer(source):
                if int(m.group(1)) > MAX_SEQUENCE:
                    return True
    return False


def _fill_declared(values: Any) -> Any:
    """Every empty or null leaf of the values given a placeholder (as a user's --set would)."""
    if isinstance(values, dict):
        return {k: (INPUT_PLACEHOLDER if v is None or v == "" else _fill_declared(v)) for k, v in values.items()}
    return values


def _template_strings(values: Any) -> str:
    """Values strings that `tpl` may render (they can name helpers to compile)."""
    return "\n".join(text for text in value_strings(values) if "{{" in text)


# --- documents -----------------------------------------------------------------------------------


def _documents(
    parsed: ParsedFile, root: Node, outputs: dict[str, str], renderer: _Renderer, user_docs: list[tuple[str, YMap]]
) -> None:
    rendered: list[tuple[str, str, str, list[tuple[int, Any]]]] = []  # (helm name, path, origin, docs)
    for name in sorted(outputs):
        text = outputs[name]
        base = posixpath.basename(name)
        if base == NOTES or base.startswith("_") or not text.strip():
            continue
        path = renderer.display_of(name)
        origin = renderer.origin_of(name)
        text = helm_document_starts(text)
        docs, problems = parse_text(path, text)
        source = renderer.source_of(name)
        parsed.errors.extend(
            _at_template_line(p, text, source) for p in problems if p.severity.label == "error"
        )
        rendered.append((name, path, origin, [(i, doc) for i, (doc, _span) in enumerate(docs) if doc is not None]))
        renderer.facts.templates_rendered += 1
    traces = _traces(rendered, renderer, user_docs)
    # An aliased subchart renders the same template file twice: number documents per file.
    next_index: dict[str, int] = {}
    for name, path, origin, docs in rendered:
        first = next_index.get(path, 0)
        for index, doc in docs:
            kind = "kubernetes" if isinstance(doc, dict) and "kind" in doc and "apiVersion" in doc else "unknown"
            trace = traces.get((name, index), {})
            parsed.documents.append(Document(path, first + index, doc, kind, trace, origin))
        next_index[path] = first + (docs[-1][0] + 1 if docs else 0)


# Helm splits a rendered template into documents at `---` and whatever blanks follow it
# (releaseutil.SplitManifests: `(?:^|\s*\n)---\s*`), so `---# comment` starts a document whose
# first line is the comment; to YAML that line is one plain scalar (a parse error).
_GLUED_START = re.compile(r"^---(?=[^\s-])", re.M)


def helm_document_starts(text: str) -> str:
    """Rendered text with each `---` glued to what follows separated as Helm separates it.

    `---#` becomes `--- #` (same line); `---text` becomes `---` and `text` on the next line.
    """
    if "\n---" not in text and not text.startswith("---"):
        return text
    return _GLUED_START.sub(lambda m: "--- " if text.startswith("#", m.end()) else "---\n", text)


_ACTION_IN_LINE = re.compile(r"\{\{.*?\}\}")


def _at_template_line(problem: Any, rendered: str, source: str | None) -> Any:
    """An ECR001 on a rendered manifest moved to the template line that wrote the rendered line.

    The rendered line's number means nothing in the template file the finding names (includes,
    loops and trimmed actions move lines). The template line is the one whose literal text (its
    actions matching anything) reads as the rendered line, nearest the rendered line number;
    else the nearest such line above the error; else the template's first line.
    """
    import dataclasses

    if not source:
        return problem
    lines = rendered.split("\n")
    template_lines = source.split("\n")
    target = problem.span.line
    for back in range(0, min(target, 50)):
        number = target - back
        if not 0 < number <= len(lines):
            continue
        found = _matching_template_line(lines[number - 1], template_lines, target)
        if found is not None:
            text = template_lines[found - 1]
            start = len(text) - len(text.lstrip()) + 1
            span = Span(found, start, found, max(len(text.rstrip()) + 1, start + 1))
            return dataclasses.replace(problem, span=span)
    return dataclasses.replace(problem, span=Span(1, 1, 1, 2))


def _matching_template_line(line: str, template_lines: list[str], near: int) -> int | None:
    wanted = line.strip()
    if not wanted:
        return None
    best: int | None = None
    for number, text in enumerate(template_lines, 1):
        candidate = text.strip()
        if not candidate:
            continue
        if "{{" in candidate:
            pattern = ".*".join(re.escape(part) for part in _ACTION_IN_LINE.split(candidate))
            if not pattern.replace(".*", "") or not re.fullmatch(pattern, wanted):
                continue
        elif candidate != wanted:
            continue
        if best is None or abs(number - near) < abs(best - near):
            best = number
    return best


def _traces(
    rendered: list[tuple[str, str, str, list[tuple[int, Any]]]],
    renderer: _Renderer,
    user_docs: list[tuple[str, YMap]],
) -> dict[tuple[str, int], dict[str, tuple[Loc, str]]]:
    wanted: dict[str, list[tuple[int, str, str]]] = {}
    for name, _path, _origin, docs in rendered:
        for index, doc in docs:
            if isinstance(doc, dict) and doc.get("kind") == "CustomResourceDefinition":
                continue  # a CRD's schema holds no image (and is the largest document of most charts)
            for pointer, image in image_fields(doc):
                wanted.setdefault(name, []).append((index, pointer, image))
    if not wanted:
        return {}
    sentinels = Sentinels()
    clone = _clone(renderer.root, sentinels, "", 0)
    sentinel_user: dict[str, Any] = {}
    for rank, (path, doc) in enumerate(user_docs):
        # -1 for the last file: later --helm-values files override earlier ones and values.yaml
        sentinel_user = merge_maps(sentinel_user, sentinels.substitute(doc, path, "", rank - len(user_docs)))
    app_versions = {str(n.chart.metadata_raw.get("appVersion", n.chart.metadata.get("appVersion"))) for n, _ in iter_nodes(renderer.root)}
    found: dict[tuple[str, int, str], dict[str, Any]] = {}
    unresolved: set[str] = set()
    for name, fields in wanted.items():
        for index, pointer, image in fields:
            by_part = parts_direct(image, sentinels, app_versions)
            if by_part is None:
                unresolved.add(name)
            else:
                found[(name, index, pointer)] = by_part
    sentinel_out = _render_sentinels(renderer, clone, sentinel_user, unresolved) if unresolved else {}
    out: dict[tuple[str, int], dict[str, tuple[Loc, str]]] = {}
    for name, fields in wanted.items():
        sentinel_docs: dict[int, Any] = {}
        if name in sentinel_out:
            docs, _problems = parse_text(name, sentinel_out[name])
            sentinel_docs = {i: doc for i, (doc, _span) in enumerate(docs)}
        path = renderer.display_of(name)
        lines = template_image_lines(renderer.source_of(name) or "", path)
        for k, (index, pointer, image) in enumerate(fields):
            by_part = found.get((name, index, pointer))
            if by_part is None:
                value = resolve(sentinel_docs.get(index), pointer)
                by_part = parts_from_sentinel(image, value, sentinels) if isinstance(value, str) else {}
            template_loc = lines[k] if len(lines) == len(fields) else (lines[min(k, len(lines) - 1)] if lines else None)
            out.setdefault((name, index), {}).update(trace_image(pointer, image, by_part, template_loc))
    return out


def _render_sentinels(
    renderer: _Renderer, clone: Node, sentinel_user: dict[str, Any], only: set[str]
) -> dict[str, str]:
    """The templates ``only`` rendered by the built-in engine with the sentinel values ({} when that fails)."""
    try:
        import_values(clone)
        values = go_numbers(without_nulls(render_values(clone, sentinel_user)))
        return renderer.builtin.render(values, lint=True, only=only).outputs
    except UnsupportedEnvironment:
        raise  # an unusable gotpl is not this chart's doing: the run stops
    except Exception:  # noqa: BLE001 - tracing is best effort; the template line still works
        return {}


# --- when nothing renders: the image blocks of values.yaml ---------------------------------------


def values_images(chart: loader.Chart) -> list[ValuesImage]:
    """Image blocks of values.yaml (registry/repository/tag/digest), skipping disabled sections."""
    out: list[ValuesImage] = []
    doc = chart.values_doc
    if not isinstance(doc, YMap):
        return out
    stack: list[tuple[YMap, str]] = [(doc, "")]
    while stack:
        node, path = stack.pop()
        if node.get("enabled") is False:
            continue
        repo = node.get("repository")
        if isinstance(repo, str) and repo and ("tag" in node or "registry" in node or path.endswith("image")):
            ref = repo
            registry = node.get("registry")
            if isinstance(registry, str) and registry:
                ref = f"{registry}/{ref}"
            tag, digest = node.get("tag"), node.get("digest")
            if isinstance(digest, str) and digest:
                ref += f"@{digest}"
            elif tag not in (None, ""):
                ref += f":{tag}"
            out.append(ValuesImage(ref, Loc(chart.values_path, node.value_span("repository")), path or "."))
            continue
        for key, value in node.items():
            child = f"{path}.{key}" if path else str(key)
            if isinstance(value, YMap):
                stack.append((value, child))
            elif key == "image" and isinstance(value, str) and value:
                out.append(ValuesImage(value, Loc(chart.values_path, node.value_span(key)), child))
    return sorted(out, key=lambda v: (v.loc.span.line, v.loc.span.column))


