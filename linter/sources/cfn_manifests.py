"""Kubernetes manifests and Helm releases inside CloudFormation: ``AWSQS::Kubernetes::Resource`` and
custom resources with a ``Manifest`` (CDK's ``Custom::AWSCDK-EKS-KubernetesResource``,
``Custom::KubeManifest``), ``AWSQS::Kubernetes::Helm``: read like files of their kind, with positions
in the template.

A manifest written as a literal block (``Manifest: |``, ``!Sub |``) keeps exact positions (the
parser's BlockSpan); a JSON string (what CDK synthesises), a quoted or folded string puts every
position on the ``Manifest`` value; ``Fn::Join`` and other intrinsics are not read (a --verbose note).
AWSQS types: https://github.com/aws-quickstart/quickstart-kubernetes-resource-provider
(``Manifest``, ``Url``) and https://github.com/aws-quickstart/quickstart-helm-resource-provider
(``Chart``, ``Repository``, ``Version``, ``Values``, ``ValueYaml``).
"""

from __future__ import annotations

from typing import Any

from ..model import Document, Loc, Span, YMap, YSeq
from ..workspace import ChartRelease, Workspace

RESOURCE = "AWSQS::Kubernetes::Resource"
HELM = "AWSQS::Kubernetes::Helm"
MAX_MANIFEST_CHARS = 2 * 1024 * 1024  # one embedded manifest (the template itself is capped too)


def extract(doc: Document, ws: Workspace) -> None:
    resources = doc.root.get("Resources") if isinstance(doc.root, dict) else None
    if not isinstance(resources, YMap):
        return
    for logical, resource in resources.items():
        if not isinstance(resource, YMap):
            continue
        kind = resource.get("Type")
        props = resource.get("Properties")
        if not isinstance(kind, str) or not isinstance(props, YMap):
            continue
        if kind == RESOURCE or (kind.startswith("Custom::") and "Manifest" in props):
            _manifest(doc, str(logical), kind, props, ws)
        elif kind == HELM:
            _helm(doc, str(logical), props, ws)


def _text(value: Any, span: Span) -> tuple[str | None, Span, bool]:
    """(text, where it is written, has ${} substitutions) of a string or ``Fn::Sub``."""
    if isinstance(value, str):
        return value, span, False
    if isinstance(value, YMap) and set(value) == {"Fn::Sub"}:
        body = value["Fn::Sub"]
        body_span = value.value_span("Fn::Sub")
        if isinstance(body, YSeq) and body and isinstance(body[0], str):
            return body[0], body.item_span(0), True
        if isinstance(body, str):
            return body, body_span, True
    return None, span, False


def _manifest(doc: Document, logical: str, kind: str, props: YMap, ws: Workspace) -> None:
    from ..parsing import parse_text, relocate
    from . import kubernetes

    text, span, substituted = _text(props.get("Manifest"), props.value_span("Manifest"))
    if text is None or len(text) > MAX_MANIFEST_CHARS:
        return  # Fn::Join / Fn::If / a Url: not read
    docs, problems = parse_text(doc.path, text)
    if problems:
        return  # not YAML once ${} parts are in: nothing to read
    workloads, images = len(ws.workloads), len(ws.images)
    for root, _span in docs:
        relocate(root, span)
        items = root if isinstance(root, YSeq) else [root]  # CDK writes a JSON list of objects
        for item in items:
            if isinstance(item, YMap) and isinstance(item.get("kind"), str):
                paths = len(ws.manifest_paths)
                kubernetes.extract(Document(doc.path, doc.index, item), ws)
                del ws.manifest_paths[paths:]  # a template is no kustomize resource
    for workload in ws.workloads[workloads:]:
        workload.embedded = True
    for use in ws.images[images:]:
        use.origin = f"in {kind} {logical}" + (f", container {use.container}" if use.container else "")
        if substituted and "${" in use.value:
            use.symbolic = True


def _helm(doc: Document, logical: str, props: YMap, ws: Workspace) -> None:
    """A Helm release the Quick Start resource type installs: its chart is fetched by the
    resource's Lambda function (never here); an OCI chart's version is judged by ECR408."""
    chart = props.get("Chart")
    if not isinstance(chart, str) or not chart:
        return
    release = ChartRelease(
        what=f"{HELM} {logical}",
        loc=Loc(doc.path, props.value_span("Chart")),
        chart=chart,
        version_field="Version",
    )
    repository = props.get("Repository")
    if chart.startswith("oci://"):
        release.oci_url = chart
    elif isinstance(repository, str) and repository.startswith("oci://"):
        release.oci_url = repository
    version = props.get("Version")
    if isinstance(version, (str, int, float)) and not isinstance(version, bool):
        release.version = str(version)
        release.version_loc = Loc(doc.path, props.value_span("Version"))
    ws.chart_releases.append(release)
