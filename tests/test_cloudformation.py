"""CloudFormation: symbolic intrinsic resolution and the facts extracted from templates."""

from __future__ import annotations

import textwrap

import pytest

from ecrlint.sources import cloudformation
from ecrlint.analysis import iam
from ecrlint.sources.cfn_intrinsics import Template, resolve_string, resolve_values
from ecrlint.model import Document
from ecrlint.parsing import parse_text
from ecrlint.workspace import Workspace

TEMPLATE = Template(
    {
        "Parameters": {
            "Env": {"Type": "String", "Default": "prod"},
            "Path": {"Type": "String", "Default": "a/b/c"},
            "NoDefault": {"Type": "String"},
        },
        "Mappings": {
            "PartitionMap": {
                "aws": {"Principal": "ec2.amazonaws.com"},
                "aws-cn": {"Principal": "ec2.amazonaws.com.cn"},
            },
            "EnvMap": {"prod": {"Repo": "app-prod"}, "dev": {"Repo": "app-dev"}},
        },
        "Resources": {"Role": {"Type": "AWS::IAM::Role"}},
    }
)


@pytest.mark.parametrize(
    "value, expected",
    [
        ("plain", ["plain"]),
        (3, ["3"]),
        ({"Ref": "AWS::Region"}, ["${AWS::Region}"]),
        ({"Ref": "Env"}, ["prod"]),  # parameter default
        ({"Ref": "NoDefault"}, ["${NoDefault}"]),
        ({"Ref": "Role"}, ["${Role}"]),  # a resource's physical name is known at deploy time
        ({"Ref": "AWS::NoValue"}, []),
        ({"Fn::GetAtt": ["Role", "Arn"]}, ["${Role.Arn}"]),
        ({"Fn::GetAtt": "Role.Arn"}, ["${Role.Arn}"]),
        ({"Fn::Sub": "arn:${AWS::Partition}:ecr:${AWS::Region}:${AWS::AccountId}:repository/${Env}"},
         ["arn:${AWS::Partition}:ecr:${AWS::Region}:${AWS::AccountId}:repository/prod"]),
        ({"Fn::Sub": "${Role.Arn}"}, ["${Role.Arn}"]),
        ({"Fn::Sub": "repository/${!aws:username}"}, ["repository/${aws:username}"]),
        ({"Fn::Sub": ["${Name}-x", {"Name": {"Ref": "Env"}}]}, ["prod-x"]),
        ({"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":iam::aws:policy/X"]]},
         ["arn:${AWS::Partition}:iam::aws:policy/X"]),
        ({"Fn::FindInMap": ["EnvMap", {"Ref": "Env"}, "Repo"]}, ["app-prod"]),
        # a key known only at deploy time stands for every entry, like both branches of an If
        ({"Fn::FindInMap": ["PartitionMap", {"Ref": "AWS::Partition"}, "Principal"]},
         ["ec2.amazonaws.com", "ec2.amazonaws.com.cn"]),
        ({"Fn::If": ["Cond", "a", "b"]}, ["a", "b"]),
        ({"Fn::If": ["Cond", "a", {"Ref": "AWS::NoValue"}]}, ["a"]),
        ({"Fn::Select": [1, ["a", "b"]]}, ["b"]),
        ({"Fn::Select": ["2", {"Fn::Split": ["/", {"Ref": "Path"}]}]}, ["c"]),
        ({"Fn::Select": [0, {"Fn::Split": ["/", {"Ref": "NoDefault"}]}]}, []),
        ({"Fn::ImportValue": "Shared-RoleArn"}, []),
        ({"Fn::Base64": "x"}, []),
    ],
)
def test_resolve_values(value, expected):
    assert resolve_values(value, TEMPLATE) == expected


def test_resolve_string_is_single_or_none():
    assert resolve_string({"Fn::Sub": "${AWS::AccountId}.dkr.ecr"}, TEMPLATE) == ("${AWS::AccountId}.dkr.ecr", True)
    assert resolve_string({"Fn::If": ["C", "a", "b"]}, TEMPLATE) == (None, False)
    assert resolve_string({"Ref": "Env"}, TEMPLATE) == ("prod", False)


def extract(text: str, path: str = "t.yaml") -> Workspace:
    docs, errors = parse_text(path, textwrap.dedent(text).replace("__ROLE__", ROLE.strip("\n")))
    assert not errors
    ws = Workspace()
    cloudformation.extract(Document(path, 0, docs[0][0], "cloudformation"), ws, None)
    return ws


# a line "__ROLE__" in the templates below stands for a trust policy that lets EC2 assume the role
ROLE = """\
      AssumeRolePolicyDocument:
        Statement: [{Effect: Allow, Principal: {Service: ec2.amazonaws.com}, Action: sts:AssumeRole}]"""


def test_role_policies_from_every_attachment_path():
    ws = extract(
        f"""\
        Resources:
          NodeRole:
            Type: AWS::IAM::Role
            Properties:
              RoleName: nodes
        __ROLE__
              ManagedPolicyArns:
                - !Sub arn:${{AWS::Partition}}:iam::aws:policy/AmazonEKSWorkerNodePolicy
                - !Ref Shared
                - arn:aws:iam::111122223333:policy/elsewhere
                - !ImportValue SomePolicyArn
              Policies:
                - PolicyName: inline
                  PolicyDocument: {{Statement: [{{Effect: Allow, Action: "ecr:GetAuthorizationToken", Resource: "*"}}]}}
          Shared:
            Type: AWS::IAM::ManagedPolicy
            Properties:
              PolicyDocument: {{Statement: [{{Effect: Allow, Action: "ecr:BatchGetImage", Resource: "*"}}]}}
          ByName:
            Type: AWS::IAM::Policy
            Properties:
              PolicyName: by-name
              Roles: [nodes]
              PolicyDocument: {{Statement: [{{Effect: Allow, Action: "ecr:GetDownloadUrlForLayer", Resource: "*"}}]}}
          ByRef:
            Type: AWS::IAM::RolePolicy
            Properties:
              PolicyName: by-ref
              RoleName: !Ref NodeRole
              PolicyDocument: {{Statement: [{{Effect: Deny, Action: "ecr:PutImage", Resource: "*"}}]}}
          Nodes:
            Type: AWS::EKS::Nodegroup
            Properties: {{ClusterName: demo, NodeRole: !GetAtt NodeRole.Arn, Subnets: [s]}}
        """
    )
    (role,) = ws.roles
    assert [p.name for p in role.policies] == ["inline", "AmazonEKSWorkerNodePolicy", "Shared", "by-name", "by-ref"]
    assert role.managed_policy_names == ["AmazonEKSWorkerNodePolicy"]
    assert [u for u, _ in role.unresolved_policies] == [
        "arn:aws:iam::111122223333:policy/elsewhere",
        "Fn::ImportValue SomePolicyArn",
    ]
    assert role.arn == "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/nodes"
    assert (role.loc.line, role.loc.span.column) == (2, 3)
    assert all(iam.evaluate(role.policies, a).allowed for a in iam.ECR_PULL_ACTIONS)
    assert iam.evaluate(role.policies, "ecr:PutImage").status == "denied"
    assert len(ws.policies) == 4  # every written policy document; bundled copies are not "seen"
    (group,) = ws.node_groups
    assert (group.name, group.kind, group.role) == ("Nodes", "managed", role)


def test_node_roles_by_every_discovery_path():
    ws = extract(
        f"""\
        Resources:
          Cluster:
            Type: AWS::EKS::Cluster
            Properties:
              Name: demo
              ComputeConfig: {{Enabled: true, NodeRoleArn: !GetAtt AutoRole.Arn}}
          AutoRole:
            Type: AWS::IAM::Role
            Properties:
        __ROLE__
          LtRole:
            Type: AWS::IAM::Role
            Properties:
        __ROLE__
          LcRole:
            Type: AWS::IAM::Role
            Properties:
        __ROLE__
          WorkerOnly:
            Type: AWS::IAM::Role
            Properties:
        __ROLE__
              ManagedPolicyArns: [arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy]
          LtProfile:
            Type: AWS::IAM::InstanceProfile
            Properties: {{Roles: [!Ref LtRole]}}
          LcProfile:
            Type: AWS::IAM::InstanceProfile
            Properties: {{Roles: [!Ref LcRole]}}
          Lt:
            Type: AWS::EC2::LaunchTemplate
            Properties:
              LaunchTemplateData:
                IamInstanceProfile: !If [Own, {{Name: !Ref LtProfile}}, {{Arn: !Ref ProfileParam}}]
          Lc:
            Type: AWS::AutoScaling::LaunchConfiguration
            Properties: {{IamInstanceProfile: !GetAtt LcProfile.Arn}}
          MixedAsg:
            Type: AWS::AutoScaling::AutoScalingGroup
            Properties:
              MixedInstancesPolicy:
                LaunchTemplate:
                  LaunchTemplateSpecification: {{LaunchTemplateId: !Ref Lt, Version: "1"}}
          LcAsg:
            Type: AWS::AutoScaling::AutoScalingGroup
            Properties: {{LaunchConfigurationName: !Ref Lc}}
          Managed:
            Type: AWS::EKS::Nodegroup
            Properties: {{ClusterName: !Ref Cluster, NodeRole: !Ref RoleArnParam, Subnets: [s]}}
        """
    )
    groups = {(g.name, g.kind, g.role.name if g.role else g.role_ref) for g in ws.node_groups}
    assert groups == {
        ("demo", "auto-mode", "AutoRole"),
        ("MixedAsg", "self-managed", "LtRole"),
        ("LcAsg", "self-managed", "LcRole"),
        ("WorkerOnly", "self-managed", "WorkerOnly"),  # EC2-trusted with AmazonEKSWorkerNodePolicy
        ("Managed", "managed", "${RoleArnParam}"),  # a parameter: outside the files, never judged
    }
    (cluster,) = ws.clusters
    assert cluster.name == "demo"
    assert {g.name for g in cluster.node_groups} == {"demo", "Managed"}


def test_a_policy_list_known_only_at_deploy_time_leaves_the_role_unjudged():
    ws = extract(
        """\
        Parameters:
          PolicyArns: {Type: CommaDelimitedList}
        Resources:
          NodeRole:
            Type: AWS::IAM::Role
            Properties:
        __ROLE__
              ManagedPolicyArns: !Ref PolicyArns
          Nodes:
            Type: AWS::EKS::Nodegroup
            Properties: {ClusterName: demo, NodeRole: !GetAtt NodeRole.Arn, Subnets: [s]}
        """
    )
    (role,) = ws.roles
    assert [(text, loc.line) for text, loc in role.unresolved_policies] == [("Ref PolicyArns", 9)]


def test_an_asg_without_eks_signs_is_not_a_node_group():
    ws = extract(
        f"""\
        Resources:
          WebRole:
            Type: AWS::IAM::Role
            Properties:
        __ROLE__
          Profile:
            Type: AWS::IAM::InstanceProfile
            Properties: {{Roles: [!Ref WebRole]}}
          Lc:
            Type: AWS::AutoScaling::LaunchConfiguration
            Properties: {{IamInstanceProfile: !Ref Profile}}
          Asg:
            Type: AWS::AutoScaling::AutoScalingGroup
            Properties: {{LaunchConfigurationName: !Ref Lc}}
        """
    )
    assert ws.node_groups == []


def test_fargate_profiles_and_repositories():
    ws = extract(
        """\
        Resources:
          Cluster:
            Type: AWS::EKS::Cluster
            Properties: {Name: demo}
          PodRole:
            Type: AWS::IAM::Role
            Properties:
              AssumeRolePolicyDocument:
                Statement: [{Effect: Allow, Principal: {Service: eks-fargate-pods.amazonaws.com}, Action: sts:AssumeRole}]
          Profile:
            Type: AWS::EKS::FargateProfile
            Properties:
              ClusterName: !Ref Cluster
              FargateProfileName: apps
              PodExecutionRoleArn: !GetAtt PodRole.Arn
              Selectors:
                - Namespace: apps
                  Labels: [{Key: tier, Value: web}]
          Repo:
            Type: AWS::ECR::Repository
            Properties:
              RepositoryName: team/app
              RepositoryPolicyText:
                Version: "2008-10-17"
                Statement: [{Effect: Allow, Principal: {AWS: "arn:aws:iam::444455556666:root"}, Action: ecr:BatchGetImage}]
        """
    )
    (profile,) = ws.fargate_profiles
    assert (profile.name, profile.role.name, profile.role_ref, profile.cluster.name) == (
        "apps", "PodRole", "${PodRole.Arn}", "demo"
    )
    assert [(s.namespace, s.labels) for s in profile.selectors] == [("apps", {"tier": "web"})]
    assert profile.role_loc.line == 15
    (repo,) = ws.repositories
    assert (repo.name, repo.logical, repo.registry_policy) == ("team/app", "Repo", False)
    assert [p.name for p in ws.policies] == ["Repo"]  # repository policies are checked by ECR204/205 too


def test_embedded_manifests_are_read_with_positions_in_the_template():
    """AWSQS::Kubernetes::Resource (a literal block, !Sub too) and CDK's JSON-string Manifest: the
    workloads are read like manifest files, positions in the template; a worker keeps their pod
    specs (the template cannot be re-read for them)."""
    from helpers import FIXTURES, lint, message_of

    root = FIXTURES / "images"
    one = lint("cfn_manifests_fail.yaml", cwd=root, select="ECR1,ECR408")
    two = lint("cfn_manifests_fail.yaml", "cfn_manifests_pass.yaml", cwd=root, select="ECR1,ECR408", jobs=2)
    assert [(f.rule, f.span) for f in one.findings] == [(f.rule, f.span) for f in two.findings]
    assert message_of(one, "ECR101", 25).startswith(
        'image "datadog/agent:7" (in AWSQS::Kubernetes::Resource AgentManifest, container agent) has no registry host'
    )
    assert sorted((w.kind, w.name) for w in one.workspace.workloads) == [("DaemonSet", "agent"), ("Deployment", "app"),
                                                                         ("Pod", "cdk")]
    assert all(w.embedded and w.pod_spec is not None for w in two.workspace.workloads)
    assert "cfn_manifests_fail.yaml" not in one.workspace.manifest_paths
