"""The offline IAM evaluator (ecrlint.analysis.iam): matching, statements, decisions, managed policies."""

from __future__ import annotations

import json

import pytest

from ecrlint.analysis import awsdata
from ecrlint.analysis import iam
from ecrlint.sources.cfn_intrinsics import Template
from ecrlint.model import NO_SPAN, Loc
from ecrlint.parsing import parse_text
from ecrlint.workspace import PolicyDocument

PULL = iam.ECR_PULL_ACTIONS
REPO = "arn:aws:ecr:eu-west-1:111122223333:repository/team/app"


def policy(document, path: str = "p.json", template=None) -> PolicyDocument:
    text = document if isinstance(document, str) else json.dumps(document, indent=1)
    docs, errors = parse_text(path, text)
    assert not errors
    return PolicyDocument(docs[0][0], Loc(path, docs[0][1]), path, template=template)


def allow(action, resource="*", **extra):
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def deny(action, resource="*", **extra):
    return {"Effect": "Deny", "Action": action, "Resource": resource, **extra}


def doc(*statements, version="2012-10-17"):
    out = {"Statement": list(statements)}
    if version:
        out["Version"] = version
    return out


def status(document, action, resource="*", **kw) -> str:
    return iam.evaluate([policy(document)], action, resource, **kw).status


# --- actions -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "pattern, action, expected",
    [
        ("ecr:BatchGetImage", "ecr:BatchGetImage", True),
        ("ECR:batchgetimage", "ecr:BatchGetImage", True),  # prefix and name are case-insensitive
        ("ecr:*", "ecr:BatchGetImage", True),
        ("*", "ecr:BatchGetImage", True),
        ("ecr:Batch*", "ecr:BatchCheckLayerAvailability", True),
        ("ecr:Get*Layer", "ecr:GetDownloadUrlForLayer", True),
        ("ecr:GetDownloadUrlFor?ayer", "ecr:GetDownloadUrlForLayer", True),
        ("ecr:GetDownloadUrlFor?Layer", "ecr:GetDownloadUrlForLayer", False),  # ? is exactly one
        ("ecr:BatchGetImage", "ecr:BatchGetImages", False),
        ("ecr-public:*", "ecr:BatchGetImage", False),
        ("ec?:BatchGetImage", "ecr:BatchGetImage", True),
    ],
)
def test_action_matches(pattern, action, expected):
    assert iam.action_matches(pattern, action) is expected


# --- resources ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "pattern, resource, expected",
    [
        ("*", REPO, True),
        (REPO, REPO, True),
        ("arn:aws:ecr:*:111122223333:repository/*", REPO, True),  # "*" matches "/"
        ("arn:aws:ecr:eu-west-?:111122223333:repository/team/*", REPO, True),
        ("arn:aws:ecr:eu-west-??:111122223333:repository/team/*", REPO, False),
        ("arn:aws:ecr:*", REPO, True),  # a "*" that ends a segment runs across ":"
        ("arn:aws:ecr:eu-*-1:111122223333:repository/*", REPO, True),
        ("arn:aws:ecr:eu*1:111122223333:repository/*", REPO, True),
        ("arn:aws:ecr:eu-west-1:111122223333:repository/Team/app", REPO, False),  # names are case-sensitive
        ("arn:aws:ecr:eu-west-1:444455556666:repository/*", REPO, False),
        ("arn:aws-cn:ecr:*:*:repository/*", REPO, False),
        ("arn:aws:s3:::bucket/*", REPO, False),
        ("arn:aws:ecr:eu-west-1:111122223333:repository/team", REPO, False),
    ],
)
def test_resource_matches(pattern, resource, expected):
    assert iam.resource_matches(pattern, resource) is expected


def test_a_star_inside_a_segment_does_not_cross_colons():
    assert iam.resource_matches("arn:aws:logs:*:1:log-group:a*b", "arn:aws:logs:us-east-1:1:log-group:a:x:b") is False
    assert iam.resource_matches("arn:aws:logs:*:1:log-group:a*", "arn:aws:logs:us-east-1:1:log-group:a:x:b") is True


def test_symbols_are_unknown_unless_given():
    pattern = "arn:${AWS::Partition}:ecr:${AWS::Region}:${AWS::AccountId}:repository/*"
    assert iam.resource_matches(pattern, REPO) is None
    assert iam.resource_matches(pattern, REPO, {"AWS::Partition": "aws", "AWS::Region": "eu-west-1",
                                                "AWS::AccountId": "111122223333"}) is True
    assert iam.resource_matches(pattern, REPO, {"AWS::AccountId": "444455556666"}) is False
    # the same token on both sides is the same value; a different service never matches
    same = "arn:${AWS::Partition}:ecr:${AWS::Region}:${AWS::AccountId}:repository/app"
    assert iam.resource_matches(pattern, same) is True
    assert iam.resource_matches(pattern, "arn:aws:s3:::bucket") is False


def test_some_resource_versus_every_resource():
    """Allows ask whether a pattern matches *some* repository, Denies whether it matches *every* one."""

    def tokens(text: str) -> tuple:
        return iam._tokens(text, iam.VERSION_CURRENT, True)

    any_repository = tokens("arn:aws:ecr:*:*:repository/*")
    prod = tokens("arn:aws:ecr:us-east-1:111122223333:repository/prod-*")
    assert iam._intersects(prod, any_repository) is True
    assert iam._covers(prod, any_repository) is False
    assert iam._covers(tokens("arn:aws:ecr:*:*:repository/*"), any_repository) is True
    assert iam._covers(tokens("arn:aws:ecr:*:*:*"), any_repository) is True
    assert iam._covers(any_repository, tokens(REPO)) is True
    assert iam._intersects(tokens("arn:aws:s3:::bucket"), any_repository) is False
    assert iam._covers(tokens("arn:aws:s3:::bucket"), any_repository) is False


def test_arn_segments_keep_tokens_whole():
    assert iam.arn_segments("arn:${AWS::Partition}:ecr:${AWS::Region}:1:repository/a:b") == [
        "arn", "${AWS::Partition}", "ecr", "${AWS::Region}", "1", "repository/a", "b"
    ]


# --- statements --------------------------------------------------------------------------------


def test_statement_as_object_or_list_with_locations():
    single = policy('{"Version": "2012-10-17",\n "Statement": {"Sid": "One", "Effect": "Allow",\n'
                    '  "Action": "ecr:BatchGetImage", "Resource": "*"}}')
    (stmt,) = iam.statements(single)
    assert (stmt.sid, stmt.effect, stmt.actions, stmt.resources) == ("One", "Allow", ("ecr:BatchGetImage",), ("*",))
    assert (stmt.loc.line, stmt.loc.span.column) == (2, 15)
    assert [(loc.line, loc.span.column) for loc in stmt.action_locs] == [(3, 13)]
    listed = policy(doc(allow(["ecr:A", "ecr:B"]), {"Effect": "Deny", "NotAction": "s3:*", "NotResource": "x"}))
    first, second = iam.statements(listed)
    assert first.actions == ("ecr:A", "ecr:B") and first.not_actions is None
    assert second.actions == () and second.not_actions == ("s3:*",)
    assert second.resources == () and second.not_resources == ("x",)
    assert second.where() == "the statement at p.json:11"


def test_statement_where_names_the_sid_or_the_managed_policy():
    (stmt,) = iam.statements(policy(doc(deny("ecr:*", Sid="NoEcr"))))
    assert stmt.where() == "Sid NoEcr at p.json:3"
    bundled = iam.managed_policy("AmazonEC2ContainerRegistryReadOnly")
    assert iam.statements(bundled)[0].where() == "AWS managed policy AmazonEC2ContainerRegistryReadOnly"


def test_cloudformation_intrinsics_in_statements():
    root = {
        "Parameters": {"Repo": {"Type": "String", "Default": "team/app"}},
        "Conditions": {"Strict": {"Fn::Equals": ["a", "b"]}},
    }
    document = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": "ecr:GetAuthorizationToken", "Resource": "*"},
            {
                "Effect": "Allow",
                "Action": ["ecr:BatchGetImage", {"Fn::If": ["Strict", "ecr:GetDownloadUrlForLayer", {"Ref": "AWS::NoValue"}]}],
                "Resource": {"Fn::Sub": "arn:${AWS::Partition}:ecr:${AWS::Region}:${AWS::AccountId}:repository/${Repo}"},
            },
            {"Fn::If": ["Strict", deny("ecr:BatchGetImage", {"Fn::ImportValue": "BlockedRepos"}), {"Ref": "AWS::NoValue"}]},
        ],
    }
    p = policy(document, template=Template(root))
    stmts = iam.statements(p)
    assert stmts[1].actions == ("ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer")
    assert stmts[1].resources == ("arn:${AWS::Partition}:ecr:${AWS::Region}:${AWS::AccountId}:repository/team/app",)
    assert stmts[2].effect == "Deny" and stmts[2].resources == ("${Fn::Unknown}",)
    # the Deny's resource cannot be known offline: never guessed
    decision = iam.evaluate([p], "ecr:BatchGetImage", "arn:aws:ecr:eu-west-1:1:repository/team/app")
    assert decision.status == "unknown"
    assert iam.evaluate([p], "ecr:GetDownloadUrlForLayer").status == "allowed"


def test_policy_written_as_a_json_string_with_sub():
    text = '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "ecr:*", "Resource": "*"}]}'
    p = PolicyDocument({"Fn::Sub": text}, Loc("t.yaml", NO_SPAN), "t", template=Template({}))
    assert iam.policy_document(p)["Version"] == "2012-10-17"
    assert iam.evaluate([p], "ecr:BatchGetImage").allowed


# --- decisions ---------------------------------------------------------------------------------


def test_allowed_by_wildcards():
    d = doc(allow(["ECR:GetAuthorizationToken", "ecr:Batch*", "ecr:GetDownloadUrlFor?ayer"]))
    assert all(status(d, a) == "allowed" for a in PULL)


def test_not_granted():
    decision = iam.evaluate([policy(doc(allow("s3:GetObject")))], "ecr:BatchGetImage")
    assert (decision.status, decision.allowed, decision.reason) == ("not-granted", False, "no statement grants it")


def test_explicit_deny_wins_whatever_the_order():
    for statements in ([allow("ecr:*"), deny("ecr:BatchGetImage", Sid="D")],
                       [deny("ecr:BatchGetImage", Sid="D"), allow("ecr:*")]):
        decision = iam.evaluate([policy(doc(*statements))], "ecr:BatchGetImage")
        assert decision.status == "denied"
        assert decision.reason.startswith("denied by Sid D at p.json:")
        assert len(decision.denies) == 1 and len(decision.allows) == 1


def test_deny_in_one_policy_beats_allow_in_another():
    a = policy(doc(allow("ecr:*")), "a.json")
    b = policy(doc(deny("ecr:GetDownloadUrlForLayer")), "b.json")
    assert iam.evaluate([a, b], "ecr:GetDownloadUrlForLayer").reason == "denied by the statement at b.json:3"


def test_not_action_with_allow_and_with_deny():
    everything_but_iam = doc({"Effect": "Allow", "NotAction": ["iam:*"], "Resource": "*"})
    assert status(everything_but_iam, "ecr:BatchGetImage") == "allowed"
    assert status(everything_but_iam, "iam:PassRole") == "not-granted"
    only_s3 = doc(allow("*"), {"Effect": "Deny", "NotAction": "s3:*", "Resource": "*"})
    assert status(only_s3, "ecr:BatchGetImage") == "denied"
    assert status(only_s3, "s3:GetObject") == "allowed"


def test_not_resource():
    not_repos = doc({"Effect": "Allow", "Action": "ecr:*", "NotResource": "arn:aws:ecr:*:*:repository/*"})
    assert status(not_repos, "ecr:GetAuthorizationToken") == "allowed"  # "*" is not a repository ARN
    decision = iam.evaluate([policy(not_repos)], "ecr:BatchGetImage")
    assert decision.status == "resource-mismatch"
    assert decision.reason.endswith("which matches no ECR repository")
    except_secret = doc({"Effect": "Allow", "Action": "ecr:*", "NotResource": "arn:aws:ecr:*:*:repository/secret"})
    assert status(except_secret, "ecr:BatchGetImage") == "allowed"  # some repository remains
    assert status(except_secret, "ecr:BatchGetImage", "arn:aws:ecr:eu-west-1:1:repository/secret") == "resource-mismatch"
    deny_outside = doc(allow("ecr:*"), {"Effect": "Deny", "Action": "ecr:*", "NotResource": REPO})
    assert status(deny_outside, "ecr:BatchGetImage", REPO) == "allowed"
    assert status(deny_outside, "ecr:BatchGetImage", REPO + "2") == "denied"


def test_resource_mismatch_for_a_concrete_resource_and_for_an_untyped_action():
    scoped = doc(allow(["ecr:GetAuthorizationToken", "ecr:BatchGetImage"], REPO))
    decision = iam.evaluate([policy(scoped)], "ecr:BatchGetImage", "arn:aws:ecr:eu-west-1:111122223333:repository/x")
    assert decision.reason == (
        f'granted only on "{REPO}" (the statement at p.json:3), not on '
        '"arn:aws:ecr:eu-west-1:111122223333:repository/x"'
    )
    token = iam.evaluate([policy(scoped)], "ecr:GetAuthorizationToken")
    assert token.status == "resource-mismatch"
    assert token.reason.endswith('but it has no resource type and only "*" matches it')
    assert iam.evaluate([policy(scoped)], "ecr:BatchGetImage").status == "allowed"  # some repository


def test_conditional_grant_and_conditional_deny():
    vpc = {"StringEquals": {"aws:SourceVpc": "vpc-1"}}
    decision = iam.evaluate([policy(doc(allow("ecr:*", Condition=vpc, Sid="Vpc")))], "ecr:BatchGetImage")
    assert decision.status == "conditional" and not decision.allowed
    assert decision.reason == 'granted only when StringEquals aws:SourceVpc = "vpc-1" (Sid Vpc at p.json:3)'
    both = doc(allow("ecr:*"), deny("ecr:*", Condition={"Bool": {"aws:SecureTransport": ["false"]}}, Sid="Tls"))
    decision = iam.evaluate([policy(both)], "ecr:BatchGetImage")
    assert decision.status == "possibly-denied"
    assert decision.reason == 'denied by Sid Tls at p.json:8 when Bool aws:SecureTransport = ["false"]'
    # an unconditional grant next to a conditional one is simply allowed
    assert status(doc(allow("ecr:*", Condition=vpc), allow("ecr:*")), "ecr:BatchGetImage") == "allowed"


def test_a_deny_scoped_to_the_account_the_policy_names_blocks_any_repository_question():
    scoped = doc(allow("ecr:*"), deny("ecr:BatchGetImage", "arn:aws:ecr:*:111122223333:repository/*"))
    assert status(scoped, "ecr:BatchGetImage") == "denied"
    other_account = doc(allow("ecr:*", "arn:aws:ecr:*:111122223333:repository/*"),
                        deny("ecr:BatchGetImage", "arn:aws:ecr:*:444455556666:repository/*"))
    assert status(other_account, "ecr:BatchGetImage") == "allowed"


def test_version_2008_reads_variables_literally():
    resource = "arn:aws:ecr:eu-west-1:1:repository/${aws:username}/*"
    repo = "arn:aws:ecr:eu-west-1:1:repository/bob/app"
    assert status(doc(allow("ecr:*", resource), version="2008-10-17"), "ecr:BatchGetImage", repo) == "resource-mismatch"
    # under 2012-10-17 it is a variable, and aws:username has no value for a role session
    assert status(doc(allow("ecr:*", resource)), "ecr:BatchGetImage", repo) == "resource-mismatch"
    # ${*} is a literal "*" in 2012-10-17, not a wildcard
    star = doc(allow("ecr:*", "arn:aws:ecr:eu-west-1:1:repository/a${*}b"))
    assert status(star, "ecr:BatchGetImage", "arn:aws:ecr:eu-west-1:1:repository/axb") == "resource-mismatch"


def test_unknown_symbols_give_unknown_never_a_guess():
    scoped = doc(allow("ecr:*", "arn:aws:ecr:eu-west-1:${AWS::AccountId}:repository/*"))
    decision = iam.evaluate([policy(scoped)], "ecr:BatchGetImage", REPO)
    assert decision.status == "unknown"
    assert "depends on values not known offline" in decision.reason
    assert status(scoped, "ecr:BatchGetImage", REPO, symbols={"AWS::AccountId": "111122223333"}) == "allowed"
    assert status(scoped, "ecr:BatchGetImage", REPO, symbols={"${AWS::AccountId}": "999999999999"}) == "resource-mismatch"


def test_effect_is_exact():
    assert status(doc({"Effect": "allow", "Action": "ecr:*", "Resource": "*"}), "ecr:BatchGetImage") == "not-granted"


def test_granted_resources():
    p = policy(doc(allow("ecr:BatchGetImage", [REPO, "arn:aws:ecr:*:1:repository/x"]), allow("ecr:*", REPO),
                   {"Effect": "Allow", "Action": "ecr:*", "NotResource": "y"}))
    assert iam.granted_resources([p], "ecr:BatchGetImage") == [REPO, "arn:aws:ecr:*:1:repository/x"]
    assert iam.granted_resources([p], "ecr:PutImage") == [REPO]


def test_describe_condition():
    assert iam.describe_condition({"StringEquals": {"a:b": "c"}, "Bool": {"d:e": ["f", "g", "h"]}}) == (
        'StringEquals a:b = "c" and Bool d:e = ["f", "g", +1]'
    )


# --- managed policies --------------------------------------------------------------------------


def test_every_aws_managed_policy_is_bundled():
    assert len(awsdata.managed_policies()) == 1452
    for name in awsdata.managed_policies():
        arn = awsdata.managed_policy_arn(name)
        assert arn is not None
        bundled = iam.managed_policy(arn)
        assert bundled is not None and bundled.bundled and bundled.name == name and bundled.managed_arn == arn


def test_bundled_managed_policies_keep_only_what_matters_for_ecr():
    # known, and grants no pull: no statement left
    assert awsdata.managed_policies()["AmazonSSMManagedInstanceCore"]["Document"]["Statement"] == []
    assert awsdata.managed_policies()["AmazonEKSWorkerNodePolicy"]["Document"]["Statement"] == []
    # ReadOnlyAccess's ECR grants survive; its hundreds of other services do not
    (stmt,) = awsdata.managed_policies()["ReadOnlyAccess"]["Document"]["Statement"]
    assert "ecr:BatchGet*" in stmt["Action"] and not any(a.startswith("s3:") for a in stmt["Action"])
    assert iam.evaluate([iam.managed_policy("arn:aws:iam::aws:policy/ReadOnlyAccess")], "ecr:BatchGetImage").allowed
    # a path is part of the ARN
    assert iam.managed_policy("arn:aws:iam::aws:policy/service-role/AmazonEC2ContainerServiceforEC2Role") is not None
    assert iam.managed_policy("arn:aws:iam::aws:policy/AmazonEC2ContainerServiceforEC2Role") is None


def test_nearest_managed_arn():
    def near(arn):
        ref = awsdata.parse_managed_arn(arn)
        assert ref is not None
        return awsdata.nearest_managed_arn(ref)

    assert near("arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadonly") == (
        "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly"
    )
    assert near("arn:aws-cn:iam::aws:policy/AmazonEC2ContainerServiceforEC2Role") == (
        "arn:aws-cn:iam::aws:policy/service-role/AmazonEC2ContainerServiceforEC2Role"
    )
    assert near("arn:aws:iam::aws:policy/NothingLikeAnyPolicyAtAllXyz") is None


@pytest.mark.parametrize(
    "policy_name, pulls",
    [
        ("AmazonEC2ContainerRegistryReadOnly", True),
        ("AmazonEC2ContainerRegistryPullOnly", True),
        ("AmazonEC2ContainerRegistryPowerUser", True),
        ("AmazonEC2ContainerRegistryFullAccess", True),
        ("AmazonEKSFargatePodExecutionRolePolicy", True),
        ("AmazonEKSWorkerNodePolicy", False),
        ("AmazonEKSWorkerNodeMinimalPolicy", False),
        ("AmazonEKS_CNI_Policy", False),
        ("AmazonSSMManagedInstanceCore", False),
    ],
)
def test_managed_policies_grant_pull_as_domain_says(policy_name, pulls):
    bundled = iam.managed_policy(policy_name)
    assert all(iam.evaluate([bundled], a).allowed for a in PULL) is pulls


def test_pull_only_omits_batch_check_layer_availability():
    assert not iam.evaluate([iam.managed_policy("AmazonEC2ContainerRegistryPullOnly")],
                            "ecr:BatchCheckLayerAvailability").allowed
    assert iam.evaluate([iam.managed_policy("AmazonEC2ContainerRegistryReadOnly")],
                        "ecr:BatchCheckLayerAvailability").allowed


def test_managed_policy_in_every_partition():
    cn = iam.managed_policy("arn:aws-cn:iam::aws:policy/AmazonBraketJobsExecutionPolicy")
    assert cn.managed_arn == "arn:aws-cn:iam::aws:policy/AmazonBraketJobsExecutionPolicy"
    assert iam.statements(cn)[0].resources == ("arn:aws-cn:ecr:*:*:repository/amazon-braket*",)
    gov = iam.managed_policy("arn:aws-us-gov:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly")
    assert (gov.name, gov.managed_arn) == (
        "AmazonEC2ContainerRegistryReadOnly", "arn:aws-us-gov:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly"
    )
    assert all(iam.evaluate([gov], a).allowed for a in PULL)
    symbolic = iam.managed_policy("arn:${AWS::Partition}:iam::aws:policy/AmazonEC2ContainerRegistryPullOnly")
    assert (symbolic.name, symbolic.managed_arn) == (
        "AmazonEC2ContainerRegistryPullOnly", "arn:${AWS::Partition}:iam::aws:policy/AmazonEC2ContainerRegistryPullOnly"
    )
    service_role = iam.managed_policy("arn:aws:iam::aws:policy/aws-service-role/AWSECRPullThroughCache_ServiceRolePolicy")
    assert (service_role.name, service_role.managed_arn) == (
        "AWSECRPullThroughCache_ServiceRolePolicy",
        "arn:aws:iam::aws:policy/aws-service-role/AWSECRPullThroughCache_ServiceRolePolicy",
    )


def test_managed_policy_unknown_or_wrong_path():
    assert iam.managed_policy("arn:aws:iam::aws:policy/AmazonS3ReadOnlyAcess") is None
    s3 = iam.managed_policy("arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess")  # known, grants no ECR action
    assert s3 is not None and iam.evaluate([s3], "ecr:BatchGetImage").status == "not-granted"
    assert iam.managed_policy("arn:aws:iam::111122223333:policy/AmazonEC2ContainerRegistryReadOnly") is None
    assert iam.managed_policy("arn:aws:iam::aws:policy/service-role/AmazonEC2ContainerRegistryReadOnly") is None
    assert iam.managed_policy("NoSuchPolicy") is None


def test_ecr_action_data():
    actions = awsdata.ecr_actions()
    assert len([a for a in actions if a.startswith("ecr:")]) == 60
    assert len([a for a in actions if a.startswith("ecr-public:")]) == 23
    token = awsdata.action_info("ECR:GETAUTHORIZATIONTOKEN")
    assert token.name == "ecr:GetAuthorizationToken" and not token.has_resource_type
    assert awsdata.resource_arn_pattern(awsdata.action_info("ecr:BatchGetImage")) == "arn:*:ecr:*:*:repository/*"
    assert awsdata.resource_arn_pattern(awsdata.action_info("ecr-public:GetRegistryCatalogData")) == (
        "arn:*:ecr-public::*:registry/*"
    )
    assert {"aws", "aws-cn", "aws-us-gov"} <= set(awsdata.partitions())


def test_roles_of_the_same_managed_policies_share_a_decision_but_keep_their_own_statements():
    first_loc, second_loc = Loc("a.yaml", NO_SPAN), Loc("b.yaml", NO_SPAN)
    names = ("AmazonEKSWorkerNodePolicy", "AmazonEC2ContainerRegistryReadOnly")
    first = [iam.managed_policy(n, first_loc) for n in names]
    second = [iam.managed_policy(n, second_loc) for n in names]
    for action in (*PULL, "ecr:PutImage"):
        a, b = iam.evaluate(first, action), iam.evaluate(second, action)
        fresh = iam._evaluate_query(second, action, "*", None)  # no memo
        assert (b.status, b.allowed, b.reason) == (a.status, a.allowed, a.reason) == (fresh.status, fresh.allowed, fresh.reason)
        assert [(s.policy, s.loc, s.index) for s in b.allows] == [(s.policy, s.loc, s.index) for s in fresh.allows]
        assert all(s.policy in second and s.loc == second_loc for s in b.allows + b.denies)
        assert all(s.policy in first and s.loc == first_loc for s in a.allows + a.denies)
    assert iam.evaluate(first, "ecr:BatchGetImage").allows  # the case above was not vacuous


# --- conditions decided offline: aws:ViaAWSService for direct calls --------------------------------


def via(operator="Bool", value="false", key="aws:ViaAWSService"):
    return {operator: {key: value}}


@pytest.mark.parametrize(
    "condition, expected",
    [
        (via("Bool", "false"), True),  # kubelet's pull is a direct call: the key is present and false
        (via("BoolIfExists", "false"), True),  # the key exists, its value is false
        (via("Bool", "true"), False),
        (via("BoolIfExists", "true"), False),
        (via("Bool", "False"), True),  # Bool values compare case-insensitively
        (via("Bool", "TRUE"), False),
        (via("Bool", False), True),  # an unquoted YAML boolean
        (via("Bool", "false", key="AWS:viaawsservice"), True),  # keys are case-insensitive
        (via("bool", "false"), None),  # operator names are case-sensitive: not one IAM knows
        (via("Bool", ["true", "false"]), True),  # a list: any value matches
        (via("Bool", ["true"]), False),
        (via("Bool", []), None),
        (via("Bool", {"Ref": "Flag"}), None),  # known only at deploy time
        (via("StringEquals", "false"), None),  # only Bool / BoolIfExists are decided
        ({"StringEquals": {"aws:SourceVpc": "vpc-1"}}, None),
        ({"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}, None),
        ({"Bool": {"aws:ViaAWSService": "false", "aws:SecureTransport": "true"}}, None),  # the other key decides
        ({"Bool": {"aws:ViaAWSService": "false"}, "StringEquals": {"aws:SourceVpc": "vpc-1"}}, None),
        ({"Bool": {"aws:ViaAWSService": "true"}, "StringEquals": {"aws:SourceVpc": "vpc-1"}}, False),  # all must match
    ],
)
def test_condition_holds_for_a_direct_call(condition, expected):
    assert iam.condition_holds(condition) is expected


def test_deny_when_not_via_an_aws_service_applies_to_direct_pulls():
    for operator in ("Bool", "BoolIfExists"):
        document = doc(allow("ecr:*"), deny("ecr:*", Condition=via(operator, "false"), Sid="NoDirect"))
        decision = iam.evaluate([policy(document)], "ecr:BatchGetImage")
        assert decision.status == "denied" and not decision.allowed
        assert decision.reason == "denied by Sid NoDirect at p.json:8"
    # a Deny on calls made through a service does not apply to kubelet's
    assert status(doc(allow("ecr:*"), deny("ecr:*", Condition=via("Bool", "true"))), "ecr:BatchGetImage") == "allowed"
    # combined with a key that cannot be decided offline: possibly denied, as before
    both = {"Bool": {"aws:ViaAWSService": "false"}, "StringNotEquals": {"aws:SourceVpc": "vpc-1"}}
    assert status(doc(allow("ecr:*"), deny("ecr:*", Condition=both)), "ecr:BatchGetImage") == "possibly-denied"


def test_allow_only_via_an_aws_service_grants_nothing_to_direct_pulls():
    assert status(doc(allow("ecr:*", Condition=via("Bool", "true"))), "ecr:BatchGetImage") == "not-granted"
    assert status(doc(allow("ecr:*", Condition=via("BoolIfExists", "false"))), "ecr:BatchGetImage") == "allowed"
    # still conditional when another key is undecidable
    both = {"Bool": {"aws:ViaAWSService": "false"}, "IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}
    assert status(doc(allow("ecr:*", Condition=both)), "ecr:BatchGetImage") == "conditional"
