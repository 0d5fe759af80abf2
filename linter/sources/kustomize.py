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

from ..model import Document, Loc, YMap, YSeq
from ..workspace import ImageUse, KustomizeImage, Kustomization, Workspace
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
OPAQUE = ("patchesJson6902", "helmCharts", "helmChartInflationGenerator", "generators", "transformers",
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
            k in root for k in ("resources", "bases", "components", "images")
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
        _labels(root, kustomization)
        _patches(root, doc.path, kustomization)
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
    """Strategic-merge patches from files are followed like resources (their containers' images are
    rewritten like the others: kustomize runs the images transformer after patches); an inline
    patch, a JSON 6902 patch or a patch file outside the scanned ones leaves the build not known in full."""
    for key in ("patchesStrategicMerge", "patches"):
        items = root.get(key)
        if not isinstance(items, YSeq):
            continue
        for i, item in enumerate(items):
            target = item.get("path") if isinstance(item, dict) else item
            if isinstance(target, str) and target and "\n" not in target and not _REMOTE.search(target):
                kustomization.patch_files.append((target, Loc(path, items.item_span(i))))
            elif key not in kustomization.opaque:
                kustomization.opaque.append(key)


# --- following builds ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Built:
    """One image of a build: the scanned use it comes from, its value now, and what rewrote it."""

    use: ImageUse
    value: str
    rewrites: tuple[tuple[KustomizeImage, Kustomization], ...] = ()
    namespace: str | None = None  # set by a kustomization's ``namespace:`` (the outermost wins)
    labels: tuple[tuple[str, str], ...] = ()  # pod labels added by ``commonLabels`` / ``labels``


@dataclass
class Build:
    images: list[Built] = field(default_factory=list)
    complete: bool = True  # every resource was followed (no remote base, nothing unscanned, no patches)
    cacheable: bool = True  # False when cut short by a cycle: the same kustomization from elsewhere may differ


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


def _rewritable(use: ImageUse) -> bool:
    """kustomize's images transformer changes ``containers`` and ``initContainers`` images."""
    parts = use.field.split("/")
    return use.source == "kubernetes" and len(parts) >= 3 and parts[-3] in ("containers", "initContainers")


class _Builder:
    def __init__(self, ws: Workspace) -> None:
        self.by_dir = {posixpath.dirname(_norm(k.path)): k for k in ws.kustomizations}
        self.uses: dict[str, list[ImageUse]] = {}
        for use in ws.images:
            if use.workload is not None and use.source == "kubernetes":
                self.uses.setdefault(_norm(use.workload.path), []).append(use)
        self.manifests = {_norm(p) for p in ws.manifest_paths}
        self.directives = {_norm(p) for p in ws.patch_directive_paths}
        self.cache: dict[int, Build] = {}
        self.collected: dict[int, Build] = {}
        self.work = 0

    def build(self, k: Kustomization, stack: tuple[int, ...] = ()) -> Build:
        """What ``kustomize build`` of k makes: its collected images with its own ``images:`` applied."""
        if id(k) in self.cache:
            return self.cache[id(k)]
        collected = self.collect(k, stack)
        out = Build(_apply(collected.images, k), collected.complete)
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
        for target, loc in (*k.resources, *k.patch_files):
            if not self._add(out, here, target, inner) and (target, loc) not in k.unread:
                k.unread.append((target, loc))
        for target, _loc in k.components:
            component = self.by_dir.get(_join(here, target)) if not _REMOTE.search(target) else None
            if component is None:
                out.complete = False
                continue
            sub = self.collect(component, inner)
            out.images = _apply([*out.images, *sub.images], component)
            out.complete = out.complete and sub.complete
            out.cacheable = out.cacheable and sub.cacheable
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
        elif path in self.manifests:
            out.images.extend(Built(u, u.value) for u in self.uses.get(path, ()))
            if path in self.directives:
                out.complete = False  # a "$patch: delete" removes what it names: not followed
        else:
            out.complete = False  # not among the scanned files (or not a manifest): never read
            return False
        return True


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


def _apply(images: list[Built], k: Kustomization) -> list[Built]:
    out = images
    if k.namespace:  # kustomize's namespace transformer runs in the same kustomization, on all of it
        out = [replace(b, namespace=k.namespace) for b in out]
    if k.template_labels or k.object_labels:
        out = [replace(b, labels=_added_labels(b, k)) for b in out]
    for image in k.images:
        changed: list[Built] = []
        for built in out:
            if _rewritable(built.use) and matches(built.value, image.name):
                image.matched = True
                built = replace(built, value=rewrite(built.value, image), rewrites=built.rewrites + ((image, k),))
            changed.append(built)
        out = changed
    return out


def _added_labels(built: Built, k: Kustomization) -> tuple[tuple[str, str], ...]:
    """Pod labels k adds to the workload of ``built``: ``commonLabels`` and ``labels`` with
    ``includeTemplates`` reach the pod template of the built-in workload kinds (not a custom
    resource's); a Pod's own labels are its pod labels, so every label reaches it."""
    workload = built.use.workload
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
    for k in ws.kustomizations:
        if id(k) in builds and id(k) not in referenced:
            for built in builds[id(k)].images:
                deployed.setdefault(id(built.use), []).append(built)
    _namespaces(ws, deployed)
    replaced: set[int] = set()
    added: list[ImageUse] = []
    # One deployed image per value and place: two containers (or overlays) given the same image by
    # the same entries are one thing to fix, at one line.
    seen: set[tuple[str, tuple[Loc, ...]]] = set()
    for use in ws.images:
        results = deployed.get(id(use), [])
        rewritten = [b for b in results if b.rewrites]
        if results and len(rewritten) == len(results):
            replaced.add(id(use))
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
    for use in ws.images:
        if use.workload is not None:
            for built in deployed.get(id(use), ()):
                by_workload.setdefault(id(use.workload), set()).add(built.namespace)
                labels.setdefault(id(use.workload), set()).add(built.labels)
                workloads[id(use.workload)] = use.workload
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
        field=use.field,
        container=use.container,
        workload=use.workload,
        logical=use.logical,
        origin=f"as {k.path} builds {where}" + (f", container {use.container}" if use.container else ""),
        pull_policy=use.pull_policy,
        part_locs=parts,
    )
