"""Kubernetes objects written in Terraform: ``kubectl_manifest`` YAML bodies and the Kubernetes
provider's typed workloads (``kubernetes_deployment`` ...), as manifests for the Kubernetes extractor."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterator

from ..model import Document, Span, YMap, YSeq
from .terraform_eval import Evaluator, FileText, Instance, Partial, Ref, Unknown
from .terraform_hcl import Attribute, Body, Template

if TYPE_CHECKING:
    from .terraform_facts import _Extractor

# Kubernetes provider blocks that repeat (a list in the manifest), by block name -> manifest key.
_LISTS = {
    "container": "containers", "init_container": "initContainers", "ephemeral_container": "ephemeralContainers",
    "image_pull_secrets": "imagePullSecrets", "toleration": "tolerations", "volume": "volumes", "env": "env",
    "port": "ports", "volume_mount": "volumeMounts", "env_from": "envFrom", "host_aliases": "hostAliases",
}
_API = {"Deployment": "apps/v1", "DaemonSet": "apps/v1", "StatefulSet": "apps/v1", "ReplicationController": "v1",
        "Job": "batch/v1", "CronJob": "batch/v1", "Pod": "v1"}


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(p[:1].upper() + p[1:] for p in rest)


def manifest_documents(attr: Attribute, value: Any, file: str, index: int) -> Iterator[Document]:
    """``yaml_body``: a heredoc without interpolations keeps its positions; a computed string is
    read with every position on the attribute."""
    from ..parsing import parse_text
    from .terraform_facts import _shift

    expr = attr.expr
    heredoc = expr.heredoc if isinstance(expr, Template) else None
    if isinstance(expr, Template) and heredoc is not None and all(isinstance(p, str) for p in expr.parts):
        docs, problems = parse_text(file, heredoc)
        if not problems:
            for i, (root, _span) in enumerate(docs):
                if root is not None:
                    yield Document(file, index + i, _shift(root, expr.body_line - 1), kind="kubernetes")
        return
    if isinstance(value, FileText):
        return  # file("x.yaml"): a manifest of the tree, which the YAML reader reads with its positions
    if isinstance(value, str):
        docs, problems = parse_text(file, str(value))
        if not problems:
            for i, (root, _span) in enumerate(docs):
                if root is not None:
                    yield Document(file, index + i, _flatten_spans(root, attr.span), kind="kubernetes")


def _flatten_spans(node: Any, span: Span) -> Any:
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, YMap):
            item.span = span
            item.spans = {k: (span, span) for k in item.spans}
            stack.extend(item.values())
        elif isinstance(item, YSeq):
            item.span = span
            item.spans = [span for _ in item.spans]
            stack.extend(item)
    return node


def _body_map(body: Body, ev: Evaluator, scope: dict[str, Any], span: Span) -> YMap:
    out = YMap(span)
    for name, attr in body.attributes.items():
        value = ev.ev(attr.expr, scope)
        key = _camel(name)
        out[key] = None if isinstance(value, (Unknown, Ref, Partial)) else _plain_known(value)
        out.spans[key] = (attr.key_span, attr.span)
    for block in body.blocks:
        inner = _body_map(block.body, ev, scope, block.span)
        if block.type in _LISTS:
            key = _LISTS[block.type]
            seq = out.get(key)
            if not isinstance(seq, YSeq):
                seq = YSeq(block.span)
                out[key] = seq
                out.spans[key] = (block.span, block.span)
            seq.append(inner)
            seq.spans.append(block.span)
        else:
            key = _camel(block.type)
            out[key] = inner
            out.spans[key] = (block.span, block.span)
    return out


def _plain_known(value: Any) -> Any:
    from .terraform_facts import _known_only

    return _known_only(value)


def provider_workload(ex: _Extractor, inst: Instance, kind: str, index: int) -> None:
    """A ``kubernetes_deployment`` (and the other typed workloads) as the manifest it applies."""
    from . import kubernetes as k8s

    block = inst.resource.block
    ev = Evaluator(ex.m, inst.resource.file)
    root = _body_map(block.body, ev, inst.scope, block.key_span)
    root["apiVersion"] = _API.get(kind, "v1")
    root["kind"] = kind
    root.spans["kind"] = (block.key_span, block.key_span)
    root.spans["apiVersion"] = (block.span, block.span)
    k8s.extract(Document(inst.resource.file, index, root, kind="kubernetes"), ex.ws)
