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
