"""Chart loading like Helm's loader: a directory or an in-memory .tgz, with subcharts from charts/."""

from __future__ import annotations

import fnmatch
import os
import posixpath
import re
import stat
from dataclasses import dataclass, field
from typing import Any

from ..model import Finding, Loc, Severity, Span, YMap, YSeq
from ..parsing import ParseProblem, decode, parse_text
from .facts import RenderError
from .tarstream import TarError, TarLimitError, TarReader

# Helm caps a decompressed chart at 100 MiB and one file at 5 MiB (pkg/chart/loader/archive.go);
# ours follow max-file-size: one file <= max_bytes, a whole chart tree <= TOTAL_FACTOR * max_bytes.
TOTAL_FACTOR = 10
MAX_FILES = 10_000
MAX_NESTING = 8  # charts/a/charts/b/... deeper than this is refused, not recursed into
# Tar headers in one archive: directories, links and extension headers are no files, but each is
# parsed, so a flood of them (a few bytes each once compressed) is capped too.
MAX_ENTRIES = 2 * MAX_FILES


class ChartLoadError(Exception):
    """A chart (or subchart) that cannot be loaded at all."""


@dataclass(eq=False)
class Chart:
    """A loaded chart: metadata, values, templates, files and vendored subcharts."""

    name: str
    display: str  # the chart's root as the user sees it ("web", "web/charts/common")
    origin: str  # the chart's root relative to the top chart ("" or "charts/common/")
    metadata: dict[str, Any]  # Chart.yaml as plain data
    metadata_doc: Any  # Chart.yaml with spans (YMap), for dependency locations
    values_doc: Any  # values.yaml with spans (YMap) or None
    values: dict[str, Any]  # values.yaml as plain data
    templates: dict[str, str]  # "templates/x.yaml" -> source
    files: dict[str, bytes]  # everything else, for .Files
    subcharts: list["Chart"] = field(default_factory=list)
    requirements: list[tuple[dict[str, Any], Any]] = field(default_factory=list)  # (plain, YMap) entries
    requirements_path: str = ""  # display path of the file that lists the dependencies
    parse_errors: list[Finding] = field(default_factory=list)  # ECR001 for Chart.yaml/values.yaml
    metadata_raw: dict[str, str] = field(default_factory=dict)  # string fields as written (appVersion: 1.10)
    load_problems: list[RenderError] = field(default_factory=list)  # subcharts that could not be loaded
    has_symlinks: bool = False  # the top chart's directory holds symlinks
    schema: bytes | None = None  # values.schema.json (schema.py validates the values against it)

    @property
    def chart_type(self) -> str:
        t = self.metadata.get("type")
        return t if isinstance(t, str) and t else "application"

    @property
    def values_path(self) -> str:
        return f"{self.display}/values.yaml"


class _Budget:
    """Bytes and files still allowed for one chart tree (archives included)."""

    def __init__(self, max_bytes: int) -> None:
        self.symlinks = False  # the directory holds symlinks (external engines would follow them)
        self.max_bytes = max_bytes
        self.total = max_bytes * TOTAL_FACTOR
        self.files = MAX_FILES

    def take(self, size: int, name: str) -> None:
        if size > self.max_bytes:
            raise ChartLoadError(f"{name} is {size} bytes, larger than the {self.max_bytes}-byte limit (max-file-size)")
        self.total -= size
        self.files -= 1
        if self.total < 0:
            raise ChartLoadError(f"the chart is larger than {self.max_bytes * TOTAL_FACTOR} bytes in total")
        if self.files < 0:
            raise ChartLoadError(f"the chart has more than {MAX_FILES} files")

    def charge(self, size: int, what: str) -> None:
        """Bytes read that are no file's content (tar headers, padding, skipped members): the total only.

        Called before they are decompressed, so an archive inflates no further than the chart's total.
        """
        self.total -= size
        if self.total < 0:
            raise ChartLoadError(
                f"the chart is larger than {self.max_bytes * TOTAL_FACTOR} bytes in total ({what} decompresses past it)"
            )


# --- .helmignore ---------------------------------------------------------------------------------


def _helmignore_rules(text: str) -> list[tuple[bool, bool, str]]:
    """(negated, directory-only, pattern) per line, as Helm's pkg/ignore reads them."""
    rules = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        negate = line.startswith("!")
        if negate:
            line = line[1:]
        dir_only = line.endswith("/")
        line = line.strip("/") if dir_only else line.lstrip("/") if line.startswith("/") else line
        if line:
            rules.append((negate, dir_only, line))
    return rules


def _ignored(rel: str, is_dir: bool, rules: list[tuple[bool, bool, str]]) -> bool:
    ignored = False
    base = posixpath.basename(rel)
    for negate, dir_only, pattern in rules:
        if dir_only and not is_dir:
            continue
        target = rel if "/" in pattern else base
        if fnmatch.fnmatchcase(target, pattern):
            ignored = not negate
    return ignored


# --- reading -------------------------------------------------------------------------------------


def read_directory(chart_dir: str, budget: _Budget) -> dict[str, bytes]:
    """Every file of a chart directory (chart-relative POSIX paths), honouring .helmignore.

    Symlinks are followed only when they stay inside the chart (no escapes, no loops).
    """
    root = os.path.realpath(chart_dir)
    rules: list[tuple[bool, bool, str]] = []
    ignore_file = os.path.join(root, ".helmignore")
    if os.path.isfile(ignore_file):
        rules = _helmignore_rules(_read(ignore_file, budget, ".helmignore").decode("utf-8", "replace"))
    files: dict[str, bytes] = {}
    seen_dirs = {root}
    stack = [(root, "")]
    while stack:
        directory, prefix = stack.pop()
        try:
            entries = sorted(os.scandir(directory), key=lambda e: e.name)
        except OSError:
            continue
        for entry in entries:
            rel = prefix + entry.name
            if entry.name == ".git":
                continue
            # ``directory`` is a real path (the root's, or a directory's after its links were
            # resolved): only a symlink's path needs resolving (realpath costs a syscall per part).
            if entry.is_symlink():
                budget.symlinks = True
                real = os.path.realpath(entry.path)
                if real != root and not real.startswith(root + os.sep):
                    continue  # a symlink out of the chart
            else:
                real = entry.path
            try:
                st = entry.stat() if real is entry.path else os.stat(real)
            except OSError:
                continue
            if stat.S_ISDIR(st.st_mode):
                if real in seen_dirs or _ignored(rel, True, rules):
                    continue
                seen_dirs.add(real)
                stack.append((real, rel + "/"))
            elif stat.S_ISREG(st.st_mode) and rel != ".helmignore" and not _ignored(rel, False, rules):
                files[rel] = _read(real, budget, rel, st.st_size)
    return files


def _read(path: str, budget: _Budget, name: str, size: int | None = None) -> bytes:
    size = os.path.getsize(path) if size is None else size
    budget.take(size, name)
    with open(path, "rb") as handle:
        data = handle.read(budget.max_bytes + 1)
    if len(data) > budget.max_bytes:
        raise ChartLoadError(f"{name} is larger than the {budget.max_bytes}-byte limit (max-file-size)")
    return data


def read_archive(data: bytes, budget: _Budget, name: str) -> tuple[str, dict[str, bytes]]:
    """A chart .tgz read in memory: regular files only, paths confined to the chart, sizes capped.

    Returns the archive's top-level directory (the chart name) and its files relative to it. The tar
    stream is parsed by tarstream, which has every byte paid for before it is decompressed: content
    through ``budget.take`` (per file), the rest (headers, padding, skipped entries) through
    ``budget.charge``; a PAX or GNU long-name header larger than max-file-size (or Helm's 1 MiB) is
    refused from its declared size.
    """
    files: dict[str, bytes] = {}
    root = ""
    reader = TarReader(data, lambda size: budget.charge(size, name), max_bytes=budget.max_bytes, max_entries=MAX_ENTRIES)
    try:
        for member in reader:
            if not member.isreg():
                continue  # directories, symlinks, hard links, devices: never followed
            parts = [p for p in member.name.replace("\\", "/").split("/") if p not in ("", ".")]
            if len(parts) < 2 or ".." in parts or member.name.startswith("/"):
                continue  # files must sit below the archive's one top-level chart directory
            rel = "/".join(parts[1:])
            root = root or parts[0]
            budget.take(member.size, f"{name}:{rel}")
            files[rel] = reader.read(member)
    except TarLimitError as exc:
        raise ChartLoadError(f"{name}: {exc}") from None
    except TarError as exc:
        raise ChartLoadError(f"{name} is not a readable chart archive ({exc})") from None
    finally:
        reader.close()
    if not files:
        raise ChartLoadError(f"{name} is not a readable chart archive (no files)")
    return root, files


# --- building charts -----------------------------------------------------------------------------


def _text(data: bytes) -> str:
    try:
        return decode(data)
    except ParseProblem:
        return data.decode("utf-8", "replace")


def _parse_yaml(display: str, data: bytes, errors: list[Finding]) -> Any:
    try:
        text = decode(data)
    except ParseProblem as problem:
        span = Span(problem.line, problem.column, problem.line, problem.column + 1)
        errors.append(Finding("ECR001", "parse-error", Severity.ERROR, display, span, problem.message))
        return None
    docs, problems = parse_text(display, text)
    errors.extend(p for p in problems if p.severity.label == "error")
    return docs[0][0] if docs else None


def _key(key: Any) -> str:
    # Helm reads YAML through JSON (sigs.k8s.io/yaml): every mapping key becomes a string.
    if isinstance(key, str):
        return key
    if key is None:
        return "null"
    if isinstance(key, bool):
        return "true" if key else "false"
    return str(key)


def plain(node: Any) -> Any:
    """A deep copy as plain dict/list/scalars (values are mutated while coalescing)."""
    if isinstance(node, dict):
        return {_key(k): plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [plain(v) for v in node]
    return node


# Plain scalars that yaml.v2 (Helm's values reader, through sigs.k8s.io/yaml) reads as numbers or
# booleans and ecrlint's YAML 1.1 reader keeps as strings: base prefixes and leading zeros
# (strconv.ParseInt(s, 0, 64): 0755 is 493), and the one-letter booleans y/Y/n/N.
_GO_ONLY = re.compile(r"[-+]?0(?:[0-9_]+|[xX][0-9a-fA-F_]+|[oO][0-7_]+|[bB][01_]+)|[yYnN]")


def go_values(node: Any, text: str) -> Any:
    """``plain(node)`` of a values file as Helm reads it: see _GO_ONLY (``text``: the file's text)."""
    if not text or not _GO_ONLY.search(text):
        return plain(node)
    starts = [0]
    for line in text.split("\n"):
        starts.append(starts[-1] + len(line) + 1)

    def is_plain(span: Span) -> bool:
        # the scalar as written: a quote, a block indicator or a tag in front of it means not plain
        if not 0 < span.line < len(starts):
            return False
        at = starts[span.line - 1] + span.column - 1
        return 0 <= at < len(text) and text[at] not in "'\"|>!&*"

    def convert(value: Any, span: Span) -> Any:
        if isinstance(value, str) and _GO_ONLY.fullmatch(value) and is_plain(span):
            return _go_scalar(value)
        return value

    def walk(item: Any) -> Any:
        if isinstance(item, YMap):
            return {
                _key(convert(k, item.key_span(k))): walk(convert(v, item.value_span(k))) for k, v in item.items()
            }
        if isinstance(item, YSeq):
            return [walk(convert(v, item.item_span(i))) for i, v in enumerate(item)]
        return plain(item)

    return walk(node)


def _go_scalar(text: str) -> Any:
    if text in ("y", "Y", "n", "N"):
        return text in ("y", "Y")
    digits = text.replace("_", "")
    sign = -1 if digits.startswith("-") else 1
    body = digits.lstrip("+-")
    prefix = body[:2].lower()
    try:
        if prefix in ("0x", "0o", "0b"):
            return sign * int(body[2:], {"0x": 16, "0o": 8, "0b": 2}[prefix])
        return sign * int(body, 8)
    except ValueError:
        try:
            return float(digits)  # "09": not octal; yaml.v2 then reads it as a float
        except ValueError:
            return text


def build_chart(
    files: dict[str, bytes], display: str, origin: str, budget: _Budget, depth: int = 0
) -> Chart:
    """A Chart from its files (chart-relative paths), loading subcharts recursively."""
    if "Chart.yaml" not in files:
        raise ChartLoadError(f"{display or 'the chart'} has no Chart.yaml")
    errors: list[Finding] = []
    metadata_doc = _parse_yaml(f"{display}/Chart.yaml", files["Chart.yaml"], errors)
    metadata = plain(metadata_doc) if isinstance(metadata_doc, dict) else {}
    raw = _raw_strings(metadata_doc, _text(files["Chart.yaml"]))
    name = metadata.get("name")
    if not isinstance(name, str) or not name:
        name = posixpath.basename(display.rstrip("/")) or "chart"
    values_doc = None
    if "values.yaml" in files:
        values_doc = _parse_yaml(f"{display}/values.yaml", files["values.yaml"], errors)
    values = go_values(values_doc, _text(files["values.yaml"])) if isinstance(values_doc, dict) else {}
    chart = Chart(
        name=name,
        display=display,
        origin=origin,
        metadata=metadata,
        metadata_doc=metadata_doc,
        values_doc=values_doc if isinstance(values_doc, dict) else None,
        values=values,
        templates={},
        files={},
        parse_errors=errors,
        metadata_raw=raw,
    )
    deps_doc, deps_path = _dependency_list(metadata_doc, files, display, errors)
    if deps_doc is not None:
        chart.requirements = [(plain(d), d) for d in deps_doc if isinstance(d, YMap)]
        chart.requirements_path = deps_path
    groups = _sort_files(chart, files)
    _load_subcharts(chart, groups, budget, depth)
    return chart


def _dependency_list(
    metadata_doc: Any, files: dict[str, bytes], display: str, errors: list[Finding]
) -> tuple[Any, str]:
    """The `dependencies` sequence and its file: Chart.yaml's (apiVersion v2), else requirements.yaml's (v1).

    Helm reads both. (None, the Chart.yaml path) when neither lists dependencies.
    """
    if isinstance(metadata_doc, YMap) and isinstance(metadata_doc.get("dependencies"), YSeq):
        return metadata_doc["dependencies"], f"{display}/Chart.yaml"
    if "requirements.yaml" in files:
        req = _parse_yaml(f"{display}/requirements.yaml", files["requirements.yaml"], errors)
        if isinstance(req, YMap) and isinstance(req.get("dependencies"), YSeq):
            return req["dependencies"], f"{display}/requirements.yaml"
    return None, f"{display}/Chart.yaml"


def _sort_files(chart: Chart, files: dict[str, bytes]) -> dict[str, dict[str, bytes]]:
    """Templates and other files into ``chart``; returns the files under charts/ by subchart."""
    groups: dict[str, dict[str, bytes]] = {}
    for rel in sorted(files):
        data = files[rel]
        if rel == "values.schema.json":
            chart.schema = data  # not a .Files entry (Helm keeps it apart, for validation)
            continue
        if rel in ("Chart.yaml", "values.yaml", "Chart.lock", "requirements.lock"):
            continue
        if rel.startswith("templates/"):
            chart.templates[rel] = _text(data)
        elif rel.startswith("charts/") and not rel.endswith(".prov"):
            sub, _, rest = rel[len("charts/") :].partition("/")
            groups.setdefault(sub, {})[rest] = data
        else:
            if rel == "requirements.yaml" and chart.metadata.get("apiVersion") != "v1":
                continue
            chart.files[rel] = data
    return groups


def _load_subcharts(chart: Chart, groups: dict[str, dict[str, bytes]], budget: _Budget, depth: int) -> None:
    """Each subchart directory or archive of ``groups`` into chart.subcharts, or a load problem."""
    display, origin = chart.display, chart.origin
    for sub, sub_files in sorted(groups.items()):
        if sub[:1] in ("_", "."):
            continue
        sub_display = f"{display}/charts/{sub}"
        sub_origin = f"{origin}charts/{sub}/"
        try:
            if depth >= MAX_NESTING:
                raise ChartLoadError(f"subcharts nested deeper than {MAX_NESTING} levels at {sub_display}")
            if sub.endswith((".tgz", ".tar.gz")) and "" in sub_files:
                inner, archive = read_archive(sub_files[""], budget, sub_display)
                child = build_chart(archive, f"{sub_display}/{inner}", f"{sub_origin}{inner}/", budget, depth + 1)
            elif "" in sub_files or "Chart.yaml" not in sub_files:
                continue  # a loose file in charts/, or a directory that is not a chart
            else:
                child = build_chart(sub_files, sub_display, sub_origin, budget, depth + 1)
        except ChartLoadError as exc:
            if budget.total < 0 or budget.files < 0:
                raise
            chart.load_problems.append(
                RenderError(f"subchart {sub!r} cannot be loaded: {exc}", Loc(sub_display, Span(1, 1, 1, 1)), None, "chart")
            )
            continue
        chart.subcharts.append(child)


# Chart.yaml string fields written as YAML numbers or booleans: Helm v4 reads them as Go values
# and prints them with %v (`appVersion: 1.10` renders "1.1", `1.0` renders "1").
_STRING_KEYS = ("name", "home", "version", "description", "icon", "apiVersion", "condition", "tags",
                "appVersion", "kubeVersion", "type")


def go_string(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e21:
            return str(int(value))
        return repr(value)
    return str(value)


def _raw_strings(doc: Any, text: str) -> dict[str, str]:
    out: dict[str, str] = {}
    if not isinstance(doc, YMap):
        return out
    for key in _STRING_KEYS:
        value = doc.get(key)
        if value is not None and not isinstance(value, (str, dict, list)):
            out[key] = go_string(value)
    return out


def load(chart_dir: str, display: str, max_bytes: int) -> Chart:
    """Load a chart directory (or a .tgz file) with every vendored subchart; raises ChartLoadError."""
    budget = _Budget(max_bytes)
    if os.path.isfile(chart_dir):
        _root, files = read_archive(_read(chart_dir, budget, display), budget, display)
    else:
        files = read_directory(chart_dir, budget)
    chart = build_chart(files, display, "", budget)
    chart.has_symlinks = budget.symlinks
    return chart


def walk(chart: Chart):
    """The chart and every loaded subchart, depth first."""
    stack = [chart]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(reversed(current.subcharts))


def load_problem(display: str, message: str) -> RenderError:
    return RenderError(message, Loc(f"{display}/Chart.yaml", Span(1, 1, 1, 1)), None, "chart")
