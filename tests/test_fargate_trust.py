"""Trust policies for eks-fargate-pods.amazonaws.com and repository policies for a caller, as tables."""

from __future__ import annotations

import json

import pytest

from ecrlint.analysis.fargate import check_trust
from ecrlint.model import NO_SPAN, Loc
from ecrlint.parsing import parse_text
from ecrlint.analysis.principals import Caller, evaluate
from ecrlint.workspace import PolicyDocument, Role

FARGATE = {"Service": "eks-fargate-pods.amazonaws.com"}
SOURCE = "arn:aws:eks:us-east-1:111122223333:fargateprofile/prod/*"


def _yaml(value) -> object:
    (root, _span), = parse_text("iam.yaml", json.dumps(value))[0]
    return root


def role(*statements, raw=None) -> Role:
    trust = raw if raw is not None else _yaml({"Version": "2012-10-17", "Statement": list(statements)})
    return Role("PodRole", Loc("iam.yaml", NO_SPAN), "cloudformation", trust_policy=trust, trust_loc=Loc("iam.yaml", NO_SPAN))


def allow(principal=FARGATE, action="sts:AssumeRole", **extra) -> dict:
    return {"Effect": "Allow", "Principal": principal, "Action": action, **extra}


def arn_like(value) -> dict:
    return {"Condition": {"ArnLike": {"aws:SourceArn": value}}}


@pytest.mark.parametrize(
    "statements, status, unguarded",
    [
        ([allow()], "allowed", True),
        ([allow(**arn_like(SOURCE))], "allowed", False),
        ([allow({"Service": ["ec2.amazonaws.com", "eks-fargate-pods.amazonaws.com"]})], "allowed", True),
        ([allow({"Service": "EKS-Fargate-Pods.amazonaws.com"})], "allowed", True),
        ([allow({"Service": {"Fn::Sub": "eks-fargate-pods.${AWS::URLSuffix}"}})], "allowed", True),
        ([allow("*")], "allowed", True),
        ([allow({"AWS": "*"})], "allowed", True),
        ([allow({"AWS": "arn:aws:iam::111122223333:root"})], "not-granted", False),
        ([allow({"Service": "ec2.amazonaws.com"})], "not-granted", False),
        ([allow({"Federated": "arn:aws:iam::111122223333:oidc-provider/x"})], "not-granted", False),
        ([allow(action="sts:*")], "allowed", True),
        ([allow(action=["sts:TagSession", "sts:AssumeRole"])], "allowed", True),
        ([allow(action="sts:AssumeRoleWithWebIdentity")], "not-granted", False),
        ([{"Effect": "Allow", "Principal": FARGATE, "NotAction": "sts:TagSession"}], "allowed", True),
        ([allow(), {"Effect": "Deny", "Principal": FARGATE, "Action": "sts:AssumeRole"}], "denied", False),
        ([allow(), {"Effect": "Deny", "Principal": "*", "Action": "*"}], "denied", False),
        ([allow(), {"Effect": "Deny", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "*"}], "allowed", True),
        (
            [allow(), {"Effect": "Deny", "Principal": "*", "Action": "sts:AssumeRole",
                       "Condition": {"Bool": {"aws:SecureTransport": "false"}}}],
            "possibly-denied",
            False,
        ),
        ([allow(), {"Effect": "Deny", "NotPrincipal": FARGATE, "Action": "sts:AssumeRole"}], "invalid", False),
        ([allow(Condition={"StringEquals": {"sts:ExternalId": "x"}})], "conditional", False),
        ([allow(Condition={"StringEquals": {"aws:SourceAccount": "111122223333"}})], "allowed", False),
        ([allow(Condition={"StringEquals": {"aws:SourceAccount": "444455556666"}})], "not-granted", False),
        ([allow(**arn_like("arn:aws:eks:*:111122223333:fargateprofile/*"))], "allowed", False),
        ([allow(**arn_like("arn:aws:eks:us-east-1:111122223333:fargateprofile/staging/*"))], "not-granted", False),
        ([allow(**arn_like("arn:aws:eks:us-east-1:111122223333:cluster/prod"))], "not-granted", False),
        ([allow(**arn_like("arn:aws:ecs:us-east-1:111122223333:fargateprofile/prod/*"))], "not-granted", False),
        ([allow(**arn_like("arn:aws:eks:us-east-1:111122223333:fargateprofile/pr*"))], "allowed", False),
        ([allow(**arn_like("*"))], "allowed", False),
        ([allow(**arn_like({"Fn::Sub": "arn:${AWS::Partition}:eks:${AWS::Region}:${AWS::AccountId}:fargateprofile/${Name}/*"}))], "allowed", False),
        (
            [allow(Condition={"ArnEquals": {"aws:SourceArn": "arn:aws:eks:us-east-1:111122223333:fargateprofile/prod/*"}})],
            "allowed",
            False,
        ),
    ],
)
def test_trust(statements, status, unguarded):
    trust = check_trust(role(*statements), cluster_name="prod", account="111122223333")
    assert trust is not None
    assert trust.verdict.status == status, trust.verdict.reason
    assert bool(trust.unguarded) is unguarded


def test_blocked_statement_says_why():
    trust = check_trust(role(allow(**arn_like("arn:aws:eks:us-east-1:1:cluster/prod"))), cluster_name="prod")
    ((_stmt, why),) = trust.blocked
    assert why.startswith('requires aws:SourceArn "arn:aws:eks:us-east-1:1:cluster/prod", which no Fargate profile ARN')


def test_unknown_cluster_name_judges_only_the_resource_type():
    trust = check_trust(role(allow(**arn_like("arn:aws:eks:us-east-1:1:fargateprofile/other/*"))), cluster_name=None)
    assert trust.verdict.status == "allowed"


@pytest.mark.parametrize(
    "raw",
    [
        json.dumps({"Statement": [{"Effect": "Allow", "Principal": FARGATE, "Action": "sts:AssumeRole"}]}),
        {"Fn::Sub": json.dumps({"Statement": [{"Effect": "Allow", "Principal": FARGATE, "Action": "sts:AssumeRole",
                                                "Condition": {"ArnLike": {"aws:SourceArn": "arn:${AWS::Partition}:eks:x"}}}]})},
    ],
    ids=["json-string", "fn-sub-json"],
)
def test_trust_policy_written_as_text(raw):
    trust = check_trust(role(raw=raw))
    assert trust is not None and trust.verdict.status == "allowed"


def test_unreadable_trust_policy_is_not_judged():
    assert check_trust(role(raw={"Fn::ImportValue": "TrustPolicy"})) is None
    assert check_trust(Role("R", Loc("x", NO_SPAN), "cloudformation")) is None


# --- repository policies (ECR207) ---------------------------------------------------------------

NODE_ROLE = "arn:aws:iam::111122223333:role/prod-nodes"


def repo_policy(*principals, action="ecr:BatchGetImage", effect="Allow", **extra) -> PolicyDocument:
    statements = [{"Effect": effect, "Principal": p, "Action": action, **extra} for p in principals]
    return PolicyDocument(_yaml({"Version": "2012-10-17", "Statement": statements}), Loc("ecr.yaml", NO_SPAN), "repo")


@pytest.mark.parametrize(
    "policy, caller, status",
    [
        (repo_policy({"AWS": "arn:aws:iam::111122223333:root"}), Caller(account="111122223333"), "allowed"),
        (repo_policy({"AWS": "111122223333"}), Caller(account="111122223333"), "allowed"),
        (repo_policy({"AWS": ["arn:aws:iam::999999999999:root", "111122223333"]}), Caller(account="111122223333"), "allowed"),
        (repo_policy({"AWS": "arn:aws:iam::999999999999:root"}), Caller(account="111122223333"), "not-granted"),
        (repo_policy({"AWS": NODE_ROLE}), Caller(account="111122223333", role_arn=NODE_ROLE), "allowed"),
        (repo_policy({"AWS": NODE_ROLE}), Caller(account="111122223333", role_arn=NODE_ROLE + "-x"), "not-granted"),
        (repo_policy({"AWS": NODE_ROLE}), Caller(account="111122223333"), "unknown"),
        (repo_policy({"AWS": "arn:aws:iam::999999999999:role/x"}), Caller(account="111122223333"), "not-granted"),
        (repo_policy("*"), Caller(account="111122223333"), "allowed"),
        (repo_policy({"Service": "lambda.amazonaws.com"}), Caller(account="111122223333"), "not-granted"),
        (repo_policy({"AWS": "*"}, Condition={"StringEquals": {"aws:PrincipalOrgID": "o-1"}}), Caller(account="1"), "conditional"),
        (repo_policy({"AWS": "111122223333"}, action="ecr:*"), Caller(account="111122223333"), "allowed"),
        (repo_policy({"AWS": "111122223333"}, action="ecr:PutImage"), Caller(account="111122223333"), "not-granted"),
        (repo_policy({"AWS": {"Fn::ImportValue": "Acct"}}), Caller(account="111122223333"), "unknown"),
    ],
)
def test_repository_policy(policy, caller, status):
    assert evaluate(policy, "ecr:BatchGetImage", caller).status == status


def test_explicit_deny_in_repository_policy_wins():
    policy = PolicyDocument(
        _yaml({"Statement": [
            {"Effect": "Allow", "Principal": "*", "Action": "ecr:*"},
            {"Sid": "NoProd", "Effect": "Deny", "Principal": {"AWS": "111122223333"}, "Action": "ecr:BatchGetImage"},
        ]}),
        Loc("ecr.yaml", NO_SPAN),
        "repo",
    )
    verdict = evaluate(policy, "ecr:BatchGetImage", Caller(account="111122223333"))
    assert verdict.status == "denied" and "Sid NoProd" in verdict.reason
