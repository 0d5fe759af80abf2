"""A node role that cannot pull at all is reported once, on the role, not again on every image."""

from __future__ import annotations

from helpers import lint

CLUSTER = """apiVersion: eksctl.io/v1alpha5
kind: ClusterConfig
metadata: {name: shop, region: eu-west-1}
managedNodeGroups:
  - name: services
    iam:
      attachPolicyARNs:
        - arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy
"""
POD = """apiVersion: v1
kind: Pod
metadata: {name: web, namespace: shop}
spec:
  containers:
    - name: web
      image: 111122223333.dkr.ecr.eu-west-1.amazonaws.com/shop/web:1.0.0
"""


def test_role_without_any_ecr_pull_gives_one_finding(tmp_path):
    (tmp_path / "cluster.yaml").write_text(CLUSTER)
    (tmp_path / "pod.yaml").write_text(POD)
    result = lint(".", cwd=tmp_path)
    assert [(f.path, f.rule) for f in result.findings] == [("cluster.yaml", "ECR202")]


def test_role_scoped_to_other_repositories_is_flagged_on_the_image(tmp_path):
    scoped = CLUSTER.replace(
        "      attachPolicyARNs:\n        - arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy\n",
        "      attachPolicyARNs:\n        - arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy\n"
        "      attachPolicy:\n        Version: '2012-10-17'\n        Statement:\n"
        "          - {Effect: Allow, Action: ecr:GetAuthorizationToken, Resource: '*'}\n"
        "          - Effect: Allow\n            Action: [ecr:BatchGetImage, ecr:GetDownloadUrlForLayer]\n"
        "            Resource: arn:aws:ecr:eu-west-1:111122223333:repository/billing/*\n",
    )
    (tmp_path / "cluster.yaml").write_text(scoped)
    (tmp_path / "pod.yaml").write_text(POD)
    result = lint(".", cwd=tmp_path)
    rules = [(f.path, f.rule, f.span.line) for f in result.findings]
    assert ("pod.yaml", "ECR206", 7) in rules
    assert "billing/*" in next(f.message for f in result.findings if f.rule == "ECR206")


# --- issue 12 item 11: quiet about a misspelt action only while ECR204 is shown ------------------

TYPO_POLICY = """{
  "Version": "2012-10-17",
  "Statement": [
    {"Effect": "Allow", "Action": ["ecr:GetAuthorizationToken", "ecr:BatchGetImage",
                                   "ecr:GetDownloadUrlForLayers"], "Resource": "*"}
  ]
}
"""
NODE_ROLE = 'node-role-policies: ["node.json"]\n'


def _typo_run(tmp_path, policy_text=TYPO_POLICY, **options):
    (tmp_path / ".ecrlint.yaml").write_text(NODE_ROLE)
    (tmp_path / "node.json").write_text(policy_text)
    result = lint(".", cwd=tmp_path, **options)
    return [(f.rule, f.span.line, f.span.column) for f in result.findings], result


def test_ecr204_shown_means_ecr201_stays_quiet_about_the_misspelt_action(tmp_path):
    rules, _ = _typo_run(tmp_path)
    assert rules == [("ECR204", 5, 36)]


def test_ecr204_ignored_brings_back_ecr201(tmp_path):
    rules, result = _typo_run(tmp_path, ignore="ECR204")
    assert rules == [("ECR201", 3, 3)]
    assert '"ecr:GetDownloadUrlForLayer" is not granted' in result.findings[0].message


def test_ecr204_switched_off_for_the_file_brings_back_ecr201(tmp_path):
    (tmp_path / ".ecrlint.yaml").write_text(NODE_ROLE + "per-file-ignores:\n  node.json: [ECR204]\n")
    (tmp_path / "node.json").write_text(TYPO_POLICY)
    result = lint(".", cwd=tmp_path)
    assert [(f.rule, f.span.line) for f in result.findings] == [("ECR201", 3)]


def test_ecr204_suppressed_inline_brings_back_ecr201(tmp_path):
    (tmp_path / ".ecrlint.yaml").write_text('node-role-policies: ["node.yaml"]\n')
    (tmp_path / "node.yaml").write_text(
        "Version: '2012-10-17'\n"
        "Statement:\n"
        "  - Effect: Allow\n"
        "    Action:\n"
        "      - ecr:GetAuthorizationToken\n"
        "      - ecr:BatchGetImage\n"
        "      - ecr:GetDownloadUrlForLayers  # ecrlint: ignore[ECR204]\n"
        "    Resource: '*'\n"
    )
    result = lint(".", cwd=tmp_path)
    assert [(f.rule, f.span.line, f.span.column) for f in result.findings] == [("ECR201", 2, 1)]
    assert [f.rule for f in result.suppressed] == ["ECR204"]


def test_only_the_unexplained_part_while_ecr204_is_shown(tmp_path):
    # GetAuthorizationToken is missing as well: ECR201 names it, and only it, while ECR204 is shown
    partial = TYPO_POLICY.replace('"ecr:GetAuthorizationToken", ', "")
    rules, result = _typo_run(tmp_path, policy_text=partial)
    assert sorted(r for r, _l, _c in rules) == ["ECR201", "ECR204"]
    ecr201 = next(f for f in result.findings if f.rule == "ECR201")
    assert '"ecr:GetAuthorizationToken" is not granted' in ecr201.message
    assert "GetDownloadUrlForLayer" not in ecr201.message
    rules, result = _typo_run(tmp_path, policy_text=partial, ignore="ECR204")
    ecr201 = next(f for f in result.findings if f.rule == "ECR201")
    assert '"ecr:GetAuthorizationToken" and "ecr:GetDownloadUrlForLayer" are not granted' in ecr201.message
