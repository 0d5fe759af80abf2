"""Table tests for ecrlint.analysis.images: the reference grammar, ECR hosts, placeholders, the per-image analysis."""

from __future__ import annotations

import pytest

from ecrlint.analysis.images import (
    EcrHost,
    InvalidEcrHost,
    InvalidReference,
    analyze,
    aws_regions,
    classify_host,
    ecr_repository_arn,
    find_placeholder_text,
    find_template_syntax,
    parse_reference,
    registry_of_auth_key,
)

D64 = "4ec37d2a07a0067f176fdcc9d4bb633a5724d2cc4f892c7a2046d054bb6939e5"


# --- parse_reference: valid references --------------------------------------------------------
# (text, domain as written, path, tag, digest, full, resolved)
VALID = [
    ("nginx", None, "nginx", None, None, "docker.io/library/nginx", "docker.io/library/nginx:latest"),
    ("nginx:1.25", None, "nginx", "1.25", None, "docker.io/library/nginx:1.25", "docker.io/library/nginx:1.25"),
    ("library/redis:7", None, "library/redis", "7", None, "docker.io/library/redis:7", "docker.io/library/redis:7"),
    ("bitnami/nginx", None, "bitnami/nginx", None, None, "docker.io/bitnami/nginx", "docker.io/bitnami/nginx:latest"),
    ("docker.io/nginx", "docker.io", "nginx", None, None, "docker.io/library/nginx", "docker.io/library/nginx:latest"),
    ("index.docker.io/nginx:1", "index.docker.io", "nginx", "1", None, "docker.io/library/nginx:1",
     "docker.io/library/nginx:1"),
    ("index.docker.io/library/nginx", "index.docker.io", "library/nginx", None, None, "docker.io/library/nginx",
     "docker.io/library/nginx:latest"),
    # port versus tag
    ("localhost:5000/app", "localhost:5000", "app", None, None, "localhost:5000/app", "localhost:5000/app:latest"),
    ("app:5000", None, "app", "5000", None, "docker.io/library/app:5000", "docker.io/library/app:5000"),
    ("localhost:5000", None, "localhost", "5000", None, "docker.io/library/localhost:5000",
     "docker.io/library/localhost:5000"),
    ("localhost/app:1", "localhost", "app", "1", None, "localhost/app:1", "localhost/app:1"),
    ("registry.example.com:5000/team/app:1.0", "registry.example.com:5000", "team/app", "1.0", None,
     "registry.example.com:5000/team/app:1.0", "registry.example.com:5000/team/app:1.0"),
    ("10.0.0.1:5000/app", "10.0.0.1:5000", "app", None, None, "10.0.0.1:5000/app", "10.0.0.1:5000/app:latest"),
    # IPv6 in brackets
    ("[::1]:5000/app:v1", "[::1]:5000", "app", "v1", None, "[::1]:5000/app:v1", "[::1]:5000/app:v1"),
    ("[2001:db8::1]/app", "[2001:db8::1]", "app", None, None, "[2001:db8::1]/app", "[2001:db8::1]/app:latest"),
    # an uppercase first component is a host; a lowercase one without "." or ":" is a Docker Hub namespace
    ("Foo/bar:1", "Foo", "bar", "1", None, "Foo/bar:1", "Foo/bar:1"),
    ("foo/bar:1", None, "foo/bar", "1", None, "docker.io/foo/bar:1", "docker.io/foo/bar:1"),
    # digests; tag and digest together are both kept, and the runtime pulls by digest
    (f"ubuntu@sha256:{D64}", None, "ubuntu", None, f"sha256:{D64}", f"docker.io/library/ubuntu@sha256:{D64}",
     f"docker.io/library/ubuntu@sha256:{D64}"),
    (f"ubuntu:22.04@sha256:{D64}", None, "ubuntu", "22.04", f"sha256:{D64}",
     f"docker.io/library/ubuntu:22.04@sha256:{D64}", f"docker.io/library/ubuntu@sha256:{D64}"),
    (f"r.example.com/a@sha512:{D64 * 2}", "r.example.com", "a", None, f"sha512:{D64 * 2}",
     f"r.example.com/a@sha512:{D64 * 2}", f"r.example.com/a@sha512:{D64 * 2}"),
    # separators
    ("r.example.com/a__b/c---d/e.f_g:x", "r.example.com", "a__b/c---d/e.f_g", "x", None,
     "r.example.com/a__b/c---d/e.f_g:x", "r.example.com/a__b/c---d/e.f_g:x"),
    ("r.example.com/app:_build-1.2", "r.example.com", "app", "_build-1.2", None, "r.example.com/app:_build-1.2",
     "r.example.com/app:_build-1.2"),
]


@pytest.mark.parametrize("text, domain, path, tag, digest, full, resolved", VALID)
def test_valid_references(text, domain, path, tag, digest, full, resolved):
    ref = parse_reference(text)
    assert (ref.domain, ref.path, ref.tag, ref.digest) == (domain, path, tag, digest)
    assert ref.has_domain is (domain is not None)
    assert ref.full == full
    assert ref.resolved == resolved


@pytest.mark.parametrize(
    "text, familiar",
    [
        ("docker.io/library/nginx:1.25", "nginx:1.25"),
        ("index.docker.io/bitnami/nginx", "bitnami/nginx"),
        ("docker.io/library/a/b:1", "library/a/b:1"),
        ("quay.io/x/y:1", "quay.io/x/y:1"),
    ],
)
def test_familiar(text, familiar):
    assert parse_reference(text).familiar == familiar


def test_normalized_parts():
    ref = parse_reference("nginx:1.25")
    assert (ref.normalized_domain, ref.normalized_path, ref.host) == ("docker.io", "library/nginx", "docker.io")
    ref = parse_reference("docker.io/nginx")
    assert ref.normalized_path == "library/nginx"
    ref = parse_reference("localhost:5000/app")
    assert (ref.normalized_domain, ref.host, ref.normalized_path) == ("localhost:5000", "localhost", "app")
    ref = parse_reference("[::1]:5000/app")
    assert ref.host == "[::1]"


def test_tag_length_limit():
    assert parse_reference("app:" + "v" * 128).tag == "v" * 128
    with pytest.raises(InvalidReference, match="129 characters; the limit is 128"):
        parse_reference("app:" + "v" * 129)


def test_path_length_limit_counts_the_normalised_path_only():
    host = "registry.example.com/"
    assert parse_reference(host + "a" * 255).path == "a" * 255  # the host does not count
    with pytest.raises(InvalidReference, match="256 characters; the limit is 255"):
        parse_reference(host + "a" * 256)
    # Docker Hub official images count the implied "library/" prefix
    assert parse_reference("a" * 247).normalized_path == "library/" + "a" * 247
    with pytest.raises(InvalidReference, match="256 characters"):
        parse_reference("a" * 248)


# (text, substring of the reason)
INVALID = [
    ("", "the image is empty"),
    ("nginx :1.25", "whitespace"),
    (" nginx:1.25", "whitespace"),
    (D64, "image ID, not a repository name"),
    ("Nginx:1.25", 'repository name "library/Nginx" must be lowercase'),
    ("registry.example.com/MyApp:1", 'repository name "MyApp" must be lowercase'),
    ("MyOrg/App:1.0", 'repository name "App" must be lowercase'),
    ("app:1.0+build", 'the tag "1.0+build" contains "+"'),
    ("app:", 'the tag after ":" is empty'),
    ("app:.x", "must start with a letter, digit or"),
    ("app:-x", "must start with a letter, digit or"),
    ("app@", 'the digest after "@" is empty'),
    ("app@sha256:4ec37d2a07a0", "sha256 digest has 12 hex characters; it needs 64"),
    (f"app@sha256:{D64}0", "sha256 digest has 65 hex characters"),
    (f"app@sha256:{D64.upper()}", "lowercase hex"),
    (f"app@md5:{D64[:32]}", 'digest algorithm "md5" is not supported'),
    ("app@sha256:not-hex", "is not \"algorithm:hex\""),
    ("r.example.com//app", "empty path component"),
    ("r.example.com/app/", "empty path component"),
    (":1.0", "the repository name is empty"),
    ("my_host.com/app", 'registry host "my_host.com" contains "_"'),
    ("-host.com/app", "is not a valid host name"),
    ("host.com:abc/app", 'the port "abc" of registry "host.com:abc" is not a number'),
    ("[zz::1]/app", "is not a valid IPv6 address"),
    ("r.example.com/app..x", "must start and end with a letter or digit"),
    ("r.example.com/app___x", "must start and end with a letter or digit"),
    ("r.example.com/-app", "must start and end with a letter or digit"),
    ("r.example.com/app!", 'contains "!"'),
    ("app:1:2", 'repository name component "app:1" contains ":"'),
]


@pytest.mark.parametrize("text, reason", INVALID)
def test_invalid_references(text, reason):
    with pytest.raises(InvalidReference) as info:
        parse_reference(text)
    assert reason in info.value.reason
    assert isinstance(info.value, ValueError)


# --- ECR hosts ---------------------------------------------------------------------------------

# (host, account, region, partition, fips, dualstack, public)
ECR_VALID = [
    ("123456789012.dkr.ecr.us-east-1.amazonaws.com", "123456789012", "us-east-1", "aws", False, False, False),
    ("123456789012.dkr.ecr.ap-southeast-7.amazonaws.com", "123456789012", "ap-southeast-7", "aws", False, False, False),
    ("123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn", "123456789012", "cn-north-1", "aws-cn", False, False, False),
    ("123456789012.dkr.ecr.us-gov-west-1.amazonaws.com", "123456789012", "us-gov-west-1", "aws-us-gov", False, False,
     False),
    ("123456789012.dkr.ecr-fips.us-east-1.amazonaws.com", "123456789012", "us-east-1", "aws", True, False, False),
    ("123456789012.dkr-ecr.eu-west-1.on.aws", "123456789012", "eu-west-1", "aws", False, True, False),
    ("123456789012.dkr-ecr.cn-northwest-1.on.amazonwebservices.com.cn", "123456789012", "cn-northwest-1", "aws-cn",
     False, True, False),
    ("123456789012.dkr-ecr-fips.us-gov-east-1.on.aws", "123456789012", "us-gov-east-1", "aws-us-gov", True, True,
     False),
    ("123456789012.dkr.ecr.us-iso-east-1.c2s.ic.gov", "123456789012", "us-iso-east-1", "aws-iso", False, False, False),
    ("123456789012.dkr.ecr.us-isob-east-1.sc2s.sgov.gov", "123456789012", "us-isob-east-1", "aws-iso-b", False, False,
     False),
    ("123456789012.dkr.ecr.eu-isoe-west-1.cloud.adc-e.uk", "123456789012", "eu-isoe-west-1", "aws-iso-e", False, False,
     False),
    ("123456789012.dkr.ecr.us-isof-south-1.csp.hci.ic.gov", "123456789012", "us-isof-south-1", "aws-iso-f", False,
     False, False),
    ("123456789012.dkr.ecr.eusc-de-east-1.amazonaws.eu", "123456789012", "eusc-de-east-1", "aws-eusc", False, False,
     False),
    ("123456789012.dkr.ecr.us-east-1.amazonaws.com:443", "123456789012", "us-east-1", "aws", False, False, False),
    ("public.ecr.aws", None, None, "aws", False, False, True),
    ("ecr-public.aws.com", None, None, "aws", False, False, True),
]


@pytest.mark.parametrize("host, account, region, partition, fips, dualstack, public", ECR_VALID)
def test_valid_ecr_hosts(host, account, region, partition, fips, dualstack, public):
    result = classify_host(host)
    assert isinstance(result, EcrHost), result
    assert (result.account, result.region, result.partition, result.fips, result.dualstack, result.public) == (
        account, region, partition, fips, dualstack, public)


# (host, substring of a problem, is placeholder text)
ECR_INVALID = [
    ("aws_account_id.dkr.ecr.region.amazonaws.com", '"aws_account_id" is a placeholder', True),
    ("aws_account_id.dkr.ecr.region.amazonaws.com", '"region" is a placeholder, not an AWS region', True),
    ("123456789012.dkr.ecr.region-code.amazonaws.com", '"region-code" is a placeholder', True),
    ("<account>.dkr.ecr.us-east-1.amazonaws.com", '"<account>" is a placeholder', True),
    ("ACCOUNT_ID.dkr.ecr.us-east-1.amazonaws.com", '"ACCOUNT_ID" is a placeholder', True),
    ("xxxxxxxxxxxx.dkr.ecr.us-east-1.amazonaws.com", '"xxxxxxxxxxxx" is a placeholder', True),
    ("123456789012.dkr.ecr.us-east1.amazonaws.com", '"us-east1" is not an AWS region (did you mean us-east-1?)', False),
    ("123456789012.dkr.ecr.eu-mars-1.amazonaws.com", '"eu-mars-1" is not an AWS region', False),
    ("123456789012.dkr.ecr.US-EAST-1.amazonaws.com", 'the region "US-EAST-1" must be lowercase', False),
    ("12345678901.dkr.ecr.us-east-1.amazonaws.com", 'has 11 digits; an AWS account ID has 12', False),
    ("1234567890123.dkr.ecr.us-east-1.amazonaws.com", 'has 13 digits', False),
    ("12345678901a.dkr.ecr.us-east-1.amazonaws.com", 'is not a 12-digit AWS account ID', False),
    ("a.b.dkr.ecr.us-east-1.amazonaws.com", 'must be one 12-digit AWS account ID', False),
    ("dkr.ecr.us-east-1.amazonaws.com", 'there is no account ID before "dkr.ecr"', False),
    ("123456789012.dkr.ecr.cn-north-1.amazonaws.com", 'is in the aws-cn partition', False),
    ("123456789012.dkr.ecr.us-east-1.amazonaws.com.cn", 'is in the aws partition', False),
    ("123456789012.dkr.ecr.us-gov-west-1.c2s.ic.gov", 'is in the aws-us-gov partition', False),
    ("123456789012.dkr-ecr.us-east-1.amazonaws.com", 'no "dkr-ecr" hosts under .amazonaws.com', False),
    ("123456789012.dkr.ecr.us-east-1.on.aws", 'no "dkr.ecr" hosts under .on.aws', False),
    ("123456789012.dkr.ecr-fips.cn-north-1.amazonaws.com.cn", 'no "dkr.ecr-fips" hosts under .amazonaws.com.cn', False),
    ("123456789012.dkr.ecr.us-east-1.amazonaws.co", '"amazonaws.co" is not an ECR domain', False),
    ("123456789012.dkr.ecr.us-east-1", 'there is no domain after the region', False),
    ("ecr.us-east-1.amazonaws.com", "is an ECR API endpoint", False),
    ("api.ecr.us-east-1.amazonaws.com", "is an ECR API endpoint", False),
    ("123456789012.ecr.us-east-1.amazonaws.com", "is an ECR API endpoint", False),
]


@pytest.mark.parametrize("host, problem, placeholder", ECR_INVALID)
def test_invalid_ecr_hosts(host, problem, placeholder):
    result = classify_host(host)
    assert isinstance(result, InvalidEcrHost), result
    assert any(problem in p for p in result.problems), result.problems
    assert result.placeholder is placeholder


@pytest.mark.parametrize(
    "host",
    ["docker.io", "quay.io", "ghcr.io", "ecr.example.com", "registry.dkr.example.com", "dkr.ecr.example.com",
     "myecr.io", "localhost:5000", "[::1]:5000", "602401143452.dkr.ecr.example.com"],
)
def test_hosts_that_are_not_ecr(host):
    assert classify_host(host) is None


def test_regions_come_from_the_bundled_data():
    regions = aws_regions()
    assert regions["us-east-1"] == "aws"
    assert regions["cn-northwest-1"] == "aws-cn"
    assert regions["eusc-de-east-1"] == "aws-eusc"
    assert "us-east1" not in regions
    assert sum(p == "aws" for p in regions.values()) >= 36  # botocore 1.44.8 partitions.json: 36 in aws


# --- symbolic (CloudFormation) hosts ----------------------------------------------------------


@pytest.mark.parametrize(
    "host, account, region, partition",
    [
        ("${AWS::AccountId}.dkr.ecr.${AWS::Region}.amazonaws.com", "${AWS::AccountId}", "${AWS::Region}",
         "${AWS::Partition}"),
        ("${AWS::AccountId}.dkr.ecr.${AWS::Region}.${AWS::URLSuffix}", "${AWS::AccountId}", "${AWS::Region}",
         "${AWS::Partition}"),
        ("${AWS::AccountId}.dkr.ecr.${AWS::Region}.amazonaws.com.cn", "${AWS::AccountId}", "${AWS::Region}", "aws-cn"),
        ("${SharedAccount}.dkr.ecr.eu-west-1.amazonaws.com", "${SharedAccount}", "eu-west-1", "aws"),
        ("${AWS::AccountId}.dkr-ecr.${AWS::Region}.on.aws", "${AWS::AccountId}", "${AWS::Region}", "${AWS::Partition}"),
    ],
)
def test_symbolic_ecr_hosts_are_valid(host, account, region, partition):
    result = classify_host(host, symbolic=True)
    assert isinstance(result, EcrHost), result
    assert (result.account, result.region, result.partition) == (account, region, partition)
    assert result.symbolic


@pytest.mark.parametrize(
    "host, problem",
    [
        ("${AWS::AccountId}.dkr.ecr.us-east1.amazonaws.com", "did you mean us-east-1"),
        ("${AWS::AccountId}.dkr.ecr.cn-north-1.amazonaws.com", "aws-cn partition"),
        ("${AWS::AccountId}.dkr-ecr.${AWS::Region}.${AWS::URLSuffix}", "dual-stack"),
    ],
)
def test_symbolic_hosts_still_check_their_literal_parts(host, problem):
    result = classify_host(host, symbolic=True)
    assert isinstance(result, InvalidEcrHost)
    assert any(problem in p for p in result.problems)


def test_tokens_are_not_values_outside_symbolic_mode():
    # a literal "${AWS::AccountId}" (not from !Sub) is not an account ID
    result = classify_host("${AWS::AccountId}.dkr.ecr.us-east-1.amazonaws.com")
    assert isinstance(result, InvalidEcrHost)


def test_symbolic_reference_unknown_parts():
    ref = parse_reference("${AWS::AccountId}.dkr.ecr.${AWS::Region}.amazonaws.com/app:${Tag}", symbolic=True)
    assert ref.domain == "${AWS::AccountId}.dkr.ecr.${AWS::Region}.amazonaws.com"
    assert (ref.path, ref.tag) == ("app", "${Tag}")
    assert ref.symbolic and not ref.host_missing and not ref.tag_missing
    assert {"domain", "tag"} <= ref.unknown

    ref = parse_reference("${Repo.RepositoryUri}", symbolic=True)
    assert ref.domain is None and not ref.host_missing and not ref.tag_missing  # the token may hold both

    ref = parse_reference("${Registry}/app", symbolic=True)
    assert not ref.host_missing and ref.tag_missing  # "app" is literal: certainly no tag
    assert ref.resolved == "${Registry}/app:latest"

    ref = parse_reference("myorg/${Name}", symbolic=True)
    assert ref.host_missing and not ref.tag_missing  # "myorg" without "." is a Docker Hub namespace


def test_symbolic_components_are_not_grammar_checked_but_literals_are():
    assert parse_reference("r.example.com/${Repo}:${Tag}", symbolic=True).path == "${Repo}"
    with pytest.raises(InvalidReference, match='"App" must be lowercase'):
        parse_reference("${AWS::AccountId}.dkr.ecr.${AWS::Region}.amazonaws.com/App:1", symbolic=True)
    with pytest.raises(InvalidReference, match='the tag "1.0\\+x" contains'):
        parse_reference("r.example.com/app:1.0+x", symbolic=True)


# --- repository ARNs ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "image, symbolic, arn",
    [
        ("123456789012.dkr.ecr.us-east-1.amazonaws.com/team/app:1", False,
         "arn:aws:ecr:us-east-1:123456789012:repository/team/app"),
        ("123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn/app@sha256:" + D64, False,
         "arn:aws-cn:ecr:cn-north-1:123456789012:repository/app"),
        ("123456789012.dkr-ecr-fips.us-gov-west-1.on.aws/app:1", False,
         "arn:aws-us-gov:ecr:us-gov-west-1:123456789012:repository/app"),
        ("123456789012.dkr.ecr.us-east-1.amazonaws.com/docker-hub/library/nginx:1", False,
         "arn:aws:ecr:us-east-1:123456789012:repository/docker-hub/library/nginx"),
        ("${AWS::AccountId}.dkr.ecr.${AWS::Region}.${AWS::URLSuffix}/app:1", True,
         "arn:${AWS::Partition}:ecr:${AWS::Region}:${AWS::AccountId}:repository/app"),
        ("public.ecr.aws/docker/library/nginx:1", False, None),
        ("nginx:1", False, None),
        ("123456789012.dkr.ecr.us-east1.amazonaws.com/app:1", False, None),
        ("123456789012.dkr.ecr.us-east-1.amazonaws.com/a:1", False, None),  # too short for ECR: no such repository
    ],
)
def test_ecr_repository_arn(image, symbolic, arn):
    assert ecr_repository_arn(parse_reference(image, symbolic=symbolic, check_domain=False)) == arn


@pytest.mark.parametrize(
    "key, host",
    [
        ("https://123456789012.dkr.ecr.us-east-1.amazonaws.com", "123456789012.dkr.ecr.us-east-1.amazonaws.com"),
        ("https://index.docker.io/v1/", "index.docker.io"),
        ("ghcr.io", "ghcr.io"),
        ("localhost:5000", "localhost:5000"),
    ],
)
def test_registry_of_auth_key(key, host):
    assert registry_of_auth_key(key) == host


# --- placeholders ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "image, text",
    [
        ("app:${TAG}", "${TAG}"),
        ("$REGISTRY/app:1", "$REGISTRY"),
        ("$(REGISTRY)/app:1", "$(REGISTRY)"),
        ("{{ .Values.image }}", "{{ .Values.image }}"),
        ("{{.Values.repo}}:{{.Values.tag}}", "{{.Values.repo}}"),
        ("#{Registry}#/app:1", "#{Registry}"),
        ("r.example.com/app:%s", "%s"),
        ("r.example.com/app:@project.version@", "@project.version@"),
        ("r.example.com/__IMAGE__:1", "__IMAGE__"),
    ],
)
def test_template_syntax(image, text):
    found = find_template_syntax(image)
    assert found is not None and found.text == text


@pytest.mark.parametrize(
    "image, text",
    [
        ("<image_url>", "<image_url>"),
        ("<YOUR-CONTAINER>", "<YOUR-CONTAINER>"),
        ("IMAGE_TAG", "IMAGE_TAG"),
        ("TRANSFORM_IMAGE_TAG", "TRANSFORM_IMAGE_TAG"),
        ("REPLACE_ME", "REPLACE_ME"),
        ("r.example.com/app:CHANGEME", "CHANGEME"),
        ("r.example.com/app:changeme", "changeme"),
        ("r.example.com/app:TODO", "TODO"),
        ("r.example.com/app:TAG", "TAG"),
        ("r.example.com/app:IMAGE_VERSION", "IMAGE_VERSION"),
        ("your-registry.example.com/app:1", "your-registry"),
        ("r.example.com/your_org/app:1", "your_org"),
        ("MY_REGISTRY/app:1", "MY_REGISTRY"),
    ],
)
def test_placeholder_text(image, text):
    found = find_placeholder_text(image)
    assert found is not None and found.text == text


@pytest.mark.parametrize(
    "image",
    ["r.example.com/todo-app:1", "ghcr.io/yourorg/app:1", "r.example.com/app:RC1", "r.example.com/app:1.0-SNAPSHOT",
     "r.example.com/xxl-job:2", "r.example.com/app:LATEST_STABLE", "r.example.com/replacement:1", "nginx:1.25",
     f"nginx@sha256:{D64}"],
)
def test_lookalikes_are_not_placeholders(image):
    assert find_template_syntax(image) is None
    assert find_placeholder_text(image) is None


def test_cloudformation_tokens_are_not_placeholders_in_symbolic_images():
    image = "${AWS::AccountId}.dkr.ecr.${AWS::Region}.${AWS::URLSuffix}/app:${ImageTag}"
    assert find_template_syntax(image, symbolic=True) is None
    found = find_template_syntax(image)  # a literal string: CloudFormation leaves ${...} as is
    assert (found.text, found.what) == ("${AWS::AccountId}", "shell variable")
    found = find_template_syntax("${AWS::AccountId}.dkr.ecr.us-east-1.amazonaws.com/app:{{ tag }}", symbolic=True)
    assert (found.text, found.what) == ("{{ tag }}", "template expression")


# --- the analysis: one finding per mistake -----------------------------------------------------


def test_analysis_precedence():
    # template syntax hides everything, even a bad ECR host
    a = analyze("<account-id>.dkr.ecr.us-east-1.amazonaws.com/app:${TAG}")
    assert (a.placeholder.text, a.placeholder.what) == ("${TAG}", "shell variable")
    assert a.bad_host is None and a.reference is None and a.error is None
    # placeholder text in the ECR host is ECR105's; the rest of the image is still checked
    a = analyze("aws_account_id.dkr.ecr.region.amazonaws.com/app")
    assert a.bad_host.problems == ('"aws_account_id" is a placeholder, not a 12-digit AWS account ID',
                                   '"region" is a placeholder, not an AWS region')
    assert a.bad_host.placeholder and a.placeholder is None
    assert (a.reference.path, a.reference.tag_missing) == ("app", True)
    # a doc-template image is one ECR105 finding, not ECR105 + ECR109 + ECR104
    a = analyze("<aws_account_id>.dkr.ecr.<region>.amazonaws.com/<repository>:<tag>")
    assert a.bad_host.problems == ('"<aws_account_id>" is a placeholder, not a 12-digit AWS account ID',
                                   '"<region>" is a placeholder, not an AWS region')
    assert a.placeholder is None and a.reference is None and a.error is None
    # placeholder text outside an ECR host is ECR109 and hides the grammar error it causes
    a = analyze("IMAGE_TAG")
    assert (a.placeholder.text, a.placeholder.what) == ("IMAGE_TAG", "placeholder") and a.error is None
    # a bad ECR host does not also count as a grammar error (the underscore is the placeholder's)
    a = analyze("ACCOUNT_ID.dkr.ecr.us-east-1.amazonaws.com/app:1")
    assert a.bad_host.problems == ('"ACCOUNT_ID" is a placeholder, not a 12-digit AWS account ID',)
    assert a.error is None
    # a grammar error elsewhere is reported next to a bad host
    a = analyze("123456789012.dkr.ecr.us-east1.amazonaws.com/App:1")
    assert a.bad_host.problems == ('"us-east1" is not an AWS region (did you mean us-east-1?)',)
    assert a.error == 'repository name "App" must be lowercase'
    # valid ECR
    a = analyze("123456789012.dkr.ecr.us-east-1.amazonaws.com/app:1")
    assert (a.ecr.account, a.ecr.region, a.ecr.partition) == ("123456789012", "us-east-1", "aws")
    assert a.bad_host is None and (a.reference.path, a.reference.tag) == ("app", "1")
    # ECR Public without an alias
    a = analyze("public.ecr.aws/nginx:1")
    assert a.bad_host.problems == (
        'ECR Public images are public.ecr.aws/<registry-alias>/<repository>, and "nginx" has no alias',
    )
