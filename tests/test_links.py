"""``ecrlint links``: the inferred map, as golden text and JSON, and the linking rules behind it."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from ecrlint.analysis.links import build_links, pinned_node_groups
from ecrlint.output.links import format_json, format_text
from ecrlint.model import NO_SPAN, Loc, YMap
from ecrlint.workspace import Cluster, FargateProfile, FargateSelector, NodeGroup, Workload, Workspace
from helpers import FIXTURES, lint

GOLDEN = Path(__file__).parent / "golden" / "links"
UPDATE = os.environ.get("ECRLINT_UPDATE_GOLDEN") == "1"
CASES = {
    # name: (fixture repository, paths given)
    "cfn-nodes": ("crossfile/cfn-nodes-fail", ["."]),
    "eksctl-fargate": ("crossfile/eksctl-fargate-fail", ["."]),
    "several-clusters": ("crossfile/several-clusters-fail", ["."]),
    "symbolic-account": ("crossfile/symbolic-account-fail", ["."]),
    "cross-account": ("crossfile/cross-account-fail", ["."]),
    "precommit-context": ("crossfile/precommit-context-fail", ["k8s/app.yaml"]),
    "fargate-selectors": ("fargate/ecr305-cfn-fail", ["."]),
    "eks-api-profile": ("fargate/ecr305-api-fail", ["."]),
}


def _links(case: str):
    repository, paths = CASES[case]
    result = lint(*paths, cwd=FIXTURES / repository, select="ECR001")
    return build_links(result.workspace, result.config)


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("fmt", ["txt", "json"])
def test_golden(case, fmt):
    links = _links(case)
    actual = format_text(links) if fmt == "txt" else format_json(links)
    path = GOLDEN / f"{case}.{fmt}"
    if UPDATE:
        path.write_text(actual)
    assert actual == path.read_text(), f"links output changed; if intended: ECRLINT_UPDATE_GOLDEN=1 pytest {__file__}"


def test_json_names_each_workloads_pulling_role():
    data = json.loads(format_json(_links("eksctl-fargate")))
    (cluster,) = data["clusters"]
    by_workload = {(w["workload"], w["runs_on"]): w for w in cluster["workloads"]}
    apps = by_workload[("Deployment/apps/web", "fargate")]
    assert apps["fargate_profiles"] == ["apps"]
    assert apps["roles"] == [
        {"state": "defined", "name": "AppsFargateRole", "arn": "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/prod-apps-fargate",
         "path": "iam.yaml", "line": 4}
    ]
    assert by_workload[("Deployment/default/web", "nodes")]["node_groups"] == ["general"]
    assert by_workload[("Deployment/kube-system/coredns-extra", "fargate")]["roles"][0]["state"] == "generated"


# --- linking rules on small workspaces --------------------------------------------------------------

LOC = Loc("x.yaml", NO_SPAN)


def workload(path: str, namespace: str = "default", labels: dict | None = None, spec: dict | None = None) -> Workload:
    pod = YMap()
    pod.update(spec or {})
    return Workload("Deployment", "app", namespace, path, 0, Loc(path, NO_SPAN), labels or {}, pod, "/spec/template/spec")


def test_one_cluster_runs_every_workload():
    ws = Workspace(clusters=[Cluster("prod", LOC, "eksctl", "infra/c.yaml")], workloads=[workload("k8s/a.yaml")])
    (link,) = build_links(ws).workloads
    assert link.cluster.name == "prod" and link.why == "the only cluster in the scanned files"


def test_several_clusters_need_config():
    clusters = [Cluster("prod", LOC, "eksctl", "infra/prod.yaml"), Cluster("dev", LOC, "eksctl", "infra/dev.yaml")]
    ws = Workspace(clusters=clusters, workloads=[workload("k8s/prod/a.yaml"), workload("k8s/b.yaml")])
    unlinked = build_links(ws).workloads
    assert [w.cluster for w in unlinked] == [None, None]
    assert unlinked[0].why.startswith('several clusters ("prod", "dev")')
    config = {"clusters": [{"name": "prod", "workloads": ["k8s/prod/**"], "account-id": "111122223333"}]}
    links = build_links(ws, config)
    assert links.workloads[0].cluster.name == "prod" and links.workloads[0].cluster.account == "111122223333"
    assert links.workloads[1].cluster is None


def test_config_entry_by_definition_and_a_cluster_known_only_from_config():
    clusters = [Cluster("EKS", LOC, "cloudformation", "infra/prod.yaml", name_known=False)]
    config = {"clusters": [
        {"name": "prod", "definition": "infra/prod.yaml", "workloads": ["prod/**"]},
        {"name": "legacy", "workloads": ["legacy/**"], "account-id": "444455556666"},
    ]}
    ws = Workspace(clusters=clusters, workloads=[workload("prod/a.yaml"), workload("legacy/b.yaml")])
    links = build_links(ws, config)
    assert [(w.cluster.name, w.cluster.clusters[0].path if w.cluster.clusters else None) for w in links.workloads] == [
        ("EKS", "infra/prod.yaml"),
        ("legacy", None),
    ]
    assert links.workloads[1].cluster.account == "444455556666" and links.workloads[1].pullers == []


def test_clusters_named_by_logical_id_are_never_merged():
    clusters = [
        Cluster("EKSCluster", LOC, "cloudformation", "a.yaml", name_known=False),
        Cluster("EKSCluster", LOC, "cloudformation", "b.yaml", name_known=False),
        Cluster("prod", LOC, "eksctl", "c.yaml", region="us-east-1"),
        Cluster("prod", LOC, "cloudformation", "d.json"),
    ]
    links = build_links(Workspace(clusters=clusters))
    assert [[c.path for c in link.clusters] for link in links.clusters] == [["a.yaml"], ["b.yaml"], ["c.yaml", "d.json"]]


def test_profiles_and_node_groups_find_their_cluster_by_name_or_as_the_only_one():
    api = FargateProfile("apps", LOC, "eks-api", [FargateSelector("apps", {}, LOC)], role_ref="arn:aws:iam::111122223333:role/pods", cluster_name="prod")
    orphan = NodeGroup("nodes", Loc("ng.yaml", NO_SPAN), "cloudformation", "managed", None, role_ref="${NodeRoleArn}")
    ws = Workspace(fargate_profiles=[api], node_groups=[orphan], workloads=[workload("k8s/a.yaml", "apps")])
    links = build_links(ws)
    (cluster,) = links.clusters
    assert cluster.name == "prod" and cluster.clusters == [] and cluster.node_groups == [orphan]
    assert "does not name its cluster literally" in cluster.notes[0]
    (link,) = links.workloads
    assert link.on_fargate and [p.state for p in link.pullers] == ["external"]


@pytest.mark.parametrize(
    "spec, pinned",
    [
        ({}, ()),
        ({"nodeSelector": {"eks.amazonaws.com/nodegroup": "batch"}}, ("batch",)),
        ({"nodeSelector": {"alpha.eksctl.io/nodegroup-name": "ng-1", "kubernetes.io/os": "linux"}}, ("ng-1",)),
        (
            {"affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
                {"matchExpressions": [{"key": "eks.amazonaws.com/nodegroup", "operator": "In", "values": ["a", "b"]}]},
            ]}}}},
            ("a", "b"),
        ),
        (
            {"affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
                {"matchExpressions": [{"key": "eks.amazonaws.com/nodegroup", "operator": "NotIn", "values": ["a"]}]},
            ]}}}},
            (),
        ),
    ],
)
def test_pinned_node_groups(spec, pinned):
    assert pinned_node_groups(spec) == pinned


NODEGROUP_TEMPLATE = """AWSTemplateFormatVersion: "2010-09-09"
Parameters:
  ClusterParam: {{Type: String}}
Resources:
  NodeRole:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Statement: [{{Effect: Allow, Principal: {{Service: ec2.amazonaws.com}}, Action: sts:AssumeRole}}]
      ManagedPolicyArns: [arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryPullOnly]
  Nodes:
    Type: AWS::EKS::Nodegroup
    Properties:
      ClusterName: {cluster}
      NodeRole: !GetAtt NodeRole.Arn
      Subnets: [subnet-1]
"""


@pytest.mark.parametrize("cluster, label", [
    ("prod", 'cluster "prod" (not defined in the scanned files)'),
    ("!Ref ClusterParam", "cluster (named at deploy time by Ref ClusterParam) (not defined in the scanned files)"),
    ("!ImportValue shared-cluster", "cluster (named at deploy time by Fn::ImportValue shared-cluster)"),
])
def test_a_node_group_names_its_cluster_by_cluster_name(tmp_path, cluster, label):
    (tmp_path / "nodes.yaml").write_text(NODEGROUP_TEMPLATE.format(cluster=cluster))
    links = build_links(lint(".", cwd=tmp_path, select="ECR001").workspace, None)
    text = format_text(links)
    assert text.splitlines()[0].startswith(label), text
    assert "(unnamed)" not in text
    assert 'node group "Nodes" (managed, nodes.yaml:11): node role "NodeRole" (nodes.yaml:5)' in text
