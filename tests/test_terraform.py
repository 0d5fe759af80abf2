"""Terraform: HCL with positions, offline evaluation, resources and the eks module into facts, rules on them."""

from __future__ import annotations

from pathlib import Path

import pytest

from ecrlint.model import YMap
from ecrlint.parsing import ParseProblem
from ecrlint.sources.discovery import Layout, discover
from ecrlint.sources.terraform_eval import Json, Module, Partial, Ref, Unknown, plain
from ecrlint.sources.terraform_hcl import MAX_NESTING, parse

from helpers import FIXTURES, assert_fixture, lint, message_of

TF = FIXTURES / "terraform"


@pytest.mark.parametrize(
    "fixture",
    ["node-role-fail", "node-role-pass", "fargate-fail", "fargate-pass", "module-fail", "module-pass",
     "images-fail", "crossfile-fail", "ecr305-fail", "self-managed-fail", "file-policy-fail",
     "parse-fail", "helm-fail", "helm-pass", "json-fail", "json-pass", "templatefile-fail",
     "templatefile-pass"],
)
def test_fixture(fixture):
    assert_fixture(TF / fixture)


def test_messages_name_the_terraform_role_and_statement():
    result = assert_fixture(TF / "node-role-fail")
    assert message_of(result, "ECR201", 65) == (
        'node role "prod-batch" cannot pull from ECR: "ecr:GetAuthorizationToken", "ecr:BatchGetImage" and '
        '"ecr:GetDownloadUrlForLayer" are denied by the statement at node-role-fail/main.tf:80; remove or narrow the Deny'
    )
    result = assert_fixture(TF / "fargate-fail")
    assert 'Fargate profiles "profile-app" and "profile-batch"' in message_of(result, "ECR302", 36)


def test_unknown_attachments_are_never_an_error():
    # nothing readable grants the pull: a warning naming what it depends on, not a guessed error
    result = assert_fixture(TF / "node-role-fail")
    [warning] = [f for f in result.findings if f.span.line == 136]
    assert warning.severity.label == "warning" and "unless var.extra_policy_arns grants" in warning.message
    # a readable policy grants it: the unknown attachment changes nothing
    assert lint("node-role-pass", cwd=TF).findings == []


def test_other_modules_are_a_verbose_note():
    result = lint("module-pass", cwd=TF, verbose=True)
    assert any('module "vpc" (terraform-aws-modules/vpc/aws) is not read' in n for n in result.notes)


def test_links_terraform_cluster_to_yaml_workloads():
    result = lint("crossfile-fail", cwd=TF)
    cluster = next(c for c in result.workspace.clusters if c.name == "prod")
    assert [g.name for g in cluster.node_groups] == ["general"]
    role = cluster.node_groups[0].role
    assert role is not None and role.name == "prod-node"
    assert (role.loc.path, role.loc.span.line, role.loc.span.column) == ("crossfile-fail/infra/eks.tf", 12, 25)
    assert [p.name for p in role.policies] == ["AmazonEKSWorkerNodePolicy", "AmazonEKS_CNI_Policy", "pull-team-a"]


def test_module_table_creates_roles_as_the_module_does():
    result = lint("module-pass", cwd=TF)
    groups = {g.name: g for g in result.workspace.node_groups}
    assert set(groups) == {"initial", "legacy"}
    assert groups["legacy"].kind == "self-managed"
    names = groups["initial"].role.managed_policy_names
    assert names == ["AmazonEKSWorkerNodePolicy", "AmazonEC2ContainerRegistryReadOnly", "AmazonEKS_CNI_Policy"]
    profiles = {p.name: p for p in result.workspace.fargate_profiles}
    assert set(profiles) == {"app_wildcard", "kube-system"}
    trust = profiles["kube-system"].role.trust_policy
    assert trust["Statement"][0]["Condition"]["ArnLike"]["aws:SourceArn"].endswith(":fargateprofile/serverless/*")


def test_a_tf_file_named_alone_brings_its_module_and_subdirectories_are_modules_too(tmp_path):
    (tmp_path / "infra" / "nested").mkdir(parents=True)
    (tmp_path / "infra" / "main.tf").write_text('locals { a = 1 }\n')
    (tmp_path / "infra" / "nested" / "x.tf").write_text('locals { b = 2 }\n')
    (tmp_path / "infra" / "chart").mkdir()
    (tmp_path / "infra" / "chart" / "Chart.yaml").write_text("name: c\n")
    layout = Layout.registered()
    found = discover([str(tmp_path)], (), str(tmp_path), [], layout)
    assert sorted((i.display, i.kind) for i in found) == [
        ("infra", "terraform"), ("infra/chart", "chart"), ("infra/nested", "terraform")]
    alone = discover([str(tmp_path / "infra" / "main.tf")], (), str(tmp_path), [], layout)
    assert [(i.display, i.kind) for i in alone] == [("infra", "terraform")]


def test_suppression_comment_in_a_tf_file(tmp_path):
    src = (TF / "images-fail" / "k8s.tf").read_text()
    src = src.replace('image = "nginx:${var.tag}" # expect: ECR101', 'image = "nginx:${var.tag}" # ecrlint: ignore[ECR101]')
    (tmp_path / "k8s.tf").write_text(src)
    result = lint(".", cwd=tmp_path)
    assert [(f.rule, f.span.line) for f in result.findings if f.span.line == 29] == []
    assert [(f.rule, f.span.line) for f in result.suppressed] == [("ECR101", 29)]


def test_helm_release_values_trace_to_the_tf_lines():
    result = lint("helm-pass", cwd=TF)
    [image] = [i for i in result.workspace.images if i.loc.path == "helm-pass/main.tf"]
    assert image.value == "111122223333.dkr.ecr.us-east-1.amazonaws.com/web:1.2.1"
    assert (image.loc_for("repository").span.line, image.loc_for("tag").span.line) == (27, 33)
    # rendered as the release: its name in .Release.Name, its namespace where helm install creates it
    assert {(w.name, w.namespace) for w in result.workspace.workloads} == {("release-name-web", "default"),
                                                                           ("web-web", "shop")}
    # the sidecar the release enables takes its image from the chart's values.yaml: checked there, once
    [sidecar] = [i for i in result.workspace.images if i.container == "proxy"]
    assert (sidecar.loc.path, sidecar.loc.span.line) == ("helm-pass/charts/web/values.yaml", 6)
    assert "with the values of helm_release.web" in (sidecar.origin or "")


def test_helm_release_notes_for_what_is_not_rendered():
    result = lint("helm-fail", cwd=TF, verbose=True)
    notes = " ".join(result.notes)
    assert "set 'image.tag' is not known offline" in notes
    assert "chart 'https://charts.bitnami.com/bitnami/redis' is fetched at apply time" in notes


def test_suppression_comment_in_a_helm_release_values_file(tmp_path):
    import shutil

    shutil.copytree(TF / "helm-fail" / "charts", tmp_path / "charts")
    (tmp_path / "v.yaml").write_text("image:\n  tag: latest # ecrlint: ignore[ECR103]\n")
    (tmp_path / "main.tf").write_text(
        'resource "helm_release" "web" {\n  name   = "web"\n  chart  = "./charts/web"\n'
        '  values = [file("v.yaml")]\n}\n')
    result = lint("main.tf", cwd=tmp_path)
    assert result.findings == []
    assert [(f.rule, f.path, f.span.line) for f in result.suppressed] == [("ECR103", "v.yaml", 2)]


def test_helm_release_values_the_chart_rejects(tmp_path):
    chart = tmp_path / "chart"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: c\nversion: 0.1.0\n")
    (chart / "values.yaml").write_text("mode: good\n")
    (chart / "templates" / "cm.yaml").write_text(
        '{{- if eq .Values.mode "bad" }}{{ fail "mode bad is not supported" }}{{ end }}\n'
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n")
    (tmp_path / "main.tf").write_text(
        'resource "helm_release" "c" {\n  name  = "c"\n  chart = "./chart"\n'
        '  set {\n    name  = "mode"\n    value = "bad"\n  }\n}\n')
    result = lint(".", cwd=tmp_path)
    [finding] = result.findings
    assert (finding.rule, finding.path, finding.span.line) == ("ECR401", "chart/templates/cm.yaml", 1)
    assert "with the values of helm_release.c (main.tf:1)" in finding.message


def test_tf_json_reads_tfvars_json_and_links_like_hcl():
    result = lint("json-pass", cwd=TF)
    images = sorted(i.value for i in result.workspace.images)
    assert images == ["111122223333.dkr.ecr.us-east-1.amazonaws.com/team-a/api:2.0.1",
                      "111122223333.dkr.ecr.us-east-1.amazonaws.com/web:1.27.0"]
    [group] = result.workspace.node_groups
    assert group.role is not None and group.role.name == "prod-node"
    assert (group.role.loc.path, group.role.loc.span.line) == ("json-pass/main.tf.json", 12)


def test_charts_not_in_the_tree_are_notes(tmp_path):
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "main.tf").write_text(
        'resource "helm_release" "a" {\n  chart = "../../elsewhere/chart"\n}\n'
        'resource "helm_release" "b" {\n  chart = "stable/nginx"\n}\n')
    result = lint("m", cwd=tmp_path, verbose=True)
    notes = " ".join(result.notes)
    assert result.findings == []
    assert "chart '../../elsewhere/chart' is not a chart directory of the scanned tree" in notes
    assert "chart 'stable/nginx' is fetched at apply time" in notes


def test_an_oci_version_not_known_offline_is_not_judged(tmp_path):
    (tmp_path / "main.tf").write_text(
        'variable "karpenter_version" {\n  type = string\n}\n'
        'resource "helm_release" "karpenter" {\n  repository = "oci://public.ecr.aws/karpenter"\n'
        '  chart      = "karpenter"\n  version    = var.karpenter_version\n}\n')
    assert lint(".", cwd=tmp_path).findings == []


def test_tf_json_alone_is_a_module_and_bad_json_is_ecr001(tmp_path):
    (tmp_path / "infra").mkdir()
    (tmp_path / "infra" / "main.tf.json").write_text('{\n  "resource": {\n    "aws_iam_role": {,\n  }\n}\n')
    layout = Layout.registered()
    found = discover([str(tmp_path)], (), str(tmp_path), [], layout)
    assert [(i.display, i.kind) for i in found] == [("infra", "terraform")]
    result = lint(".", cwd=tmp_path)
    assert [(f.rule, f.path, f.span.line) for f in result.findings] == [("ECR001", "infra/main.tf.json", 3)]
    from ecrlint.sources import terraform_json

    body = terraform_json.parse('{"variable": {"v": {"default": "${x}"}}, "locals": {"l": "${var.v}-a"}}', "m.tf.json")
    module = Module()
    module.add_file(body, "m.tf.json")
    assert module.local("l") == "${x}-a"  # a variable's default is literal in JSON syntax


def test_templatefile_and_yamldecode_are_evaluated():
    result = lint("templatefile-pass", cwd=TF)
    assert sorted(i.value.rsplit("/", 1)[-1] for i in result.workspace.images) == [
        "migrate:1.0.0", "seed:2.1.0", "web:1.27.0"]
    role = next(r for r in result.workspace.roles if r.name == "templated-node")
    assert any("s3:DeleteBucket" in str(p.document) for p in role.policies)


def test_templatefile_scope_directives_and_the_tree(tmp_path):
    (tmp_path / "t.tpl").write_text("a-${x}-${var.y}\n")
    (tmp_path / "d.tpl").write_text("%{ if x }a%{ endif }\n")
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "main.tf").write_text(
        'variable "y" {\n  default = "v"\n}\nlocals {\n  a = templatefile("../t.tpl", { x = "1" })\n'
        '  b = templatefile("../d.tpl", { x = true })\n  c = templatefile("/etc/hostname", {})\n'
        '  d = yamldecode("k: [1, 2]")\n}\n')
    module = Module()
    module.directory, module.tree, module.cwd = str(tmp_path / "m"), str(tmp_path), str(tmp_path)
    module.add_file(parse((tmp_path / "m" / "main.tf").read_text()), "m/main.tf")
    a = module.local("a")
    assert isinstance(a, Partial) and a.symbolic() == "a-1-${var_in_a_template_file}\n"  # only its vars are in scope
    assert isinstance(module.local("b"), Unknown) and isinstance(module.local("c"), Unknown)
    assert plain(module.local("d")) == {"k": [1, 2]}


def test_helm_provider_3_set_attribute_lists(tmp_path):
    # provider 3.x writes set/set_list as list attributes: the same values, on the value's line
    import shutil

    shutil.copytree(TF / "helm-pass" / "charts", tmp_path / "charts")
    (tmp_path / "main.tf").write_text(
        'resource "helm_release" "web" {\n  name  = "web"\n  chart = "./charts/web"\n  set = [\n'
        '    { name = "image.tag", value = "latest" },\n  ]\n}\n')
    result = lint(".", cwd=tmp_path)
    assert [(f.rule, f.path, f.span.line, f.span.column) for f in result.findings] == [("ECR103", "main.tf", 5, 35)]


def test_helm_set_names_and_types():
    from ecrlint.sources.terraform_helm import _put, _split_name, _typed
    from ecrlint.model import Span

    assert _split_name(r"podAnnotations.eks\.amazonaws\.com/role-arn") == ["podAnnotations", "eks.amazonaws.com/role-arn"]
    assert [_typed("true", None), _typed("12", None), _typed("012", None), _typed("12", "string")] == [True, 12, "012", "12"]
    doc = YMap(Span(1, 1, 1, 1))
    _put(doc, "a.b[1].c", "x", Span(2, 3, 2, 4))
    assert plain(doc) == {"a": {"b": [None, {"c": "x"}]}}


# --- the parser -----------------------------------------------------------------------------------


def test_positions_of_blocks_attributes_and_items():
    body = parse('resource "aws_iam_role" "node" {\n  managed_policy_arns = ["a", "b"]\n}\n')
    block = body.blocks[0]
    assert (block.type, block.labels) == ("resource", ["aws_iam_role", "node"])
    assert block.key_span[:2] == (1, 25)
    attr = block.body.attributes["managed_policy_arns"]
    assert attr.key_span[:2] == (2, 3)
    assert [i.span[:2] for i in attr.expr.items] == [(2, 26), (2, 31)]


@pytest.mark.parametrize(
    "text, message, line",
    [
        ("a = " + "[" * (MAX_NESTING + 1) + "]" * (MAX_NESTING + 1) + "\n", "nesting deeper", 1),
        ("a = 1\nb = <<EOT\nnever closed\n", "heredoc <<EOT is never closed", 2),
        ("a = \n", "invalid HCL", 1),
        ('resource "x" {\n', "end of file", 2),
    ],
)
def test_bad_input_is_a_parse_problem_with_a_position(text, message, line):
    with pytest.raises(ParseProblem) as info:
        parse(text)
    assert message in info.value.message
    assert info.value.line == line


def test_many_unterminated_heredoc_openers_are_refused_before_parsing():
    # each "<<A" would make the lexer scan the rest of the file again: refused up front instead
    with pytest.raises(ParseProblem, match="never closed"):
        parse("a = <<A\n" * 20000)


# --- evaluation -----------------------------------------------------------------------------------


def _module(text: str, tfvars: str | None = None) -> Module:
    module = Module()
    module.add_file(parse(text), "main.tf")
    if tfvars is not None:
        module.add_tfvars(parse(tfvars), "terraform.tfvars")
    return module


def _value(module: Module, name: str):
    return module.local(name)


def test_variables_tfvars_locals_templates_and_functions():
    m = _module(
        'variable "env" { default = "dev" }\n'
        'variable "team" {}\n'
        'variable "region" { default = "us-east-1" }\n'
        "locals {\n"
        '  name     = "${var.env}-${var.region}"\n'
        '  f        = format("%s/%03d", local.name, 7)\n'
        '  c        = concat(["a"], ["b", "c"])\n'
        '  m        = merge({ a = 1 }, { b = 2 }, { a = 3 })\n'
        '  s        = toset(["b", "a", "b"])\n'
        '  team     = "team-${var.team}"\n'
        "  cond     = var.env == \"prod\" ? 3 : 1\n"
        '  forl     = [for k, v in local.m : "${k}=${v}" if v > 1]\n'
        '  j        = jsonencode({ Action = "ecr:*" })\n'
        "}\n",
        tfvars='env = "prod"\n',
    )
    assert _value(m, "name") == "prod-us-east-1"
    assert _value(m, "f") == "prod-us-east-1/007"
    assert list(_value(m, "c")) == ["a", "b", "c"]
    assert dict(_value(m, "m")) == {"a": 3, "b": 2}
    assert _value(m, "s") == ["a", "b"]
    team = _value(m, "team")
    assert isinstance(team, Partial) and team.symbolic() == "team-${var.team}"
    assert _value(m, "cond") == 3
    assert _value(m, "forl") == ["a=3", "b=2"]
    j = _value(m, "j")
    assert isinstance(j, Json) and plain(j.value) == {"Action": "ecr:*"}
    assert isinstance(j.value, YMap) and j.value.value_span("Action")[:2] == (13, 36)


def test_unknowns_are_never_guessed():
    m = _module(
        'variable "arn" {}\n'
        'data "aws_caller_identity" "current" {}\n'
        "locals {\n"
        "  a = var.arn\n"
        "  b = data.aws_caller_identity.current.account_id\n"
        "  c = module.other.role_arn\n"
        "  d = length(var.arn) > 3 ? 1 : 2\n"
        '  e = file("policy.json")\n'
        "  f = local.f\n"
        "}\n"
    )
    for name in "abcdef":
        assert isinstance(_value(m, name), Unknown), name


def test_references_between_resources_and_count_for_each():
    m = _module(
        'resource "aws_iam_role" "r" {\n'
        "  count = 2\n"
        '  name  = "role-${count.index}"\n'
        "}\n"
        'resource "aws_iam_role" "e" {\n'
        '  for_each = { a = "x", b = "y" }\n'
        '  name     = "e-${each.key}-${each.value}"\n'
        "}\n"
        "locals {\n"
        "  n1  = aws_iam_role.r[1].name\n"
        "  all = aws_iam_role.r[*].name\n"
        '  eb  = aws_iam_role.e["b"].name\n'
        "  arn = aws_iam_role.r[0].arn\n"
        "}\n"
    )
    assert _value(m, "n1") == "role-1"
    assert _value(m, "all") == ["role-0", "role-1"]
    assert _value(m, "eb") == "e-b-y"
    assert _value(m, "arn") == Ref("resource", "aws_iam_role", "r", 0, "arn")


def test_evaluation_is_bounded():
    # chains of locals that double at every step: their values become unknown, memory stays small
    lines = (["locals {", '  l0 = [1, 1]', '  s0 = "ab"']
             + [f"  l{i} = concat(local.l{i-1}, local.l{i-1})" for i in range(1, 60)]
             + [f'  s{i} = "${{local.s{i-1}}}${{local.s{i-1}}}"' for i in range(1, 60)] + ["}"])
    m = _module("\n".join(lines) + "\n")
    assert len(_value(m, "l10")) == 2048
    assert isinstance(_value(m, "l59"), Unknown)
    assert isinstance(_value(m, "s59"), Unknown)


def test_hostile_module_is_ecr001_or_clean_never_a_traceback(tmp_path):
    (tmp_path / "a.tf").write_text("locals {\n" + "".join(f"  x{i} = local.x{i+1}\n" for i in range(3000)) + "}\n")
    (tmp_path / "b.tf").write_bytes(b"\xff\xfe\x00garbage = {{{\n")
    result = lint(".", cwd=tmp_path)
    assert {(f.rule, f.path) for f in result.findings} == {("ECR001", "b.tf")}


def test_ecr_repositories_policies_and_pull_through_rules(tmp_path):
    (tmp_path / "ecr.tf").write_text(
        'resource "aws_ecr_repository" "app" {\n'
        '  name = "team-a/app"\n'
        "}\n"
        'resource "aws_ecr_repository_policy" "app" {\n'
        "  repository = aws_ecr_repository.app.name\n"
        "  policy = jsonencode({\n"
        '    Version   = "2012-10-17"\n'
        '    Statement = [{ Effect = "Deny", Principal = "*", Action = "ecr:BatchGetImage" }]\n'
        "  })\n"
        "}\n"
        'resource "aws_ecr_pull_through_cache_rule" "hub" {\n'
        '  ecr_repository_prefix = "docker-hub"\n'
        '  upstream_registry_url = "registry-1.docker.io"\n'
        "}\n"
    )
    ws = lint(".", cwd=tmp_path).workspace
    [repo] = ws.repositories
    assert repo.name == "team-a/app" and repo.logical == "aws_ecr_repository.app"
    assert repo.policy["Statement"][0]["Effect"] == "Deny"
    assert repo.policy.spans["Statement"][1][:2] == (8, 17)
    [rule] = ws.pull_through_rules
    assert (rule.prefix, rule.upstream, rule.source) == ("docker-hub", "registry-1.docker.io", "terraform")
    assert (rule.loc.path, rule.loc.span.line, rule.loc.span.column) == ("ecr.tf", 12, 27)


def test_policy_document_sources_and_overrides(tmp_path):
    (tmp_path / "main.tf").write_text(
        'data "aws_iam_policy_document" "base" {\n'
        '  statement {\n'
        '    sid       = "Pull"\n'
        '    actions   = ["ecr:BatchGetImage"]\n'
        '    resources = ["*"]\n'
        "  }\n"
        "}\n"
        'data "aws_iam_policy_document" "deny" {\n'
        '  statement {\n'
        '    sid       = "Pull"\n'
        '    effect    = "Deny"\n'
        '    actions   = ["ecr:BatchGetImage"]\n'
        '    resources = ["*"]\n'
        "  }\n"
        "}\n"
        'data "aws_iam_policy_document" "merged" {\n'
        "  source_policy_documents   = [data.aws_iam_policy_document.base.json]\n"
        "  override_policy_documents = [data.aws_iam_policy_document.deny.json]\n"
        '  statement {\n'
        '    actions   = ["ecr:GetAuthorizationToken"]\n'
        '    resources = ["*"]\n'
        "  }\n"
        "}\n"
        'resource "aws_iam_policy" "p" {\n'
        "  policy = data.aws_iam_policy_document.merged.json\n"
        "}\n"
    )
    ws = lint(".", cwd=tmp_path).workspace
    [policy] = ws.policies
    statements = [(st.get("Sid"), st["Effect"], st["Action"]) for st in policy.document["Statement"]]
    assert statements == [("Pull", "Deny", ["ecr:BatchGetImage"]), (None, "Allow", ["ecr:GetAuthorizationToken"])]
    # the document's own statement keeps its position in main.tf
    assert policy.document["Statement"].spans[1][:2] == (19, 3)


def test_self_managed_nodes_and_permissions_boundary():
    ws = lint("self-managed-fail", cwd=TF).workspace
    [group] = ws.node_groups
    assert (group.name, group.kind, group.cluster.name) == ("aws_autoscaling_group.nodes", "self-managed", "selfmanaged")
    role = group.role
    assert role.boundary is not None and role.boundary.name == "PowerUserAccess"
    text, loc = role.boundary_ref
    assert text == "arn:aws:iam::aws:policy/PowerUserAccess" and (loc.span.line, loc.span.column) == (24, 26)


def test_oversized_terraform_files_are_refused_not_parsed(tmp_path):
    from ecrlint.sources.terraform import MAX_TF_BYTES

    (tmp_path / "big.tf").write_text("locals {\n" + "  # padding\n" * (MAX_TF_BYTES // 12 + 1) + "}\n")
    (tmp_path / "ok.tf").write_text('locals { a = 1 }\n')
    result = lint(".", cwd=tmp_path)
    assert [(f.rule, f.path, f.span.line) for f in result.findings] == [("ECR001", "big.tf", 1)]
    assert "limit for Terraform files" in result.findings[0].message


def test_file_reads_only_inside_the_tree(tmp_path):
    outside = tmp_path / "outside.json"
    outside.write_text('{"Version": "2012-10-17", "Statement": []}')
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "main.tf").write_text(
        'resource "aws_iam_policy" "inside" {\n  policy = file("p.json")\n}\n'
        'resource "aws_iam_policy" "outside" {\n  policy = file("../outside.json")\n}\n'
        'resource "aws_iam_policy" "missing" {\n  policy = file("nope.json")\n}\n'
    )
    (repo / "p.json").write_text('{"Version": "2012-10-17",\n "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}')
    ws = lint(".", cwd=repo).workspace
    terraform = [p for p in ws.policies if p.loc.path == "p.json" and p.identity]
    assert len(terraform) == 1 and terraform[0].document["Statement"][0]["Action"] == "s3:*"
    assert terraform[0].document["Statement"].spans[0][:2] == (2, 16)  # positions in p.json itself
    assert not any(p.loc.path.endswith("outside.json") for p in ws.policies)


def test_kubectl_manifest_from_file_is_left_to_the_yaml_reader(tmp_path):
    (tmp_path / "main.tf").write_text('resource "kubectl_manifest" "m" {\n  yaml_body = file("m.yaml")\n}\n')
    (tmp_path / "m.yaml").write_text("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n"
                                     "    - {name: c, image: busybox:1.36}\n")
    result = lint(".", cwd=tmp_path)
    assert [(f.rule, f.path, f.span.line) for f in result.findings] == [("ECR101", "m.yaml", 6)]
    assert len(result.workspace.workloads) == 1


def test_a_remote_helm_release_chart_is_a_verbose_note(tmp_path):
    # the chart is pulled at apply time: its registry and version are checked, its images are not guessed
    (tmp_path / "main.tf").write_text(
        'resource "helm_release" "karpenter" {\n'
        '  repository = "oci://public.ecr.aws/karpenter"\n'
        '  chart      = "karpenter"\n'
        '  version    = "1.0.6"\n'
        '  set {\n    name  = "image.repository"\n    value = "karpenter/controller"\n  }\n'
        "}\n")
    result = lint(".", cwd=tmp_path, verbose=True)
    assert result.findings == []
    assert any('main.tf:1: helm_release "helm_release.karpenter": chart oci://public.ecr.aws/karpenter is pulled '
               "at apply time" in n for n in result.notes)


def test_for_each_over_arns_with_an_unknown_partition_attaches_each_policy(tmp_path):
    # terraform-aws-eks v18.0.0 modules/eks-managed-node-group/main.tf L426-431, cut down
    (tmp_path / "main.tf").write_text(
        'data "aws_partition" "current" {}\n'
        'locals { policy_arn_prefix = "arn:${data.aws_partition.current.partition}:iam::aws:policy" }\n'
        'variable "iam_role_additional_policies" { default = [] }\n'
        'resource "aws_iam_role" "this" { name = "node" }\n'
        'resource "aws_iam_role_policy_attachment" "this" {\n'
        "  for_each = toset(compact(distinct(concat([\n"
        '    "${local.policy_arn_prefix}/AmazonEKSWorkerNodePolicy",\n'
        '    "${local.policy_arn_prefix}/AmazonEC2ContainerRegistryReadOnly",\n'
        "  ], var.iam_role_additional_policies))))\n"
        "  policy_arn = each.value\n"
        "  role       = aws_iam_role.this.name\n"
        "}\n")
    [role] = lint(".", cwd=tmp_path).workspace.roles
    assert role.managed_policy_names == ["AmazonEKSWorkerNodePolicy", "AmazonEC2ContainerRegistryReadOnly"]
    assert role.unresolved_policies == []


def test_the_prebuilt_hcl_tables_match_the_installed_parser_and_nothing_is_written(tmp_path):
    from importlib import resources

    import hcl2.parser

    from ecrlint.sources import terraform_hcl

    blob = resources.files("ecrlint").joinpath(terraform_hcl.PARSER_DATA).read_bytes()
    # stale tables still work (built in memory, slower): regenerate with scripts/build_hcl_parser.py
    assert blob.split(b"\n", 1)[0].decode() == terraform_hcl.parser_key()
    terraform_hcl.hcl_parser.cache_clear()
    body = terraform_hcl.parse('resource "aws_iam_role" "r" {\n  name = "x"\n}\n')
    assert body is not None
    # python-hcl2's own parser() writes a cache file into its package; ecrlint never calls it
    assert not (Path(hcl2.parser.__file__).parent / ".lark_cache.bin").exists()
