"""The Source protocol: every input kind in one table, detected by priority, open to third-party packages."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from ecrlint.sources import DocumentSource, FileSource, UnitSource, detect_kind, registered


def test_every_built_in_kind_is_registered_once_in_priority_order() -> None:
    sources = registered()
    assert [s.name for s in sources.documents] == [
        "eksctl", "cloudformation", "iam-authorization-details", "iam-policy", "eks-fargate-profile", "node-class",
        "flux-source", "kustomization", "json-patch", "kubernetes",
    ]
    assert [s.name for s in sources.files] == ["documents"]
    assert [(s.name, s.marker, s.nested) for s in sources.units] == [("chart", "Chart.yaml", False), ("terraform", "*.tf", True)]
    assert sources.suffixes == (".yaml", ".yml", ".json", ".template")
    assert all(isinstance(s, (DocumentSource, FileSource, UnitSource)) for s in sources.by_name.values())


@pytest.mark.parametrize(
    ("root", "kind"),
    [
        # eksctl's ClusterConfig has apiVersion and kind too: the more specific kind wins
        ({"apiVersion": "eksctl.io/v1alpha5", "kind": "ClusterConfig"}, "eksctl"),
        ({"apiVersion": "v1", "kind": "ConfigMap"}, "kubernetes"),
        ({"apiVersion": "karpenter.k8s.aws/v1", "kind": "EC2NodeClass"}, "node-class"),
        ({"apiVersion": "eks.amazonaws.com/v1", "kind": "NodeClass"}, "node-class"),
        ({"apiVersion": "karpenter.sh/v1", "kind": "NodePool"}, "kubernetes"),
        ({"apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization"}, "kustomization"),
        ({"resources": ["a.yaml"], "images": [{"name": "a"}]}, "kustomization"),
        ({"resources": ["a.yaml"], "replicaCount": 1}, "unknown"),
        ({"AWSTemplateFormatVersion": "2010-09-09"}, "cloudformation"),
        ({"Resources": {"R": {"Type": "AWS::IAM::Role"}}}, "cloudformation"),
        ({"RoleDetailList": []}, "iam-authorization-details"),
        ({"Version": "2012-10-17", "Statement": []}, "iam-policy"),
        ([{"Statement": {}}], "iam-policy"),
        ({"PolicyDocument": {"Statement": []}}, "iam-policy"),
        ({"fargateProfileName": "fp", "selectors": []}, "eks-fargate-profile"),
        ({"apiVersion": 1, "kind": "Pod"}, "unknown"),
        ([], "unknown"),
        ("text", "unknown"),
    ],
)
def test_documents_are_claimed_by_the_first_kind_that_detects_them(root, kind) -> None:
    assert detect_kind(root) == kind


WIDGET_SOURCE = '''
from ecrlint.model import Loc
from ecrlint.sources import DocumentSource
from ecrlint.workspace import ImageUse


class WidgetSource(DocumentSource):
    """A third-party kind: ``kind: Widget`` documents whose ``runs`` names an image."""

    name = "widget"
    priority = 5

    def detect(self, root):
        return isinstance(root, dict) and root.get("kind") == "Widget"

    def extract(self, doc, ws, ctx):
        ws.images.append(ImageUse(value=doc.root["runs"], loc=Loc(doc.path, doc.root.value_span("runs")),
                                  source="widget", field="/runs"))
'''


def test_a_third_party_package_adds_an_input_kind_through_its_entry_point(tmp_path: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    (site / "widgets.py").write_text(WIDGET_SOURCE)
    dist = site / "widgets-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: widgets\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[ecrlint.sources]\nwidget = widgets:WidgetSource\n")
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "w.yaml").write_text("kind: Widget\nruns: nginx:1.25\n")
    proc = subprocess.run(
        [sys.executable, "-c", f"import sys; sys.path.insert(0, {str(site)!r}); from ecrlint.cli import main; sys.exit(main())",
         "check", "--select", "ECR101", "w.yaml"],
        cwd=repo, capture_output=True, text=True, timeout=120, check=False,
    )
    assert proc.returncode == 1, proc.stderr
    assert proc.stdout.startswith('w.yaml:2:7: ECR101 error image "nginx:1.25" has no registry host')
