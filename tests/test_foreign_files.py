"""Files that are not ours: neither a kind ecrlint reads nor parseable is a --verbose note, not ECR001."""

from __future__ import annotations

import pytest

from helpers import lint

TSCONFIG = '{\n  // comments are fine for tsc\n  "compilerOptions": {"strict": true},\n}\n'
MKDOCS = ("site_name: docs\nmarkdown_extensions:\n  - pymdownx.emoji:\n"
          "      emoji_index: !!python/name:material.extensions.emoji.twemoji\n")
GO_TEMPLATE = ('apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ .Name }}\nspec:\n'
               '  template:\n    spec:\n      containers:\n{{- range .Containers }}\n        - image: {{ .Image }}\n{{- end }}\n')
ENVSUBST = "ports:\n  - ${PORT}: {http}\n  - [unclosed\n"
USER_DATA = ('MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="BOUNDARY"\n\n--BOUNDARY\n'
             "Content-Type: application/node.eks.aws\n\n---\napiVersion: node.eks.aws/v1alpha1\nkind: NodeConfig\n"
             "spec:\n  cluster:\n    name: prod\n\n--BOUNDARY--\n")


@pytest.mark.parametrize("name, text, reason", [
    ("tsconfig.json", TSCONFIG, "not a kind of file ecrlint reads"),
    ("mkdocs.yml", MKDOCS, "not a kind of file ecrlint reads"),
    ("deployment.yaml.template", GO_TEMPLATE, "a Go template for another tool"),
    ("ports.yaml", ENVSUBST, "a template for another tool (envsubst variables)"),
    ("user-data.yaml", USER_DATA, "MIME multi-part data"),
])
def test_a_file_neither_ours_nor_parseable_is_a_note(tmp_path, name, text, reason):
    (tmp_path / name).write_text(text)
    result = lint(name, cwd=tmp_path, verbose=True)
    assert result.findings == []
    assert not result.failed
    [note] = [n for n in result.notes if n.startswith(name)]
    assert note.startswith(f"{name}: {reason}") and note.endswith("; skipped"), note
    assert "not parseable (" in note


BROKEN_OURS = {
    "pod.yaml": ("apiVersion: v1\nkind: Pod\nspec:\n  containers: [\n", 5, 1),
    "template.json": ('{"AWSTemplateFormatVersion": "2010-09-09", "Resources": {,}}\n', 1, 58),
    "cluster.yaml": ("apiVersion: eksctl.io/v1alpha5\nkind: ClusterConfig\nmetadata: {name: a\n", 4, 1),
    "policy.json": ('{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "ecr:*",}]}\n', 1, 79),
    "profile.json": ('{"fargateProfileName": "p", "podExecutionRoleArn": }\n', 1, 52),
    "stack.template": ("AWSTemplateFormatVersion: '2010-09-09'\nResources:\n  R: {Type: AWS::IAM::Role\n", 4, 1),
}


@pytest.mark.parametrize("name", sorted(BROKEN_OURS))
def test_a_broken_file_that_is_ours_is_still_ecr001(tmp_path, name):
    text, line, column = BROKEN_OURS[name]
    (tmp_path / name).write_text(text)
    result = lint(name, cwd=tmp_path)
    assert [(f.rule, f.path, f.span.line, f.span.column) for f in result.findings] == [("ECR001", name, line, column)]


def test_a_broken_file_config_names_is_ours(tmp_path):
    (tmp_path / ".ecrlint.yaml").write_text('node-role-policies: ["iam/*.json"]\n')
    (tmp_path / "iam").mkdir()
    (tmp_path / "iam" / "node.json").write_text("{// not JSON\n}\n")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "node.json").write_text("{// not JSON\n}\n")
    result = lint(".", cwd=tmp_path)
    assert [(f.rule, f.path, f.span.line) for f in result.findings] == [("ECR001", "iam/node.json", 1)]


def test_a_parsed_document_that_is_ours_keeps_its_warnings(tmp_path):
    text = "apiVersion: v1\nkind: Pod\nmetadata: {name: a}\nspec:\n  x: !!python/name:os.system\n  containers: []\n"
    (tmp_path / "pod.yaml").write_text(text)
    result = lint("pod.yaml", cwd=tmp_path)
    assert [(f.rule, f.severity.label, f.span.line) for f in result.findings] == [("ECR001", "warning", 5)]


def test_unreadable_paths_stay_findings(tmp_path):
    result = lint("missing.json", cwd=tmp_path)
    assert [(f.rule, f.path) for f in result.findings] == [("ECR001", "missing.json")]


def test_stdin_of_a_foreign_file_is_a_note(tmp_path):
    result = lint("-", cwd=tmp_path, stdin=TSCONFIG.encode(), stdin_filename="tsconfig.json", verbose=True)
    assert result.findings == [] and any(n.startswith("tsconfig.json: not a kind") for n in result.notes)


def test_a_binary_file_named_json_is_a_note(tmp_path):
    (tmp_path / "logo.json").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4)
    result = lint(".", cwd=tmp_path, verbose=True)
    assert result.findings == [] and any(n.startswith("logo.json: not a kind of file") for n in result.notes)
