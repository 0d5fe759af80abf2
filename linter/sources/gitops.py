"""GitOps objects that fetch charts and artifacts from registries: Flux ``HelmRepository`` (type oci) and
``OCIRepository``, Argo CD ``Application`` / ``ApplicationSet`` Helm chart sources."""

from __future__ import annotations

from typing import Any

import posixpath
import re

from ..model import Document, Loc, Span, YMap
from ..model import YSeq
from ..workspace import ChartRelease, ImageUse, OciSource, RegistryReference, Workspace
from . import DocumentSource, ExtractContext

# https://fluxcd.io/flux/components/source/helmrepositories/ and .../ocirepositories/ (source.toolkit.fluxcd.io
# v1beta2 and v1): ``spec.url`` (oci://HOST/PATH), ``spec.type`` (HelmRepository: "default" or "oci"),
# ``spec.provider`` ("generic" when not set; "aws" logs in to ECR with the node role or IRSA), ``spec.secretRef``.
GROUP = "source.toolkit.fluxcd.io/"
KINDS = ("HelmRepository", "OCIRepository")
# Argo CD (https://argo-cd.readthedocs.io/en/stable/user-guide/helm/): a source with ``chart`` fetches a
# Helm chart from ``repoURL``, an OCI registry written without a scheme (or with oci://).
ARGO = "argoproj.io/"
ARGO_KINDS = {"Application": ("spec",), "ApplicationSet": ("spec", "template", "spec")}
# Flux HelmRelease (https://fluxcd.io/flux/components/helm/helmreleases/): ``spec.chart.spec`` names a
# chart (a path for a GitRepository or Bucket source), its ``version`` (a SemVer range; "*" when
# omitted, https://fluxcd.io/flux/components/source/helmcharts/#version), ``valuesFiles``; ``spec.values``.
HELM_GROUP = "helm.toolkit.fluxcd.io/"
_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*://", re.I)
_EXPRESSION = re.compile(r"\{\{|\$\{")  # an ApplicationSet generator parameter, a Flux substitution


class FluxSourceSource(DocumentSource):
    """A Flux HelmRepository or OCIRepository (before the generic Kubernetes kind)."""

    name = "flux-source"
    priority = 65

    def detect(self, root: Any) -> bool:
        if not isinstance(root, dict):
            return False
        api = root.get("apiVersion")
        if not isinstance(api, str):
            return False
        kind = root.get("kind")
        if not isinstance(kind, str):
            return False
        return (
            (api.startswith(GROUP) and kind in KINDS) or (api.startswith(ARGO) and kind in ARGO_KINDS)
            or (api.startswith(HELM_GROUP) and kind == "HelmRelease")
        )

    def extract(self, doc: Document, ws: Workspace, ctx: ExtractContext) -> None:
        root = doc.root
        spec = root.get("spec") if isinstance(root, YMap) else None
        if not isinstance(root, YMap) or not isinstance(spec, YMap):
            return
        if not ws.manifest_paths or ws.manifest_paths[-1] != doc.path:
            ws.manifest_paths.append(doc.path)  # a Kubernetes object a kustomization may list
        kind = str(root.get("kind"))
        if kind in ARGO_KINDS:
            _argo_application(doc, root, kind, ws)
            return
        if kind == "HelmRelease":
            _helm_release(doc, root, spec, ws)
            return
        url = spec.get("url")
        if not isinstance(url, str) or not url:
            return
        if kind == "HelmRepository" and spec.get("type") != "oci":
            return  # an HTTP/S chart index: not an OCI registry
        meta = root.get("metadata")
        name = meta.get("name") if isinstance(meta, dict) else None
        namespace = meta.get("namespace") if isinstance(meta, dict) else None
        provider = spec.get("provider")
        secret = spec.get("secretRef")
        secret_name = secret.get("name") if isinstance(secret, dict) else None
        source = OciSource(
            kind=kind,
            name=name if isinstance(name, str) else "(unnamed)",
            namespace=namespace if isinstance(namespace, str) and namespace else "default",
            url=url,
            loc=Loc(doc.path, spec.value_span("url")),
            provider=provider if isinstance(provider, str) else None,
            secret_ref=secret_name if isinstance(secret_name, str) and secret_name else None,
        )
        ref = spec.get("ref")
        semver = ref.get("semver") if isinstance(ref, YMap) else None
        if kind == "OCIRepository" and isinstance(semver, str) and semver and isinstance(ref, YMap):
            source.semver, source.semver_loc = semver, Loc(doc.path, ref.value_span("semver"))
        ws.oci_sources.append(source)
        ws.registry_references.append(RegistryReference(source.logical, url, source.loc, source.logical))

    def finish(self, ws: Workspace) -> None:
        if ws.chart_releases:
            render_releases(ws)


def _argo_application(doc: Document, root: YMap, kind: str, ws: Workspace) -> None:
    """Each Helm chart source (``chart`` set) of an Argo CD Application or ApplicationSet template."""
    spec: Any = root
    for key in ARGO_KINDS[kind]:
        spec = spec.get(key) if isinstance(spec, YMap) else None
    if not isinstance(spec, YMap):
        return
    sources: list[Any] = [spec.get("source")]
    many = spec.get("sources")
    if isinstance(many, YSeq):
        sources.extend(many)
    meta = root.get("metadata")
    name = meta.get("name") if isinstance(meta, dict) else None
    namespace = meta.get("namespace") if isinstance(meta, dict) else None
    logical = f"{kind}/{namespace if isinstance(namespace, str) and namespace else 'default'}/{name or '(unnamed)'}"
    for source in sources:
        if isinstance(source, YMap) and isinstance(source.get("chart"), str) and isinstance(source.get("repoURL"), str):
            ws.registry_references.append(
                RegistryReference(logical, source["repoURL"], Loc(doc.path, source.value_span("repoURL")), logical)
            )
        if isinstance(source, YMap):
            _argo_release(doc, source, logical, ws)


def _meta(root: YMap) -> tuple[str, str]:
    meta = root.get("metadata")
    name = meta.get("name") if isinstance(meta, dict) else None
    namespace = meta.get("namespace") if isinstance(meta, dict) else None
    return (name if isinstance(name, str) and name else "(unnamed)",
            namespace if isinstance(namespace, str) and namespace else "default")


def _in_repo(path: str) -> str | None:
    """A path in the repository, normalised; None when it leaves it or is an expression."""
    if _EXPRESSION.search(path) or _SCHEME.match(path):
        return None
    norm = posixpath.normpath(path.replace("\\", "/").lstrip("/"))
    return None if norm == ".." or norm.startswith("../") else norm


def _helm_release(doc: Document, root: YMap, spec: YMap, ws: Workspace) -> None:
    name, namespace = _meta(root)
    chart_spec: Any = spec.get("chart")
    chart_spec = chart_spec.get("spec") if isinstance(chart_spec, YMap) else None
    if not isinstance(chart_spec, YMap) or not isinstance(chart_spec.get("chart"), str):
        ref = spec.get("chartRef")  # an OCIRepository (or HelmChart) object: its ref decides the version
        if isinstance(ref, YMap) and ref.get("kind") == "OCIRepository" and isinstance(ref.get("name"), str):
            ref_ns = ref.get("namespace")
            ws.chart_releases.append(ChartRelease(
                what=f"HelmRelease/{namespace}/{name}", loc=Loc(doc.path, ref.value_span("name")), chart=ref["name"],
                source_ref=("OCIRepository", ref_ns if isinstance(ref_ns, str) and ref_ns else namespace, ref["name"]),
                version_field="ref.semver",
            ))
        return
    ref = chart_spec.get("sourceRef")
    ref_kind = ref.get("kind") if isinstance(ref, dict) else None
    ref_name = ref.get("name") if isinstance(ref, dict) else None
    ref_ns = ref.get("namespace") if isinstance(ref, dict) else None
    release = ChartRelease(
        what=f"HelmRelease/{namespace}/{name}",
        loc=Loc(doc.path, chart_spec.value_span("chart")),
        chart=chart_spec["chart"],
    )
    if isinstance(ref_kind, str) and isinstance(ref_name, str):
        release.source_ref = (ref_kind, ref_ns if isinstance(ref_ns, str) and ref_ns else namespace, ref_name)
    version = chart_spec.get("version")
    if isinstance(version, (str, int, float)) and not isinstance(version, bool):
        release.version = str(version)
        release.version_loc = Loc(doc.path, chart_spec.value_span("version"))
    if ref_kind in ("GitRepository", "Bucket"):
        release.chart_dir = _in_repo(release.chart)
        files = chart_spec.get("valuesFiles")
        files = files if isinstance(files, YSeq) else YSeq()
        for i, item in enumerate(files):
            path = _in_repo(item) if isinstance(item, str) else None
            if path is None:
                release.notes.append(f"{Loc(doc.path, files.item_span(i)).short()}: values file {item!r} is not in "
                                     "the repository; the chart is not rendered with it")
                release.chart_dir = None
            else:
                release.values_files.append(path)
    values_from = spec.get("valuesFrom")
    values_from = values_from if isinstance(values_from, YSeq) else YSeq()
    for i, ref in enumerate(values_from):
        where = Loc(doc.path, values_from.item_span(i))
        kind, ref_name = (ref.get("kind"), ref.get("name")) if isinstance(ref, YMap) else (None, None)
        key = ref.get("valuesKey", "values.yaml") if isinstance(ref, YMap) else None
        if kind in ("ConfigMap", "Secret") and isinstance(ref_name, str) and isinstance(key, str) \
                and not (isinstance(ref, YMap) and ref.get("targetPath")):
            release.values_from.append((kind, ref_name, key, where))
        else:
            release.notes.append(f"{where.short()}: valuesFrom entry is not followed (a targetPath, or not a "
                                 "ConfigMap/Secret by name); the chart is rendered without it")
    values = spec.get("values")
    if isinstance(values, YMap):
        release.values_docs.append((doc.path, values))
    ws.chart_releases.append(release)


def _argo_release(doc: Document, source: YMap, logical: str, ws: Workspace) -> None:
    """An Argo CD source: a Helm chart from a registry (``chart``), or a path in a Git repository
    (``path``) that holds a chart, with its ``helm`` values
    (https://argo-cd.readthedocs.io/en/stable/user-guide/helm/)."""
    repo = source.get("repoURL")
    if not isinstance(repo, str) or not repo:
        return
    chart, path = source.get("chart"), source.get("path")
    revision = source.get("targetRevision")
    if isinstance(chart, str) and chart:
        release = ChartRelease(what=logical, loc=Loc(doc.path, source.value_span("chart")), chart=chart,
                               version_field="targetRevision")
        # a Helm source on OCI: repoURL without a scheme (or oci://); https:// is a chart index
        if repo.startswith("oci://") or not _SCHEME.match(repo):
            release.oci_url = repo
    elif isinstance(path, str) and path and not repo.startswith("oci://"):
        release = ChartRelease(what=logical, loc=Loc(doc.path, source.value_span("path")), chart=path,
                               chart_dir=_in_repo(path), version_field="targetRevision")
    else:
        return
    if isinstance(revision, (str, int, float)) and not isinstance(revision, bool):
        release.version = str(revision)
        release.version_loc = Loc(doc.path, source.value_span("targetRevision"))
    helm = source.get("helm")
    if isinstance(helm, YMap):
        _argo_values(doc, helm, release)
    ws.chart_releases.append(release)


def _argo_values(doc: Document, helm: YMap, release: ChartRelease) -> None:
    """Argo CD's order, lowest first: valueFiles (relative to the chart), values (a YAML string),
    valuesObject (which wins over values), parameters (``--set``)."""
    files = helm.get("valueFiles")
    for item in files if isinstance(files, YSeq) else ():
        if isinstance(item, str) and release.chart_dir is not None:
            path = _in_repo(posixpath.join(release.chart_dir, item))
            if path is None:
                release.notes.append(f"{release.loc.short()}: values file {item!r} is not in the repository; "
                                     "the chart is not rendered with it")
                release.chart_dir = None
                return
            release.values_files.append(path)
    text = helm.get("values")
    if isinstance(text, str) and text.strip():
        parsed = _values_text(doc, text, helm.value_span("values"))
        if parsed is None:
            release.notes.append(f"{release.loc.short()}: helm.values does not parse as a YAML mapping; not used")
        else:
            release.values_docs.append((doc.path, parsed))
    elif isinstance(text, YMap):  # older Argo CD versions accept a mapping here too
        release.values_docs.append((doc.path, text))
    obj = helm.get("valuesObject")
    if isinstance(obj, YMap):
        release.values_docs.append((doc.path, obj))
    params = helm.get("parameters")
    if isinstance(params, YSeq):
        values = _parameters(doc, params)
        if values:
            release.values_docs.append((doc.path, values))


def _values_text(doc: Document, text: str, span: Span) -> YMap | None:
    from ..parsing import parse_text, relocate

    docs, problems = parse_text(doc.path, text)
    if problems or len(docs) != 1 or not isinstance(docs[0][0], YMap):
        return None
    root = docs[0][0]
    relocate(root, span)
    return root


_INT = re.compile(r"^[-+]?[0-9]+$")


def _parameters(doc: Document, params: YSeq) -> YMap | None:
    """``parameters`` as ``helm --set name=value`` sets them (dotted names; ints and booleans typed
    unless ``forceString``), each value placed at its ``value``."""
    out = YMap()
    for item in params:
        if not isinstance(item, YMap) or not isinstance(item.get("name"), str) or "value" not in item:
            continue
        name, raw = item["name"], item.get("value")
        if not re.fullmatch(r"[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*", name):
            continue  # list indexes and escaped dots: not followed
        value: Any = raw
        if isinstance(raw, str) and item.get("forceString") is not True:
            value = int(raw) if _INT.match(raw) else {"true": True, "false": False}.get(raw, raw)
        node = out
        *parents, last = name.split(".")
        span = item.value_span("value")
        for key in parents:
            child = node.get(key)
            if not isinstance(child, YMap):
                child = YMap(span)
                node[key] = child
                node.spans[key] = (item.value_span("name"), span)
            node = child
        node[last] = value
        node.spans[last] = (item.value_span("name"), span)
    return out or None


def render_releases(ws: Workspace) -> None:
    """Each release whose chart is among the scanned charts, rendered with its values: the images
    it deploys are checked (ECR1xx) at the values line that sets them."""
    from .releases import MAX_RENDERS, render_scanned_chart

    charts = {posixpath.normpath(c.display) for c in ws.charts}
    seen = {(u.value, u.loc, *(u.loc_for(p) for p in ("registry", "repository", "tag", "digest")))
            for u in ws.images if u.source == "helm"}
    added: list[ImageUse] = []
    rendered = 0
    for release in ws.chart_releases:
        if release.chart_dir is None or release.chart_dir not in charts:
            if release.chart_dir is not None or release.oci_url is None:
                release.notes.append(f"{release.loc.short()}: chart {release.chart!r} of {release.what} is not among "
                                     "the scanned charts (not fetched); the images it deploys are not checked")
            continue
        if rendered >= MAX_RENDERS:
            release.notes.append(f"{release.loc.short()}: more than {MAX_RENDERS} releases; not rendered")
            continue
        rendered += 1
        docs = [*_values_from(ws, release), *release.values_docs]  # Flux: valuesFrom first, values last
        uses, problem = render_scanned_chart(ws, release.chart_dir, release.values_files, docs)
        if problem:
            release.notes.append(f"{release.loc.short()}: {problem}")
        for use in uses or ():
            key = (use.value, use.loc, *(use.loc_for(p) for p in ("registry", "repository", "tag", "digest")))
            if key in seen:
                continue  # the same image from the same values line: the chart's own finding
            seen.add(key)
            use.origin = f"as {release.what} installs {release.chart_dir}" + (f", {use.origin}" if use.origin else "")
            added.append(use)
    ws.images.extend(added)


def _values_from(ws: Workspace, release: ChartRelease) -> list[tuple[str, Any]]:
    """A HelmRelease's ``valuesFrom`` ConfigMaps/Secrets found among the scanned manifests (in the
    release's namespace), parsed with positions in their files; one not found is a --verbose note."""
    if not release.values_from:
        return []
    namespace = release.what.split("/")[1]
    out: list[tuple[str, Any]] = []
    for kind, name, key, where in release.values_from:
        found = next((t for t in ws.values_texts
                      if (t.kind, t.namespace, t.name, t.key) == (kind, namespace, name, key)), None)
        values = _values_text(Document(found.path, 0, None), found.text, found.span) if found else None
        if found is None or values is None:
            release.notes.append(f"{where.short()}: {kind} {namespace}/{name} (key {key}) is not among the "
                                 "scanned manifests; the chart is rendered without it")
        else:
            out.append((found.path, values))
    return out
