"""GitOps objects that fetch charts and artifacts from registries: Flux ``HelmRepository`` (type oci) and
``OCIRepository``, Argo CD ``Application`` / ``ApplicationSet`` Helm chart sources."""

from __future__ import annotations

from typing import Any

from ..model import Document, Loc, YMap
from ..model import YSeq
from ..workspace import OciSource, RegistryReference, Workspace
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
        return (api.startswith(GROUP) and kind in KINDS) or (api.startswith(ARGO) and kind in ARGO_KINDS)

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
        ws.oci_sources.append(source)
        ws.registry_references.append(RegistryReference(source.logical, url, source.loc, source.logical))


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
