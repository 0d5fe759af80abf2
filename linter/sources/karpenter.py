"""Karpenter ``EC2NodeClass`` and EKS Auto Mode ``NodeClass`` objects: the node role of every node they launch."""

from __future__ import annotations

import re
from typing import Any

from ..model import Document, Loc, YMap
from ..workspace import NodeClass, NodeGroup, Role, Workspace
from . import DocumentSource, ExtractContext

# Karpenter (https://karpenter.sh/docs/concepts/nodeclasses/): ``spec.role`` is the IAM role the nodes
# use (Karpenter makes the instance profile for it), ``spec.instanceProfile`` an existing instance
# profile instead; the two are mutually exclusive (the EC2NodeClass CRD, karpenter.k8s.aws v1 and
# v1beta1). EKS Auto Mode (https://docs.aws.amazon.com/eks/latest/userguide/create-node-class.html):
# ``spec.role`` of a ``NodeClass`` (eks.amazonaws.com/v1) names the node IAM role. Either role pulls
# the images of every pod placed on those nodes (https://docs.aws.amazon.com/AmazonECR/latest/userguide/ECR_on_EKS.html).
KINDS = {
    ("karpenter.k8s.aws/", "EC2NodeClass"): "karpenter",
    ("eks.amazonaws.com/", "NodeClass"): "auto-mode",
}
_VARIABLE = re.compile(r"\$\{[^}]*\}|\$\([^)]*\)|\$[A-Za-z_][A-Za-z0-9_]*")


def _kind(root: Any) -> str | None:
    if not isinstance(root, dict):
        return None
    api, kind = root.get("apiVersion"), root.get("kind")
    if not isinstance(api, str) or not isinstance(kind, str):
        return None
    return next((k for (prefix, name), k in KINDS.items() if kind == name and api.startswith(prefix)), None)


class NodeClassSource(DocumentSource):
    """An EC2NodeClass or Auto Mode NodeClass (before the generic Kubernetes kind, which would skip it)."""

    name = "node-class"
    priority = 60

    def detect(self, root: Any) -> bool:
        return _kind(root) is not None

    def extract(self, doc: Document, ws: Workspace, ctx: ExtractContext) -> None:
        root = doc.root
        kind = _kind(root)
        if kind is None or not isinstance(root, YMap):
            return
        if not ws.manifest_paths or ws.manifest_paths[-1] != doc.path:
            ws.manifest_paths.append(doc.path)  # a Kubernetes object a kustomization may list
        spec = root.get("spec")
        if not isinstance(spec, YMap):
            return
        meta = root.get("metadata")
        written = meta.get("name") if isinstance(meta, dict) else None
        name = written if isinstance(written, str) and written else "(unnamed)"
        for key, profile in (("role", False), ("instanceProfile", True)):
            value = spec.get(key)
            if isinstance(value, str) and value:
                loc = Loc(doc.path, spec.value_span(key))
                group = NodeGroup(name, loc, "karpenter" if kind == "karpenter" else "eks-auto-mode", kind, None,
                                  role_ref=f"instance profile {value}" if profile else value)
                ws.node_groups.append(group)
                ws.node_classes.append(NodeClass(name, kind, loc, group, value, instance_profile=profile))
                return

    def finish(self, ws: Workspace) -> None:
        resolve_roles(ws)


def _shape(name: str) -> str:
    """A role name with every shell/CloudFormation variable made one wildcard: ``KarpenterNodeRole-*``."""
    return _VARIABLE.sub("*", name)


def _names(role: Role) -> set[str]:
    """The names a node class may use for a role: its RoleName (the last part of its ARN's resource)
    and, when literal, its full ARN."""
    out: set[str] = set()
    if role.arn and role.arn.startswith("arn:"):  # not "${Logical.Arn}": a generated name nothing can spell
        resource = role.arn.rsplit(":", 1)[-1]
        if resource.startswith("role/") and "${" not in resource:
            out.add(resource.rsplit("/", 1)[-1])
        if "${" not in role.arn:
            out.add(role.arn)
    elif role.source == "authorization-details":
        out.add(role.name)
    return out


def resolve_roles(ws: Workspace) -> None:
    """Join each node class's ``spec.role`` to the one role of the scanned files that has that name
    (or ARN). Names with variables (``KarpenterNodeRole-${CLUSTER_NAME}`` in the node class, the
    getting-started template's ``!Sub "KarpenterNodeRole-${ClusterName}"``) match when both have the
    same shape and only one role fits. An instance profile, or a name that no role or several roles
    fit, stays outside the scanned files: not judged, never guessed."""
    _resolve_instance_profiles(ws)
    pending = [c for c in ws.node_classes if not c.instance_profile and c.group.role is None]
    if not pending:
        return
    exact: dict[str, list[Role]] = {}
    shaped: dict[str, list[Role]] = {}
    for role in ws.roles:
        if not role.external:
            for name in _names(role):
                exact.setdefault(name, []).append(role)
    for symbolic in ws.symbolic_role_names:
        shaped.setdefault(_shape(symbolic.pattern), []).append(symbolic.role)
    for node_class in pending:
        written = node_class.role
        if "$" in written:
            found = shaped.get(_shape(written), [])
        else:
            found = exact.get(written, [])
            if not found and written.startswith("arn:") and ":role/" in written:
                found = exact.get(written.rsplit("/", 1)[-1], [])
        unique = {id(r): r for r in found}
        if len(unique) == 1:
            role = node_class.group.role = next(iter(unique.values()))
            _drop_stand_in(ws, role)


def _resolve_instance_profiles(ws: Workspace) -> None:
    """``spec.instanceProfile``: the one instance profile of that name (or shape) in the scanned files, and its role."""
    pending = [c for c in ws.node_classes if c.instance_profile and c.group.role is None]
    if not pending or not ws.instance_profiles:
        return
    for node_class in pending:
        written = node_class.role
        # same name, or the same shape ("...-${CLUSTER_NAME}" and !Sub "...-${ClusterName}"); a
        # pattern never matches a literal name (which cluster it means is unknown)
        found = {id(p.role): p.role for p in ws.instance_profiles if _shape(p.name) == _shape(written)}
        if len(found) == 1:
            role = node_class.group.role = next(iter(found.values()))
            _drop_stand_in(ws, role)


def _drop_stand_in(ws: Workspace, role: Role) -> None:
    """A template's EC2-trusted worker role with no node group of its own stands for "nodes made
    elsewhere" (sources/cloudformation.py): the node class is those nodes, so the stand-in goes."""
    for group in [g for g in ws.node_groups if g.role is role and g.source == "cloudformation"
                  and g.kind == "self-managed" and g.name == role.name and g.loc == role.loc]:
        ws.node_groups.remove(group)
        if group.cluster is not None and group in group.cluster.node_groups:
            group.cluster.node_groups.remove(group)
