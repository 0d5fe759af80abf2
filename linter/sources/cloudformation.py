"""CloudFormation templates into facts: IAM roles and their policies, node groups, clusters, Fargate profiles, ECR repositories."""

from __future__ import annotations

import re
from typing import Any, Iterable

from ..analysis import iam
from .cfn_intrinsics import Template, resolve_string, resolve_values
from ..model import Document, Loc, Span, YMap, YSeq
from . import DocumentSource, ExtractContext
from ..workspace import (
    Cluster,
    EcrRepository,
    FargateProfile,
    FargateSelector,
    InstanceProfile,
    NodeGroup,
    PolicyDocument,
    PullThroughRule,
    Role,
    SymbolicRoleName,
    Workspace,
)

ROLE = "AWS::IAM::Role"
INSTANCE_PROFILE = "AWS::IAM::InstanceProfile"
LAUNCH_TEMPLATE = "AWS::EC2::LaunchTemplate"
LAUNCH_CONFIGURATION = "AWS::AutoScaling::LaunchConfiguration"
AUTO_SCALING_GROUP = "AWS::AutoScaling::AutoScalingGroup"

# A reference written as a token by cfn_intrinsics: ${Logical} (Ref) or ${Logical.Attr} (GetAtt).
_TOKEN = re.compile(r"^\$\{([A-Za-z0-9]+)(?:\.([A-Za-z0-9.]+))?\}$")
# arn:<partition>:iam::<account>:role/<path/>name (or instance-profile/...)
_IAM_ARN = re.compile(
    r"^arn:(?:\$\{[^}]*\}|[^:]*):iam::(?:\$\{[^}]*\}|[^:]*):(role|instance-profile)/(?:.*/)?([^/]+)$"
)
# AWS managed policies that only a worker node carries (AWS Managed Policy Reference, e.g.
# https://docs.aws.amazon.com/aws-managed-policy/latest/reference/AmazonEKSWorkerNodePolicy.html).
WORKER_NODE_POLICIES = ("AmazonEKSWorkerNodePolicy", "AmazonEKSWorkerNodeMinimalPolicy")


class CloudFormationSource(DocumentSource):
    name = "cloudformation"
    priority = 20

    def detect(self, root: Any) -> bool:
        return isinstance(root, dict) and ("AWSTemplateFormatVersion" in root or _is_cfn_resources(root.get("Resources")))

    def extract(self, doc: Document, ws: Workspace, ctx: ExtractContext) -> None:
        from . import cfn_images, cfn_manifests

        cfn_images.extract(doc, ws)
        cfn_manifests.extract(doc, ws)
        _cfn_metadata_suppressions(doc, ws)
        extract(doc, ws, ctx)
        _annotate_template(doc, ws)  # after the profiles and clusters of this template exist


def _is_cfn_resources(resources: Any) -> bool:
    if not isinstance(resources, dict) or not resources:
        return False
    for value in resources.values():
        if isinstance(value, dict):
            t = value.get("Type")
            if isinstance(t, str) and (t.startswith("AWS::") or t.startswith("Custom::")):
                return True
    return False


def extract(doc: Document, ws: Workspace, ctx: ExtractContext | None = None) -> None:
    root = doc.root
    resources = root.get("Resources") if isinstance(root, dict) else None
    if not isinstance(resources, YMap):
        return
    _Extractor(doc, resources, ws).run()


class _Extractor:
    def __init__(self, doc: Document, resources: YMap, ws: Workspace) -> None:
        self.doc = doc
        self.path = doc.path
        self.resources = resources
        self.ws = ws
        self.template = Template(doc.root)
        self.roles: dict[str, Role] = {}
        self.clusters: dict[str, Cluster] = {}
        self.node_roles: set[str] = set()

    # --- helpers -------------------------------------------------------------------------------
    def _key_loc(self, logical: str) -> Loc:
        return Loc(self.path, self.resources.key_span(logical))

    def _loc(self, container: Any, key: Any) -> Loc:
        if isinstance(container, YMap):
            return Loc(self.path, container.value_span(key))
        if isinstance(container, YSeq) and isinstance(key, int):
            return Loc(self.path, container.item_span(key))
        return Loc(self.path, getattr(container, "span", Span(1, 1, 1, 1)))

    def _of_type(self, *types: str) -> Iterable[tuple[str, YMap]]:
        for logical, resource in self.resources.items():
            if isinstance(resource, YMap) and resource.get("Type") in types:
                props = resource.get("Properties")
                yield str(logical), props if isinstance(props, YMap) else YMap(resource.span)

    def _type(self, logical: str) -> str | None:
        resource = self.resources.get(logical)
        return resource.get("Type") if isinstance(resource, dict) else None

    def _literal(self, value: Any) -> str | None:
        text, symbolic = resolve_string(value, self.template)
        return text if text is not None and not symbolic else None

    def _items(self, value: Any) -> list[tuple[Any, list[Any], int]]:
        """(item, container, index) of a list that may be chosen by Fn::If (both branches)."""
        if isinstance(value, list):
            out: list[tuple[Any, list[Any], int]] = []
            for i, item in enumerate(value):
                if isinstance(item, dict) and set(item) == {"Fn::If"}:
                    for branch in _if_branches(item):
                        if isinstance(branch, list):
                            out.extend((b, value, i) for b in branch)
                        elif branch is not None:
                            out.append((branch, value, i))
                elif not (isinstance(item, dict) and item.get("Ref") == "AWS::NoValue"):
                    out.append((item, value, i))
            return out
        if isinstance(value, dict) and set(value) == {"Fn::If"}:
            out = []
            for branch in _if_branches(value):
                out.extend(self._items(branch if isinstance(branch, list) else [branch]))
            return out
        return []

    def targets(self, value: Any, *types: str) -> tuple[list[str], list[str]]:
        """Logical IDs of in-template resources of ``types`` that ``value`` names (by Ref, GetAtt,
        ARN or name; every Fn::If branch), and the texts that point outside the template."""
        found: list[str] = []
        outside: list[str] = []
        texts = resolve_values(value, self.template)
        if not texts and value is not None and not (isinstance(value, dict) and value.get("Ref") == "AWS::NoValue"):
            outside.append(_describe(value))
        for text in texts:
            logical = self._target(text, types)
            if logical is None:
                outside.append(text)
            elif logical not in found:
                found.append(logical)
        return found, outside

    def _target(self, text: str, types: tuple[str, ...]) -> str | None:
        m = _TOKEN.match(text)
        if m and self._type(m.group(1)) in types:
            return m.group(1)
        arn = _IAM_ARN.match(text)
        name = arn.group(2) if arn else (text if "/" not in text and ":" not in text else None)
        if name is None:
            return None
        m = _TOKEN.match(name)
        if m and self._type(m.group(1)) in types and not m.group(2):
            return m.group(1)  # arn:...:role/${Role}: Ref of a role is its name
        for logical, props in self._of_type(*types):
            key = "RoleName" if self._type(logical) == ROLE else "InstanceProfileName"
            if key in props and self._literal(props[key]) == name:
                return logical
        return None

    def _policy(self, document: Any, container: Any, key: Any, name: str, identity: bool = True) -> PolicyDocument:
        policy = PolicyDocument(
            document=document, loc=self._loc(container, key), name=name, template=self.template, identity=identity
        )
        self.ws.policies.append(policy)
        return policy

    # --- passes --------------------------------------------------------------------------------
    def run(self) -> None:
        self._roles()
        self._instance_profiles()
        self._policies()
        self._clusters()
        self._managed_node_groups()
        self._self_managed_node_groups()
        self._worker_roles()
        self._fargate_profiles()
        self._repositories()
        self._pull_through_rules()

    def _roles(self) -> None:
        managed_policies = {logical: props for logical, props in self._of_type("AWS::IAM::ManagedPolicy")}
        for logical, props in self._of_type(ROLE):
            role_name = self._literal(props.get("RoleName")) if "RoleName" in props else None
            path = self._literal(props.get("Path")) if "Path" in props else "/"
            role = Role(
                name=logical,
                loc=self._key_loc(logical),
                source="cloudformation",
                trust_policy=props.get("AssumeRolePolicyDocument"),
                trust_loc=self._loc(props, "AssumeRolePolicyDocument") if "AssumeRolePolicyDocument" in props else None,
                arn=(
                    f"arn:${{AWS::Partition}}:iam::${{AWS::AccountId}}:role{path or '/'}{role_name}"
                    if role_name
                    else "${%s.Arn}" % logical
                ),
                template=self.path,
            )
            for item, _container, _index in self._items(props.get("Policies")):
                if isinstance(item, dict) and "PolicyDocument" in item:
                    name = self._literal(item.get("PolicyName")) or f"{logical} inline policy"
                    role.policies.append(self._policy(item["PolicyDocument"], item, "PolicyDocument", name))
            arns = props.get("ManagedPolicyArns")
            items = self._items(arns)
            for item, container, index in items:
                self._attach_managed(role, item, self._loc(container, index), managed_policies)
            if arns is not None and not items and not isinstance(arns, list) and not _is_no_value(arns):
                # !Ref of a CommaDelimitedList parameter, !Split, !ImportValue: the list is unknown offline
                role.unresolved_policies.append((_describe(arns), self._loc(props, "ManagedPolicyArns")))
            if "PermissionsBoundary" in props and not _is_no_value(props.get("PermissionsBoundary")):
                self._boundary(role, props.get("PermissionsBoundary"), self._loc(props, "PermissionsBoundary"))
            self.roles[logical] = role
            self.ws.roles.append(role)
            if "RoleName" in props and role_name is None:
                pattern, _symbolic = resolve_string(props.get("RoleName"), self.template)
                if pattern:  # a name built with !Sub: a Karpenter node class may spell the same shape
                    self.ws.symbolic_role_names.append(SymbolicRoleName(role, pattern))

    def _instance_profiles(self) -> None:
        """Instance profiles with one role of this template, by name (a Karpenter EC2NodeClass's
        ``spec.instanceProfile`` names one)."""
        for logical, props in self._of_type(INSTANCE_PROFILE):
            roles: list[str] = []
            for item, _container, _index in self._items(props.get("Roles")):
                roles.extend(self.targets(item, ROLE)[0])
            if len(set(roles)) != 1 or "InstanceProfileName" not in props:
                continue
            name, _symbolic = resolve_string(props.get("InstanceProfileName"), self.template)
            if name:
                self.ws.instance_profiles.append(InstanceProfile(name, self.roles[roles[0]], self._key_loc(logical)))

    def _attach_managed(self, role: Role, item: Any, loc: Loc, managed_policies: dict[str, YMap]) -> None:
        texts = resolve_values(item, self.template)
        if not texts:
            role.unresolved_policies.append((_describe(item), loc))
            return
        for text in texts:
            bundled = iam.managed_policy(text, loc)
            if bundled is not None:
                role.policies.append(bundled)
                role.managed_policy_names.append(bundled.name)
                continue
            m = _TOKEN.match(text)
            if m and not m.group(2) and m.group(1) in managed_policies:
                continue  # Ref of an AWS::IAM::ManagedPolicy: attached in _policies()
            role.unresolved_policies.append((text, loc))

    def _boundary(self, role: Role, value: Any, loc: Loc) -> None:
        """``PermissionsBoundary``: an AWS managed policy (bundled) or a template's ManagedPolicy
        (attached in ``_policies``); anything else is kept as written and not judged."""
        texts = resolve_values(value, self.template)
        role.boundary_ref = (texts[0] if len(texts) == 1 else _describe(value), loc)
        if len(texts) == 1:
            bundled = iam.managed_policy(texts[0], loc)
            if bundled is not None:
                role.boundary = bundled

    def _policies(self) -> None:
        """AWS::IAM::Policy / ManagedPolicy / RolePolicy attach to roles by name (Ref of the role)."""
        for logical, props in self._of_type("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy", "AWS::IAM::RolePolicy"):
            if "PolicyDocument" not in props:
                continue
            rtype = self._type(logical)
            name_key = "ManagedPolicyName" if rtype == "AWS::IAM::ManagedPolicy" else "PolicyName"
            name = self._literal(props.get(name_key)) or logical
            policy = self._policy(props["PolicyDocument"], props, "PolicyDocument", name)
            attached: list[str] = []
            if rtype == "AWS::IAM::RolePolicy":
                attached, _ = self.targets(props.get("RoleName"), ROLE)
            else:
                for item, _c, _i in self._items(props.get("Roles")):
                    found, _ = self.targets(item, ROLE)
                    attached.extend(found)
            if rtype == "AWS::IAM::ManagedPolicy":
                for role_logical, role_props in self._of_type(ROLE):
                    for item, _c, _i in self._items(role_props.get("ManagedPolicyArns")):
                        if "${%s}" % logical in resolve_values(item, self.template):
                            attached.append(role_logical)
                    bounded = self.roles.get(role_logical)
                    if bounded is not None and bounded.boundary_ref and bounded.boundary_ref[0] == "${%s}" % logical:
                        bounded.boundary = policy  # Ref of a ManagedPolicy is its ARN
            for role_logical in dict.fromkeys(attached):
                role = self.roles.get(role_logical)
                if role is not None and policy not in role.policies:
                    role.policies.append(policy)

    def _clusters(self) -> None:
        for logical, props in self._of_type("AWS::EKS::Cluster"):
            cluster = Cluster(
                name=self._literal(props.get("Name")) or logical,
                loc=self._key_loc(logical),
                source="cloudformation",
                path=self.path,
            )
            self.clusters[logical] = cluster
            self.ws.clusters.append(cluster)
            compute = props.get("ComputeConfig")
            if isinstance(compute, YMap) and "NodeRoleArn" in compute:
                # EKS Auto Mode: nodes pull with ComputeConfig.NodeRoleArn
                self._node_group(logical, cluster.name, "auto-mode", compute.get("NodeRoleArn"), cluster)

    def _cluster_for(self, value: Any) -> Cluster | None:
        found, _ = self.targets(value, "AWS::EKS::Cluster")
        if found:
            return self.clusters.get(found[0])
        name = self._literal(value)
        for cluster in self.clusters.values():
            if name is not None and cluster.name == name:
                return cluster
        return None

    def _node_group(self, logical: str, name: str, kind: str, role_value: Any, cluster: Cluster | None) -> None:
        roles, outside = self.targets(role_value, ROLE)
        if not roles:
            self._add_group(NodeGroup(name, self._key_loc(logical), "cloudformation", kind, None, cluster,
                                      role_ref=", ".join(outside) or None))
        for role_logical in roles:
            self.node_roles.add(role_logical)
            self._add_group(NodeGroup(name, self._key_loc(logical), "cloudformation", kind,
                                      self.roles[role_logical], cluster))

    def _add_group(self, group: NodeGroup) -> None:
        self.ws.node_groups.append(group)
        if group.cluster is not None:
            group.cluster.node_groups.append(group)

    def _managed_node_groups(self) -> None:
        for logical, props in self._of_type("AWS::EKS::Nodegroup"):
            name = self._literal(props.get("NodegroupName")) or logical
            cluster = self._cluster_for(props.get("ClusterName"))
            before = len(self.ws.node_groups)
            self._node_group(logical, name, "managed", props.get("NodeRole"), cluster)
            if cluster is None:  # a cluster defined elsewhere: keep the name it is given here
                name_value = props.get("ClusterName")
                literal = self._literal(name_value)
                for group in self.ws.node_groups[before:]:
                    group.cluster_name = literal
                    group.cluster_ref = _describe(name_value) if literal is None and name_value is not None else None

    def _self_managed_node_groups(self) -> None:
        """Self-managed node groups: ASG -> launch template / launch configuration -> instance profile -> role."""
        for logical, props in self._of_type(AUTO_SCALING_GROUP):
            launchers = self._launchers(props)
            profiles_found, outside = self._launcher_profiles(launchers)
            roles: list[str] = []
            for profile in dict.fromkeys(profiles_found):
                pprops = self.resources[profile].get("Properties")
                for item, _c, _i in self._items(pprops.get("Roles") if isinstance(pprops, dict) else None):
                    found, out = self.targets(item, ROLE)
                    roles.extend(found)
                    outside.extend(out)
            if not launchers:
                continue  # no launch template / configuration in this template: nothing to follow
            if not roles and not outside:
                continue  # instances without an instance profile: not a node group we can see
            if not self._is_eks_group(props, roles, launchers):
                continue
            name = logical
            if not roles:
                self._add_group(NodeGroup(name, self._key_loc(logical), "cloudformation", "self-managed", None,
                                          role_ref=", ".join(dict.fromkeys(outside))))
            for role_logical in dict.fromkeys(roles):
                self.node_roles.add(role_logical)
                self._add_group(NodeGroup(name, self._key_loc(logical), "cloudformation", "self-managed",
                                          self.roles[role_logical]))

    def _launchers(self, asg: YMap) -> list[str]:
        """The launch templates and launch configurations of the template an Auto Scaling group names."""
        launchers: list[str] = []
        specs = [asg.get("LaunchTemplate")]
        mixed = asg.get("MixedInstancesPolicy")
        if isinstance(mixed, dict) and isinstance(mixed.get("LaunchTemplate"), dict):
            specs.append(mixed["LaunchTemplate"].get("LaunchTemplateSpecification"))
        for spec in specs:
            if isinstance(spec, dict):
                for key in ("LaunchTemplateId", "LaunchTemplateName"):
                    if key in spec:
                        launchers.extend(self.targets(spec[key], LAUNCH_TEMPLATE)[0])
        if "LaunchConfigurationName" in asg:
            launchers.extend(self.targets(asg["LaunchConfigurationName"], LAUNCH_CONFIGURATION)[0])
        return launchers

    def _launcher_profiles(self, launchers: list[str]) -> tuple[list[str], list[str]]:
        """The instance profiles the launchers name: (those in the template, references to others)."""
        profiles_found: list[str] = []
        outside: list[str] = []
        for launcher in dict.fromkeys(launchers):
            lprops = self.resources[launcher].get("Properties")
            if not isinstance(lprops, dict):
                continue
            if self._type(launcher) == LAUNCH_TEMPLATE:
                data = lprops.get("LaunchTemplateData")
                ref = data.get("IamInstanceProfile") if isinstance(data, dict) else None
                values = _profile_values(ref)
            else:
                values = [lprops.get("IamInstanceProfile")] if "IamInstanceProfile" in lprops else []
            for value in values:
                found, out = self.targets(value, INSTANCE_PROFILE)
                profiles_found.extend(found)
                outside.extend(out)
        return profiles_found, outside

    def _is_eks_group(self, asg: YMap, roles: list[str], launchers: list[str]) -> bool:
        """An Auto Scaling group is a self-managed EKS node group when something says so: the
        ``kubernetes.io/cluster/<name>`` tag, an EKS bootstrap in user data, an EKS resource in the
        template, or a worker-node policy on its role. A web-server ASG is not a node group."""
        tags = asg.get("Tags")
        if isinstance(tags, list):
            for tag in tags:
                key = resolve_values(tag.get("Key"), self.template) if isinstance(tag, dict) else []
                if any(k.startswith("kubernetes.io/cluster/") for k in key):
                    return True
        if any(isinstance(r, dict) and str(r.get("Type", "")).startswith("AWS::EKS::") for r in self.resources.values()):
            return True
        for role_logical in roles:
            if any(n in WORKER_NODE_POLICIES for n in self.roles[role_logical].managed_policy_names):
                return True
        for launcher in launchers:
            text = repr(self.resources[launcher].get("Properties"))
            if "bootstrap.sh" in text or "nodeadm" in text or "node.eks.aws" in text:
                return True
        return False

    def _worker_roles(self) -> None:
        """A role trusted by EC2 that carries AmazonEKSWorkerNodePolicy is a node role even when no
        node group in this template uses it (the same test as for account dumps, sources/iam_files.py)."""
        for logical, role in self.roles.items():
            if logical in self.node_roles:
                continue
            if any(n in WORKER_NODE_POLICIES for n in role.managed_policy_names) and self._trusts_ec2(role):
                self._add_group(NodeGroup(logical, role.loc, "cloudformation", "self-managed", role))

    def _trusts_ec2(self, role: Role) -> bool:
        trust = role.trust_policy
        if not isinstance(trust, dict):
            return False
        policy = PolicyDocument(trust, role.trust_loc or role.loc, role.name, template=self.template)
        return any(
            stmt.effect == "Allow" and any(s.split(".", 1)[0] == "ec2" for s in iam.service_principals(stmt))
            for stmt in iam.statements(policy)
        )

    def _fargate_profiles(self) -> None:
        for logical, props in self._of_type("AWS::EKS::FargateProfile"):
            selectors: list[FargateSelector] = []
            for item, container, index in self._items(props.get("Selectors")):
                if not isinstance(item, dict):
                    continue
                labels: dict[str, str] = {}
                for label, _c, _i in self._items(item.get("Labels")):
                    if isinstance(label, dict):
                        key, value = self._literal(label.get("Key")), self._literal(label.get("Value"))
                        if key is not None and value is not None:
                            labels[key] = value
                namespace = self._literal(item.get("Namespace"))
                if namespace is not None:
                    selectors.append(FargateSelector(namespace, labels, self._loc(container, index)))
            role_value = props.get("PodExecutionRoleArn")
            roles, outside = self.targets(role_value, ROLE) if role_value is not None else ([], [])
            cluster = self._cluster_for(props.get("ClusterName"))
            text = resolve_values(role_value, self.template) if role_value is not None else []
            profile = FargateProfile(
                name=self._literal(props.get("FargateProfileName")) or logical,
                loc=self._key_loc(logical),
                source="cloudformation",
                selectors=selectors,
                role=self.roles[roles[0]] if roles else None,
                role_ref=text[0] if text else (_describe(role_value) if role_value is not None else None),
                role_loc=self._loc(props, "PodExecutionRoleArn") if role_value is not None else None,
                cluster=cluster,
                cluster_name=cluster.name if cluster else self._literal(props.get("ClusterName")),
                cluster_ref=(_describe(props["ClusterName"]) if cluster is None and props.get("ClusterName") is not None
                             and self._literal(props.get("ClusterName")) is None else None),
            )
            self.ws.fargate_profiles.append(profile)
            if cluster is not None:
                cluster.fargate_profiles.append(profile)

    def _pull_through_rules(self) -> None:
        """``AWS::ECR::PullThroughCacheRule``: repositories ``<EcrRepositoryPrefix>/...`` of the stack's
        registry are filled from the upstream registry on first pull."""
        for logical, props in self._of_type("AWS::ECR::PullThroughCacheRule"):
            prefix = self._literal(props.get("EcrRepositoryPrefix"))
            if not prefix:
                continue  # a prefix known only at deploy time names no repository offline
            upstream = self._literal(props.get("UpstreamRegistryUrl"))
            self.ws.pull_through_rules.append(
                PullThroughRule(prefix, self._key_loc(logical), "cloudformation", upstream=upstream)
            )

    def _repositories(self) -> None:
        for logical, props in self._of_type("AWS::ECR::Repository", "AWS::ECR::RegistryPolicy"):
            registry = self._type(logical) == "AWS::ECR::RegistryPolicy"
            key = "PolicyText" if registry else "RepositoryPolicyText"
            policy = props.get(key)
            self.ws.repositories.append(
                EcrRepository(
                    name=None if registry else self._literal(props.get("RepositoryName")),
                    loc=self._key_loc(logical),
                    policy=policy,
                    logical=logical,
                    registry_policy=registry,
                )
            )
            if isinstance(policy, dict):
                self._policy(policy, props, key, logical, identity=False)


def _is_no_value(value: Any) -> bool:
    return isinstance(value, dict) and value.get("Ref") == "AWS::NoValue"


def _if_branches(value: dict) -> list[Any]:
    arg = value.get("Fn::If")
    if not (isinstance(arg, list) and len(arg) == 3):
        return []
    return [b for b in arg[1:] if not (isinstance(b, dict) and b.get("Ref") == "AWS::NoValue")]


def _profile_values(ref: Any) -> list[Any]:
    """``IamInstanceProfile`` of a launch template: ``{Arn: ...}`` or ``{Name: ...}``, maybe under Fn::If."""
    if isinstance(ref, dict) and set(ref) == {"Fn::If"}:
        return [v for branch in _if_branches(ref) for v in _profile_values(branch)]
    if isinstance(ref, dict):
        return [ref[k] for k in ("Arn", "Name") if k in ref]
    return []


def _describe(value: Any) -> str:
    """A short text for a value that cannot be resolved offline: 'Fn::ImportValue NodeRoleArn'."""
    if isinstance(value, dict) and len(value) == 1:
        (fn, arg), = value.items()
        inner = arg if isinstance(arg, str) else (resolve_string(arg, Template({}))[0] or "...")
        return f"{fn} {inner}"
    return str(value)


# A reference as cfn_intrinsics writes it, with any attribute (``${Role.Arn}``).
_FARGATE_TOKEN = re.compile(r"^\$\{([^}.]+)(?:\.([^}]+))?\}$")


def _annotate_template(doc: Document, ws: Workspace) -> None:
    """Dangling PodExecutionRoleArn references (ECR301) and clusters whose name EKS picks at deploy
    time (no literal ``Name``: the logical ID stands in, and must not be compared with ARNs)."""
    root = doc.root
    resources = root.get("Resources") if isinstance(root, dict) else None
    if not isinstance(resources, dict):
        return
    parameters = root.get("Parameters") if isinstance(root.get("Parameters"), dict) else {}
    for profile in ws.fargate_profiles:
        m = _FARGATE_TOKEN.match(profile.role_ref or "")
        if profile.source == "cloudformation" and profile.loc.path == doc.path and profile.role is None and m:
            target = m.group(1)
            if not target.startswith("AWS::") and target not in resources and target not in parameters:
                profile.role_target_missing = target
    for cluster in ws.clusters:
        if cluster.source == "cloudformation" and cluster.path == doc.path:
            resource = resources.get(cluster.name)
            props = resource.get("Properties") if isinstance(resource, dict) else None
            if isinstance(props, dict) and not isinstance(props.get("Name"), str):
                cluster.name_known = False


def _cfn_metadata_suppressions(doc: Document, ws: Workspace) -> None:
    """``Metadata: {ecrlint: {ignore: [ECR201]}}`` on a resource covers the whole resource."""
    resources = doc.root.get("Resources")
    if not isinstance(resources, YMap):
        return
    for logical, resource in resources.items():
        meta = resource.get("Metadata") if isinstance(resource, dict) else None
        ours = meta.get("ecrlint") if isinstance(meta, dict) else None
        if not isinstance(ours, dict) or "ignore" not in ours:
            continue
        ids = ours["ignore"]
        if isinstance(ids, str):
            ids = ids.split(",")
        rule_ids = frozenset(str(i).strip().upper() for i in ids or () if str(i).strip()) if isinstance(ids, list) else frozenset()
        key_span = resources.key_span(logical)
        end = getattr(resource, "span", key_span)
        region = Span(key_span.line, key_span.column, end.end_line, end.end_column)
        ws.suppression_regions.append((doc.path, region, rule_ids or None, "metadata"))
