"""Karpenter EC2NodeClass and EKS Auto Mode NodeClass roles: node roles in ECR201/ECR206 and ``ecrlint links``."""

from __future__ import annotations

import pytest

from ecrlint.analysis.links import build_links
from ecrlint.model import NO_SPAN, Loc
from ecrlint.output.links import format_text
from ecrlint.sources.karpenter import resolve_roles
from ecrlint.workspace import NodeClass, NodeGroup, Role, SymbolicRoleName, Workspace
from helpers import FIXTURES, assert_fixture, lint

KARPENTER = FIXTURES / "karpenter"


@pytest.mark.parametrize("repository", ["scoped-role-fail", "auto-mode-fail", "instance-profile-fail", "pass"])
def test_repository(repository):
    root = KARPENTER / repository
    assert_fixture(root, cwd=root, select="ECR2")


def test_links_show_each_node_class_and_its_role():
    result = lint(".", cwd=KARPENTER / "auto-mode-fail", select="ECR001")
    text = format_text(build_links(result.workspace, result.config))
    assert text.splitlines()[1:] == [
        '  node group "private-compute" (auto-mode, k8s/nodeclasses.yaml:7): node role "AutoNodeRole" (infra/roles.yaml:3)',
        '  node group "gpu" (karpenter, k8s/nodeclasses.yaml:18): node role "GpuNodeRole" (infra/roles.yaml:16)',
        '  node group "legacy" (karpenter, k8s/nodeclasses.yaml:26): '
        "node role instance profile KarpenterNodeInstanceProfile-prod (not in the scanned files)",
    ]


def test_the_template_role_stand_in_gives_way_to_the_node_class():
    result = lint(".", cwd=KARPENTER / "scoped-role-fail", select="ECR001")
    groups = [(g.name, g.kind, g.role.name if g.role else None) for g in result.workspace.node_groups]
    assert groups == [("default", "karpenter", "KarpenterNodeRole")]


LOC = Loc("x.yaml", NO_SPAN)


def _node_class(written: str) -> tuple[NodeClass, NodeGroup]:
    group = NodeGroup("default", LOC, "karpenter", "karpenter", None, role_ref=written)
    return NodeClass("default", "karpenter", LOC, group, written), group


@pytest.mark.parametrize(
    ("written", "arns", "patterns", "joined"),
    [
        ("nodes", ["arn:aws:iam::111122223333:role/nodes"], [], 0),
        ("nodes", ["arn:${AWS::Partition}:iam::${AWS::AccountId}:role/system/nodes"], [], 0),
        ("arn:aws:iam::111122223333:role/nodes", ["arn:aws:iam::111122223333:role/nodes"], [], 0),
        ("arn:aws:iam::111122223333:role/nodes", ["arn:${AWS::Partition}:iam::${AWS::AccountId}:role/nodes"], [], 0),
        ("KarpenterNodeRole-${CLUSTER_NAME}", ["${A.Arn}"], ["KarpenterNodeRole-${ClusterName}"], 0),
        ("KarpenterNodeRole-$CLUSTER_NAME", ["${A.Arn}"], ["KarpenterNodeRole-${ClusterName}"], 0),
        # never guessed: another name, a literal against a pattern, two roles of the same shape
        ("other", ["arn:aws:iam::111122223333:role/nodes"], [], None),
        ("KarpenterNodeRole-prod", ["${A.Arn}"], ["KarpenterNodeRole-${ClusterName}"], None),
        ("KarpenterNodeRole-${CLUSTER_NAME}", ["${A.Arn}", "${B.Arn}"],
         ["KarpenterNodeRole-${ClusterName}", "KarpenterNodeRole-${Env}"], None),
        ("nodes", ["${A.Arn}"], [], None),  # a generated name nothing can spell
    ],
)
def test_role_names(written, arns, patterns, joined):
    roles = [Role(f"R{i}", LOC, "cloudformation", arn=arn) for i, arn in enumerate(arns)]
    node_class, group = _node_class(written)
    ws = Workspace(roles=roles, node_groups=[group], node_classes=[node_class],
                   symbolic_role_names=[SymbolicRoleName(r, p) for r, p in zip(roles, patterns, strict=False)])
    resolve_roles(ws)
    assert group.role is (roles[joined] if joined is not None else None)


def test_an_instance_profile_is_not_taken_for_a_role_of_the_same_name():
    role = Role("R", LOC, "cloudformation", arn="arn:aws:iam::111122223333:role/nodes")
    group = NodeGroup("legacy", LOC, "karpenter", "karpenter", None, role_ref="instance profile nodes")
    ws = Workspace(roles=[role], node_groups=[group],
                   node_classes=[NodeClass("legacy", "karpenter", LOC, group, "nodes", instance_profile=True)])
    resolve_roles(ws)
    assert group.role is None


@pytest.mark.parametrize(
    ("written", "profiles", "joined"),
    [
        ("nodes-prod", ["nodes-prod"], True),
        ("nodes-${CLUSTER_NAME}", ["nodes-${ClusterName}"], True),
        ("nodes-prod", ["nodes-${ClusterName}"], False),  # a pattern never matches a literal name
        ("nodes-${CLUSTER_NAME}", ["nodes-${ClusterName}", "nodes-${Env}"], False),  # two roles fit
    ],
)
def test_instance_profiles(written, profiles, joined):
    from ecrlint.workspace import InstanceProfile

    roles = [Role(f"R{i}", LOC, "cloudformation", arn=f"${{R{i}.Arn}}") for i in range(len(profiles))]
    group = NodeGroup("default", LOC, "karpenter", "karpenter", None, role_ref=f"instance profile {written}")
    ws = Workspace(roles=roles, node_groups=[group],
                   node_classes=[NodeClass("default", "karpenter", LOC, group, written, instance_profile=True)],
                   instance_profiles=[InstanceProfile(n, r, LOC) for n, r in zip(profiles, roles, strict=True)])
    resolve_roles(ws)
    assert (group.role is roles[0]) is joined
