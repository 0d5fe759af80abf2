"""eksctl ClusterConfig: node roles with eksctl's defaults applied exactly, clusters, Fargate profiles.

eksctl's default node-role policies: makeManagedPolicies in
https://github.com/eksctl-io/eksctl/blob/main/pkg/cfn/builder/iam_helper.go
"""

from __future__ import annotations

import textwrap

import pytest

from ecrlint.sources import eksctl
from ecrlint.analysis import iam
from ecrlint.model import Document
from ecrlint.parsing import parse_text
from ecrlint.workspace import Workspace

WORKER, CNI, SSM = "AmazonEKSWorkerNodePolicy", "AmazonEKS_CNI_Policy", "AmazonSSMManagedInstanceCore"
PULL_ONLY, POWER_USER = "AmazonEC2ContainerRegistryPullOnly", "AmazonEC2ContainerRegistryPowerUser"


@pytest.mark.parametrize(
    "config, managed, with_oidc, expected",
    [
        ({}, True, False, [WORKER, CNI, PULL_ONLY, SSM]),
        ({}, False, False, [WORKER, CNI, SSM, PULL_ONLY]),
        ({}, True, True, [WORKER, PULL_ONLY, SSM]),  # withOIDC: the CNI gets its own IRSA role
        ({}, False, True, [WORKER, SSM, PULL_ONLY]),
        # attachPolicyARNs replaces the defaults on managed groups...
        ({"attachPolicyARNs": ["arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy"]}, True, False, []),
        # ...while self-managed groups keep ECR pull
        ({"attachPolicyARNs": ["arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy"]}, False, False, [PULL_ONLY]),
        ({"withAddonPolicies": {"imageBuilder": True}}, True, False, [WORKER, CNI, PULL_ONLY, SSM, POWER_USER]),
        ({"withAddonPolicies": {"imageBuilder": True}}, False, False, [WORKER, CNI, SSM, POWER_USER]),
        ({"attachPolicyARNs": ["arn:aws:iam::aws:policy/X"], "withAddonPolicies": {"imageBuilder": True}},
         True, False, [POWER_USER]),
        ({"withAddonPolicies": {"cloudWatch": True, "ebs": True}}, True, True,
         [WORKER, PULL_ONLY, SSM, "CloudWatchAgentServerPolicy", "service-role/AmazonEBSCSIDriverPolicy"]),
        # a default named in attachPolicyARNs is attached once
        ({"attachPolicyARNs": ["arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryPullOnly"]}, False, False, []),
    ],
)
def test_default_policy_names(config, managed, with_oidc, expected):
    assert eksctl.default_policy_names(config, managed, with_oidc) == expected


@pytest.mark.parametrize(
    "region, partition",
    [("eu-west-1", "aws"), ("cn-northwest-1", "aws-cn"), ("us-gov-west-1", "aws-us-gov"), ("REGION", "aws"), (None, "aws")],
)
def test_partition_of(region, partition):
    assert eksctl.partition_of(region) == partition


def extract(text: str) -> Workspace:
    docs, errors = parse_text("c.yaml", textwrap.dedent(text))
    assert not errors
    ws = Workspace()
    eksctl.extract(Document("c.yaml", 0, docs[0][0], "eksctl"), ws, None)
    return ws


def test_node_groups_roles_and_locations():
    ws = extract(
        """\
        apiVersion: eksctl.io/v1alpha5
        kind: ClusterConfig
        metadata: {name: demo, region: cn-north-1}
        nodeGroups:
          - name: plain
          - name: existing
            iam:
              instanceRoleARN: arn:aws-cn:iam::111122223333:role/nodes
        managedNodeGroups:
          - name: attach
            iam:
              instanceRoleName: demo-nodes
              attachPolicyARNs:
                - arn:aws-cn:iam::aws:policy/AmazonEKSWorkerNodePolicy
                - arn:aws-cn:iam::111122223333:policy/custom
              attachPolicy:
                Statement: [{Effect: Allow, Action: "ecr:GetAuthorizationToken", Resource: "*"}]
        """
    )
    (cluster,) = ws.clusters
    assert (cluster.name, cluster.region, cluster.source) == ("demo", "cn-north-1", "eksctl")
    plain, existing, attach = ws.node_groups
    assert (plain.kind, plain.loc.line, plain.loc.span.column) == ("self-managed", 5, 11)  # no iam: its name
    assert [p.managed_arn for p in plain.role.policies] == [
        f"arn:aws-cn:iam::aws:policy/{n}" for n in (WORKER, CNI, SSM, PULL_ONLY)
    ]
    assert all(iam.evaluate(plain.role.policies, a).allowed for a in iam.ECR_PULL_ACTIONS)
    assert (existing.role, existing.role_ref) == (None, "arn:aws-cn:iam::111122223333:role/nodes")
    assert (attach.kind, attach.loc.line, attach.loc.span.column) == ("managed", 11, 5)  # the iam key
    assert attach.replaces_default_policies and not plain.replaces_default_policies
    role = attach.role
    assert role.name == "demo-nodes" and role.arn == "arn:aws-cn:iam::${AWS::AccountId}:role/demo-nodes"
    assert [p.name for p in role.policies] == ["AmazonEKSWorkerNodePolicy", "attach iam.attachPolicy"]
    assert [u for u, _ in role.unresolved_policies] == ["arn:aws-cn:iam::111122223333:policy/custom"]
    assert [p.name for p in ws.policies] == ["attach iam.attachPolicy"]
    assert cluster.node_groups == ws.node_groups


def test_auto_mode_karpenter_and_fargate_profiles():
    ws = extract(
        """\
        apiVersion: eksctl.io/v1alpha5
        kind: ClusterConfig
        metadata: {name: demo, region: eu-west-1}
        iam:
          withOIDC: true
          fargatePodExecutionRoleARN: arn:aws:iam::111122223333:role/pods
        autoModeConfig:
          enabled: true
        karpenter:
          version: "1.0.0"
        fargateProfiles:
          - name: inherits
            selectors: [{namespace: default}]
          - name: own
            podExecutionRoleARN: arn:aws:iam::111122223333:role/own
            selectors:
              - namespace: apps
                labels: {tier: web}
        """
    )
    auto, karpenter = ws.node_groups
    assert auto.kind == "auto-mode"
    assert sorted(auto.role.managed_policy_names) == [
        "AmazonEC2ContainerRegistryPullOnly", "AmazonEKSWorkerNodeMinimalPolicy", "AmazonElasticContainerRegistryPublicReadOnly"
    ]
    assert karpenter.kind == "karpenter" and PULL_ONLY in karpenter.role.managed_policy_names
    inherits, own = ws.fargate_profiles
    assert (inherits.role_ref, inherits.role_inherited, inherits.role_generated) == (
        "arn:aws:iam::111122223333:role/pods", True, False
    )
    assert (own.role_ref, own.role_inherited, own.loc.line) == ("arn:aws:iam::111122223333:role/own", False, 14)
    assert [(s.namespace, s.labels) for s in own.selectors] == [("apps", {"tier": "web"})]


def test_auto_mode_with_its_own_role_is_not_judged():
    ws = extract(
        """\
        apiVersion: eksctl.io/v1alpha5
        kind: ClusterConfig
        metadata: {name: demo, region: us-gov-west-1}
        autoModeConfig: {enabled: true, nodeRoleARN: "arn:aws-us-gov:iam::111122223333:role/auto"}
        fargateProfiles:
          - name: generated
            selectors: [{namespace: default}]
        """
    )
    (auto,) = ws.node_groups
    assert (auto.role, auto.role_ref) == (None, "arn:aws-us-gov:iam::111122223333:role/auto")
    assert ws.fargate_profiles[0].role_generated
