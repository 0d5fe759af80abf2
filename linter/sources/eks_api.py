"""The EKS API's Fargate profile JSON (``aws eks create-fargate-profile --cli-input-json``, or
``describe-fargate-profile`` output) into a FargateProfile."""

from __future__ import annotations

from typing import Any, Iterator

from ..model import Document, Loc, YMap, YSeq
from ..workspace import FargateProfile, FargateSelector, Workspace
from . import DocumentSource, ExtractContext


class EksFargateProfileSource(DocumentSource):
    name = "eks-fargate-profile"
    priority = 50

    def detect(self, root: Any) -> bool:
        return isinstance(root, dict) and "fargateProfileName" in root and (
            "selectors" in root or "podExecutionRoleArn" in root
        )

    def extract(self, doc: Document, ws: Workspace, ctx: ExtractContext) -> None:
        extract(doc, ws)


def extract(doc: Document, ws: Workspace) -> None:
    root = doc.root
    if isinstance(root, YMap) and isinstance(root.get("fargateProfile"), YMap):
        root = root["fargateProfile"]  # describe-fargate-profile output wraps the same shape
    if not isinstance(root, YMap):
        return
    name = root.get("fargateProfileName")
    role = root.get("podExecutionRoleArn")
    cluster = root.get("clusterName")
    has_role = isinstance(role, str) and bool(role.strip())
    ws.fargate_profiles.append(
        FargateProfile(
            name=name if isinstance(name, str) and name else "(unnamed)",
            loc=Loc(doc.path, root.value_span("fargateProfileName") if "fargateProfileName" in root else root.span),
            source="eks-api",
            selectors=list(_api_selectors(root.get("selectors"), doc.path)),
            role_ref=role if has_role else None,
            role_loc=Loc(doc.path, root.value_span("podExecutionRoleArn")) if has_role else None,
            cluster_name=cluster if isinstance(cluster, str) and cluster else None,
        )
    )


def _api_selectors(selectors: Any, path: str) -> Iterator[FargateSelector]:
    if not isinstance(selectors, YSeq):
        return
    for i, item in enumerate(selectors):
        if not isinstance(item, dict):
            continue
        namespace = item.get("namespace")
        labels = item.get("labels")
        yield FargateSelector(
            namespace=str(namespace) if namespace is not None else "",
            labels={str(k): str(v) for k, v in labels.items()} if isinstance(labels, dict) else {},
            loc=Loc(path, selectors.item_span(i)),
        )
