"""The terraform-aws-modules/eks module read from its inputs, as its own source defines what it creates.

Built from the module's source at the tags v17.0.0 .. v21.0.0 (github.com/terraform-aws-modules/
terraform-aws-eks); the table with file and line citations is in README "Terraform". In every major
version since v18 a node group the module creates gets a role of its own with
AmazonEKSWorkerNodePolicy and AmazonEC2ContainerRegistryReadOnly attached (+ the CNI policy and
``iam_role_additional_policies``); ``create_iam_role = false`` uses ``iam_role_arn`` instead. A
Fargate profile's created role carries AmazonEKSFargatePodExecutionRolePolicy and trusts
eks-fargate-pods.amazonaws.com. v17 (``node_groups``/``worker_groups``) is not read: a note says so.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from ..analysis import iam
from ..model import Loc, Span, YMap
from ..workspace import FargateProfile, FargateSelector, NodeGroup, Role
from .terraform_eval import Evaluator, Partial, Unknown, is_known, to_text
from .terraform_hcl import Block

if TYPE_CHECKING:
    from .terraform_facts import _Extractor

# modules/eks-managed-node-group/main.tf and modules/self-managed-node-group/main.tf (v18-v21)
NODE_POLICIES = ("AmazonEKSWorkerNodePolicy", "AmazonEC2ContainerRegistryReadOnly", "AmazonEKS_CNI_Policy")
# modules/fargate-profile/main.tf (v18-v21)
FARGATE_POLICIES = ("AmazonEKSFargatePodExecutionRolePolicy",)
_MAJOR = re.compile(r"(\d+)")


_EXACT = re.compile(r"^\s*=?\s*v?(\d+)\.(\d+)(?:\.\d+)?\s*$")
_PESSIMISTIC = re.compile(r"^\s*~>\s*v?(\d+)\.(\d+)(\.\d+)?\s*$")
NEWEST = 10**6  # "the newest release of that major": what `terraform init` picks for "~> 20.0"


def _version(version: Any, source: str) -> tuple[int, int] | None:
    """(major, minor) the module call resolves to, as far as the constraint says; None: unknown."""
    m = re.search(r"\?ref=v?(\d+)\.(\d+)", source)
    if m:
        return int(m.group(1)), int(m.group(2))
    if not isinstance(version, str):
        return None
    m = _EXACT.match(version)
    if m:
        return int(m.group(1)), int(m.group(2))
    m = _PESSIMISTIC.match(version)
    if m:
        # "~> 20.5" allows 20.5 and later 20.x; "~> 20.5.1" only 20.5.x
        return int(m.group(1)), (int(m.group(2)) if m.group(3) else NEWEST)
    return None


def _major(version: Any, source: str) -> int | None:
    found = _version(version, source)
    if found is not None:
        return found[0]
    if isinstance(version, str):
        m = _MAJOR.search(version)
        if m:
            return int(m.group(1))
    return None


def _trust(service: str, source_arn: str | None = None) -> dict[str, Any]:
    statement: dict[str, Any] = {"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"Service": service}}
    if source_arn is not None:
        statement["Condition"] = {"ArnLike": {"aws:SourceArn": source_arn}}
    return {"Version": "2012-10-17", "Statement": [statement]}


def _fargate_trust(found: tuple[int, int] | None, cluster: str) -> dict[str, Any] | None:
    """modules/fargate-profile/main.tf: the ArnLike aws:SourceArn condition came in v20.11.0
    (commit a070d7b2, #3039); before it the statement has no condition. Unknown version: unknown."""
    if found is None:
        return None
    major, minor = found
    if major > 20 or (major == 20 and minor >= 11):
        arn = "arn:${partition}:eks:${region}:${account_id}:fargateprofile/%s/*" % cluster
        return _trust("eks-fargate-pods.amazonaws.com", arn)
    return _trust("eks-fargate-pods.amazonaws.com")


# Submodules called on their own ("terraform-aws-modules/eks/aws//modules/<name>"): the module
# call's own arguments are one entry of the parent module's map, with the same defaults.
SUBMODULES = {
    "eks-managed-node-group": "eks_managed_node_groups",
    "self-managed-node-group": "self_managed_node_groups",
    "fargate-profile": "fargate_profiles",
}


def eks_module(ex: _Extractor, name: str, block: Block, file: str, sub: str | None = None) -> None:
    ev = Evaluator(ex.m, file)
    attrs = block.body.attributes
    if sub is not None:
        _submodule(ex, name, block, file, sub)
        return
    version = ev.ev(attrs["version"].expr, {}) if "version" in attrs else None
    source = ev.ev(attrs["source"].expr, {}) if "source" in attrs else ""
    found = _version(version, source if isinstance(source, str) else "")
    major = _major(version, source if isinstance(source, str) else "")
    where = f"{file}:{block.span.line}"
    if major is not None and major < 18:
        ex.notes.append(f"{where}: module \"{name}\" is terraform-aws-modules/eks v{major}: versions before 18 are not read")
        return
    cluster_name_value = None
    for key in ("name", "cluster_name"):
        if key in attrs:
            cluster_name_value = ev.ev(attrs[key].expr, {})
            break
    from ..workspace import Cluster

    cluster = Cluster(cluster_name_value if isinstance(cluster_name_value, str) else f"module.{name}",
                      Loc(file, block.key_span), "terraform", file, name_known=isinstance(cluster_name_value, str))
    ex.ws.clusters.append(cluster)
    ex.clusters[(f"module.{name}", None)] = cluster  # submodule calls name it by its name
    for key, kind in (("eks_managed_node_groups", "managed"), ("self_managed_node_groups", "self-managed")):
        defaults = ev.ev(attrs[f"{key[:-1]}_defaults"].expr, {}) if f"{key[:-1]}_defaults" in attrs else {}
        for group_name, config, loc in _entries(ev, attrs.get(key), file, block):
            merged = dict(defaults) if isinstance(defaults, dict) else {}
            merged.update(config)
            if kind == "self-managed":
                # self-managed-node-group: the instance profile decides (create_iam_instance_profile,
                # iam_instance_profile_arn; node_groups.tf and modules/self-managed-node-group/main.tf)
                merged["create_iam_role"] = merged.get("create_iam_instance_profile", True)
                if merged["create_iam_role"] is None:
                    merged["create_iam_role"] = True
                merged["iam_role_arn"] = merged.get("iam_instance_profile_arn")
            role = _role(ex, merged, group_name, loc, NODE_POLICIES, _trust("ec2.amazonaws.com"), f"module.{name}")
            if role is _UNKNOWN_ROLE:
                continue
            group = NodeGroup(group_name, loc, "terraform", kind, role if isinstance(role, Role) else None, cluster,
                              role_ref=role if isinstance(role, str) else None)
            ex.ws.node_groups.append(group)
            cluster.node_groups.append(group)
    for profile_name, config, loc in _entries(ev, attrs.get("fargate_profiles"), file, block):
        role = _role(ex, config, profile_name, loc, FARGATE_POLICIES, _fargate_trust(found, cluster.name), f"module.{name}")
        if role is _UNKNOWN_ROLE:
            continue
        selectors: list[FargateSelector] = []
        raw = config.get("selectors")
        for sel in raw if isinstance(raw, list) else []:
            if isinstance(sel, dict) and isinstance(sel.get("namespace"), str):
                labels = sel.get("labels") or {}
                if isinstance(labels, dict) and is_known(labels):
                    span = getattr(raw, "spans", [loc.span])[0] if getattr(raw, "spans", None) else loc.span
                    selectors.append(FargateSelector(sel["namespace"], {str(k): str(to_text(v)) for k, v in labels.items()},
                                                     Loc(file, span)))
        profile = FargateProfile(
            name=str(config.get("name")) if isinstance(config.get("name"), str) else profile_name,
            loc=loc, source="terraform", selectors=selectors,
            role=role if isinstance(role, Role) else None,
            role_ref=role if isinstance(role, str) else None,
            role_generated=isinstance(role, Role),
            cluster=cluster, cluster_name=cluster.name,
        )
        ex.ws.fargate_profiles.append(profile)
        cluster.fargate_profiles.append(profile)


_UNKNOWN_ROLE = "<unknown>"


def _entries(ev: Evaluator, attr: Any, file: str, block: Block) -> list[tuple[str, dict[str, Any], Loc]]:
    if attr is None:
        return []
    value = ev.ev(attr.expr, {})
    if not isinstance(value, dict):
        return []
    out = []
    for key, config in value.items():
        if not isinstance(config, dict):
            continue
        span = value.spans[key][0] if isinstance(value, YMap) and key in value.spans and getattr(value, "file", file) == file \
            else attr.key_span
        out.append((key, config, Loc(file, span)))
    return out


def _role(ex: _Extractor, config: dict[str, Any], name: str, loc: Loc, policies: tuple[str, ...],
          trust: dict[str, Any] | None, module: str) -> Role | str:
    create = config.get("create_iam_role", True)
    if create is False:
        arn = config.get("iam_role_arn")
        existing = ex.role_of(arn)
        return existing if existing is not None else _describe(arn)
    if not isinstance(create, bool):
        return _UNKNOWN_ROLE
    role = Role(name=f"{module} {name} role", loc=loc, source="terraform", trust_policy=trust,
                trust_loc=loc if trust is not None else None)
    for policy_name in policies:
        bundled = iam.managed_policy(policy_name, loc)
        if bundled is not None:
            role.policies.append(bundled)
            role.managed_policy_names.append(bundled.name)
    extra = config.get("iam_role_additional_policies")
    if isinstance(extra, dict):
        extra_values = list(extra.values())
    elif isinstance(extra, list):
        extra_values = list(extra)
    else:
        extra_values = []
    for arn in extra_values:
        ex._attach(role, arn, loc)
    boundary = config.get("iam_role_permissions_boundary")
    if boundary is not None:
        role.boundary_ref = (_describe(boundary), loc)
        role.boundary = ex._managed(boundary, loc)
    ex.ws.roles.append(role)
    return role


def _describe(value: Any) -> str:
    if isinstance(value, Partial):
        return value.symbolic()
    if isinstance(value, Unknown):
        return value.what
    return str(value)


_ = Span


def _submodule(ex: _Extractor, name: str, block: Block, file: str, sub: str) -> None:
    """One node group or Fargate profile from a submodule call: its arguments are the entry."""
    ev = Evaluator(ex.m, file)
    attrs = block.body.attributes
    config = {key: ev.ev(attr.expr, {}) for key, attr in attrs.items() if key not in ("source", "version", "providers")}
    if config.get("create") is False:
        return
    version = config.pop("version", None) if "version" in config else (ev.ev(attrs["version"].expr, {}) if "version" in attrs else None)
    found = _version(version, "")
    cluster_name = config.get("cluster_name")
    cluster = ex.cluster_of(cluster_name)
    loc = Loc(file, block.key_span)
    label = str(config.get("name")) if isinstance(config.get("name"), str) else f"module.{name}"
    if sub == "fargate-profile":
        role = _role(ex, config, label, loc, FARGATE_POLICIES,
                     _fargate_trust(found, cluster_name if isinstance(cluster_name, str) else "CLUSTER"), f"module.{name}")
        if role is _UNKNOWN_ROLE:
            return
        selectors = []
        raw = config.get("selectors")
        for sel in raw if isinstance(raw, list) else []:
            if isinstance(sel, dict) and isinstance(sel.get("namespace"), str):
                labels = sel.get("labels") or {}
                if isinstance(labels, dict) and is_known(labels):
                    selectors.append(FargateSelector(sel["namespace"], {str(k): str(to_text(v)) for k, v in labels.items()},
                                                     Loc(file, attrs["selectors"].span)))
        profile = FargateProfile(name=label, loc=loc, source="terraform", selectors=selectors,
                                 role=role if isinstance(role, Role) else None,
                                 role_ref=role if isinstance(role, str) else None,
                                 role_generated=isinstance(role, Role), cluster=cluster,
                                 cluster_name=cluster.name if cluster else cluster_name if isinstance(cluster_name, str) else None)
        ex.ws.fargate_profiles.append(profile)
        if cluster is not None:
            cluster.fargate_profiles.append(profile)
        return
    kind = "managed" if sub == "eks-managed-node-group" else "self-managed"
    if kind == "self-managed":
        create = config.get("create_iam_instance_profile", True)
        config["create_iam_role"] = True if create is None else create
        config["iam_role_arn"] = config.get("iam_instance_profile_arn")
    role = _role(ex, config, label, loc, NODE_POLICIES, _trust("ec2.amazonaws.com"), f"module.{name}")
    if role is _UNKNOWN_ROLE:
        return
    group = NodeGroup(label, loc, "terraform", kind, role if isinstance(role, Role) else None, cluster,
                      role_ref=role if isinstance(role, str) else None)
    ex.ws.node_groups.append(group)
    if cluster is not None:
        cluster.node_groups.append(group)
