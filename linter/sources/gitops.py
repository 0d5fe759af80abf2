"""Flux sources that fetch Helm charts and artifacts from OCI registries: ``HelmRepository`` (type oci) and ``OCIRepository``."""

from __future__ import annotations

from typing import Any

from ..model import Document, Loc, YMap
from ..workspace import OciSource, Workspace
from . import DocumentSource, ExtractContext

# https://fluxcd.io/flux/components/source/helmrepositories/ and .../ocirepositories/ (source.toolkit.fluxcd.io
# v1beta2 and v1): ``spec.url`` (oci://HOST/PATH), ``spec.type`` (HelmRepository: "default" or "oci"),
# ``spec.provider`` ("generic" when not set; "aws" logs in to ECR with the node role or IRSA), ``spec.secretRef``.
GROUP = "source.toolkit.fluxcd.io/"
KINDS = ("HelmRepository", "OCIRepository")


class FluxSourceSource(DocumentSource):
    """A Flux HelmRepository or OCIRepository (before the generic Kubernetes kind)."""

    name = "flux-source"
    priority = 65

    def detect(self, root: Any) -> bool:
        if not isinstance(root, dict):
            return False
        api = root.get("apiVersion")
        return isinstance(api, str) and api.startswith(GROUP) and root.get("kind") in KINDS

    def extract(self, doc: Document, ws: Workspace, ctx: ExtractContext) -> None:
        root = doc.root
        spec = root.get("spec") if isinstance(root, YMap) else None
        if not isinstance(root, YMap) or not isinstance(spec, YMap):
            return
        if not ws.manifest_paths or ws.manifest_paths[-1] != doc.path:
            ws.manifest_paths.append(doc.path)  # a Kubernetes object a kustomization may list
        url = spec.get("url")
        kind = str(root.get("kind"))
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
        ws.oci_sources.append(
            OciSource(
                kind=kind,
                name=name if isinstance(name, str) else "(unnamed)",
                namespace=namespace if isinstance(namespace, str) and namespace else "default",
                url=url,
                loc=Loc(doc.path, spec.value_span("url")),
                provider=provider if isinstance(provider, str) else None,
                secret_ref=secret_name if isinstance(secret_name, str) and secret_name else None,
            )
        )
