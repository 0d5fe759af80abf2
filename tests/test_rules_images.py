"""ECR101-ECR109 through the engine: fixtures with expectations on the offending lines, messages, docs."""

from __future__ import annotations

from pathlib import Path

import pytest

from ecrlint.config import Config
from ecrlint.analysis.images import analyze
from ecrlint.model import Loc, Span
from ecrlint.registry import Context, load_registry
from ecrlint.rules import images as image_rules
from ecrlint.workspace import ImageUse, Workspace
from helpers import FIXTURES, assert_fixture, lint, message_of

IMAGES = FIXTURES / "images"
RULES = [f"ECR10{i}" for i in range(1, 10)]
ALLOWED = '["*.dkr.ecr.*.amazonaws.com", "public.ecr.aws", "ghcr.io/myorg/*", "localhost:5000"]'


def _config(tmp_path: Path, text: str) -> str:
    path = tmp_path / "ecrlint.yaml"
    path.write_text(text)
    return str(path)


# --- fixtures: every file in tests/fixtures/images, exact (rule, line, column) ------------------

PLAIN = sorted(
    p.name for p in IMAGES.iterdir()
    if p.suffix in (".yaml", ".json") and not p.name.startswith(("ecr106_", "ecr107_"))
)


@pytest.mark.parametrize("name", PLAIN)
def test_fixture(name):
    assert_fixture(IMAGES / name, select="ECR1")


@pytest.mark.parametrize("name", ["ecr106_fail.yaml", "ecr106_pass.yaml"])
def test_digest_fixture_selected_by_id(name):
    assert_fixture(IMAGES / name, select="ECR1,ECR106")


@pytest.mark.parametrize("name", ["ecr106_fail.yaml", "ecr106_pass.yaml"])
def test_digest_fixture_enabled_by_require_digest(name, tmp_path):
    assert_fixture(IMAGES / name, config=_config(tmp_path, "require-digest: true\n"))


def test_digest_rule_is_off_by_default():
    result = lint("images/ecr106_fail.yaml")
    assert not [f for f in result.findings if f.rule == "ECR106"]


@pytest.mark.parametrize("name", ["ecr107_fail.yaml", "ecr107_pass.yaml"])
def test_allowed_registries_fixture(name, tmp_path):
    assert_fixture(IMAGES / name, select="ECR1", config=_config(tmp_path, f"allowed-registries: {ALLOWED}\n"))


def test_allowed_registries_unset_is_silent():
    result = lint("images/ecr107_fail.yaml", select="ECR107")
    assert result.findings == []


def test_allowed_registries_empty_list_allows_nothing(tmp_path):
    result = lint(IMAGES / "ecr107_pass.yaml", select="ECR107", config=_config(tmp_path, "allowed-registries: []\n"))
    assert len(result.findings) == 5


def test_allowed_registries_on_symbolic_cloudformation_hosts(tmp_path):
    template = tmp_path / "stack.yaml"
    template.write_text(
        'AWSTemplateFormatVersion: "2010-09-09"\n'
        "Resources:\n"
        "  Task:\n"
        "    Type: AWS::ECS::TaskDefinition\n"
        "    Properties:\n"
        "      ContainerDefinitions:\n"
        "        - Name: api\n"
        '          Image: !Sub "${AWS::AccountId}.dkr.ecr.${AWS::Region}.${AWS::URLSuffix}/api:1.0"\n'
    )

    def ecr107(allowed: str) -> list:
        cfg = _config(tmp_path, f"allowed-registries: {allowed}\n")
        return [f for f in lint(template, cwd=tmp_path, select="ECR107", config=cfg).findings]

    assert ecr107('["*.dkr.ecr.*.amazonaws.com"]') == []  # matches whatever the stack's account is
    assert ecr107('["123456789012.dkr.ecr.us-east-1.amazonaws.com"]') == []  # could be: never guessed
    flagged = ecr107('["quay.io", "public.ecr.aws"]')  # can never be
    assert [(f.span.line, f.span.column) for f in flagged] == [(8, 18)]


def test_helm_chart_findings_point_at_values():
    result = assert_fixture(IMAGES / "helm-chart", select="ECR1")
    message = message_of(result, "ECR101", 3)
    assert message.startswith('image "nginx:1.0.0" (rendered in templates/deployment.yaml, container app) has no')


def test_corpus_image_findings_are_all_placeholders_or_real(shared_corpus):
    """On the real-world corpus, ECR104/105/109 fire only on the known placeholder images (STATS.md: 13)."""
    result = lint(shared_corpus / "kubernetes", shared_corpus / "helm", cwd=shared_corpus, select="ECR104,ECR105,ECR109")
    found = sorted((f.rule, f.path.rsplit("/", 1)[-1]) for f in result.findings)
    assert found == [
        ("ECR105", "appmesh-examples__manifest.yaml"),  # 840364872350.dkr.ecr.region-code.amazonaws.com
        ("ECR109", "cw-insights__cwagent-emf.yaml"),
        ("ECR109", "cw-insights__sidecar-combination__combination.yaml"),
        ("ECR109", "cw-insights__sidecar-cwagent-sdkmetrics__cwagent-sdkmetrics.yaml"),
        ("ECR109", "eks-fargate-example__ETL.template.yaml"),
        ("ECR109", "eks-fargate-example__ETL.template.yaml"),
        ("ECR109", "eks-fargate-example__ETL.template.yaml"),
        ("ECR109", "eks-fargate-example__testharness.template.yaml"),
        ("ECR109", "eks-workshop-v2__compiler.yaml"),
        ("ECR109", "eks-workshop-v2__inference.yaml"),
        ("ECR109", "eks-workshop__cluster_autoscaler.yml"),
        ("ECR109", "k8s-examples__ds.yaml"),
        ("ECR109", "k8s-examples__web-controller.yaml"),
    ]


# --- messages ----------------------------------------------------------------------------------


def test_spec_example_message():
    result = assert_fixture(IMAGES / "ecr101_fail.yaml", select="ECR1")
    assert message_of(result, "ECR101", 11) == (
        'image "nginx:1.25" has no registry host; it resolves to docker.io/library/nginx:1.25'
    )


def test_messages_say_what_it_resolves_to_and_what_to_do():
    result = assert_fixture(IMAGES / "ecr102_fail.yaml", select="ECR1")
    assert message_of(result, "ECR102", 13) == (
        'image "123456789012.dkr.ecr.us-east-1.amazonaws.com/team/api" has no tag or digest; it resolves to '
        "123456789012.dkr.ecr.us-east-1.amazonaws.com/team/api:latest; pin a version tag or a digest"
    )
    result = assert_fixture(IMAGES / "ecr105_fail.yaml", select="ECR1")
    assert message_of(result, "ECR105", 14) == (
        'image "123456789012.dkr.ecr.us-east1.amazonaws.com/app:1.0" does not name a valid ECR registry: '
        '"us-east1" is not an AWS region (did you mean us-east-1?)'
    )
    assert message_of(result, "ECR105", 10).endswith(
        '"aws_account_id" is a placeholder, not a 12-digit AWS account ID; "region" is a placeholder, not an AWS region'
    )
    result = assert_fixture(IMAGES / "ecr104_fail.yaml", select="ECR1")
    assert message_of(result, "ECR104", 10) == (
        'image "Nginx:1.25" is not a valid image reference: repository name "library/Nginx" must be lowercase'
    )
    for finding in result.findings:
        assert finding.message[0].islower() and not finding.message.endswith(".")


def test_pull_secret_messages_name_the_hosts():
    result = assert_fixture(IMAGES / "ecr108_fail.yaml", select="ECR1")
    assert message_of(result, "ECR108", 7) == (
        'pull secret "ecr-creds" holds credentials for ECR (123456789012.dkr.ecr.us-east-1.amazonaws.com); ECR '
        "tokens expire after 12 hours and EKS pulls from ECR with the node or Fargate pod execution role; delete "
        "the secret and grant that role ECR pull"
    )
    assert message_of(result, "ECR108", 25) == (
        'imagePullSecret "ecr-token" can only serve ECR images here (123456789012.dkr.ecr.us-east-1.amazonaws.com, '
        "public.ecr.aws); ECR tokens expire after 12 hours, EKS pulls from private ECR with the node or Fargate pod "
        "execution role and ECR Public allows unauthenticated pulls; remove the pull secret and grant that role "
        "ECR pull"
    )
    assert {f.logical for f in result.findings} == {
        "Secret/shop/ecr-creds", "Secret/default/ecr-eu", "Deployment/shop/shop", "Secret/tools/ecr-public-creds",
        "Job/tools/migrate",
    }


def test_pull_secrets_for_ecr_public_only_need_no_role():
    result = assert_fixture(IMAGES / "ecr108_fail.yaml", select="ECR1")
    assert message_of(result, "ECR108", 38) == (
        'pull secret "ecr-public-creds" holds credentials for ECR (public.ecr.aws); ECR tokens expire after 12 '
        "hours and ECR Public allows unauthenticated pulls; delete the secret"
    )
    assert message_of(result, "ECR108", 47) == (
        'imagePullSecret "public-token" can only serve ECR images here (public.ecr.aws); ECR tokens expire after '
        "12 hours and ECR Public allows unauthenticated pulls; remove the pull secret"
    )


def test_cloudformation_placeholder_message_suggests_sub():
    result = assert_fixture(IMAGES / "cfn_fail.yaml", select="ECR1")
    assert message_of(result, "ECR109", 23).endswith("which CloudFormation substitutes only inside Fn::Sub; wrap the value in !Sub")
    assert {f.logical for f in result.findings if f.rule == "ECR105"} == {"Task", "SamFunction", "BatchMultiNode"}


def test_kubelet_note_only_for_kubernetes_images():
    k8s = assert_fixture(IMAGES / "ecr103_fail.yaml", select="ECR1")
    assert message_of(k8s, "ECR103", 10) == (
        'image "public.ecr.aws/cloudwatch-agent/cloudwatch-agent:latest" uses the mutable tag "latest"; pin a '
        "version tag or a digest; without an explicit imagePullPolicy kubelet pulls it again on every start"
    )
    # the container sets imagePullPolicy: kubelet does what it says, so the note would be wrong
    assert message_of(k8s, "ECR103", 14) == (
        'image "public.ecr.aws/aws-observability/aws-for-fluent-bit:latest" uses the mutable tag "latest"; pin a '
        "version tag or a digest"
    )
    cfn = assert_fixture(IMAGES / "cfn_fail.yaml", select="ECR1")
    assert "imagePullPolicy" not in message_of(cfn, "ECR103", 25)


def _run(rule_id: str, ws: Workspace, options: dict | None = None) -> list:
    rule = load_registry().get(rule_id)
    assert rule is not None
    config = Config()
    config.options.update(options or {})
    return list(rule().check(ws, Context(config=config)))


def test_helm_origin_is_named_in_messages():
    values = Loc("charts/web/values.yaml", Span(3, 15, 3, 20))
    ws = Workspace(images=[
        ImageUse(value="nginx", loc=values, source="helm", field="/spec/template/spec/containers/0/image",
                 container="app", origin="rendered in templates/deployment.yaml, container app"),
    ])
    [finding] = _run("ECR101", ws)
    assert finding.message == (
        'image "nginx" (rendered in templates/deployment.yaml, container app) has no registry host; '
        "it resolves to docker.io/library/nginx:latest"
    )
    assert (finding.path, finding.span) == ("charts/web/values.yaml", values.span)
    [finding] = _run("ECR103", Workspace(images=[ImageUse("public.ecr.aws/a/b:latest", values, "helm", "/x")]))
    assert "imagePullPolicy" in finding.message


def test_images_that_are_not_strings():
    result = assert_fixture(IMAGES / "ecr104_fail.yaml", select="ECR1")
    assert message_of(result, "ECR104", 48) == "image is the number 123, not a string; quote it"
    assert message_of(result, "ECR104", 50) == "image is the boolean true, not a string; quote it"
    assert message_of(result, "ECR104", 52) == "image is a list, not a string; write the image as one string"
    assert message_of(result, "ECR104", 54) == "image is empty; name the image"
    assert message_of(result, "ECR104", 56) == "image is empty; name the image"
    assert message_of(result, "ECR104", 65) == "image is the number 1.25, not a string; quote it"


@pytest.mark.parametrize("rule_id", RULES)
def test_only_ecr104_reports_an_image_that_is_not_a_string(rule_id):
    loc = Loc("a.yaml", Span(9, 14, 9, 17))
    use = ImageUse("", loc, "kubernetes", "/spec/containers/0/image", not_a_string="the number 123")
    options = {"allowed-registries": ["quay.io"]}
    found = [(f.rule, f.path, f.span, f.message) for f in _run(rule_id, Workspace(images=[use]), options)]
    if rule_id == "ECR104":
        assert found == [("ECR104", "a.yaml", loc.span, "image is the number 123, not a string; quote it")]
    else:
        assert found == []


def test_ecr_repository_name_length_is_ecr104_on_the_repository():
    result = assert_fixture(IMAGES / "ecr104_fail.yaml", select="ECR1")
    assert message_of(result, "ECR104", 44) == (
        'image "123456789012.dkr.ecr.us-east-1.amazonaws.com/a:1.0" is not a valid image reference: the repository '
        'name "a" is too short for ECR, whose repository names have 2 to 256 characters'
    )
    # ECR allows 256 characters, but kubelet's grammar stops at 255 on the path: that limit is the one to name
    assert message_of(result, "ECR104", 46).endswith(
        "is not a valid image reference: the repository name is 256 characters; the limit is 255"
    )
    registry, repository = Loc("values.yaml", Span(3, 13, 3, 57)), Loc("values.yaml", Span(4, 15, 4, 16))
    use = ImageUse("123456789012.dkr.ecr.us-east-1.amazonaws.com/a:1.0", registry, "helm", "/x",
                   part_locs={"registry": registry, "repository": repository})
    [finding] = [f for rule_id in RULES for f in _run(rule_id, Workspace(images=[use]))]
    assert (finding.rule, finding.path, finding.span) == ("ECR104", "values.yaml", repository.span)
    assert "repository name" in finding.message


def test_each_image_is_analysed_once_per_string():
    analyze.cache_clear()
    ws = Workspace(images=[ImageUse("nginx", Loc("a.yaml", Span(1, 1, 1, 6)), "kubernetes", "/x") for _ in range(50)])
    for rule_id in RULES:
        _run(rule_id, ws)
    info = analyze.cache_info()
    assert info.misses == 1


# --- documentation -----------------------------------------------------------------------------


@pytest.mark.parametrize("rule_id", RULES)
def test_rule_docs_and_fixtures(rule_id):
    rule = load_registry().get(rule_id)
    assert rule is not None and rule.__module__ == image_rules.__name__
    sections = rule.sections()
    assert list(sections) == ["What it does", "Why", "Example", "Fix", "Options"]
    assert all(sections.values())
    assert "```" in sections["Example"]
    number = rule_id[-3:]
    assert (IMAGES / f"ecr{number}_fail.yaml").is_file()
    assert (IMAGES / f"ecr{number}_pass.yaml").is_file()


def test_options_are_declared():
    registry = load_registry()
    keys = registry.option_keys()
    assert keys["require-digest"].type == "boolean"
    assert keys["allowed-registries"].type == "array"
    assert registry.get("ECR106").enabled_by_default is False
