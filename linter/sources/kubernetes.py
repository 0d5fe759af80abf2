"""Facts from Kubernetes manifests: workloads, their images, pull secrets, dockerconfigjson Secrets."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any, Iterator

from ..model import Document, Loc, Span, YMap, YSeq, dig
from ..workspace import DockerConfigSecret, ImageUse, PullSecretRef, Workload, Workspace
from . import DocumentSource, ExtractContext

# kind -> path from the object to its pod spec (and the pod template's metadata next to it).
POD_SPEC_PATHS: dict[str, tuple[str, ...]] = {
    "Pod": ("spec",),
    "Deployment": ("spec", "template", "spec"),
    "StatefulSet": ("spec", "template", "spec"),
    "DaemonSet": ("spec", "template", "spec"),
    "ReplicaSet": ("spec", "template", "spec"),
    "ReplicationController": ("spec", "template", "spec"),
    "Job": ("spec", "template", "spec"),
    "CronJob": ("spec", "jobTemplate", "spec", "template", "spec"),
}
CONTAINER_LISTS = ("initContainers", "containers", "ephemeralContainers")
IGNORE_ANNOTATION = "ecrlint.io/ignore"
DOCKER_SECRET_TYPES = {
    "kubernetes.io/dockerconfigjson": ".dockerconfigjson",
    "kubernetes.io/dockercfg": ".dockercfg",
}


def objects(root: Any, pointer: str = "") -> Iterator[tuple[YMap, str]]:
    """Each object of a document, ``List`` kinds unwrapped, with its JSON pointer."""
    if not isinstance(root, YMap):
        return
    kind = root.get("kind")
    items = root.get("items")
    if isinstance(kind, str) and kind.endswith("List") and isinstance(items, YSeq):
        for i, item in enumerate(items):
            yield from objects(item, f"{pointer}/items/{i}")
        return
    yield root, pointer


def parse_ignore(value: Any) -> frozenset[str] | None:
    """``"ECR103, ECR101"`` -> {"ECR103", "ECR101"}; empty or ``all`` -> None (every rule)."""
    if not isinstance(value, str):
        return frozenset()
    ids = frozenset(part.strip().upper() for part in value.split(",") if part.strip())
    return None if not ids or "ALL" in ids else ids


class KubernetesSource(DocumentSource):
    """Any object with string ``apiVersion`` and ``kind``: the last kind tried, as every other
    kind that also has them (eksctl's ClusterConfig) is more specific."""

    name = "kubernetes"
    priority = 90

    def detect(self, root: Any) -> bool:
        return isinstance(root, dict) and isinstance(root.get("apiVersion"), str) and isinstance(root.get("kind"), str)

    def extract(self, doc: Document, ws: Workspace, ctx: ExtractContext) -> None:
        extract(doc, ws)


def extract(doc: Document, ws: Workspace) -> None:
    for obj, pointer in objects(doc.root):
        kind = obj.get("kind")
        if not isinstance(kind, str):
            continue
        if kind in POD_SPEC_PATHS:
            _workload(doc, obj, pointer, kind, ws)
        elif kind == "Secret":
            _secret(doc, obj, ws)
        elif kind == "ServiceAccount":
            _service_account(doc, obj, pointer, ws)


def _loc(doc: Document, span: Span) -> Loc:
    return Loc(doc.path, span)


def _workload(doc: Document, obj: YMap, pointer: str, kind: str, ws: Workspace) -> None:
    path = POD_SPEC_PATHS[kind]
    pod_spec = dig(obj, *path)
    if not isinstance(pod_spec, YMap):
        return
    template_meta = dig(obj, *path[:-1], "metadata") if len(path) > 1 else obj.get("metadata")
    meta = obj.get("metadata")
    metadata = meta if isinstance(meta, dict) else {}
    written_name = metadata.get("name")
    name = written_name if isinstance(written_name, str) else "(unnamed)"
    namespace = metadata.get("namespace")
    labels = dig(template_meta, "labels")
    ignore = parse_ignore(dig(metadata, "annotations", IGNORE_ANNOTATION))
    template_ignore = parse_ignore(dig(template_meta, "annotations", IGNORE_ANNOTATION)) if len(path) > 1 else frozenset()
    if ignore is None or template_ignore is None:
        ignore = None
    else:
        ignore = ignore | template_ignore
    workload = Workload(
        kind=kind,
        name=name,
        namespace=namespace if isinstance(namespace, str) and namespace else "default",
        path=doc.path,
        doc_index=doc.index,
        kind_loc=_loc(doc, obj.value_span("kind")),
        pod_labels={str(k): str(v) for k, v in labels.items()} if isinstance(labels, dict) else {},
        pod_spec=pod_spec,
        pod_spec_pointer=pointer + "/" + "/".join(path),
        chart=_chart_of(doc),
        namespace_explicit=isinstance(namespace, str) and bool(namespace),
        object_span=obj.span,
    )
    ws.workloads.append(workload)
    if ignore != frozenset():
        ws.suppression_regions.append((doc.path, obj.span, ignore, "annotation"))
    spec_pointer = workload.pod_spec_pointer
    for list_name in CONTAINER_LISTS:
        containers = pod_spec.get(list_name)
        if not isinstance(containers, YSeq):
            continue
        for i, container in enumerate(containers):
            if not isinstance(container, YMap):
                continue
            if "image" not in container:
                continue  # kustomize patches and pod templates filled in later omit it
            written = container.get("image")
            image = written if isinstance(written, str) else ""
            not_a_string = None if isinstance(written, str) else _describe_non_string(written)
            cname = container.get("name") if isinstance(container.get("name"), str) else None
            field = f"{spec_pointer}/{list_name}/{i}/image"
            loc = _loc(doc, container.value_span("image"))
            use = ImageUse(
                value=image,
                loc=loc,
                source="kubernetes",
                field=field,
                container=cname,
                workload=workload,
                logical=workload.logical,
                pull_policy=container.get("imagePullPolicy") if isinstance(container.get("imagePullPolicy"), str) else None,
                not_a_string=not_a_string,
            )
            if doc.trace is not None:
                use.source = "helm"
                traced = doc.trace.get(field)
                if traced is not None:
                    use.loc = traced[0]
                for part in ("registry", "repository", "tag", "digest"):
                    part_trace = doc.trace.get(f"{field}#{part}")
                    if part_trace is not None:
                        use.part_locs[part] = part_trace[0]
                use.origin = f"rendered in {doc.origin or doc.path}" + (f", container {cname}" if cname else "")
            ws.images.append(use)
    _pull_secrets(doc, pod_spec, workload, ws)


def _describe_non_string(value: Any) -> str:
    if value is None:
        return "empty"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, (int, float)):
        return f"the number {value}"
    return "a list" if isinstance(value, list) else "a mapping"


def _chart_of(doc: Document) -> str | None:
    if doc.trace is None:
        return None
    suffix = "/" + (doc.origin or "")
    return doc.path[: -len(suffix)] if doc.origin and doc.path.endswith(suffix) else doc.path


def _pull_secrets(doc: Document, spec: YMap, workload: Workload | None, ws: Workspace, logical: str | None = None) -> None:
    secrets = spec.get("imagePullSecrets")
    if not isinstance(secrets, YSeq):
        return
    for i, entry in enumerate(secrets):
        if isinstance(entry, YMap) and isinstance(entry.get("name"), str):
            loc = _loc(doc, entry.value_span("name"))
            ws.pull_secret_refs.append(
                PullSecretRef(entry["name"], loc, workload, logical or (workload.logical if workload else None))
            )
        elif isinstance(entry, str):
            ws.pull_secret_refs.append(PullSecretRef(entry, _loc(doc, secrets.item_span(i)), workload, logical))


def _service_account(doc: Document, obj: YMap, pointer: str, ws: Workspace) -> None:
    name = dig(obj, "metadata", "name")
    namespace = dig(obj, "metadata", "namespace") or "default"
    _pull_secrets(doc, obj, None, ws, logical=f"ServiceAccount/{namespace}/{name}")


def _secret(doc: Document, obj: YMap, ws: Workspace) -> None:
    secret_type = obj.get("type")
    key = DOCKER_SECRET_TYPES.get(secret_type) if isinstance(secret_type, str) else None
    if key is None:
        return
    registries: list[tuple[str, Loc]] = []
    for section, encoded in (("data", True), ("stringData", False)):
        block = obj.get(section)
        if not isinstance(block, YMap) or not isinstance(block.get(key), str):
            continue
        raw = block[key]
        loc = _loc(doc, block.value_span(key))
        try:
            text = base64.b64decode(raw, validate=False).decode("utf-8") if encoded else raw
            config = json.loads(text)
        except (binascii.Error, ValueError, UnicodeDecodeError):
            continue  # opaque (or templated) content: the Secret still counts, with no known hosts
        auths = config.get("auths", config) if isinstance(config, dict) else None
        if isinstance(auths, dict):
            registries.extend((str(host), loc) for host in auths)
    ws.docker_config_secrets.append(
        DockerConfigSecret(
            name=str(dig(obj, "metadata", "name") or "(unnamed)"),
            namespace=str(dig(obj, "metadata", "namespace") or "default"),
            loc=_loc(doc, obj.value_span("type")),
            registries=registries,
        )
    )
