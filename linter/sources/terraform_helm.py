"""``helm_release`` (the Helm provider) into the facts Helm charts give, on the ``.tf`` lines.

- A chart from an ``oci://`` registry (``repository = "oci://HOST/PATH"`` with ``chart = NAME``, or
  ``chart = "oci://HOST/PATH/NAME"``): a ``ChartFacts`` whose one dependency is that chart, so
  ECR403 checks its registry host and ECR402 its ``version`` (missing or a range), as they do for a
  ``Chart.yaml`` dependency.
- A chart that is a directory of the scanned tree (``chart = "./charts/app"``,
  ``"${path.module}/charts/app"``): rendered by ecrlint's Helm engine with the release's ``values``
  (``yamlencode(...)``, ``file()``, YAML heredocs, ``templatefile()``) and its ``set`` /
  ``set_list`` / ``set_sensitive`` entries, applied in that order as the provider does; the
  images the release's values set are checked and traced to the ``.tf`` (or values file) line.
  Values not known offline (a ``var`` without a default) are not guessed: a ``--verbose`` note.
- Any other chart (a repository URL, a name of a repository added on the machine): a ``--verbose``
  note; nothing is ever downloaded.
"""

from __future__ import annotations

import os
import re
from typing import TYPE_CHECKING, Any

from ..model import Loc, ParsedFile, Span, YMap, YSeq
from ..workspace import Workspace
from .terraform_eval import Evaluator, FileText, Instance, Json, Partial, Ref, TfMap, TfSeq, Unknown, Yaml
from .terraform_hcl import Attribute, Template, TupleExpr

if TYPE_CHECKING:
    from .terraform_facts import _Extractor

OCI = "oci://"
MAX_SET = 1_000  # set entries read from one release


class _NotKnown(Exception):
    """A piece of the release's values that is not known offline."""


def helm_releases(ex: _Extractor) -> None:
    for inst in ex.instances("helm_release"):
        _release(ex, inst)


def _where(inst: Instance) -> str:
    return f"{inst.resource.file}:{inst.resource.block.span.line}: helm_release \"{inst.address}\""


def _release(ex: _Extractor, inst: Instance) -> None:
    chart = ex.ev(inst, "chart")
    repository = ex.ev(inst, "repository")
    if isinstance(chart, str) and chart.lower().startswith(OCI):
        _oci(ex, inst, chart, "chart", chart.rstrip("/").rsplit("/", 1)[-1])
        return
    if isinstance(repository, str) and repository.lower().startswith(OCI):
        _oci(ex, inst, repository, "repository", chart if isinstance(chart, str) else "")
        return
    if not isinstance(chart, str) or (repository is not None and not isinstance(repository, str)):
        ex.notes.append(f"{_where(inst)}: its chart is not known offline; the images it runs are not judged")
        return
    if repository is None and "://" not in chart and ex.m.directory and ex.m.tree:
        path = os.path.realpath(os.path.join(ex.m.directory, chart))
        tree = os.path.realpath(ex.m.tree)
        inside = path == tree or path.startswith(tree.rstrip(os.sep) + os.sep)
        if inside and os.path.isfile(os.path.join(path, "Chart.yaml")):
            _local(ex, inst, path)
            return
        if chart.startswith((".", "/")):  # a path (not REPO/NAME of a repository added with helm repo add)
            ex.notes.append(f"{_where(inst)}: chart {chart!r} is not a chart directory of the scanned tree; "
                            "the images it runs are not judged")
            return
    source = f"{repository}/{chart}" if isinstance(repository, str) else chart
    ex.notes.append(f"{_where(inst)}: chart {source!r} is fetched at apply time (never downloaded by ecrlint); "
                    "the images it runs are not judged")


# --- oci:// charts: the facts of a Chart.yaml dependency ------------------------------------------


def _oci(ex: _Extractor, inst: Instance, reference: str, attr: str, name: str) -> None:
    from ..helm.facts import ChartDependency, ChartFacts

    file = inst.resource.file
    version = ex.ev(inst, "version")
    known = version is None or isinstance(version, (str, int, float)) and not isinstance(version, bool)
    text = None if version is None else str(version) if known else None
    release = ex.ev(inst, "name")
    facts = ChartFacts(name=release if isinstance(release, str) else inst.address, dir=ex.m.directory or "",
                       display=file, chart_yaml=file)
    facts.dependencies.append(ChartDependency(
        name=name or inst.address,
        loc=ex.key_loc(inst),
        version=text,
        version_loc=ex.attr_loc(inst, "version") if version is not None else None,
        repository=reference,
        repository_loc=ex.attr_loc(inst, attr),
        vendored=True,  # the provider pulls it at apply time: nothing to vendor (not ECR404)
        chart=file,
        declared_by=inst.address,
        version_known=known,
    ))
    ex.ws.charts.append(facts)
    ex.notes.append(f"{_where(inst)}: chart {reference} is pulled at apply time; its registry and version are "
                    "checked, the images it runs are not judged")


# --- charts of the scanned tree: rendered with the release's values --------------------------------


def _local(ex: _Extractor, inst: Instance, chart_dir: str) -> None:
    from .. import helm
    from ..helm.facts import ChartFacts, RenderError
    from . import extract_documents
    from .discovery import display_path

    where = ex.where or {}
    cwd = ex.m.cwd or os.getcwd()
    display = display_path(chart_dir, cwd)
    try:
        items = _values_items(ex, inst)
    except _NotKnown as exc:
        ex.notes.append(f"{_where(inst)}: chart {display} not rendered with this release's values: {exc} is not "
                        "known offline (the chart is still checked with its own values.yaml)")
        return
    engine = where.get("helm_engine") or None
    max_bytes = int(where.get("max_bytes") or 10 * 1024 * 1024)
    name, namespace = ex.ev(inst, "name"), ex.ev(inst, "namespace")
    if namespace is None:
        namespace = "default"  # the provider's default namespace
    if not isinstance(name, str) or not isinstance(namespace, str):
        ex.notes.append(f"{_where(inst)}: chart {display} not rendered with this release's values: its name or "
                        "namespace is not known offline (the chart is still checked with its own values.yaml)")
        return
    # values files go as (path, display) pairs: nothing depends on the process's working directory
    rendered = helm.load_chart(chart_dir, display, values_files=[i for i, _ in items],
                               engine=None if engine == "auto" else engine, max_bytes=max_bytes,
                               release=(name, namespace))
    owned = {inst.resource.file} | {d for _, d in items}
    for doc in rendered.documents:
        _in_namespace(doc.root, namespace)
    sub = Workspace()
    holder = ParsedFile(display)
    if ex.ctx is not None:
        extract_documents(rendered.documents, holder, sub, ex.ctx)
    label = inst.address
    defaults = _defaults(ex, chart_dir, display, engine, max_bytes)
    images, sub.images = sub.images, []
    # The release's objects (its name, its namespace: what Fargate profiles and node roles select)
    ex.ws.merge(sub)
    for image in images:
        # What the chart renders with its own values is checked where the chart itself is read;
        # what the release changes (an image it sets, a container it enables) is checked here, on
        # the .tf (or values file) line that sets it when traced.
        if any(loc.path in owned for loc in (image.loc, *image.part_locs.values())) or _image_key(image) not in defaults[1]:
            image.origin = f"{image.origin}, with the values of {label}" if image.origin else f"values of {label}"
            ex.ws.images.append(image)
    ex.errors.extend(e for e in rendered.errors if e.path in owned)
    chart = rendered.chart
    if chart is not None:
        errors = [e for e in chart.render_errors if e.kind in ("required", "fail", "schema", "template")]
        if errors:
            own = defaults[0]
            fresh = [RenderError(f"with the values of {label} ({_where(inst).split(': ')[0]}): {e.message}",
                                 e.loc, e.template, e.kind)
                     for e in errors if (e.loc, e.kind, e.message) not in own]
            if fresh:
                facts = ChartFacts(name=chart.name, dir=chart.dir, display=chart.display, chart_yaml=chart.chart_yaml)
                facts.render_errors.extend(fresh)
                ex.ws.charts.append(facts)
    ex.notes.append(f"{_where(inst)}: chart {display} rendered with the release's values")


# Kinds `helm install` creates in the release's namespace when the manifest names none (Helm's
# kube client builds resources with the release namespace as their default namespace).
_NAMESPACED = frozenset(["Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob", "Pod",
                         "ReplicationController", "ServiceAccount"])


def _in_namespace(doc: Any, namespace: str) -> None:
    if not isinstance(doc, YMap) or doc.get("kind") not in _NAMESPACED:
        return
    metadata = doc.get("metadata")
    if isinstance(metadata, YMap) and metadata.get("namespace") in (None, ""):
        metadata["namespace"] = namespace
        metadata.spans["namespace"] = (metadata.span, metadata.span)


def _image_key(image: Any) -> tuple[str, str, Any, str | None]:
    return image.value, image.loc.path, image.loc.span, image.container


def _defaults(ex: _Extractor, chart_dir: str, display: str, engine: str | None,
              max_bytes: int) -> tuple[set[tuple[Any, str, str]], set[tuple[str, str, Any, str | None]]]:
    """The render errors and images of the chart with its own values (what the chart unit reports),
    rendered once per chart of the module."""
    from .. import helm
    from . import extract_documents

    cached = ex.chart_defaults.get(chart_dir)
    if cached is not None:
        return cached
    rendered = helm.load_chart(chart_dir, display, engine=None if engine == "auto" else engine, max_bytes=max_bytes)
    chart = rendered.chart
    errors = {(e.loc, e.kind, e.message) for e in chart.render_errors} if chart is not None else set()
    sub = Workspace()
    if ex.ctx is not None:
        extract_documents(rendered.documents, ParsedFile(display), sub, ex.ctx)
    images = {_image_key(i) for i in sub.images}
    if chart is not None and not rendered.documents:
        images |= {(v.value, v.loc.path, v.loc.span, None) for v in chart.values_images}
    ex.chart_defaults[chart_dir] = (errors, images)
    return errors, images


def _values_items(ex: _Extractor, inst: Instance) -> list[tuple[Any, str]]:
    """The release's values in the order Helm merges them: ``values`` entries, then ``set``s."""
    from ..helm.facts import InlineValues

    file = inst.resource.file
    body = inst.resource.block.body
    out: list[tuple[Any, str]] = []
    attr = body.attributes.get("values")
    if attr is not None:
        value = ex.ev(inst, "values")
        if not isinstance(value, list):
            raise _NotKnown("values")
        exprs = attr.expr.items if isinstance(attr.expr, TupleExpr) else []
        for i, item in enumerate(value):
            expr = exprs[i] if i < len(exprs) else None
            span = expr.span if expr is not None else attr.span
            out.append(_values_entry(ex, item, expr, file, span, i))
    set_doc = _set_values(ex, inst)
    if set_doc is not None:
        out.append((InlineValues(file, set_doc), file))
    return out


def _values_entry(ex: _Extractor, item: Any, expr: Any, file: str, span: Span, index: int) -> tuple[Any, str]:
    from ..helm.facts import InlineValues
    from ..parsing import parse_text
    from .terraform_facts import _shift
    from .terraform_k8s import _flatten_spans

    what = f"values[{index}]"
    if isinstance(item, FileText):
        if item.path:
            from ..parsing import scan_suppressions

            companion = ParsedFile(item.display)  # its "# ecrlint: ignore" comments count, as --helm-values'
            scan_suppressions(str(item), companion)
            ex.companions.append(companion)
            return (item.path, item.display), item.display
        raise _NotKnown(what)
    if isinstance(item, (Yaml, Json)):
        inner = item.value
        if not isinstance(inner, dict):
            raise _NotKnown(what)
        where = inner.file if isinstance(inner, TfMap) and inner.file else file
        doc = _tree(inner, span, what)
        if not isinstance(doc, YMap):
            raise _NotKnown(what)
        return InlineValues(where, doc), where
    if isinstance(item, str):
        heredoc = expr.heredoc if isinstance(expr, Template) else None
        if isinstance(expr, Template) and heredoc is not None and all(isinstance(p, str) for p in expr.parts):
            docs, problems = parse_text(file, heredoc)
            root = docs[0][0] if docs and not problems else None
            if isinstance(root, YMap):
                return InlineValues(file, _shift(root, expr.body_line - 1)), file
        docs, problems = parse_text(file, item)
        root = docs[0][0] if docs and not problems else None
        if root is None and not problems:
            return InlineValues(file, YMap(span)), file
        if isinstance(root, YMap):
            return InlineValues(file, _flatten_spans(root, span)), file
        raise _NotKnown(f"{what} (not a YAML mapping)")
    raise _NotKnown(what)


def _tree(value: Any, span: Span, what: str) -> Any:
    """An evaluated value as a values tree with positions; anything not known raises _NotKnown."""
    if isinstance(value, (Json, Yaml)):
        return _tree(value.value, span, what)
    if isinstance(value, dict):
        out = YMap(value.span if isinstance(value, TfMap) else span)
        for k, v in value.items():
            out[str(k)] = _tree(v, span, f"{what}.{k}")
            out.spans[str(k)] = value.spans[k] if isinstance(value, TfMap) and k in value.spans else (span, span)
        return out
    if isinstance(value, list):
        seq = YSeq(value.span if isinstance(value, TfSeq) else span)
        for i, v in enumerate(value):
            seq.append(_tree(v, span, f"{what}[{i}]"))
        seq.spans = list(value.spans) if isinstance(value, TfSeq) and len(value.spans) == len(value) else [span] * len(value)
        return seq
    if isinstance(value, (Unknown, Ref, Partial)):
        raise _NotKnown(what)
    return value


_INT = re.compile(r"^[-+]?(?:0|[1-9][0-9]*)$")


def _set_values(ex: _Extractor, inst: Instance) -> YMap | None:
    """``set``/``set_sensitive``/``set_list`` blocks (provider 2.x) or list attributes (3.x) as one values map."""
    from .terraform_facts import _expand_dynamic

    body = inst.resource.block.body
    evaluator = Evaluator(ex.m, inst.resource.file)
    entries: list[tuple[str, Any, Span, bool]] = []  # (name, value, span, as a list)
    for kind in ("set", "set_sensitive", "set_list"):
        for block in _expand_dynamic(body, kind, evaluator, inst.scope):
            attrs = block.body.attributes
            entries.append(_set_entry(evaluator, inst, attrs, block.span, kind))
        attr = body.attributes.get(kind)
        if attr is not None:
            items = evaluator.ev(attr.expr, inst.scope)
            if not isinstance(items, list):
                raise _NotKnown(kind)
            for item in items:
                if not isinstance(item, dict):
                    raise _NotKnown(kind)
                span = item.spans.get("value", (attr.span, attr.span))[1] if isinstance(item, TfMap) else attr.span
                entries.append(_set_value(item.get("name"), item.get("value"), item.get("type"), span, kind))
    if not entries:
        return None
    doc = YMap(entries[0][2])
    for name, value, span, _as_list in entries[:MAX_SET]:
        _put(doc, name, value, span)
    return doc


def _set_entry(ev: Evaluator, inst: Instance, attrs: dict[str, Attribute], span: Span, kind: str) -> tuple[str, Any, Span, bool]:
    def get(key: str) -> Any:
        return ev.ev(attrs[key].expr, inst.scope) if key in attrs else None

    value_attr = attrs.get("value")
    return _set_value(get("name"), get("value"), get("type"), value_attr.span if value_attr else span, kind)


def _set_value(name: Any, value: Any, vtype: Any, span: Span, kind: str) -> tuple[str, Any, Span, bool]:
    if not isinstance(name, str):
        raise _NotKnown(f"a {kind} name")
    if kind == "set_list":
        if not isinstance(value, list) or not all(isinstance(v, (str, int, float, bool)) for v in value):
            raise _NotKnown(f"{kind} {name!r}")
        return name, [_typed(str(v) if not isinstance(v, str) else v, None) for v in value], span, True
    if isinstance(value, bool):
        value = "true" if value else "false"
    elif isinstance(value, (int, float)):
        value = str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)
    if not isinstance(value, str):
        raise _NotKnown(f"{kind} {name!r}")
    return name, _typed(value, vtype), span, False


def _typed(text: str, vtype: Any) -> Any:
    """A ``set`` value as Helm's ``--set`` reads it (``type = "string"``: always text)."""
    if vtype == "string":
        return text
    if text in ("true", "false"):
        return text == "true"
    if text == "null":
        return None
    if _INT.match(text) and len(text) < 19:
        return int(text)
    return text


_SEGMENT = re.compile(r"^(?P<key>.*?)(?P<index>(?:\[\d+\])*)$")


def _split_name(name: str) -> list[str]:
    """A ``set`` name split at dots not escaped with a backslash (``a\\.b.c``: ``a.b``, ``c``)."""
    out, buf, i = [], [], 0
    while i < len(name):
        if name[i] == "\\" and i + 1 < len(name):
            buf.append(name[i + 1])
            i += 2
            continue
        if name[i] == ".":
            out.append("".join(buf))
            buf = []
        else:
            buf.append(name[i])
        i += 1
    out.append("".join(buf))
    return out


def _put(doc: YMap, name: str, value: Any, span: Span) -> None:
    node: Any = doc
    segments = _split_name(name)
    for n, segment in enumerate(segments):
        m = _SEGMENT.match(segment)
        key = m.group("key") if m else segment
        indices = [int(x) for x in re.findall(r"\[(\d+)\]", m.group("index"))] if m else []
        last = n == len(segments) - 1
        steps: list[Any] = [key, *indices]
        for s, step in enumerate(steps):
            final = last and s == len(steps) - 1
            nxt_is_index = s + 1 < len(steps)
            leaf: Any = value if final else (YSeq(span) if nxt_is_index else YMap(span))
            if isinstance(step, int):
                if not isinstance(node, YSeq) or step > 10_000:
                    return
                while len(node) <= step:
                    node.append(None)
                    node.spans.append(span)
                if final or not isinstance(node[step], (YMap, YSeq)):
                    node[step] = _leaf(leaf, span)
                    node.spans[step] = span
                node = node[step]
            else:
                if not isinstance(node, YMap):
                    return
                if final or not isinstance(node.get(step), (YMap, YSeq)):
                    node[step] = _leaf(leaf, span)
                    node.spans[step] = (span, span)
                node = node[step]


def _leaf(value: Any, span: Span) -> Any:
    if isinstance(value, list) and not isinstance(value, YSeq):
        seq = YSeq(span)
        seq.extend(value)
        seq.spans = [span] * len(value)
        return seq
    return value


_ = Loc
