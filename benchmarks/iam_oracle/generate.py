"""Seeded random node-role policy sets for the differential IAM oracle (compare.py).

A case is one principal: one to three identity policies (each one to three statements), sometimes a
permissions boundary, and the questions to ask about it (an ECR action on a repository ARN, or
``ecr:GetAuthorizationToken`` on "*"). Case ``i`` of seed ``s`` depends only on ``(s, i)``, so one
case can be replayed alone (``compare.py --first i --cases 1``).

The pools below are what real node-role policies contain and what ecrlint must get right: every
wildcard form (``ecr:*``, ``ecr:Get*``, ``*``, ``?``), Action/NotAction, Resource/NotResource,
ARNs exact, under a prefix, with ``*`` in any segment, short, empty segments, other partitions,
regions, accounts and services, ``registry/`` instead of ``repository/``, uppercase names, policy
variables, Allow/Deny mixes and the simple conditions of issue 12 (aws:ViaAWSService under Bool and
BoolIfExists, aws:SourceVpc, aws:PrincipalTag/team).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

ACCOUNT = "111122223333"
OTHER_ACCOUNT = "444455556666"

# What kubelet and the credential provider ask (issue 12, 10: pull-through cache adds the import).
QUERY_ACTIONS = ("ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchImportUpstreamImage")
TOKEN_ACTION = "ecr:GetAuthorizationToken"

# "Some repository": what ECR201 asks. ecrlint is asked about "*" (any repository of the action's
# type), iam-simulate about this wildcard request ARN (it simulates each policy pattern the request
# overlaps). This is where an Allow and a Deny on overlapping patterns meet (issue 12, point 4).
# The partition is the node role's ("aws"): a role reaches no other partition, and ecrlint pins
# "some repository" to the partitions the policies name.
SOME_REPOSITORY = "arn:aws:ecr:*:*:repository/*"

# Repositories asked about: ECR repository names are lowercase, so every request ARN is too.
QUERY_RESOURCES = (
    f"arn:aws:ecr:us-east-1:{ACCOUNT}:repository/prod/api",
    f"arn:aws:ecr:us-east-1:{ACCOUNT}:repository/dev/web",
    f"arn:aws:ecr:eu-west-1:{ACCOUNT}:repository/app",
    f"arn:aws:ecr:us-east-1:{ACCOUNT}:repository/ecr-public/library/nginx",
    f"arn:aws:ecr:us-east-1:{OTHER_ACCOUNT}:repository/prod/api",
    f"arn:aws-cn:ecr:cn-north-1:{ACCOUNT}:repository/prod/api",
)

ACTION_POOL = (
    "ecr:GetAuthorizationToken",
    "ecr:BatchGetImage",
    "ecr:GetDownloadUrlForLayer",
    "ecr:BatchImportUpstreamImage",
    "ecr:BatchCheckLayerAvailability",
    "ecr:CreateRepository",
    "ecr:DescribeRepositories",
    "ecr:PutImage",
    "ecr:*",
    "ecr:Get*",
    "ecr:Batch*",
    "ecr:*Image",
    "ecr:BatchGet?mage",
    "ecr:GetDownloadUrlFor?ayer",
    "ecr:GetAuthorizationToken*",
    "ECR:batchgetimage",
    "*",
    "ecr-public:GetAuthorizationToken",
    "ecr-public:*",
    "s3:GetObject",
)

_PARTITIONS = ("aws",) * 8 + ("aws-cn", "aws-us-gov", "*", "", "aw?")
_SERVICES = ("ecr",) * 12 + ("ecr-public", "s3", "*", "ECR")
_REGIONS = ("us-east-1",) * 4 + ("eu-west-1", "*", "*", "us-*", "", "us-east-?", "US-EAST-1", "cn-north-1")
_ACCOUNTS = (ACCOUNT,) * 5 + (OTHER_ACCOUNT, "*", "*", "", "1111*", "11112222333?")
_RESOURCE_IDS = (
    "repository/prod/api",
    "repository/prod/*",
    "repository/prod/*",
    "repository/*",
    "repository/*",
    "repository/prod*",
    "repository/dev/web",
    "repository/app",
    "repository/ecr-public/*",
    "repository/Prod/api",
    "repository/PROD/*",
    "repository/prod/api*",
    "repository/?rod/api",
    "repository/",
    "repository",
    "repo*",
    "registry/*",
    "*",
    "*/prod/api",
    "repository/${aws:username}/*",
    "repository/${aws:PrincipalTag/team}/*",
    "repository/${aws:PrincipalAccount}/*",
)
# Whole patterns that are not six clean segments: short ARNs, "*" ending a segment before more
# segments ("If the * is the last character of a resource ARN segment, it can expand to match
# beyond the colon boundaries"), an ARN with nothing after the account.
_WHOLE = (
    "*",
    "*",
    "arn:*",
    "arn:aws:*",
    "arn:aws:ecr:*",
    "arn:aws:ecr:us-*",
    "arn:aws:ecr:us-east-1:*",
    f"arn:aws:ecr:us-east-1:{ACCOUNT}:*",
    f"arn:aws:ecr:*:{ACCOUNT}:*",
    "arn:aws:ecr:*:repository/prod/api",
    f"arn:aws:ecr:us-east-1:{ACCOUNT}*",
    "arn:aws:ecr:us-*:repository/*",
    f"arn:aws:ecr:us-east-1:{ACCOUNT}",
    f"arn:aws:ecr:us-east-1:{ACCOUNT}:repository/prod/api:*",
    "arn:aws:ecr:*:*:repository/*",
    "arn:aws:ecr:::repository/prod/api",
)

# Condition tests; each key outside aws:ViaAWSService is one ecrlint cannot know offline.
_CONDITIONS: tuple[tuple[str, str, Any], ...] = (
    ("Bool", "aws:ViaAWSService", "false"),
    ("Bool", "aws:ViaAWSService", "true"),
    ("BoolIfExists", "aws:ViaAWSService", "false"),
    ("BoolIfExists", "aws:ViaAWSService", "true"),
    ("Bool", "aws:ViaAWSService", ["true", "false"]),
    ("Null", "aws:ViaAWSService", "false"),
    ("StringEquals", "aws:SourceVpc", "vpc-1"),
    ("StringNotEquals", "aws:SourceVpc", "vpc-1"),
    ("StringEqualsIfExists", "aws:SourceVpc", "vpc-1"),
    ("StringEquals", "aws:PrincipalTag/team", "a"),
    ("StringNotEquals", "aws:PrincipalTag/team", "a"),
)

# Values the undecided keys take across the simulator's context variants (compare.py): absent, the
# value the conditions name, another one, and for the tag the path segments of the asked repositories
# (a ``${aws:PrincipalTag/team}`` in a Resource matches only when the tag names one of them).
UNKNOWN_KEY_VALUES: dict[str, tuple[str, ...]] = {
    "aws:SourceVpc": ("vpc-1", "vpc-2"),
    "aws:PrincipalTag/team": ("a", "prod", "dev"),
}


@dataclass
class Case:
    index: int
    policies: list[dict[str, Any]]
    boundary: dict[str, Any] | None
    queries: list[tuple[str, str]] = field(default_factory=list)  # (action, resource)


def _one_or_list(rng: random.Random, items: list[Any]) -> Any:
    return items[0] if len(items) == 1 and rng.random() < 0.6 else items


def _resource(rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.18:
        return rng.choice(_WHOLE)
    if roll < 0.26:
        return rng.choice(QUERY_RESOURCES)
    return ":".join(
        [
            "arn",
            rng.choice(_PARTITIONS),
            rng.choice(_SERVICES),
            rng.choice(_REGIONS),
            rng.choice(_ACCOUNTS),
            rng.choice(_RESOURCE_IDS),
        ]
    )


def _condition(rng: random.Random) -> dict[str, Any]:
    out: dict[str, dict[str, Any]] = {}
    for _ in range(1 if rng.random() < 0.8 else 2):
        op, key, value = rng.choice(_CONDITIONS)
        out.setdefault(op, {})[key] = value
    return out


def _statement(rng: random.Random, effect: str | None = None) -> dict[str, Any]:
    stmt: dict[str, Any] = {"Effect": effect or ("Allow" if rng.random() < 0.7 else "Deny")}
    actions = rng.sample(ACTION_POOL, rng.choice((1, 1, 2, 3, 4)))
    stmt["NotAction" if rng.random() < 0.12 else "Action"] = _one_or_list(rng, actions)
    resources = [_resource(rng) for _ in range(rng.choice((1, 1, 1, 2, 3)))]
    stmt["NotResource" if rng.random() < 0.12 else "Resource"] = _one_or_list(rng, resources)
    if rng.random() < 0.2:
        stmt["Condition"] = _condition(rng)
    return stmt


def _policy(rng: random.Random, effect: str | None = None) -> dict[str, Any]:
    statements = [_statement(rng, effect) for _ in range(rng.choice((1, 1, 2, 3)))]
    doc: dict[str, Any] = {}
    version = rng.random()
    if version < 0.9:
        doc["Version"] = "2012-10-17"
    elif version < 0.95:
        doc["Version"] = "2008-10-17"
    doc["Statement"] = statements if len(statements) > 1 or rng.random() < 0.8 else statements[0]
    return doc


def make_case(seed: int, index: int) -> Case:
    rng = random.Random(seed * 1_000_003 + index)
    policies = [_policy(rng) for _ in range(rng.choice((1, 1, 2, 2, 3)))]
    boundary = _policy(rng, "Allow" if rng.random() < 0.7 else None) if rng.random() < 0.3 else None
    queries = [(TOKEN_ACTION, "*"), ("ecr:BatchGetImage", SOME_REPOSITORY)]
    for resource in rng.sample(QUERY_RESOURCES, 2):
        for action in QUERY_ACTIONS:
            queries.append((action, resource))
    return Case(index, policies, boundary, queries)


def unknown_keys(case_json: str) -> list[str]:
    """The undecided condition keys a case's policies mention (conditions or ``${...}`` variables)."""
    low = case_json.lower()
    return [key for key in UNKNOWN_KEY_VALUES if key.lower() in low]
