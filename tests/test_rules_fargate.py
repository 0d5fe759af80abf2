"""ECR301-ECR306 on fixtures: exact rule, line, column, and the messages users read."""

from __future__ import annotations

import pytest

from helpers import FIXTURES, assert_fixture, lint, message_of

FARGATE = FIXTURES / "fargate"


@pytest.mark.parametrize(
    "fixture",
    [
        "cfn-fail.yaml",
        "cfn-fail.json",
        "cfn-pass.yaml",
        "eksctl-fail.yaml",
        "eksctl-pass.yaml",
        "eksctl-roles-fail",
        "eks-api-no-role.json",
        "eks-api-bad-arn.json",
        "eks-api-roles-fail",
        "eks-api-pass.json",
        "shared-role-fail.yaml",
        "ecr305-cfn-fail",
        "ecr305-cfn-json-fail",
        "ecr305-eksctl-fail",
        "ecr305-api-fail",
        "ecr305-helm-fail",
        "ecr305-pass",
        "ecr305-unlinked-pass",
        "ecr307-fail",
        "ecr307-pass",
        "ecr305-argo-fail",
    ],
)
def test_fixture(fixture):
    assert_fixture(FARGATE / fixture, select="ECR3")


@pytest.fixture(scope="module")
def cfn_yaml():
    return assert_fixture(FARGATE / "cfn-fail.yaml", select="ECR3")


def test_ecr301_messages(cfn_yaml):
    assert message_of(cfn_yaml, "ECR301", 12) == (
        'no pod execution role for Fargate profile "NoRoleProfile"; set PodExecutionRoleArn to the ARN of a '
        "role trusted by eks-fargate-pods.amazonaws.com"
    )
    assert message_of(cfn_yaml, "ECR301", 23) == (
        'pod execution role "MissingRole" of Fargate profile "DanglingProfile" is not defined in the template; '
        "add the role or reference an existing one"
    )


def test_ecr302_messages(cfn_yaml):
    path = "cfn-fail.yaml"
    assert message_of(cfn_yaml, "ECR302", 31) == (
        f'pod execution role "NodeRole" ({path}:98) of Fargate profile "NodeRoleProfile" cannot be assumed by '
        'eks-fargate-pods.amazonaws.com: its trust policy allows sts:AssumeRole only for "ec2.amazonaws.com"; '
        "trust eks-fargate-pods.amazonaws.com with sts:AssumeRole"
    )
    assert message_of(cfn_yaml, "ECR302", 55) == (
        f'pod execution role "DeniedRole" ({path}:123) of Fargate profile "DeniedProfile" cannot be assumed by '
        f"eks-fargate-pods.amazonaws.com: sts:AssumeRole is denied by Sid NoOneAssumes at {path}:134; "
        "remove the Deny or exempt the service"
    )
    assert message_of(cfn_yaml, "ECR302", 63) == (
        f'pod execution role "WrongSourceRole" ({path}:141) of Fargate profile "WrongSourceProfile" cannot be '
        f"assumed by eks-fargate-pods.amazonaws.com: the condition of the statement at {path}:147 requires "
        'aws:SourceArn "arn:aws:eks:us-east-1:111122223333:cluster/prod", which no Fargate profile ARN matches '
        "(they look like arn:aws:eks:REGION:ACCOUNT:fargateprofile/prod/*); fix the condition"
    )
    assert "uses NotPrincipal, which a role trust policy cannot use" in message_of(cfn_yaml, "ECR302", 71)


def test_ecr303_message_names_each_missing_action(cfn_yaml):
    assert message_of(cfn_yaml, "ECR303", 31) == (
        'pod execution role "NodeRole" (cfn-fail.yaml:98) of Fargate profile "NodeRoleProfile" cannot pull from '
        'ECR: "ecr:GetAuthorizationToken", "ecr:BatchGetImage" and "ecr:GetDownloadUrlForLayer" are not granted '
        "(no statement grants them); attach AmazonEKSFargatePodExecutionRolePolicy"
    )


@pytest.fixture(scope="module")
def shared_role():
    return assert_fixture(FARGATE / "shared-role-fail.yaml", select="ECR3")


def _related(finding) -> list[tuple[int, int, str]]:
    return [(r.loc.line, r.loc.span.column, r.message) for r in finding.related]


def test_a_shared_role_is_reported_once_with_the_other_profiles_related(shared_role):
    path = "shared-role-fail.yaml"
    untrusted = [f for f in shared_role.findings if f.rule == "ECR302"]
    assert [(f.span.line, f.span.column, f.logical) for f in untrusted] == [(16, 28, "AppsProfile")]
    assert untrusted[0].message == (
        f'pod execution role "NodeRole" ({path}:52) of Fargate profiles "AppsProfile", "JobsProfile" and '
        '"BatchProfile" cannot be assumed by eks-fargate-pods.amazonaws.com: its trust policy allows '
        'sts:AssumeRole only for "ec2.amazonaws.com"; trust eks-fargate-pods.amazonaws.com with sts:AssumeRole'
    )
    role_and_profiles = [
        (52, 3, 'pod execution role "NodeRole" of Fargate profiles "AppsProfile", "JobsProfile" and "BatchProfile"'),
        (24, 28, 'Fargate profile "JobsProfile" uses the same role'),
        (32, 28, 'Fargate profile "BatchProfile" uses the same role'),
    ]
    assert _related(untrusted[0]) == role_and_profiles
    [no_pull] = [f for f in shared_role.findings if f.rule == "ECR303"]
    assert no_pull.message.startswith(
        f'pod execution role "NodeRole" ({path}:52) of Fargate profiles "AppsProfile", "JobsProfile" and '
        '"BatchProfile" cannot pull from ECR: '
    )
    assert _related(no_pull) == role_and_profiles
    [unguarded] = [f for f in shared_role.findings if f.rule == "ECR304"]
    assert (unguarded.span.line, unguarded.span.column, unguarded.logical) == (40, 28, "WebProfile")
    assert unguarded.message == (
        f'pod execution role "UnguardedRole" ({path}:64) of Fargate profiles "WebProfile" and "ApiProfile" trusts '
        f"eks-fargate-pods.amazonaws.com without an aws:SourceArn condition (the statement at {path}:70); add "
        'ArnLike aws:SourceArn "arn:aws:eks:REGION:ACCOUNT:fargateprofile/prod/*"'
    )
    assert _related(unguarded) == [
        (64, 3, 'pod execution role "UnguardedRole" of Fargate profiles "WebProfile" and "ApiProfile"'),
        (48, 28, 'Fargate profile "ApiProfile" uses the same role'),
        (70, 13, "the trust statement"),
    ]


def test_a_shared_role_is_evaluated_once(monkeypatch):
    import ecrlint.analysis.fargate

    calls = []
    real = ecrlint.analysis.fargate.check_trust

    def counting(role, *args):
        calls.append(role.name)
        return real(role, *args)

    monkeypatch.setattr(ecrlint.analysis.fargate, "check_trust", counting)
    assert_fixture(FARGATE / "shared-role-fail.yaml", select="ECR302,ECR304")
    assert sorted(calls) == ["NodeRole", "UnguardedRole"]


def test_ecr304_message(cfn_yaml):
    assert message_of(cfn_yaml, "ECR304", 47) == (
        'pod execution role "UnguardedRole" (cfn-fail.yaml:110) of Fargate profile "UnguardedProfile" '
        "trusts eks-fargate-pods.amazonaws.com without an aws:SourceArn condition (the statement at "
        'cfn-fail.yaml:116); add ArnLike aws:SourceArn "arn:aws:eks:REGION:ACCOUNT:fargateprofile/prod/*"'
    )


def test_ecr306_messages(cfn_yaml):
    assert message_of(cfn_yaml, "ECR306", 39) == (
        'PodExecutionRoleArn is !Ref "GoodRole", which returns the role\'s name, not its ARN; '
        "use !GetAtt GoodRole.Arn"
    )
    assert message_of(cfn_yaml, "ECR306", 79) == (
        'pod execution role ARN "arn:aws:iam::<account-id>:role/FargatePods" holds the placeholder '
        '"<account-id>"; put the real value'
    )


def test_ecr306_inherited_arn_reported_once():
    result = assert_fixture(FARGATE / "eksctl-fail.yaml", select="ECR306")
    assert message_of(result, "ECR306", 9) == (
        'pod execution role ARN "arn:aws:iam::ACCOUNT_ID:role/FargatePods" has the placeholder account '
        '"ACCOUNT_ID"; put the 12-digit account ID'
    )


def test_ecr305_message_names_profile_and_field():
    result = assert_fixture(FARGATE / "ecr305-eksctl-fail", select="ECR305")
    assert message_of(result, "ECR305", 4) == (
        'workload DaemonSet/monitoring/node-exporter is selected by Fargate profile "monitoring" '
        "(ecr305-eksctl-fail/cluster.yaml:12), but Fargate does not support DaemonSets; run it on a node group "
        "or change the profile's selectors"
    )
    # its hostNetwork and hostPort are not reported as well: running it on nodes fixes those too
    assert [f.span.line for f in result.findings if f.path.endswith("monitoring.yaml")] == [4]
    result = assert_fixture(FARGATE / "ecr305-cfn-fail", select="ECR305")
    finding = next(f for f in result.findings if f.path.endswith("host.yaml") and f.span.line == 13)
    assert 'hostPort (container "proxy", hostPort 8080)' in finding.message
    assert [(r.loc.path, r.loc.line) for r in finding.related] == [("ecr305-cfn-fail/cluster.yaml", 43)]


def test_ecr305_in_a_rendered_chart_sits_on_the_workload():
    result = assert_fixture(FARGATE / "ecr305-helm-fail", select="ECR305")
    assert sorted((f.path, f.message.split("does not support ")[1].split(";")[0]) for f in result.findings) == [
        ("ecr305-helm-fail/chart/templates/daemonset.yaml", "DaemonSets"),  # its hostNetwork goes with it
        ("ecr305-helm-fail/chart/templates/deployment.yaml", "hostNetwork"),
    ]


def test_cross_file_findings_carry_related_locations():
    result = assert_fixture(FARGATE / "eksctl-roles-fail", select="ECR302")
    (finding,) = result.findings
    assert [(r.loc.path, r.loc.line) for r in finding.related] == [("eksctl-roles-fail/iam.yaml", 4)]


def test_ecr307_message_names_the_profile_and_the_fix():
    result = assert_fixture(FARGATE / "ecr307-fail", select="ECR307")
    assert message_of(result, "ECR307", 43) == (
        "DaemonSet DaemonSet/kube-system/efs-csi-node tolerates the Fargate node taint "
        'eks.amazonaws.com/compute-type=fargate:NoSchedule, and its cluster "prod" has Fargate profile "apps" '
        "(ecr307-fail/cluster.yaml:10): the pod it makes for each Fargate node stays Pending; add the node "
        "affinity eks.amazonaws.com/compute-type NotIn [fargate]"
    )


def test_ecr307_needs_fargate_profiles():
    result = lint("ecr307-fail/k8s", cwd=FARGATE, select="ECR307")
    assert result.findings == []


def _affinity(*terms: list[dict]) -> dict:
    return {"affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
        "nodeSelectorTerms": [{"matchExpressions": t} for t in terms]}}}}


@pytest.mark.parametrize(
    ("spec", "allowed"),
    [
        ({}, True),
        ({"nodeSelector": {"kubernetes.io/os": "linux"}}, True),
        ({"nodeSelector": {"kubernetes.io/os": "windows"}}, False),
        ({"nodeSelector": {"karpenter.sh/nodepool": "default"}}, False),
        ({"nodeSelector": {"eks.amazonaws.com/compute-type": "ec2"}}, False),
        (_affinity([{"key": "eks.amazonaws.com/compute-type", "operator": "NotIn", "values": ["fargate"]}]), False),
        (_affinity([{"key": "eks.amazonaws.com/compute-type", "operator": "NotIn", "values": ["hybrid"]}]), True),
        (_affinity([{"key": "eks.amazonaws.com/compute-type", "operator": "DoesNotExist"}]), False),
        (_affinity([{"key": "kubernetes.io/arch", "operator": "In", "values": ["arm64"]}]), False),
        (_affinity([{"key": "topology.kubernetes.io/zone", "operator": "In", "values": ["a"]}]), False),
        # terms are ORed: one a Fargate node satisfies is enough
        (_affinity([{"key": "node-type", "operator": "In", "values": ["x"]}],
                   [{"key": "kubernetes.io/os", "operator": "In", "values": ["linux"]}]), True),
    ],
)
def test_may_run_on_fargate_nodes(spec, allowed):
    from ecrlint.analysis.fargate import may_run_on_fargate_nodes

    assert may_run_on_fargate_nodes(spec) is allowed


def test_ecr303_warns_naming_a_customer_policy_it_cannot_read(tmp_path):
    # issue 12 item 9 for pod execution roles: no readable policy grants the pull and a customer
    # managed policy might; said as a warning, never silence
    (tmp_path / "fargate.yaml").write_text(
        'AWSTemplateFormatVersion: "2010-09-09"\n'
        "Resources:\n"
        "  PodRole:\n"
        "    Type: AWS::IAM::Role\n"
        "    Properties:\n"
        "      AssumeRolePolicyDocument:\n"
        "        Statement:\n"
        "          - Effect: Allow\n"
        "            Principal: {Service: eks-fargate-pods.amazonaws.com}\n"
        "            Action: sts:AssumeRole\n"
        "            Condition: {ArnLike: {aws:SourceArn: !Sub 'arn:aws:eks:${AWS::Region}:${AWS::AccountId}:fargateprofile/shop/*'}}\n"
        "      ManagedPolicyArns:\n"
        "        - !Sub arn:aws:iam::${AWS::AccountId}:policy/fargate-pull\n"
        "  Profile:\n"
        "    Type: AWS::EKS::FargateProfile\n"
        "    Properties:\n"
        "      ClusterName: shop\n"
        "      PodExecutionRoleArn: !GetAtt PodRole.Arn\n"
        "      Selectors: [{Namespace: shop}]\n"
    )
    result = lint(".", cwd=tmp_path, select="ECR303")
    assert [(f.rule, f.severity.name) for f in result.findings] == [("ECR303", "WARNING")]
    assert "cannot pull from ECR unless arn:aws:iam::${AWS::AccountId}:policy/fargate-pull grants" in result.findings[0].message
