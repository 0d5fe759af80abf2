"""ECR206 and ECR207 on fixture repositories (cluster definitions + manifests), run from each repository's root."""

from __future__ import annotations

import pytest

from helpers import FIXTURES, assert_fixture, lint, message_of

CROSSFILE = FIXTURES / "crossfile"
REPOSITORIES = [
    "cfn-nodes-fail",
    "eksctl-fargate-fail",
    "several-clusters-fail",
    "symbolic-account-fail",
    "symbolic-account-pass",
    "cross-account-fail",
    "pull-through-fail",
    "pull-through-pass",
    "pass",
]


@pytest.mark.parametrize("repository", REPOSITORIES)
def test_repository(repository):
    root = CROSSFILE / repository
    assert_fixture(root, cwd=root, select="ECR206,ECR207,ECR211,ECR3")


def _run(repository: str, *paths: str):
    root = CROSSFILE / repository
    return lint(*(paths or ["."]), cwd=root, select="ECR206,ECR207")


def test_ecr206_names_every_node_role_and_what_it_allows():
    result = _run("cfn-nodes-fail")
    assert message_of(result, "ECR206", 20) == (
        'image "111122223333.dkr.ecr.us-east-1.amazonaws.com/team-b/billing:2.0.1" needs ecr:BatchGetImage and '
        'ecr:GetDownloadUrlForLayer on "arn:aws:ecr:us-east-1:111122223333:repository/team-b/billing", but node '
        'role "GeneralNodeRole" (infra/cluster.yaml:28) of node group "general" (infra/cluster.yaml:12) allows '
        'ecr:BatchGetImage and ecr:GetDownloadUrlForLayer only on '
        '"arn:aws:ecr:us-east-1:111122223333:repository/team-a/*", '
        '"arn:aws:ecr:us-east-1:111122223333:repository/shared/*"; node role "BatchNodeRole" '
        '(infra/cluster.yaml:54) of node group "batch" (infra/cluster.yaml:20) allows ecr:BatchGetImage and '
        'ecr:GetDownloadUrlForLayer only on "arn:aws:ecr:us-east-1:111122223333:repository/team-a/*"; grant the '
        "repository in the role's policy"
    )
    finding = next(f for f in result.findings if f.span.line == 20)
    assert [(r.loc.path, r.loc.line) for r in finding.related] == [
        ("infra/cluster.yaml", 28),
        ("infra/cluster.yaml", 12),
        ("infra/cluster.yaml", 54),
        ("infra/cluster.yaml", 20),
    ]


def test_ecr206_on_a_pinned_node_group_and_an_explicit_deny():
    result = _run("cfn-nodes-fail")
    denied = next(f for f in result.findings if f.path == "k8s/batch.yaml" and f.span.line == 38)
    assert denied.message.endswith(
        'has ecr:BatchGetImage and ecr:GetDownloadUrlForLayer denied by Sid NoSharedTools at '
        "infra/cluster.yaml:76; lift the Deny for this repository"
    )


def test_ecr206_fargate_pulls_with_the_execution_role_not_the_node_role():
    result = _run("eksctl-fargate-fail")
    (finding,) = result.findings
    assert (finding.path, finding.span.line) == ("k8s/web.yaml", 18)
    assert 'pod execution role "AppsFargateRole" (iam.yaml:4) of Fargate profile "apps" (cluster.yaml:10)' in (
        finding.message
    )


def test_ecr206_symbolic_account_is_the_clusters_account():
    result = _run("symbolic-account-fail")
    assert message_of(result, "ECR206", 16).endswith(
        'only on "arn:${AWS::Partition}:ecr:${AWS::Region}:${AWS::AccountId}:repository/*" '
        "(${AWS::AccountId} is the cluster's account, 111122223333); grant the repository in the role's policy"
    )


def test_ecr207_messages():
    result = _run("cross-account-fail")
    assert message_of(result, "ECR207", 15) == (
        'image "222222222222.dkr.ecr.us-east-1.amazonaws.com/team/api:4.0.0" is in account 222222222222, but '
        'cluster "prod" runs in account 111122223333 and repository "team/api" (infra/registry.yaml:4) has no '
        'statement that lets account 111122223333 or node role "NodeRole" (infra/cluster.yaml:17) '
        "ecr:BatchGetImage and ecr:GetDownloadUrlForLayer; add a repository policy statement with Principal "
        '{"AWS": "arn:aws:iam::111122223333:root"}'
    )
    assert "has no RepositoryPolicyText, so only its own account may pull" in message_of(result, "ECR207", 17)
    assert "(denied by Sid NotProd at infra/registry.yaml:61); lift the Deny" in message_of(result, "ECR207", 25)
    finding = next(f for f in result.findings if f.span.line == 15)
    assert finding.related[0].loc.path == "infra/registry.yaml"


def test_partial_run_reads_context_but_reports_only_the_files_given():
    root = CROSSFILE / "precommit-context-fail"
    result = assert_fixture(root / "k8s" / "app.yaml", cwd=root, select="ECR206,ECR207,ECR3")
    assert {f.path for f in result.findings} == {"k8s/app.yaml"}
    assert "infra/cluster.yaml:8" in message_of(result, "ECR206", 16)


def test_without_context_a_partial_run_says_nothing_cross_file(tmp_path):
    root = CROSSFILE / "precommit-context-fail"
    empty = tmp_path / "empty.yaml"
    empty.write_text("{}\n")
    result = lint("k8s/app.yaml", cwd=root, config=str(empty), select="ECR206")
    assert result.findings == []


def test_ecr211_names_the_role_the_images_and_the_action():
    root = CROSSFILE / "pull-through-fail"
    result = lint(".", cwd=root, select="ECR211")
    assert message_of(result, "ECR211", 24) == (
        'node role "NodeRole" pulls pull-through cache image '
        '"111122223333.dkr.ecr.us-east-1.amazonaws.com/docker-hub/library/nginx:1.27", but '
        '"ecr:BatchImportUpstreamImage" is not granted, so the cache cannot import it; attach '
        "AmazonEC2ContainerRegistryPullOnly or grant it on the cache's repositories"
    )
    assert [r.message for r in result.findings[0].related] == [
        'pulls "111122223333.dkr.ecr.us-east-1.amazonaws.com/docker-hub/library/nginx:1.27"'
    ]


def test_ecr211_prefixes_from_config(tmp_path):
    import shutil

    shutil.copytree(CROSSFILE / "pull-through-fail", tmp_path / "repo")
    root = tmp_path / "repo"
    text = (root / "infra/cluster.yaml").read_text()
    (root / "infra/cluster.yaml").write_text(text.replace("EcrRepositoryPrefix: docker-hub", "EcrRepositoryPrefix: quay"))
    assert lint(".", cwd=root, select="ECR211").findings == []
    (root / ".ecrlint.yaml").write_text("pull-through-cache-prefixes: [docker-hub]\n")
    assert [(f.rule, f.span.line) for f in lint(".", cwd=root, select="ECR211").findings] == [("ECR211", 24)]


def test_a_template_role_an_eksctl_instance_role_arn_names_is_described_once_and_judged(tmp_path):
    # issue 18 point 8: the role was described twice in ECR206 while --verbose called it external
    (tmp_path / "cluster.yaml").write_text(
        "apiVersion: eksctl.io/v1alpha5\nkind: ClusterConfig\nmetadata: {name: shop, region: us-east-1}\n"
        "managedNodeGroups:\n  - name: ng-1\n    iam:\n      instanceRoleARN: arn:aws:iam::111122223333:role/shop-nodes\n"
    )
    (tmp_path / "iam.yaml").write_text(
        'AWSTemplateFormatVersion: "2010-09-09"\nResources:\n  NodeRole:\n    Type: AWS::IAM::Role\n    Properties:\n'
        "      RoleName: shop-nodes\n"
        "      AssumeRolePolicyDocument: {Statement: [{Effect: Allow, Principal: {Service: ec2.amazonaws.com}, "
        "Action: sts:AssumeRole}]}\n"
        "      ManagedPolicyArns: [arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy]\n"
        "      Policies:\n        - PolicyName: pull\n          PolicyDocument:\n            Version: '2012-10-17'\n"
        "            Statement:\n              - {Effect: Allow, Action: ecr:GetAuthorizationToken, Resource: '*'}\n"
        "              - {Effect: Allow, Action: [ecr:BatchGetImage, ecr:GetDownloadUrlForLayer], "
        "Resource: 'arn:aws:ecr:us-east-1:111122223333:repository/billing/*'}\n"
    )
    (tmp_path / "app.yaml").write_text(
        "apiVersion: v1\nkind: Pod\nmetadata: {name: web, namespace: shop}\nspec:\n  containers:\n    - name: web\n"
        "      image: 111122223333.dkr.ecr.us-east-1.amazonaws.com/shop/web:1.0.0\n"
    )
    result = lint(".", cwd=tmp_path, verbose=True)
    assert [(f.path, f.rule, f.span.line) for f in result.findings] == [("app.yaml", "ECR206", 7)]
    assert result.findings[0].message.count('node role "NodeRole"') == 1
    assert 'of node group "ng-1" (cluster.yaml:6) allows' in result.findings[0].message
    assert not [n for n in result.notes if "not judged" in n]
