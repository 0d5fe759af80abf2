"""In-source suppressions and config ignores: exactly what they cover, no more."""

from __future__ import annotations

from helpers import lint

POD = """apiVersion: v1
kind: Pod
metadata:
  name: {name}{annotations}
spec:
  containers:
    - name: app
      image: nginx:1.25
"""


def _rules(result):
    return sorted((f.path, f.rule, f.span.line) for f in result.findings)


def test_annotation_covers_its_own_list_item_only(tmp_path):
    (tmp_path / "list.yaml").write_text(
        "apiVersion: v1\nkind: List\nitems:\n"
        "  - apiVersion: v1\n    kind: Pod\n    metadata:\n      name: a\n"
        "      annotations: {ecrlint.io/ignore: ECR101}\n"
        "    spec:\n      containers:\n        - name: app\n          image: nginx:1.25\n"
        "  - apiVersion: v1\n    kind: Pod\n    metadata: {name: b}\n"
        "    spec:\n      containers:\n        - {name: app, image: nginx:1.25}\n"
    )
    result = lint("list.yaml", cwd=tmp_path)
    assert _rules(result) == [("list.yaml", "ECR101", 18)]
    assert [f.span.line for f in result.suppressed] == [12]


def test_cloudformation_metadata_covers_its_resource_only(tmp_path):
    (tmp_path / "t.yaml").write_text(
        "Resources:\n"
        "  Task:\n    Type: AWS::ECS::TaskDefinition\n    Metadata: {ecrlint: {ignore: [ECR101]}}\n"
        "    Properties:\n      ContainerDefinitions:\n        - {Name: a, Image: 'nginx:1.25'}\n"
        "  Task2:\n    Type: AWS::ECS::TaskDefinition\n"
        "    Properties:\n      ContainerDefinitions:\n        - {Name: a, Image: 'nginx:1.25'}\n"
    )
    result = lint("t.yaml", cwd=tmp_path)
    assert _rules(result) == [("t.yaml", "ECR101", 12)]


def test_comment_ids_may_be_prefixes(tmp_path):
    (tmp_path / "p.yaml").write_text(POD.format(name="p", annotations="").replace(
        "image: nginx:1.25", "image: nginx  # ecrlint: ignore[ECR1]"))
    result = lint("p.yaml", cwd=tmp_path)
    assert result.findings == [] and {f.rule for f in result.suppressed} == {"ECR101", "ECR102"}


def test_unknown_ids_in_comments_are_noted_with_verbose(tmp_path):
    (tmp_path / "p.yaml").write_text(POD.format(name="p", annotations="").replace(
        "image: nginx:1.25", "image: nginx:1.25  # ecrlint: ignore[ECR999]"))
    result = lint("p.yaml", cwd=tmp_path, verbose=True)
    assert any("unknown rule ID 'ECR999'" in n for n in result.notes)
    assert [f.rule for f in result.findings] == ["ECR101"]


def test_per_file_ignores_are_relative_to_the_config_file(tmp_path):
    (tmp_path / ".ecrlint.yaml").write_text("per-file-ignores:\n  legacy/**: [ECR101]\n")
    (tmp_path / "legacy").mkdir()
    (tmp_path / "k8s").mkdir()
    (tmp_path / "legacy" / "p.yaml").write_text(POD.format(name="old", annotations=""))
    (tmp_path / "k8s" / "p.yaml").write_text(POD.format(name="new", annotations=""))
    from_root = lint(".", cwd=tmp_path)
    from_sub = lint("..", cwd=tmp_path / "k8s")
    assert _rules(from_root) == [("k8s/p.yaml", "ECR101", 8)]
    assert _rules(from_sub) == [("p.yaml", "ECR101", 8)]
