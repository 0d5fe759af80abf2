"""Kustomize ``kustomization.yaml`` files, read without running kustomize: which images each build deploys.

A kustomization names its resources (files and directories of other kustomizations, ``bases`` and
``components`` alike) and may rewrite their images (``images:`` with ``newName``, ``newTag``,
``digest``). Once every scanned file is merged (``finish``), each build is followed through the
scanned files only: nothing outside them is read, a remote base (a URL, ``github.com/...``) is
never fetched. A base image that every build using it rewrites is replaced by the images the builds
deploy, found at the ``images:`` entry that rewrote them; an ``images:`` entry that matches no
image of a build known in full is marked for ECR110.

Semantics (kustomize's images transformer, api/filters/imagetag and api/image in
kubernetes-sigs/kustomize; https://kubectl.docs.kubernetes.io/references/kustomize/kustomization/images/):
an entry matches a container or init container image whose name (without tag or digest) is its
``name``; ``newName`` replaces the name; ``newTag`` and ``digest`` each replace both the tag and the
digest (both given: ``name:tag@digest``); entries apply one after another, a kustomization's
components after its resources and its own ``images`` last.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Any

from ..model import Document, Loc, Span, YMap, YSeq
from ..workspace import (
    ImageUse,
    JsonPatchFile,
    JsonPatchOp,
    KustomizeHelmChart,
    KustomizeImage,
    Kustomization,
    KustomizePatch,
    PatchObject,
    Workload,
    Workspace,
)
from . import DocumentSource, ExtractContext

API_PREFIX = "kustomize.config.k8s.io/"
KINDS = ("Kustomization", "Component")
FILE_NAMES = ("kustomization.yaml", "kustomization.yml")  # ("Kustomization" has no suffix discovery reads)
# The fields of a kustomization (kustomize api/types/kustomization.go): a document with no
# apiVersion/kind is one when all its keys are among them (and its file is named like one).
KEYS = frozenset({
    "resources", "bases", "components", "images", "namespace", "namePrefix", "nameSuffix", "commonLabels",
    "labels", "commonAnnotations", "patches", "patchesStrategicMerge", "patchesJson6902", "replicas",
    "configMapGenerator", "secretGenerator", "generatorOptions", "generators", "transformers", "validators",
    "helmCharts", "helmGlobals", "helmChartInflationGenerator", "crds", "configurations", "vars",
    "replacements", "openapi", "buildMetadata", "sortOptions", "apiVersion", "kind", "metadata",
})
# Fields that may add or change container images in ways not followed here: a build that has any
# of them is not known in full (no ECR110; its rewritten base images still count as deployed).
OPAQUE = ("helmChartInflationGenerator", "generators", "transformers",
          "replacements", "vars", "configurations", "crds")
_REMOTE = re.compile(r"^(?:[a-z][a-z0-9+.-]*://|git@|github\.com/|gitlab\.com/|bitbucket\.org/)|\?ref=|//", re.I)
PARTS = ("registry", "repository", "tag", "digest")
# Kinds whose pod template kustomize's label transformers reach (its built-in commonLabels field specs).
TEMPLATE_KINDS = ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "ReplicationController", "Job", "CronJob")
MAX_DEPTH = 64
MAX_IMAGES = 10_000  # images of one build
MAX_WORK = 20_000  # kustomizations collected in one run (each at most once, but for cycles)  # nesting of kustomizations followed (kustomize itself rejects cycles)


class KustomizationSource(DocumentSource):
    """A ``kustomization.yaml`` (apiVersion kustomize.config.k8s.io, or none at all)."""

    name = "kustomization"
    priority = 70

    def detect(self, root: Any) -> bool:
        if not isinstance(root, dict):
            return False
        api, kind = root.get("apiVersion"), root.get("kind")
        if isinstance(api, str) and api.startswith(API_PREFIX):
            return kind in KINDS
        if api is not None or kind is not None or not root:
            return False
        return all(isinstance(k, str) and k in KEYS for k in root) and any(
            k in root for k in ("resources", "bases", "components", "images", "helmCharts")
        )

    def extract(self, doc: Document, ws: Workspace, ctx: ExtractContext) -> None:
        root = doc.root
        if not isinstance(root, YMap):
            return
        if posixpath.basename(doc.path.replace("\\", "/")) not in FILE_NAMES:
            # kustomize builds a directory from its kustomization.yaml: a file of another name is
            # never built (and a bare mapping of these keys elsewhere is not a kustomization)
            return
        kustomization = Kustomization(
            path=doc.path,
            loc=Loc(doc.path, root.key_span(next(iter(root)))),
            component=root.get("kind") == "Component",
            opaque=[key for key in OPAQUE if root.get(key)],
        )
        for key in ("resources", "bases", "components"):
            items = root.get(key)
            if isinstance(items, YSeq):
                for i, item in enumerate(items):
                    if isinstance(item, str) and item:
                        entry = (item, Loc(doc.path, items.item_span(i)))
                        if _REMOTE.search(item):
                            kustomization.remote.append(entry)
                        (kustomization.components if key == "components" else kustomization.resources).append(entry)
        namespace = root.get("namespace")
        kustomization.namespace = namespace if isinstance(namespace, str) and namespace else None
        for key, attr in (("namePrefix", "name_prefix"), ("nameSuffix", "name_suffix")):
            if isinstance(root.get(key), str):
                setattr(kustomization, attr, root[key])
        _labels(root, kustomization)
        _patches(root, doc.path, kustomization)
        _helm_charts(root, doc.path, kustomization)
        images = root.get("images")
        if isinstance(images, YSeq):
            for i, item in enumerate(images):
                if not isinstance(item, YMap) or not isinstance(item.get("name"), str) or not item["name"]:
                    continue
                image = KustomizeImage(
                    name=item["name"],
                    loc=Loc(doc.path, item.value_span("name")),
                    index=i,
                )
                for key, attr in (("newName", "new_name"), ("newTag", "new_tag"), ("digest", "digest")):
                    value = item.get(key)
                    if isinstance(value, (str, int, float)) and not isinstance(value, bool) and str(value):
                        setattr(image, attr, str(value))
                        image.part_locs[attr] = Loc(doc.path, item.value_span(key))
                kustomization.images.append(image)
        ws.kustomizations.append(kustomization)

    def finish(self, ws: Workspace) -> None:
        if ws.kustomizations:
            from .releases import MAX_RENDERS, render_scanned_chart

            charts = [(k, chart) for k in ws.kustomizations for chart in k.helm_charts]
            for n, (k, chart) in enumerate(charts):
                if n < MAX_RENDERS:
                    _inflate(ws, k, chart, render_scanned_chart)
                else:
                    chart.problem = f"more than {MAX_RENDERS} helmCharts in one run: {chart.name!r} is not rendered"
            apply_builds(ws)


def _labels(root: YMap, kustomization: Kustomization) -> None:
    """``commonLabels`` (selectors and templates too) and ``labels`` (templates only with
    ``includeTemplates: true``), as strings."""
    common = root.get("commonLabels")
    if isinstance(common, dict):
        kustomization.template_labels.update({str(k): str(v) for k, v in common.items()})
    items = root.get("labels")
    if isinstance(items, list):
        for item in items:
            pairs = item.get("pairs") if isinstance(item, dict) else None
            if isinstance(pairs, dict):
                target = kustomization.template_labels if item.get("includeTemplates") is True else kustomization.object_labels
                target.update({str(k): str(v) for k, v in pairs.items()})


def _patches(root: YMap, path: str, kustomization: Kustomization) -> None:
    """``patches`` (a file or inline text, strategic merge or JSON 6902, with an optional ``target``),
    ``patchesStrategicMerge`` (files or inline text) and ``patchesJson6902`` (``target`` with a file
    or inline operations). What cannot be followed (a remote file, a label or annotation selector,
    text that does not parse) leaves the build not known in full."""
    for key in ("patchesStrategicMerge", "patches", "patchesJson6902"):
        items = root.get(key)
        if not isinstance(items, YSeq):
            if items is not None and key not in kustomization.opaque:
                kustomization.opaque.append(key)
            continue
        for i, item in enumerate(items):
            patch = KustomizePatch(
                loc=Loc(path, items.item_span(i)),
                json={"patchesJson6902": True, "patchesStrategicMerge": False}.get(key),
            )
            text: Any = None
            text_span = items.item_span(i)
            file: Any = None
            if isinstance(item, str) and key == "patchesStrategicMerge":
                # kustomize reads an entry as a file name unless it is a patch itself
                if "\n" in item or item.lstrip().startswith(("{", "apiVersion:", "kind:")):
                    text = item
                else:
                    file = item
            elif isinstance(item, YMap):
                target = item.get("target")
                if target is not None:
                    if not isinstance(target, YMap) or any(k in target for k in ("labelSelector", "annotationSelector")):
                        _opaque(kustomization, key)  # selecting by labels is not followed
                        continue
                    patch.target = {
                        str(k): v for k, v in target.items()
                        if k in ("kind", "name", "namespace", "group", "version") and isinstance(v, str) and v
                    }
                text, file = item.get("patch"), item.get("path")
                text_span = item.value_span("patch")
            if isinstance(file, str) and file and "\n" not in file and not _REMOTE.search(file):
                patch.file = file
            elif isinstance(text, str) and text.strip() and _inline(text, text_span, path, patch):
                pass
            else:
                _opaque(kustomization, key)
                continue
            if patch.json and not patch.target:
                _opaque(kustomization, key)  # a JSON 6902 patch applies to its target only
                continue
            kustomization.patches.append(patch)


def _helm_charts(root: YMap, path: str, kustomization: Kustomization) -> None:
    """``helmCharts`` entries (kustomize's HelmChartInflationGenerator: a chart under
    ``helmGlobals.chartHome``, default ``charts``, named ``name``). A chart with a ``repo`` is
    kustomize's to download: never fetched here, and its build is not known in full."""
    items = root.get("helmCharts")
    if not isinstance(items, YSeq):
        return
    globals_ = root.get("helmGlobals")
    home = globals_.get("chartHome") if isinstance(globals_, dict) else None
    for item in items:
        name = item.get("name") if isinstance(item, YMap) else None
        if not isinstance(name, str) or not name or "/" in name or name in (".", ".."):
            continue
        repo = item.get("repo")
        values_file = item.get("valuesFile")
        kustomization.helm_charts.append(KustomizeHelmChart(
            name=name,
            loc=Loc(path, item.value_span("name")),
            home=home if isinstance(home, str) and home and not _REMOTE.search(home) else "charts",
            repo=repo if isinstance(repo, str) and repo else None,
            values_inline=item.get("valuesInline") if isinstance(item.get("valuesInline"), YMap) else None,
            values_file=values_file if isinstance(values_file, str) and values_file else None,
        ))


def _opaque(kustomization: Kustomization, key: str) -> None:
    if key not in kustomization.opaque:
        kustomization.opaque.append(key)


def _inline(text: str, span: Span, path: str, patch: KustomizePatch) -> bool:
    """Parse a patch written inline; its positions map into the kustomization through the block
    scalar's indentation (a literal ``|`` block); any other form (quoted, folded, flow) puts every
    position on the ``patch`` value itself."""
    from ..parsing import parse_text, relocate
    from . import kubernetes

    docs, problems = parse_text(path, text)
    if problems or not docs:
        return False
    for root, _span in docs:
        relocate(root, span)
        if isinstance(root, YSeq):
            if patch.json is False:
                return False
            ops = json_ops(root, path)
            if ops is None:
                return False
            patch.ops.extend(ops)
            patch.json = True
        elif isinstance(root, YMap):
            if patch.json is True:
                return False
            patch.json = False
            scratch = Workspace()
            kubernetes.extract(Document(path, 0, root), scratch)
            meta = root.get("metadata")
            name = meta.get("name") if isinstance(meta, dict) else None
            kind = root.get("kind")
            labels = dict(scratch.workloads[0].pod_labels) if scratch.workloads else {}
            patch.objects.append(PatchObject(
                kind=kind if isinstance(kind, str) else "",
                name=name if isinstance(name, str) else "",
                uses=[u for u in scratch.images if u.workload is not None],
                labels=labels,
                directive=bool(scratch.patch_directive_paths),
            ))
        elif root is not None:
            return False
    return True


OPS = ("add", "remove", "replace", "move", "copy", "test")


def json_ops(items: Any, path: str) -> list[JsonPatchOp] | None:
    """The operations of a JSON 6902 patch, or None when it is not one."""
    if not isinstance(items, YSeq) or not items:
        return None
    out: list[JsonPatchOp] = []
    for i, item in enumerate(items):
        if not isinstance(item, YMap) or item.get("op") not in OPS or not isinstance(item.get("path"), str):
            return None
        source = item.get("from")
        out.append(JsonPatchOp(
            op=item["op"],
            path=item["path"],
            value=item.get("value"),
            loc=Loc(path, item.value_span("value") if "value" in item else items.item_span(i)),
            from_path=source if isinstance(source, str) else None,
        ))
    return out


class JsonPatchSource(DocumentSource):
    """A file of JSON 6902 operations (``[{op: replace, path: ..., value: ...}]``) that a
    kustomization's ``patchesJson6902`` or ``patches`` may name."""

    name = "json-patch"
    priority = 72

    def detect(self, root: Any) -> bool:
        return (
            isinstance(root, list) and bool(root)
            and all(isinstance(item, dict) and item.get("op") in OPS and isinstance(item.get("path"), str) for item in root)
        )

    def extract(self, doc: Document, ws: Workspace, ctx: ExtractContext) -> None:
        ops = json_ops(doc.root, doc.path)
        if ops is not None:
            ws.json_patches.append(JsonPatchFile(doc.path, ops))


def _inflate(ws: Workspace, k: Kustomization, chart: KustomizeHelmChart, render: Any) -> None:
    """Render a ``helmCharts`` entry whose chart is among the scanned ones, with its values."""
    if chart.repo is not None and not chart.repo.startswith(("file://", "/", ".")):
        chart.problem = f"helm chart {chart.name!r} from {chart.repo} is not fetched (ecrlint reads only the scanned files)"
        return
    here = posixpath.dirname(_norm(k.path))
    directory = _join(here, posixpath.join(chart.home, chart.name))
    values_files = [_join(here, chart.values_file)] if chart.values_file else []
    values_docs = [(k.path, chart.values_inline)] if chart.values_inline is not None else []
    uses, problem = render(ws, directory, values_files, values_docs)
    for use in uses or ():
        use.origin = f"as {k.path} inflates chart {chart.name}" + (f", {use.origin}" if use.origin else "")
    chart.rendered, chart.problem = uses, problem


# --- following builds ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Built:
    """One image of a build: the scanned use it comes from, its value now, and what rewrote it."""

    use: ImageUse
    value: str
    rewrites: tuple[tuple[KustomizeImage, Kustomization], ...] = ()
    namespace: str | None = None  # set by a kustomization's ``namespace:`` (the outermost wins)
    labels: tuple[tuple[str, str], ...] = ()  # pod labels added by ``commonLabels`` / ``labels``
    # The workload and container the image belongs to in the build: the base's, also once a patch
    # wrote the image (``use`` is then the patch's image); None: ``use``'s own.
    owner: Workload | None = None
    field: str | None = None  # JSON pointer of the image field in the owner
    container: str | None = None
    name: str | None = None  # the owner's name after namePrefix/nameSuffix
    patched_by: str | None = None  # the kustomization whose patch wrote the image

    def __post_init__(self) -> None:
        if self.owner is None:
            object.__setattr__(self, "owner", self.use.workload)
        if self.field is None:
            object.__setattr__(self, "field", self.use.field)
            object.__setattr__(self, "container", self.use.container)


@dataclass
class Build:
    images: list[Built] = field(default_factory=list)
    complete: bool = True  # every resource was followed (no remote base, nothing unscanned, nothing opaque)
    cacheable: bool = True  # False when cut short by a cycle: the same kustomization from elsewhere may differ
    dropped: set[int] = field(default_factory=set)  # id() of scanned uses a patch replaced or removed


def split_image(value: str) -> tuple[str, str, str]:
    """(name, tag, digest) exactly as kustomize's image.Split: ``:`` and ``@`` are looked for from
    the first ``/`` on (a registry port is not a tag)."""
    slash = value.find("/")
    offset = slash if slash > 0 else 0
    search = value[offset:]
    at, colon = search.find("@"), search.find(":")
    if colon < 0 and at < 0:
        return value, "", ""
    if at >= 0 and (at < colon or colon < 0):
        return value[:at + offset], "", value[at + offset + 1:]
    if at >= 0:
        return value[:colon + offset], value[colon + offset + 1:at + offset], value[at + offset + 1:]
    return value[:colon + offset], value[colon + offset + 1:], ""


def matches(value: str, name: str) -> bool:
    """kustomize's IsImageMatched: the image is ``name``, then an optional ``@sha256`` and ``:tag``.
    kustomize puts ``name`` into a (linear-time, RE2) regular expression unescaped; here only its
    ``.`` stays a wildcard and every other character is literal, so a crafted name cannot make the
    match take exponential time."""
    pattern = re.escape(name).replace(r"\.", ".")
    return _compiled(pattern).fullmatch(value) is not None


@lru_cache(maxsize=256)
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern + r"(@sha256)?(:[a-zA-Z0-9_.{}-]*)?")


def rewrite(value: str, image: KustomizeImage) -> str:
    name, tag, digest = split_image(value)
    if image.new_name:
        name = image.new_name
    if image.new_tag and image.digest:
        tag, digest = image.new_tag, image.digest
    elif image.new_tag:
        tag, digest = image.new_tag, ""
    elif image.digest:
        tag, digest = "", image.digest
    return name + (f":{tag}" if tag else "") + (f"@{digest}" if digest else "")


def _rewritable(built: Built) -> bool:
    """kustomize's images transformer changes ``containers`` and ``initContainers`` images (of the
    resources and of the charts ``helmCharts`` inflates)."""
    parts = (built.field or "").split("/")
    return len(parts) >= 3 and parts[-3] in ("containers", "initContainers")


class _Builder:
    def __init__(self, ws: Workspace) -> None:
        self.by_dir = {posixpath.dirname(_norm(k.path)): k for k in ws.kustomizations}
        self.uses: dict[str, list[ImageUse]] = {}
        for use in ws.images:
            if use.workload is not None and use.source == "kubernetes":
                self.uses.setdefault(_norm(use.workload.path), []).append(use)
        self.manifests = {_norm(p) for p in ws.manifest_paths}
        self.json_files = {_norm(f.path): f.ops for f in ws.json_patches}
        self.patch_workloads: dict[str, list[Workload]] = {}
        for workload in ws.workloads:
            if workload.chart is None:
                self.patch_workloads.setdefault(_norm(workload.path), []).append(workload)
        self.directives = {_norm(p) for p in ws.patch_directive_paths}
        self.cache: dict[int, Build] = {}
        self.collected: dict[int, Build] = {}
        self.work = 0

    def build(self, k: Kustomization, stack: tuple[int, ...] = ()) -> Build:
        """What ``kustomize build`` of k makes: its collected images with its own ``images:`` applied."""
        if id(k) in self.cache:
            return self.cache[id(k)]
        collected = self.collect(k, stack)
        out = Build(complete=collected.complete, cacheable=collected.cacheable, dropped=set(collected.dropped))
        out.images = self.apply(collected.images, k, out)
        if collected.cacheable:
            self.cache[id(k)] = out
        return out

    def collect(self, k: Kustomization, stack: tuple[int, ...] = ()) -> Build:
        """k's resources, patch files and components (each component's ``images:`` applied to all
        that came before it, as kustomize runs a component's transformers on the accumulated
        resources), before k's own ``images:``."""
        if id(k) in self.collected:
            return self.collected[id(k)]
        self.work += 1
        if id(k) in stack or len(stack) > MAX_DEPTH or self.work > MAX_WORK:
            # a cycle (kustomize rejects it), too deep, or a crafted web that would take too long
            return Build(complete=False, cacheable=False)
        out = Build(complete=not k.opaque)
        here = posixpath.dirname(_norm(k.path))
        inner = (*stack, id(k))
        for target, loc in k.resources:
            if not self._add(out, here, target, inner) and (target, loc) not in k.unread:
                k.unread.append((target, loc))
        for chart in k.helm_charts:  # kustomize adds generated resources after the listed ones
            if chart.rendered is None:
                out.complete = False
            else:
                out.images.extend(Built(u, u.value) for u in chart.rendered)
        for target, _loc in k.components:
            component = self.by_dir.get(_join(here, target)) if not _REMOTE.search(target) else None
            if component is None:
                out.complete = False
                continue
            sub = self.collect(component, inner)
            out.complete = out.complete and sub.complete
            out.cacheable = out.cacheable and sub.cacheable
            out.dropped |= sub.dropped
            out.images = self.apply([*out.images, *sub.images], component, out)
        out.images = _unique(out.images, out)
        if out.cacheable:
            self.collected[id(k)] = out
        return out

    def _add(self, out: Build, here: str, target: str, stack: tuple[int, ...]) -> bool:
        """Add a resource's images; False when it is a local path not among the scanned files."""
        if _REMOTE.search(target):
            out.complete = False
            return True  # noted as a remote base
        path = _join(here, target)
        sub = self.by_dir.get(path)
        if sub is not None:
            built = self.build(sub, stack)
            out.images.extend(built.images)
            out.complete = out.complete and built.complete
            out.cacheable = out.cacheable and built.cacheable
            out.dropped |= built.dropped
        elif path in self.manifests:
            out.images.extend(Built(u, u.value) for u in self.uses.get(path, ()))
            if path in self.directives:
                out.complete = False  # a "$patch: delete" removes what it names: not followed
        else:
            out.complete = False  # not among the scanned files (or not a manifest): never read
            return False
        return True


    # --- one kustomization's transformers, in kustomize's order: patches, namespace, name
    # prefix/suffix, labels, images (api/internal/target/kusttarget_configplugin.go)

    def apply(self, images: list[Built], k: Kustomization, build: Build) -> list[Built]:
        out = self.patch(images, k, build)
        if k.namespace:  # kustomize's namespace transformer runs in the same kustomization, on all of it
            out = [replace(b, namespace=k.namespace) for b in out]
        if k.name_prefix or k.name_suffix:
            out = [replace(b, name=k.name_prefix + _name(b) + k.name_suffix) for b in out]
        if k.template_labels or k.object_labels:
            out = [replace(b, labels=_added_labels(b, k)) for b in out]
        for image in k.images:
            changed: list[Built] = []
            for built in out:
                if _rewritable(built) and matches(built.value, image.name):
                    image.matched = True
                    built = replace(built, value=rewrite(built.value, image), rewrites=built.rewrites + ((image, k),))
                changed.append(built)
            out = changed
        return out

    def patch(self, images: list[Built], k: Kustomization, build: Build) -> list[Built]:
        """k's patches over the images collected so far: a strategic-merge patch's container of the
        same name (in the same list) takes its image, one of a new name is added; a JSON 6902
        operation on a container's ``image``, a container or a container list does what it says."""
        here = posixpath.dirname(_norm(k.path))
        for patch in k.patches:
            objects, ops = patch.objects, patch.ops
            if patch.file is not None:
                path = _join(here, patch.file)
                if path in self.json_files and patch.json is not False:
                    ops = self.json_files[path]
                elif path in self.manifests and patch.json is not True:
                    objects = self._file_objects(path)
                    if path in self.directives:
                        build.complete = False  # "$patch: delete/replace": not followed
                else:
                    build.complete = False  # not among the scanned files: never read
                    if (patch.file, patch.loc) not in k.unread:
                        k.unread.append((patch.file, patch.loc))
                    continue
            if ops:
                if patch.target:
                    images = _json_patch(images, ops, patch.target, k, build)
                else:
                    build.complete = False
                continue
            for obj in objects:
                if obj.directive:
                    build.complete = False
                    continue
                selector = patch.target or {"kind": obj.kind, "name": obj.name}
                images = _merge_patch(images, obj, selector, patch.target is None, k, build)
        return images

    def _file_objects(self, path: str) -> list[PatchObject]:
        out = []
        for workload in self.patch_workloads.get(path, ()):
            uses = [u for u in self.uses.get(path, ()) if u.workload is workload]
            out.append(PatchObject(workload.kind, workload.name, uses, dict(workload.pod_labels)))
        return out


def _name(built: Built) -> str:
    if built.name is not None:
        return built.name
    return built.owner.name if built.owner is not None else ""


_META = re.compile(r"[\\^$.|?*+()\[\]{}]")


def _selected(built: Built, selector: dict[str, str], build: Build) -> bool:
    """kustomize's patch target: kind, then the name as written or as prefixed; a regular
    expression for a name is not evaluated (the build is then not known in full)."""
    owner = built.owner
    if owner is None:
        return False
    kind = selector.get("kind")
    if kind and owner.kind != kind:
        return False
    namespace = selector.get("namespace")
    if namespace and (built.namespace or owner.namespace) != namespace:
        return False
    name = selector.get("name")
    if not name or name in (owner.name, _name(built)):
        return True
    if _META.search(name):
        build.complete = False
    return False


def _list_of(field: str | None) -> str:
    """``/spec/template/spec/containers/0/image`` -> ``/spec/template/spec/containers``."""
    return (field or "").rsplit("/", 2)[0]


def _merge_patch(images: list[Built], obj: PatchObject, selector: dict[str, str], by_id: bool,
                 k: Kustomization, build: Build) -> list[Built]:
    targets = [b for b in images if _selected(b, selector, build)]
    if not targets:
        # the target has no image of its own in the build (or is not in it: kustomize then fails):
        # the patch's containers are what it deploys
        return [*images, *(Built(use, use.value, patched_by=k.path) for use in obj.uses)] if by_id else images
    owners: dict[int, Built] = {}
    for built in targets:
        owners.setdefault(id(built.owner), built)
    out = list(images)
    for sample in owners.values():
        for use in obj.uses:
            slot = _list_of(use.field)
            hit = False
            for i, built in enumerate(out):
                if built.owner is sample.owner and _list_of(built.field) == slot and built.container == use.container:
                    build.dropped.add(id(built.use))
                    out[i] = replace(built, use=use, value=use.value, rewrites=(), patched_by=k.path)
                    hit = True
            if not hit:
                out.append(replace(sample, use=use, value=use.value, rewrites=(), field=use.field,
                                   container=use.container, patched_by=k.path))
        if obj.labels:
            out = [replace(b, labels=tuple(sorted({**dict(b.labels), **obj.labels}.items())))
                   if b.owner is sample.owner else b for b in out]
    return out


_CONTAINER_PATH = re.compile(r"^(.*/(?:containers|initContainers))(?:/(\d+|-)(?:/(.*))?)?$")
_TEMPLATE_LABEL = re.compile(r"^/spec/template/metadata/labels/([^/]+)$")


def _json_patch(images: list[Built], ops: list[JsonPatchOp], selector: dict[str, str], k: Kustomization,
                build: Build) -> list[Built]:
    """JSON 6902 operations on each target's images, in order (RFC 6902). An operation that inserts
    a container before others does not renumber them (later operations on their indexes are then
    matched against the numbers as written)."""
    out = list(images)
    owners: dict[int, Built] = {}
    for built in out:
        if _selected(built, selector, build):
            owners.setdefault(id(built.owner), built)
    for sample in owners.values():
        for op in ops:
            moved = _metadata_op(out, sample, op)
            if moved is not None:
                out = moved
                continue
            match = _CONTAINER_PATH.match(op.path)
            touches = match is not None or any(
                f.startswith(op.path.rstrip("/") + "/") for f in (b.field or "" for b in out if b.owner is sample.owner)
            )
            if op.op == "test" or not touches:
                continue
            if match is None or op.op in ("move", "copy"):
                build.complete = False  # a pod spec replaced wholesale, or containers moved about
                continue
            slot, index, rest = match.groups()
            if rest is not None and rest != "image":
                continue  # another field of a container
            if index is None:
                field_prefix = slot + "/"
            elif rest is None:
                field_prefix = f"{slot}/{index}/"
            else:
                field_prefix = f"{slot}/{index}/image"
            written = next((b.container for b in out if b.owner is sample.owner and b.field == field_prefix), None)
            if op.op in ("remove", "replace") or (op.op == "add" and (rest == "image" or index is None)):
                out = _drop(out, sample, field_prefix, build)
            if op.op in ("add", "replace"):
                new = _op_images(op, slot, index, rest)
                if new is None:
                    build.complete = False
                    continue
                for field_path, container, value, loc in new:
                    container = container or written  # an image replaced in place keeps its container's name
                    use = ImageUse(
                        value=value, loc=loc, source="kubernetes", field=field_path, container=container,
                        workload=sample.owner, logical=sample.owner.logical if sample.owner else None,
                    )
                    out.append(replace(sample, use=use, value=value, rewrites=(), field=field_path,
                                       container=container, patched_by=k.path))
    return out


def _metadata_op(images: list[Built], sample: Built, op: JsonPatchOp) -> list[Built] | None:
    """An operation that sets the namespace or a pod-template label of sample's owner (else None)."""
    if op.op not in ("add", "replace"):
        return None
    label = _TEMPLATE_LABEL.match(op.path)
    if label and isinstance(op.value, (str, int, float, bool)):
        return _with_label(images, sample, label.group(1).replace("~1", "/").replace("~0", "~"), op.value)
    if op.path == "/metadata/namespace" and isinstance(op.value, str):
        return [replace(b, namespace=op.value) if b.owner is sample.owner else b for b in images]
    return None


def _with_label(images: list[Built], sample: Built, key: str, value: Any) -> list[Built]:
    text = ("true" if value else "false") if isinstance(value, bool) else str(value)
    return [replace(b, labels=tuple(sorted({**dict(b.labels), key: text}.items()))) if b.owner is sample.owner else b
            for b in images]


def _drop(images: list[Built], sample: Built, field_prefix: str, build: Build) -> list[Built]:
    """The images of sample's owner under field_prefix go (an operation replaces or removes them)."""
    kept = []
    for built in images:
        if built.owner is sample.owner and (built.field or "").startswith(field_prefix):
            build.dropped.add(id(built.use))
        else:
            kept.append(built)
    return kept


def _op_images(op: JsonPatchOp, slot: str, index: str | None, rest: str | None) -> list[tuple[str, str | None, str, Loc]] | None:
    """(field, container, image, where) of what an add/replace operation writes; None when its
    value is not what the path takes."""
    def container(item: Any, position: str) -> list[tuple[str, str | None, str, Loc]] | None:
        if not isinstance(item, YMap):
            return None
        image = item.get("image")
        if image is None:
            return []
        if not isinstance(image, str):
            return None
        name = item.get("name")
        return [(f"{slot}/{position}/image", name if isinstance(name, str) else None, image,
                 Loc(op.loc.path, item.value_span("image")))]

    if rest == "image":
        if not isinstance(op.value, str):
            return None
        return [(f"{slot}/{index}/image", None, op.value, op.loc)]
    if index is not None:
        return container(op.value, index)
    if not isinstance(op.value, YSeq):
        return None
    out: list[tuple[str, str | None, str, Loc]] = []
    for i, item in enumerate(op.value):
        got = container(item, str(i))
        if got is None:
            return None
        out.extend(got)
    return out


def _unique(images: list[Built], build: Build) -> list[Built]:
    """A resource reached twice (kustomize rejects that) counts once; a crafted web of kustomizations
    that would multiply images without end is cut at MAX_IMAGES and not judged."""
    seen: set[tuple[int, str]] = set()
    out: list[Built] = []
    for built in images:
        key = (id(built.use), built.value)
        if key not in seen:
            seen.add(key)
            out.append(built)
    if len(out) > MAX_IMAGES:
        build.complete = False
        return out[:MAX_IMAGES]
    return out


def _added_labels(built: Built, k: Kustomization) -> tuple[tuple[str, str], ...]:
    """Pod labels k adds to the workload of ``built``: ``commonLabels`` and ``labels`` with
    ``includeTemplates`` reach the pod template of the built-in workload kinds (not a custom
    resource's); a Pod's own labels are its pod labels, so every label reaches it."""
    workload = built.owner
    kind = workload.kind if workload is not None else ""
    if kind == "Pod":
        added = {**k.object_labels, **k.template_labels}
    elif kind in TEMPLATE_KINDS:
        added = dict(k.template_labels)
    else:
        return built.labels
    return tuple(sorted({**dict(built.labels), **added}.items()))


def _norm(path: str) -> str:
    return posixpath.normpath(path.replace("\\", "/"))


def _join(here: str, target: str) -> str:
    return posixpath.normpath(posixpath.join(here, target.replace("\\", "/")))


def apply_builds(ws: Workspace) -> None:
    """Follow every kustomization's build; replace base images every using build rewrites by what the
    builds deploy; mark ``images:`` entries that match nothing in a build known in full."""
    builder = _Builder(ws)
    builds = {id(k): builder.build(k) for k in ws.kustomizations if not k.component}
    referenced = _referenced(ws, builder)
    users: dict[int, list[Build]] = {}  # a component's entries apply to the builds that include it
    for k in ws.kustomizations:
        here = posixpath.dirname(_norm(k.path))
        for target, _loc in k.components:
            component = builder.by_dir.get(_join(here, target))
            if component is not None and id(k) in builds:
                users.setdefault(id(component), []).append(builds[id(k)])
    for k in ws.kustomizations:
        judged = users.get(id(k), []) if k.component else [builds[id(k)]]
        complete = bool(judged) and all(b.complete for b in judged)
        for image in k.images:
            if not image.matched:
                image.matched = False if complete else None  # None: not judged
    # What each deployed build (a kustomization no other one uses) makes of each scanned use.
    deployed: dict[int, list[Built]] = {}
    dropped: set[int] = set()
    scanned = {id(u) for u in ws.images}
    patch_uses: dict[int, ImageUse] = {}  # images written by inline patches and JSON 6902 operations
    for k in ws.kustomizations:
        if id(k) in builds and id(k) not in referenced:
            dropped |= builds[id(k)].dropped
            for built in builds[id(k)].images:
                deployed.setdefault(id(built.use), []).append(built)
                if id(built.use) not in scanned:
                    patch_uses.setdefault(id(built.use), built.use)
    _namespaces(ws, deployed)
    _replace_images(ws, deployed, dropped, scanned, patch_uses)


def _replace_images(ws: Workspace, deployed: dict[int, list[Built]], dropped: set[int], scanned: set[int],
                    patch_uses: dict[int, ImageUse]) -> None:
    # A base image every deployed build patched away is not deployed (a build that keeps it keeps it).
    replaced: set[int] = {i for i in dropped if i in scanned and i not in deployed}
    added: list[ImageUse] = []
    # One deployed image per value and place: two containers (or overlays) given the same image by
    # the same entries are one thing to fix, at one line.
    seen: set[tuple[str, tuple[Loc, ...]]] = {
        (u.value, (u.loc, *(u.loc_for(p) for p in PARTS))) for u in ws.images if u.source == "helm"
    }  # a chart rendered with the same values line as its own render: one finding
    for use in [*ws.images, *patch_uses.values()]:
        results = deployed.get(id(use), [])
        rewritten = [b for b in results if b.rewrites]
        if results and len(rewritten) == len(results):
            replaced.add(id(use))
        elif id(use) not in scanned:
            for built in results:
                if not built.rewrites:
                    derived = _patched_use(use, built) if built.patched_by else use
                    key = (derived.value, (derived.loc, *(derived.loc_for(p) for p in PARTS)))
                    if key not in seen:
                        seen.add(key)
                        added.append(derived)
        for built in rewritten:
            derived = _deployed_use(use, built)
            key = (derived.value, (derived.loc, *(derived.part_locs[p] for p in PARTS)))
            if key not in seen:
                seen.add(key)
                added.append(derived)
    if replaced or added:
        ws.images[:] = [u for u in ws.images if id(u) not in replaced] + added


def _namespaces(ws: Workspace, deployed: dict[int, list[Built]]) -> None:
    """A workload every deployed build puts in one namespace (``namespace:``) runs there, with the pod
    labels they all add: Fargate profiles select it (or not) by those. Builds that disagree leave
    it as written."""
    by_workload: dict[int, set[str | None]] = {}
    labels: dict[int, set[tuple[tuple[str, str], ...]]] = {}
    workloads = {}
    for builts in deployed.values():
        for built in builts:
            if built.owner is not None and built.owner.chart is None:
                by_workload.setdefault(id(built.owner), set()).add(built.namespace)
                labels.setdefault(id(built.owner), set()).add(built.labels)
                workloads[id(built.owner)] = built.owner
    for key, namespaces in by_workload.items():
        workload = workloads[key]
        (namespace,) = namespaces if len(namespaces) == 1 else (None,)
        if namespace:
            workload.namespace = namespace
            workload.namespace_explicit = True
        (added,) = labels[key] if len(labels[key]) == 1 else ((),)
        workload.pod_labels.update(dict(added))


def _referenced(ws: Workspace, builder: _Builder) -> set[int]:
    """The kustomizations another one builds on (bases and components): not deployed on their own."""
    out: set[int] = set()
    for k in ws.kustomizations:
        here = posixpath.dirname(_norm(k.path))
        for target, _loc in (*k.resources, *k.components):
            sub = builder.by_dir.get(_join(here, target))
            if sub is not None and sub is not k:
                out.add(id(sub))
    return out


def _deployed_use(use: ImageUse, built: Built) -> ImageUse:
    """The image a build deploys, placed at the ``images:`` entry that last rewrote each part."""
    last, k = built.rewrites[-1]
    parts: dict[str, Loc] = {}
    for image, _k in built.rewrites:
        if image.new_name:
            parts["registry"] = parts["repository"] = image.part_locs["new_name"]
        if image.new_tag:
            parts["tag"] = image.part_locs["new_tag"]
            parts.pop("digest", None)
        if image.digest:
            parts["digest"] = image.part_locs["digest"]
            if not image.new_tag:
                parts["tag"] = image.part_locs["digest"]
    _name, tag, digest = split_image(use.value)
    written = {"registry": True, "repository": True, "tag": bool(tag), "digest": bool(digest)}
    for part in PARTS:
        # a part no entry rewrote: the base's line when the base writes it, else the entry (where
        # the missing tag or digest would be added)
        parts.setdefault(part, use.loc_for(part) if written[part] else last.loc)
    where = f"{use.loc.path}:{use.loc.line}"
    return ImageUse(
        value=built.value,
        loc=last.loc,
        source="kubernetes",
        field=built.field or use.field,
        container=built.container,
        workload=built.owner,
        logical=built.owner.logical if built.owner is not None else use.logical,
        origin=f"as {k.path} builds {where}" + (f", container {built.container}" if built.container else ""),
        pull_policy=use.pull_policy,
        part_locs=parts,
    )


def _patched_use(use: ImageUse, built: Built) -> ImageUse:
    """An image a patch written in a kustomization (inline, or a JSON 6902 operation) deploys, at
    the patch's line, as the workload it patches."""
    owner = built.owner
    target = f"{owner.kind}/{owner.name}" if owner is not None else "its target"
    return ImageUse(
        value=built.value,
        loc=use.loc,
        source="kubernetes",
        field=built.field or use.field,
        container=built.container,
        workload=owner,
        logical=owner.logical if owner is not None else use.logical,
        origin=f"as {built.patched_by or use.loc.path} patches {target}"
        + (f", container {built.container}" if built.container else ""),
        pull_policy=use.pull_policy,
    )
