"""Fargate selector matching, role ARN checks and the EKS API profile JSON, as table tests."""

from __future__ import annotations

import pytest

from ecrlint.analysis.fargate import (
    PROFILE_LABEL,
    blockers,
    role_arn_problem,
    selecting_profiles,
    selector_matches,
    wildcard_match,
)
from ecrlint.model import NO_SPAN, Document, Loc
from ecrlint.sources.eks_api import extract
from ecrlint.parsing import parse_text
from ecrlint.workspace import FargateProfile, FargateSelector, Workload, Workspace

LOC = Loc("cluster.yaml", NO_SPAN)


def selector(namespace: str, **labels: str) -> FargateSelector:
    return FargateSelector(namespace, dict(labels), LOC)


def profile(name: str, *selectors: FargateSelector) -> FargateProfile:
    return FargateProfile(name, LOC, "eksctl", list(selectors))


@pytest.mark.parametrize(
    "pattern, text, expected",
    [
        ("default", "default", True),
        ("default", "Default", False),  # case-sensitive
        ("default", "default2", False),
        ("*", "anything", True),
        ("*", "", True),
        ("team-*", "team-a", True),
        ("team-*", "team-", True),
        ("team-*", "teams", False),
        ("team-?", "team-a", True),
        ("team-?", "team-ab", False),
        ("team-?", "team-", False),
        ("*-prod", "web-prod", True),
        ("a*b*c", "aXXbYYc", True),
        ("a*b*c", "aXXcYYb", False),
        ("ns.[a]", "ns.[a]", True),  # regex characters are literal
        ("ns.[a]", "nsX[a]", False),
    ],
)
def test_wildcard_match(pattern, text, expected):
    assert wildcard_match(pattern, text) is expected


@pytest.mark.parametrize(
    "sel, namespace, labels, expected",
    [
        # namespace only: every pod of the namespace, whatever its labels
        (selector("apps"), "apps", {}, True),
        (selector("apps"), "apps", {"app": "web"}, True),
        (selector("apps"), "web", {}, False),
        # labels: the selector's labels must be a subset of the pod's
        (selector("apps", compute="fargate"), "apps", {"compute": "fargate", "app": "web"}, True),
        (selector("apps", compute="fargate"), "apps", {"app": "web"}, False),
        (selector("apps", compute="fargate"), "apps", {"compute": "nodes"}, False),
        (selector("apps", compute="fargate", tier="web"), "apps", {"compute": "fargate"}, False),
        (selector("apps", compute="fargate", tier="web"), "apps", {"compute": "fargate", "tier": "web"}, True),
        # wildcards in namespaces, label keys and values
        (selector("team-*", tier="*"), "team-a", {"tier": "db"}, True),
        (selector("team-*", tier="*"), "team-a", {}, False),
        (selector("*", **{"*": "*"}), "any", {"x": "y"}, True),
        (selector("*", **{"*": "*"}), "any", {}, False),
        (selector("apps", env="prod-?"), "apps", {"env": "prod-1"}, True),
        (selector("apps", env="prod-?"), "apps", {"env": "prod-12"}, False),
    ],
)
def test_selector_matches(sel, namespace, labels, expected):
    assert selector_matches(sel, namespace, labels) is expected


def test_a_profile_selects_when_any_of_its_selectors_match():
    web = profile("web", selector("web"), selector("apps", tier="web"))
    assert [(p.name, s.namespace) for p, s in selecting_profiles([web], "apps", {"tier": "web"})] == [("web", "apps")]
    assert selecting_profiles([web], "apps", {"tier": "db"}) == []


def test_several_matching_profiles_all_count_unless_the_label_pins_one():
    a = profile("a", selector("apps"))
    b = profile("b", selector("apps", tier="web"))
    labels = {"tier": "web"}
    assert [p.name for p, _s in selecting_profiles([a, b], "apps", labels)] == ["a", "b"]
    pinned = {**labels, PROFILE_LABEL: "b"}
    assert [p.name for p, _s in selecting_profiles([a, b], "apps", pinned)] == ["b"]
    # the pinned profile must still match: a label naming a profile that does not is not a pin
    stray = {PROFILE_LABEL: "b"}
    assert [p.name for p, _s in selecting_profiles([a, b], "apps", stray)] == ["a"]


@pytest.mark.parametrize(
    "arn, cfn, problem",
    [
        ("arn:aws:iam::123456789012:role/FargatePods", False, None),
        ("arn:aws:iam::123456789012:role/platform/team/FargatePods", False, None),
        ("arn:aws-cn:iam::123456789012:role/FargatePods", False, None),
        ("arn:${AWS::Partition}:iam::${AWS::AccountId}:role/FargatePods", True, None),
        ("arn:aws:iam::${AWS::AccountId}:role/${RoleName}", True, None),
        ("arn:aws:iam::${AWS_ACCOUNT_ID}:role/FargatePods", False, 'holds the placeholder "${AWS_ACCOUNT_ID}"'),
        ("arn:aws:iam::<account>:role/FargatePods", True, 'holds the placeholder "<account>"'),
        ("arn:aws:iam::{{ .Values.account }}:role/x", False, 'holds the placeholder "{{ .Values.account }}"'),
        ("arn:aws:iam::ACCOUNT_ID:role/FargatePods", False, 'has the placeholder account "ACCOUNT_ID"'),
        ("arn:aws:iam::12345678901:role/FargatePods", False, 'has an account "12345678901" of 11 digits'),
        ("arn:aws:iam::1234567890123:role/FargatePods", False, "of 13 digits"),
        ("arn:aws:sts::123456789012:assumed-role/FargatePods/s", False, 'names the service "sts", not "iam"'),
        ("arn:aws:iam:us-east-1:123456789012:role/FargatePods", False, 'has a region "us-east-1"'),
        ("arn:aws:iam::123456789012:user/FargatePods", False, 'names the resource type "user", not "role"'),
        ("arn:aws:iam::123456789012:instance-profile/x", False, 'the resource type "instance-profile"'),
        ("arn:aws:iam::123456789012:FargatePods", False, "names the resource type \"FargatePods\""),
        ("arn:aws:iam::123456789012:role/", False, 'has an invalid role name ""'),
        ("arn:aws:iam::123456789012:role/bad name", False, 'has an invalid role name "bad name"'),
        ("arn:amazon:iam::123456789012:role/x", False, 'has an unknown partition "amazon"'),
        ("FargatePods", False, "is not an ARN"),
        ("arn:aws:iam::123456789012", False, "is not an ARN"),
    ],
)
def test_role_arn_problem(arn, cfn, problem):
    found = role_arn_problem(arn, symbols_allowed=cfn)
    if problem is None:
        assert found is None
    else:
        assert found is not None and problem in found


def _docs(text: str, path: str = "profile.json") -> list[Document]:
    docs, errors = parse_text(path, text)
    assert not errors
    return [Document(path, i, root, kind="eks-fargate-profile") for i, (root, _span) in enumerate(docs)]


def test_extract_eks_api_profile_json():
    ws = Workspace()
    (doc,) = _docs(
        '{\n  "fargateProfileName": "apps",\n  "clusterName": "prod",\n'
        '  "podExecutionRoleArn": "arn:aws:iam::123456789012:role/pods",\n'
        '  "selectors": [{"namespace": "apps", "labels": {"tier": "web"}}, {"namespace": "jobs"}]\n}\n'
    )
    extract(doc, ws)
    (p,) = ws.fargate_profiles
    assert (p.name, p.source, p.cluster_name, p.role_ref) == ("apps", "eks-api", "prod", "arn:aws:iam::123456789012:role/pods")
    assert (p.loc.line, p.loc.span.column) == (2, 25)
    assert (p.role_loc.line, p.role_loc.span.column) == (4, 26)
    assert [(s.namespace, s.labels, s.loc.line) for s in p.selectors] == [("apps", {"tier": "web"}, 5), ("jobs", {}, 5)]


def test_extract_describe_output_and_empty_role():
    ws = Workspace()
    (doc,) = _docs('{"fargateProfile": {"fargateProfileName": "x", "podExecutionRoleArn": " ", "selectors": []}}')
    extract(doc, ws)
    (p,) = ws.fargate_profiles
    assert (p.name, p.role_ref, p.role_loc, p.cluster_name) == ("x", None, None, None)


def _workload(text: str) -> Workload:
    from ecrlint.sources import kubernetes

    ws = Workspace()
    docs, errors = parse_text("w.yaml", text)
    for i, (root, _span) in enumerate(docs):
        kubernetes.extract(Document("w.yaml", i, root, kind="kubernetes"), ws)
    return ws.workloads[0]


def test_blockers_point_at_the_offending_fields():
    workload = _workload(
        "kind: DaemonSet\n"
        "metadata: {name: a}\n"
        "spec:\n"
        "  template:\n"
        "    spec:\n"
        "      hostNetwork: true\n"
        "      containers:\n"
        "        - name: c\n"
        "          securityContext: {privileged: true}\n"
        "          ports: [{hostPort: 80}, {containerPort: 81}, {hostPort: 0}]\n"
        "          resources:\n"
        "            limits: {aws.amazon.com/neurondevice: 1}\n"
        "            requests: {aws.amazon.com/neurondevice: 1}\n"
    )
    found = [(b.loc.line, b.loc.span.column, b.what.split(" (")[0]) for b in blockers(workload)]
    assert found == [
        (1, 7, "DaemonSets"),
        (6, 7, "hostNetwork"),
        (9, 29, "privileged containers"),
        (10, 20, "hostPort"),
        (12, 22, "GPUs and accelerators"),
    ]


def test_blockers_ignore_what_fargate_supports():
    workload = _workload(
        "kind: Deployment\n"
        "metadata: {name: a}\n"
        "spec:\n"
        "  template:\n"
        "    spec:\n"
        "      hostNetwork: false\n"
        "      containers:\n"
        "        - name: c\n"
        "          securityContext: {privileged: false}\n"
        "          ports: [{containerPort: 80}]\n"
        "          resources: {limits: {cpu: '2', nvidia.com/gpu: 0}}\n"
    )
    assert blockers(workload) == []
