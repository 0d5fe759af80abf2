"""eksctl ClusterConfig files into facts: the node roles eksctl creates (with its defaults), clusters, Fargate profiles."""

from __future__ import annotations

from typing import Any, Iterable

from ..analysis import awsdata
from ..analysis import iam
from ..model import Document, Loc, YMap, YSeq
from . import DocumentSource, ExtractContext
from ..workspace import Cluster, FargateProfile, FargateSelector, NodeGroup, PolicyDocument, Role, Workspace

# eksctl's node-role policies: makeManagedPolicies in
# https://github.com/eksctl-io/eksctl/blob/main/pkg/cfn/builder/iam_helper.go
WORKER_NODE = "AmazonEKSWorkerNodePolicy"
CNI = "AmazonEKS_CNI_Policy"
SSM = "AmazonSSMManagedInstanceCore"
PULL_ONLY = "AmazonEC2ContainerRegistryPullOnly"  # since eksctl 0.210.0 (ReadOnly before)
POWER_USER = "AmazonEC2ContainerRegistryPowerUser"
CLOUDWATCH = "CloudWatchAgentServerPolicy"
EBS = "service-role/AmazonEBSCSIDriverPolicy"
# Auto Mode node role (pkg/cfn/builder/roles/auto-mode-node-role.yaml).
AUTO_MODE = ("AmazonEC2ContainerRegistryPullOnly", "AmazonEKSWorkerNodeMinimalPolicy")
AUTO_MODE_PUBLIC = "AmazonElasticContainerRegistryPublicReadOnly"  # only in the aws partition
# Karpenter node role (pkg/cfn/builder/karpenter.go).
KARPENTER = (WORKER_NODE, CNI, PULL_ONLY, SSM)


def partition_of(region: str | None) -> str:
    """The partition of a region code ("aws" when the region is unknown or a placeholder)."""
    if isinstance(region, str):
        return awsdata.region_partition(region) or "aws"
    return "aws"


def default_policy_names(iam_config: Any, managed: bool, with_oidc: bool) -> list[str]:
    """The managed policies eksctl attaches to a node group's role besides ``attachPolicyARNs``."""
    names: list[str] = []
    attach = iam_config.get("attachPolicyARNs") if isinstance(iam_config, dict) else None
    if not isinstance(attach, list):
        attach = None  # eksctl's schema requires a list; anything else attaches nothing
    addons = iam_config.get("withAddonPolicies") if isinstance(iam_config, dict) else None
    addons = addons if isinstance(addons, dict) else {}
    if not attach:
        names.append(WORKER_NODE)
        if not with_oidc:
            names.append(CNI)  # with OIDC the CNI gets its own IRSA role instead
        if managed:
            names.append(PULL_ONLY)
        names.append(SSM)
    if addons.get("imageBuilder") is True:
        names.append(POWER_USER)
    elif not managed:
        # eksctl keeps ECR pull on self-managed groups even when attachPolicyARNs replaces the rest
        names.append(PULL_ONLY)
    if addons.get("cloudWatch") is True:
        names.append(CLOUDWATCH)
    if addons.get("ebs") is True:
        names.append(EBS)
    # A default whose name matches a listed ARN's resource name is attached once (de-duplicated).
    listed = {_resource_name(a) for a in attach or () if isinstance(a, str)}
    return [n for n in dict.fromkeys(names) if n not in listed]


def _resource_name(arn: str) -> str:
    resource = arn.split(":", 5)[-1]
    return resource.split("/", 1)[1] if "/" in resource else resource


class EksctlSource(DocumentSource):
    name = "eksctl"
    priority = 10

    def detect(self, root: Any) -> bool:
        api = root.get("apiVersion") if isinstance(root, dict) else None
        return isinstance(api, str) and api.startswith("eksctl.io/") and root.get("kind") == "ClusterConfig"

    def extract(self, doc: Document, ws: Workspace, ctx: ExtractContext) -> None:
        extract(doc, ws, ctx)


def extract(doc: Document, ws: Workspace, ctx: ExtractContext | None = None) -> None:
    root = doc.root
    if not isinstance(root, YMap):
        return
    path = doc.path
    meta = root.get("metadata")
    metadata = meta if isinstance(meta, YMap) else YMap(root.span)
    name = _text(metadata, "name")
    region = _text(metadata, "region")
    cluster_loc = Loc(path, metadata.value_span("name") if name else root.key_span("metadata"))
    cluster = Cluster(name or "(unnamed)", cluster_loc, "eksctl", path, region=region)
    ws.clusters.append(cluster)
    partition = partition_of(region)
    written_iam = root.get("iam")
    cluster_iam = written_iam if isinstance(written_iam, YMap) else YMap(root.span)
    with_oidc = cluster_iam.get("withOIDC") is True

    for key, managed in (("nodeGroups", False), ("managedNodeGroups", True)):
        groups = root.get(key)
        if not isinstance(groups, YSeq):
            continue
        for ng in groups:
            if isinstance(ng, YMap):
                _node_group(ng, managed, with_oidc, partition, cluster, path, ws)

    auto = root.get("autoModeConfig")
    if isinstance(auto, YMap) and auto.get("enabled") is True:
        _auto_mode(auto, partition, cluster, path, ws, root)
    karpenter = root.get("karpenter")
    if isinstance(karpenter, YMap):
        role = _eksctl_role(
            f"eksctl-KarpenterNodeRole-{cluster.name}", Loc(path, root.key_span("karpenter")), KARPENTER, partition
        )
        ws.roles.append(role)
        _add_group(ws, cluster, NodeGroup("karpenter", role.loc, "eksctl", "karpenter", role, cluster))

    _fargate_profiles(root, cluster_iam, cluster, path, ws)


def _node_group(
    ng: YMap, managed: bool, with_oidc: bool, partition: str, cluster: Cluster, path: str, ws: Workspace
) -> None:
    written_name, written_iam = ng.get("name"), ng.get("iam")
    name = written_name if isinstance(written_name, str) else "(unnamed)"
    config = written_iam if isinstance(written_iam, YMap) else None
    loc = Loc(path, ng.key_span("iam") if "iam" in ng else ng.value_span("name"))
    kind = "managed" if managed else "self-managed"
    if config is not None:
        for key in ("instanceRoleARN", "instanceProfileARN"):
            if isinstance(config.get(key), str) and config[key]:
                # an existing role: its policies live outside these files, so it is not judged
                _add_group(ws, cluster, NodeGroup(name, loc, "eksctl", kind, None, cluster, role_ref=config[key]))
                return
    config = config if config is not None else YMap(ng.span)
    role_name = _text(config, "instanceRoleName")
    role = _eksctl_role(
        role_name or f"eksctl-{cluster.name}-nodegroup-{name}-NodeInstanceRole",
        loc,
        default_policy_names(config, managed, with_oidc),
        partition,
        named=role_name is not None,
    )
    attach = config.get("attachPolicyARNs")
    if isinstance(attach, YSeq):
        for i, arn in enumerate(attach):
            item_loc = Loc(path, attach.item_span(i))
            bundled = iam.managed_policy(arn, item_loc) if isinstance(arn, str) else None
            if bundled is not None:
                role.policies.append(bundled)
                role.managed_policy_names.append(bundled.name)
            else:
                role.unresolved_policies.append((str(arn), item_loc))
    inline = config.get("attachPolicy")
    if isinstance(inline, dict):
        policy = PolicyDocument(inline, Loc(path, config.value_span("attachPolicy")), f"{name} iam.attachPolicy", identity=True)
        role.policies.append(policy)
        ws.policies.append(policy)
    _boundary(role, config, "instanceRolePermissionsBoundary", path)
    ws.roles.append(role)
    group = NodeGroup(name, loc, "eksctl", kind, role, cluster)
    group.replaces_default_policies = managed and isinstance(attach, YSeq) and len(attach) > 0
    _add_group(ws, cluster, group)


def _boundary(role: Role, config: YMap, key: str, path: str) -> None:
    """eksctl's ``iam.instanceRolePermissionsBoundary`` of a node group: an ARN; an AWS managed
    policy is bundled, any other is kept as written and not judged."""
    arn = _text(config, key)
    if arn:
        loc = Loc(path, config.value_span(key))
        role.boundary_ref = (arn, loc)
        role.boundary = iam.managed_policy(arn, loc)


def _text(node: YMap, key: str) -> str | None:
    """``node[key]`` when it is a string."""
    value = node.get(key)
    return value if isinstance(value, str) else None


def _eksctl_role(name: str, loc: Loc, policy_names: Iterable[str], partition: str, named: bool = False) -> Role:
    role = Role(
        name=name,
        loc=loc,
        source="eksctl",
        arn=f"arn:{partition}:iam::${{AWS::AccountId}}:role/{name}" if named else None,
    )
    for policy_name in policy_names:
        role.managed_policy_names.append(policy_name.rsplit("/", 1)[-1])
        bundled = iam.managed_policy(f"arn:{partition}:iam::aws:policy/{policy_name}", loc)
        if bundled is not None:
            role.policies.append(bundled)
        # eksctl's own non-ECR add-on policies (CloudWatch agent, EBS CSI) are not bundled: they are
        # known by name, so they do not make the role "unknown".
    return role


def _auto_mode(auto: YMap, partition: str, cluster: Cluster, path: str, ws: Workspace, root: YMap) -> None:
    loc = Loc(path, root.key_span("autoModeConfig"))
    arn = auto.get("nodeRoleARN")
    if isinstance(arn, str) and arn:
        _add_group(ws, cluster, NodeGroup("auto-mode", loc, "eksctl", "auto-mode", None, cluster, role_ref=arn))
        return
    names = list(AUTO_MODE) + ([AUTO_MODE_PUBLIC] if partition == "aws" else [])
    role = _eksctl_role(f"eksctl-{cluster.name}-AutoModeNodeRole", loc, names, partition)
    ws.roles.append(role)
    _add_group(ws, cluster, NodeGroup("auto-mode", loc, "eksctl", "auto-mode", role, cluster))


def _add_group(ws: Workspace, cluster: Cluster, group: NodeGroup) -> None:
    ws.node_groups.append(group)
    cluster.node_groups.append(group)


def _fargate_profiles(root: YMap, cluster_iam: YMap, cluster: Cluster, path: str, ws: Workspace) -> None:
    profiles = root.get("fargateProfiles")
    if not isinstance(profiles, YSeq):
        return
    default_arn = cluster_iam.get("fargatePodExecutionRoleARN")
    default_arn = default_arn if isinstance(default_arn, str) and default_arn else None
    for item in profiles:
        if not isinstance(item, YMap):
            continue
        selectors = []
        raw = item.get("selectors")
        if isinstance(raw, YSeq):
            for i, sel in enumerate(raw):
                if isinstance(sel, dict) and isinstance(sel.get("namespace"), str):
                    written_labels = sel.get("labels")
                    labels = written_labels if isinstance(written_labels, dict) else {}
                    selectors.append(
                        FargateSelector(
                            sel["namespace"], {str(k): str(v) for k, v in labels.items()}, Loc(path, raw.item_span(i))
                        )
                    )
        own = item.get("podExecutionRoleARN")
        own = own if isinstance(own, str) and own else None
        written_name = item.get("name")
        name = written_name if isinstance(written_name, str) else "(unnamed)"
        profile = FargateProfile(
            name=name,
            loc=Loc(path, item.value_span("name") if "name" in item else item.span),
            source="eksctl",
            selectors=selectors,
            role_ref=own or default_arn,
            role_loc=Loc(path, item.value_span("podExecutionRoleARN"))
            if own
            else (Loc(path, cluster_iam.value_span("fargatePodExecutionRoleARN")) if default_arn else None),
            role_inherited=own is None and default_arn is not None,
            role_generated=own is None and default_arn is None,
            cluster=cluster,
            cluster_name=cluster.name,
        )
        ws.fargate_profiles.append(profile)
        cluster.fargate_profiles.append(profile)
