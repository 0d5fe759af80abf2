"""Issue 12, items 2, 4, 5 and 6: Deny against what the Allows reach, ARNs a repository can have,
policy variables a role session lacks, and permissions boundaries."""

from __future__ import annotations

from ecrlint.analysis import arnsets
from ecrlint.analysis import iam

from test_iam import allow, deny, doc, policy, status

PULL = "ecr:BatchGetImage"
PROD = "arn:aws:ecr:us-east-1:111122223333:repository/prod/*"


def decide(*documents, action=PULL, resource="*", boundary=None):
    bound = [policy(b, path=f"boundary{i}.json") for i, b in enumerate(boundary)] if boundary else None
    return iam.evaluate([policy(d, path=f"p{i}.json") for i, d in enumerate(documents)], action, resource,
                        boundary=bound)


# --- 4: Deny against what the Allows reach -------------------------------------------------------


def test_a_deny_on_the_very_repositories_the_allow_reaches_leaves_nothing():
    decision = decide(doc(allow(PULL, PROD), deny(PULL, PROD)))
    assert decision.status == "denied"
    assert decision.reason == "denied by the statement at p0.json:8 on every repository the Allows reach"


def test_a_deny_on_part_of_what_the_allow_reaches_leaves_the_rest():
    assert decide(doc(allow(PULL, "arn:aws:ecr:us-east-1:111122223333:repository/*"), deny(PULL, PROD))).allowed
    # the Deny's pattern is wider than the Allow's, written differently
    wide = doc(allow(PULL, PROD), deny(PULL, "arn:aws:ecr:us-east-1:111122223333:repository/*"))
    assert decide(wide).status == "denied"


def test_several_denies_together_cover_what_one_alone_does_not():
    allow_ab = allow(PULL, ["arn:aws:ecr:us-east-1:111122223333:repository/a", "arn:aws:ecr:us-east-1:111122223333:repository/b"])
    one = doc(allow_ab, deny(PULL, "arn:aws:ecr:us-east-1:111122223333:repository/a"))
    assert decide(one).allowed
    both = doc(allow_ab, deny(PULL, "arn:aws:ecr:us-east-1:111122223333:repository/a"),
               deny(PULL, "arn:aws:ecr:us-east-1:111122223333:repository/b"))
    assert decide(both).status == "denied"


def test_allow_and_deny_in_two_policies_of_one_role_are_one_set():
    assert decide(doc(allow(PULL, PROD)), doc(deny(PULL, PROD))).status == "denied"


def test_a_conditional_deny_takes_nothing_away_for_sure():
    conditional = deny(PULL, PROD, Condition={"StringEquals": {"aws:SourceVpc": "vpc-1"}})
    assert decide(doc(allow(PULL, PROD), conditional)).status == "possibly-denied"


def test_not_resource_allow_minus_a_deny():
    # everything except prod, and prod denied too: still every other repository
    allow_nr = {"Effect": "Allow", "Action": PULL, "NotResource": PROD}
    assert decide(doc(allow_nr, deny(PULL, PROD))).allowed
    # everything except dev/*, with everything else denied: nothing left
    allow_dev = {"Effect": "Allow", "Action": PULL, "NotResource": "arn:aws:ecr:*:*:repository/dev/*"}
    deny_rest = {"Effect": "Deny", "Action": PULL, "NotResource": "arn:aws:ecr:*:*:repository/dev/*"}
    assert decide(doc(allow_dev, deny_rest)).status == "denied"


# --- 5: ARNs a repository can have -----------------------------------------------------------------


def test_an_empty_region_or_account_matches_no_repository():
    assert decide(doc(allow(PULL, "arn:aws:ecr:::repository/*"))).status == "resource-mismatch"
    assert decide(doc(allow(PULL, "arn:aws:ecr:us-east-1::repository/*"))).status == "resource-mismatch"
    assert decide(doc(allow(PULL, "arn:aws:ecr:*:*:repository/*"))).allowed


def test_repository_names_are_lowercase():
    assert decide(doc(allow(PULL, "arn:aws:ecr:us-east-1:111122223333:repository/MyApp"))).status == "resource-mismatch"
    assert decide(doc(allow(PULL, "arn:aws:ecr:us-east-1:111122223333:repository/my-app"))).allowed
    # a Deny written in uppercase takes nothing away
    assert decide(doc(allow(PULL), deny(PULL, "arn:aws:ecr:*:*:repository/Prod*"))).allowed


def test_the_resource_type_must_be_repository():
    assert decide(doc(allow(PULL, "arn:aws:ecr:us-east-1:111122223333:registry/*"))).status == "resource-mismatch"
    assert decide(doc(allow(PULL, "arn:aws:ecr:us-east-1:111122223333:*"))).allowed


def test_an_account_is_twelve_digits():
    assert decide(doc(allow(PULL, "arn:aws:ecr:us-east-1:1234:repository/*"))).status == "resource-mismatch"


def test_a_trailing_star_may_cross_colons_as_the_iam_guide_says():
    # "If the * is the last character of a resource ARN segment, it can expand to match beyond
    # the colon boundaries" (reference_policies_elements_resource.html#reference_policies_elements_resource_wildcards)
    assert decide(doc(allow(PULL, "arn:aws:ecr:*"))).allowed
    # a "*" inside a segment does not
    assert decide(doc(allow(PULL, "arn:aws:ecr:us-*-1:111122223333:repository/x"))).allowed
    assert decide(doc(allow(PULL, "arn:aws:ecr:us*1:111122223333:repository/x")),
                  resource="arn:aws:ecr:us-east-1:111122223333:repository/x").allowed


def test_query_tokens_only_for_repository_globs():
    assert arnsets.query_tokens("arn:*:ecr:*:*:repository/*") is not None
    assert arnsets.query_tokens("arn:*:ecr-public::*:repository/*") is not None
    assert arnsets.query_tokens("*") is None
    assert arnsets.query_tokens("arn:*:s3:::*") is None


def test_ecr_public_repositories_have_no_region():
    action = "ecr-public:BatchCheckLayerAvailability"
    assert decide(doc(allow(action, "arn:aws:ecr-public::111122223333:repository/*")), action=action).allowed
    assert decide(doc(allow(action, "arn:aws:ecr-public:us-east-1:111122223333:repository/*")),
                  action=action).status == "resource-mismatch"


# --- 6: policy variables ---------------------------------------------------------------------------


def test_username_has_no_value_for_a_role_session_unless_defaulted():
    named = "arn:aws:ecr:*:*:repository/${aws:username}/*"
    assert decide(doc(allow(PULL, named))).status == "resource-mismatch"
    # a Deny that names it takes nothing away
    assert decide(doc(allow(PULL), deny(PULL, named))).allowed
    defaulted = "arn:aws:ecr:*:*:repository/${aws:username, 'shared'}/*"
    repo = "arn:aws:ecr:us-east-1:111122223333:repository/shared/app"
    assert status(doc(allow(PULL, defaulted)), PULL, repo) == "allowed"


def test_tag_variables_are_conditional_never_allowed():
    tagged = "arn:aws:ecr:*:*:repository/${aws:PrincipalTag/team}/*"
    decision = decide(doc(allow(PULL, tagged)))
    assert decision.status == "conditional"
    assert decision.reason == "granted only when ${aws:PrincipalTag/team} names the repository (the statement at p0.json:3)"
    # a Deny on the tag's repositories leaves every other one; on a given repository it may apply
    assert decide(doc(allow(PULL), deny(PULL, tagged))).allowed
    repo = "arn:aws:ecr:us-east-1:111122223333:repository/payments/api"
    assert status(doc(allow(PULL), deny(PULL, tagged)), PULL, repo) == "possibly-denied"


def test_principal_account_is_the_roles_account():
    own = "arn:aws:ecr:*:${aws:PrincipalAccount}:repository/*"
    assert status(doc(allow(PULL, own)), PULL, "arn:aws:ecr:us-east-1:111122223333:repository/a",
                  symbols={"AWS::AccountId": "111122223333"}) == "allowed"


# --- 2: permissions boundaries ---------------------------------------------------------------------


def test_a_boundary_without_the_action_blocks_it():
    decision = decide(doc(allow("ecr:*")), boundary=[doc(allow("s3:*"))])
    assert decision.status == "outside-boundary"
    assert decision.reason == 'allowed by the statement at p0.json:3 but not by the permissions boundary "boundary0.json"'


def test_a_boundary_allowing_the_action_lets_the_policies_decide():
    assert decide(doc(allow("ecr:*")), boundary=[doc(allow("*"))]).allowed
    # the boundary grants nothing by itself
    assert decide(doc(allow("s3:*")), boundary=[doc(allow("*"))]).status == "not-granted"


def test_a_boundary_on_other_repositories_leaves_none():
    decision = decide(doc(allow(PULL, PROD)), boundary=[doc(allow(PULL, "arn:aws:ecr:*:*:repository/dev/*"))])
    assert decision.status == "outside-boundary"
    assert decision.reason.endswith('but on no repository the permissions boundary "boundary0.json" also allows')
    overlapping = decide(doc(allow(PULL, PROD)), boundary=[doc(allow(PULL, "arn:aws:ecr:*:*:repository/*"))])
    assert overlapping.allowed


def test_a_deny_in_the_boundary_denies():
    decision = decide(doc(allow("ecr:*")), boundary=[doc(allow("*"), deny(PULL))])
    assert decision.status == "denied"
    assert decision.reason.endswith('(the permissions boundary "boundary0.json")')


def test_a_boundary_for_a_given_repository():
    repo = "arn:aws:ecr:us-east-1:111122223333:repository/prod/api"
    assert decide(doc(allow("ecr:*")), resource=repo, boundary=[doc(allow(PULL, PROD))]).allowed
    other = "arn:aws:ecr:us-east-1:111122223333:repository/dev/api"
    assert decide(doc(allow("ecr:*")), resource=other, boundary=[doc(allow(PULL, PROD))]).status == "outside-boundary"


def test_the_reason_names_an_allow_a_deny_leaves_something_of():
    emptied = allow(PULL, PROD)
    survivor = allow(PULL, "arn:aws:ecr:us-east-1:111122223333:repository/dev/*")
    decision = decide(doc(emptied, survivor, deny(PULL, PROD)))
    assert decision.allowed
    assert decision.reason == "allowed by the statement at p0.json:8"


def test_null_via_aws_service_is_decided_for_a_direct_call():
    # the key is present (false) for kubelet's own calls: "Null": "false" holds, "true" never does
    present = allow(PULL, Condition={"Null": {"aws:ViaAWSService": "false"}})
    assert decide(doc(present)).allowed
    absent = allow(PULL, Condition={"Null": {"aws:ViaAWSService": "true"}})
    assert decide(doc(absent)).status == "not-granted"
    assert decide(doc(allow(PULL), deny(PULL, Condition={"Null": {"aws:ViaAWSService": "false"}}))).status == "denied"


def test_a_plain_pattern_beside_a_tag_variable_grants_whatever_the_tag():
    both = allow(PULL, ["arn:aws:ecr:*:*:repository/${aws:PrincipalTag/team}/*", "*"])
    assert decide(doc(both)).allowed


def test_not_resource_with_a_variable_the_session_lacks_makes_the_statement_invalid():
    statement = {"Effect": "Allow", "Action": "*", "NotResource": "arn:aws:ecr:*:*:repository/${aws:username}/*"}
    assert decide(doc(statement)).status == "not-granted"
    deny_all_but = {"Effect": "Deny", "Action": PULL, "NotResource": "arn:aws:ecr:*:*:repository/${aws:username}/*"}
    assert decide(doc(allow(PULL), deny_all_but)).allowed


def test_the_voided_not_resource_still_applies_to_an_action_without_a_resource_type():
    statement = {"Effect": "Allow", "Action": "*", "NotResource": "arn:aws:ecr:*:*:repository/${aws:username}/*"}
    assert decide(doc(statement), action="ecr:GetAuthorizationToken").allowed


# --- found by the differential oracle (benchmarks/iam_oracle) ---------------------------------------


def test_an_undecided_grant_outside_the_boundary_is_not_allowed():
    tagged = allow(PULL, "arn:aws:ecr:*:*:repository/${aws:PrincipalTag/team}/*")
    assert decide(doc(tagged), boundary=[doc(allow("s3:*"))]).status == "outside-boundary"


def test_a_segment_no_repository_has_does_not_hide_other_grants():
    short = doc(allow("ecr:*", "arn:aws:ecr:us-east-1:*"),
                deny(PULL, "arn::ecr:cn-north-1:111122223333:repository/x"))
    assert decide(short).allowed
    upper = doc(allow(PULL, ["arn:aws:ecr:US-EAST-1:444455556666:repo*", "arn:*"]))
    assert decide(upper).allowed


def test_an_empty_account_beside_a_variable_matches_no_repository():
    empty = doc(allow(PULL, "arn:*:ecr:*::repository/${aws:PrincipalAccount}/*"))
    assert decide(empty).status == "resource-mismatch"


def test_a_deny_on_part_of_the_templates_own_account_leaves_the_rest():
    scoped = doc(allow(PULL), deny(PULL, "arn:aws:ecr:*:${AWS::AccountId}:repository/prod/*"))
    assert decide(scoped).allowed  # every repository outside prod/ is left
    whole = doc(allow(PULL), deny(PULL, "arn:aws:ecr:*:${AWS::AccountId}:repository/*"))
    assert decide(whole).status == "denied"


def test_a_not_resource_whose_other_parts_miss_the_resource_just_does_not_match_it():
    # the variable's value cannot matter: the partition already differs, so the NotResource applies
    other_partition = {"Effect": "Allow", "Action": PULL, "NotResource": "arn:aws-cn:ecr:*:*:repository/${aws:username}/*"}
    repo = "arn:aws:ecr:us-east-1:111122223333:repository/prod/api"
    assert status(doc(other_partition), PULL, repo) == "allowed"
    same_partition = dict(other_partition, NotResource="arn:aws:ecr:*:*:repository/${aws:username}/*")
    assert status(doc(same_partition), PULL, repo) == "not-granted"
