"""Facts from Kubernetes manifests: workloads, their images, pull secrets, dockerconfigjson Secrets."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any, Iterator

from ..model import Document, Loc, Span, YMap, YSeq, dig
from ..workspace import DockerConfigSecret, ImageUse, PullSecretRef, RegistryReference, RepositoryCredential, ValuesText, Workload, Workspace
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
    "PodTemplate": ("template", "spec"),
}
# Custom resources that carry pod templates, by (API group, kind): each path leads to a pod spec.
# Argo Rollouts: https://argoproj.github.io/argo-rollouts/features/specification/ (spec.template);
# LeaderWorkerSet: https://lws.sigs.k8s.io/docs/reference/leaderworkerset.v1/ (leaderTemplate, workerTemplate);
# Knative Serving: https://knative.dev/docs/serving/reference/serving-api/ (Service/Configuration spec.template);
# KEDA: https://keda.sh/docs/latest/reference/scaledjob-spec/ (spec.jobTargetRef: a Job spec);
# Agones: https://agones.dev/site/docs/reference/gameserver/ and .../fleet/ (a Fleet templates GameServers).
CRD_POD_SPEC_PATHS: dict[tuple[str, str], tuple[tuple[str, ...], ...]] = {
    ("argoproj.io", "Rollout"): (("spec", "template", "spec"),),
    ("leaderworkerset.x-k8s.io", "LeaderWorkerSet"): (
        ("spec", "leaderWorkerTemplate", "leaderTemplate", "spec"),
        ("spec", "leaderWorkerTemplate", "workerTemplate", "spec"),
    ),
    ("serving.knative.dev", "Service"): (("spec", "template", "spec"),),
    ("serving.knative.dev", "Configuration"): (("spec", "template", "spec"),),
    ("keda.sh", "ScaledJob"): (("spec", "jobTargetRef", "template", "spec"),),
    ("agones.dev", "GameServer"): (("spec", "template", "spec"),),
    ("agones.dev", "Fleet"): (("spec", "template", "spec", "template", "spec"),),
    ("agones.dev", "GameServerSet"): (("spec", "template", "spec", "template", "spec"),),
    # OpenKruise CloneSet (https://openkruise.io/docs/user-manuals/cloneset): a Deployment-like template.
    ("apps.kruise.io", "CloneSet"): (("spec", "template", "spec"),),
    # Kubeflow training operator (https://www.kubeflow.org/docs/components/trainer/legacy-v1/):
    # a pod template per replica type ("*": every key of the map, every item of a list).
    ("kubeflow.org", "PyTorchJob"): (("spec", "pytorchReplicaSpecs", "*", "template", "spec"),),
    ("kubeflow.org", "TFJob"): (("spec", "tfReplicaSpecs", "*", "template", "spec"),),
    ("kubeflow.org", "MPIJob"): (("spec", "mpiReplicaSpecs", "*", "template", "spec"),),
    ("kubeflow.org", "XGBoostJob"): (("spec", "xgbReplicaSpecs", "*", "template", "spec"),),
    ("kubeflow.org", "PaddleJob"): (("spec", "paddleReplicaSpecs", "*", "template", "spec"),),
    # KubeRay (https://docs.ray.io/en/latest/cluster/kubernetes/): head and worker group templates.
    ("ray.io", "RayCluster"): (
        ("spec", "headGroupSpec", "template", "spec"),
        ("spec", "workerGroupSpecs", "*", "template", "spec"),
    ),
    ("ray.io", "RayJob"): (
        ("spec", "rayClusterSpec", "headGroupSpec", "template", "spec"),
        ("spec", "rayClusterSpec", "workerGroupSpecs", "*", "template", "spec"),
        ("spec", "submitterPodTemplate", "spec"),
    ),
    ("ray.io", "RayService"): (
        ("spec", "rayClusterConfig", "headGroupSpec", "template", "spec"),
        ("spec", "rayClusterConfig", "workerGroupSpecs", "*", "template", "spec"),
    ),
    # Volcano (https://volcano.sh/en/docs/vcjob/): a pod template per task.
    ("batch.volcano.sh", "Job"): (("spec", "tasks", "*", "template", "spec"),),
}
# Argo Workflows (https://argo-workflows.readthedocs.io/en/latest/fields/): the workflow spec holds the
# pod-level fields (nodeSelector, tolerations, imagePullSecrets); each template runs a pod whose
# containers are its ``container``, ``script``, ``containerSet.containers``, ``initContainers``, ``sidecars``.
WORKFLOW_SPEC_PATHS: dict[str, tuple[str, ...]] = {
    "Workflow": ("spec",),
    "WorkflowTemplate": ("spec",),
    "ClusterWorkflowTemplate": ("spec",),
    "CronWorkflow": ("spec", "workflowSpec"),
}
CONTAINER_LISTS = ("initContainers", "containers", "ephemeralContainers")
IGNORE_ANNOTATION = "ecrlint.io/ignore"
# Argo CD declarative repositories: a Secret labelled argocd.argoproj.io/secret-type: repository (or
# repo-creds, a credential template) with url, username, password, type, enableOCI
# (https://argo-cd.readthedocs.io/en/stable/operator-manual/declarative-setup/#repositories).
ARGOCD_SECRET_TYPE = "argocd.argoproj.io/secret-type"
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
    if doc.trace is None and (not ws.manifest_paths or ws.manifest_paths[-1] != doc.path):
        ws.manifest_paths.append(doc.path)
    for obj, pointer in objects(doc.root):
        kind = obj.get("kind")
        if not isinstance(kind, str):
            continue
        if "$patch" in obj and doc.path not in ws.patch_directive_paths:
            ws.patch_directive_paths.append(doc.path)  # a kustomize patch that deletes or replaces
        api = obj.get("apiVersion")
        group = api.rpartition("/")[0] if isinstance(api, str) else ""
        crd = CRD_POD_SPEC_PATHS.get((group, kind))  # first: Volcano's Job is not batch/v1's
        if crd is None and kind in POD_SPEC_PATHS:
            _workload(doc, obj, pointer, kind, ws, POD_SPEC_PATHS[kind])
        elif crd is not None:
            for pattern in crd:
                for path in _expand(obj, pattern):
                    _workload(doc, obj, pointer, kind, ws, path)
        elif group == "argoproj.io" and kind in WORKFLOW_SPEC_PATHS:
            _workflow(doc, obj, pointer, kind, ws, WORKFLOW_SPEC_PATHS[kind])
        elif kind == "Secret":
            _secret(doc, obj, ws)
            _values_texts(doc, obj, "stringData", ws)
        elif kind == "ConfigMap":
            _values_texts(doc, obj, "data", ws)
        elif kind == "ServiceAccount":
            _service_account(doc, obj, pointer, ws)


def _values_texts(doc: Document, obj: YMap, key: str, ws: Workspace) -> None:
    """``*.yaml`` texts of a ConfigMap or Secret: values a Flux HelmRelease may take (``valuesFrom``)."""
    data = obj.get(key)
    if not isinstance(data, YMap) or doc.trace is not None:
        return
    meta = obj.get("metadata")
    name = meta.get("name") if isinstance(meta, dict) else None
    namespace = meta.get("namespace") if isinstance(meta, dict) else None
    if not isinstance(name, str):
        return
    for item, text in data.items():
        if isinstance(item, str) and item.endswith((".yaml", ".yml")) and isinstance(text, str):
            ws.values_texts.append(ValuesText(
                kind=str(obj.get("kind")), namespace=namespace if isinstance(namespace, str) and namespace else "default",
                name=name, key=item, text=text, span=data.value_span(item), path=doc.path,
            ))


def _loc(doc: Document, span: Span) -> Loc:
    return Loc(doc.path, span)


def _expand(obj: Any, pattern: tuple[str, ...], done: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    """The concrete paths a pattern names: ``*`` is every key of a mapping or index of a list."""
    if not pattern:
        yield done
        return
    step, rest = pattern[0], pattern[1:]
    if step != "*":
        if isinstance(obj, dict) and step in obj:
            yield from _expand(obj[step], rest, (*done, step))
    elif isinstance(obj, list):
        for i, item in enumerate(obj):
            yield from _expand(item, rest, (*done, str(i)))
    elif isinstance(obj, dict):
        for key, value in obj.items():
            if isinstance(key, str) and "/" not in key and "~" not in key:  # a plain JSON pointer segment
                yield from _expand(value, rest, (*done, key))


def _at(node: Any, path: tuple[str, ...]) -> Any:
    """``dig`` that also steps into lists by index (the concrete paths of ``_expand``)."""
    for step in path:
        if isinstance(node, list) and step.isdigit() and int(step) < len(node):
            node = node[int(step)]
        elif isinstance(node, dict):
            node = node.get(step)
        else:
            return None
    return node


def _workload(doc: Document, obj: YMap, pointer: str, kind: str, ws: Workspace, path: tuple[str, ...],
              containers: bool = True) -> Workload | None:
    pod_spec = _at(obj, path)
    if not isinstance(pod_spec, YMap):
        return None
    template_meta = _at(obj, (*path[:-1], "metadata")) if len(path) > 1 else obj.get("metadata")
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
    if containers:
        for list_name in CONTAINER_LISTS:
            items = pod_spec.get(list_name)
            if isinstance(items, YSeq):
                for i, container in enumerate(items):
                    _image(doc, workload, container, f"{spec_pointer}/{list_name}/{i}", ws)
    _pull_secrets(doc, pod_spec, workload, ws)
    return workload


def _workflow(doc: Document, obj: YMap, pointer: str, kind: str, ws: Workspace, path: tuple[str, ...]) -> None:
    """An Argo workflow: one workload (its spec holds the pod-level fields), the images of every template."""
    workload = _workload(doc, obj, pointer, kind, ws, path, containers=False)
    if workload is None:
        return
    # Argo's pods carry the workflow spec's podMetadata labels, not the Workflow object's own
    labels = dig(obj, *path, "podMetadata", "labels")
    workload.pod_labels = {str(k): str(v) for k, v in labels.items()} if isinstance(labels, dict) else {}
    templates = dig(obj, *path, "templates")
    if not isinstance(templates, YSeq):
        return
    base = workload.pod_spec_pointer
    for t, template in enumerate(templates):
        if not isinstance(template, YMap):
            continue
        at = f"{base}/templates/{t}"
        for key in ("container", "script"):
            _image(doc, workload, template.get(key), f"{at}/{key}", ws, argo=True)
        for list_name, items in (("initContainers", template.get("initContainers")),
                                 ("sidecars", template.get("sidecars")),
                                 ("containerSet/containers", dig(template, "containerSet", "containers"))):
            if isinstance(items, YSeq):
                for i, container in enumerate(items):
                    _image(doc, workload, container, f"{at}/{list_name}/{i}", ws, argo=True)


def _image(doc: Document, workload: Workload, container: Any, pointer: str, ws: Workspace, argo: bool = False) -> None:
    """The image of one container (``pointer`` is the container's JSON pointer)."""
    if not isinstance(container, YMap) or "image" not in container:
        return  # kustomize patches and pod templates filled in later omit it
    written = container.get("image")
    if argo and isinstance(written, str) and "{{" in written:
        return  # an Argo parameter ({{inputs.parameters.image}}): decided when the workflow runs
    image = written if isinstance(written, str) else ""
    not_a_string = None if isinstance(written, str) else _describe_non_string(written)
    cname = container.get("name") if isinstance(container.get("name"), str) else None
    field = f"{pointer}/image"
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
    if dig(obj, "metadata", "labels", ARGOCD_SECRET_TYPE) in ("repository", "repo-creds"):
        _argocd_repository(doc, obj, ws)
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


def _argocd_repository(doc: Document, obj: YMap, ws: Workspace) -> None:
    name = str(dig(obj, "metadata", "name") or "(unnamed)")
    logical = f"Secret/{dig(obj, 'metadata', 'namespace') or 'default'}/{name}"
    for section, encoded in (("stringData", False), ("data", True)):
        block = obj.get(section)
        if not isinstance(block, YMap):
            continue
        url, password = _secret_text(block.get("url"), encoded), _secret_text(block.get("password"), encoded)
        if url:
            ws.registry_references.append(RegistryReference(
                f'Argo CD repository Secret "{name}"', url, _loc(doc, block.value_span("url")), logical))
        if url and password:
            ws.repository_credentials.append(RepositoryCredential(
                name=str(dig(obj, "metadata", "name") or "(unnamed)"),
                namespace=str(dig(obj, "metadata", "namespace") or "default"),
                url=url,
                loc=_loc(doc, block.value_span("password")),
            ))
            return


def _secret_text(value: Any, encoded: bool) -> str | None:
    if not isinstance(value, str) or not value:
        return None
    if not encoded:
        return value
    try:
        return base64.b64decode(value, validate=True).decode("utf-8") or None
    except (binascii.Error, ValueError, UnicodeDecodeError):
        return None
