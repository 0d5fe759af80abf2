"""Tests of the IAM oracle harness itself (not of ecrlint): ``pytest benchmarks/iam_oracle/test_oracle.py``.

Outside the default test run (testpaths is tests/). The tests that talk to the simulator skip
when node or benchmarks/iam_oracle/node_modules is missing (``make oracle`` installs it).
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import compare  # noqa: E402
import generate  # noqa: E402

HAS_SIMULATOR = shutil.which("node") is not None and (HERE / "node_modules" / "@cloud-copilot" / "iam-simulate").is_dir()
needs_simulator = pytest.mark.skipif(not HAS_SIMULATOR, reason="node or benchmarks/iam_oracle/node_modules missing")
REPO = "arn:aws:ecr:us-east-1:111122223333:repository/prod/api"


def test_cases_are_reproducible_and_varied() -> None:
    a = [generate.make_case(12, i) for i in range(200)]
    b = [generate.make_case(12, i) for i in range(200)]
    assert [json.dumps(c.__dict__) for c in a] == [json.dumps(c.__dict__) for c in b]
    text = json.dumps([c.__dict__ for c in a])
    for feature in ('"NotAction"', '"NotResource"', '"Deny"', "aws:ViaAWSService", "aws:SourceVpc", "${aws:username}"):
        assert feature in text
    assert sum(c.boundary is not None for c in a) > 20
    assert all(c.queries[:2] == [(generate.TOKEN_ACTION, "*"), ("ecr:BatchGetImage", generate.SOME_REPOSITORY)] for c in a)
    assert all(len(c.queries) == 8 for c in a)


def test_contexts_vary_only_the_keys_the_case_names() -> None:
    plain = {"policies": [{"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}], "boundary": None}
    assert compare.contexts(plain, REPO) == [
        {"aws:ViaAWSService": "false", "aws:PrincipalAccount": "111122223333", "aws:PrincipalArn": "arn:aws:iam::111122223333:role/node-role"}
    ]
    tagged = {"policies": [{"Statement": [{"Resource": "repository/${aws:PrincipalTag/team}/*"}]}], "boundary": None}
    teams = {c.get("aws:PrincipalTag/team") for c in compare.contexts(tagged, REPO)}
    assert teams == {None, "a", "prod", "dev"}  # "prod": the asked repository's first segment
    assert {c.get("aws:PrincipalTag/team") for c in compare.contexts(tagged, generate.SOME_REPOSITORY)} == {None, "a", "prod", "dev"}


@pytest.mark.parametrize(
    "status, results, kind",
    [
        ("allowed", ["Allowed"], compare.AGREE),
        ("not-granted", ["ImplicitlyDenied"], compare.AGREE),
        ("allowed", ["ImplicitlyDenied"], compare.ECR_ALLOWS),
        ("resource-mismatch", ["Allowed"], compare.ECR_DENIES),
        ("conditional", ["Allowed", "ImplicitlyDenied"], compare.AGREE_UNDECIDED),
        ("conditional", ["Allowed", "Allowed"], compare.ECR_UNDECIDED),
        ("allowed", ["Allowed", "ImplicitlyDenied"], compare.SIM_DEPENDS),
        (None, ["Allowed"], compare.NO_BOUNDARY),
    ],
)
def test_verdict(status: str | None, results: list[str], kind: str) -> None:
    assert compare.verdict(status, [{"result": r} for r in results])[0] == kind


def test_verdict_reports_simulator_errors() -> None:
    assert compare.verdict("allowed", [{"error": "bad policy"}]) == (compare.SIM_ERROR, "bad policy")


@pytest.mark.parametrize(
    "pattern, key, expected",
    [
        ("arn:aws:ecr:US-EAST-1:*:*", "Resource", "uppercase partition/service/region/account"),
        ("arn:aws:ecr:us-*:repository/*", "Resource", 'short ARN whose "*" ends a segment (trailing * across ":")'),
        ("arn:aws:ecr:us-east-1:111122223333", "Resource", "short ARN without a wildcard"),
        ("arn:aws:*", "NotResource", "short ARN in NotResource"),
        ("arn:aws:ecr:*:*:*/prod/api", "Resource", 'resource part not "repository/..." (*...)'),
        ("arn:aws:ecr::111122223333:repository/x", "Resource", "empty partition/region/account segment"),
    ],
)
def test_pattern_classes(pattern: str, key: str, expected: str) -> None:
    assert compare._pattern_class(pattern, REPO, key, False) == expected


def test_shrinking_steps_are_each_one_smaller() -> None:
    case = {
        "policies": [
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["a", "b"], "Resource": "*"}]},
            {"Version": "2012-10-17", "Statement": {"Effect": "Deny", "Action": "c", "Resource": "*", "Condition": {"Bool": {"k": "1"}}}},
        ],
        "boundary": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]},
    }
    steps = list(compare._smaller(case))
    sizes = [len(json.dumps(s)) for s in steps]
    assert steps and all(n < len(json.dumps(case)) for n in sizes)
    assert {"policies": case["policies"], "boundary": None} in steps


@needs_simulator
def test_simulator_round_trip_and_one_known_disagreement() -> None:
    sim = compare.Simulator()
    try:
        exact = {"policies": [{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "ecr:BatchGetImage", "Resource": REPO}]}], "boundary": None}
        assert compare.judge(sim, exact, "ecr:BatchGetImage", REPO)[:2] == (compare.AGREE, "Allowed")
        # the simulator pads a short ARN with "*" segments; ecrlint matches it as written
        short = {"policies": [{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "arn:aws:ecr:us-east-1:111122223333"}]}], "boundary": None}
        kind, base, status = compare.judge(sim, short, "ecr:BatchGetImage", REPO)
        assert (kind, base) == (compare.ECR_DENIES, "Allowed")
        prims = compare.Primitives(sim)
        assert compare.classify(prims, short, "ecr:BatchGetImage", REPO)[0] == "short ARN without a wildcard"
    finally:
        sim.close()
