"""Flux OCI sources and Argo CD repository Secrets on Amazon ECR (ECR405, ECR406)."""

from __future__ import annotations

import pytest

from helpers import FIXTURES, assert_fixture, lint, message_of

GITOPS = FIXTURES / "gitops"


@pytest.mark.parametrize("name", sorted(p.name for p in GITOPS.iterdir() if p.suffix == ".yaml"))
def test_fixture(name):
    assert_fixture(GITOPS / name, select="ECR4,ECR108")


def test_messages():
    result = lint("flux_fail.yaml", "argocd_fail.yaml", cwd=GITOPS, select="ECR4")
    assert message_of(result, "ECR405", 10) == (
        "HelmRepository/flux-system/charts fetches from private ECR (111122223333.dkr.ecr.us-east-1.amazonaws.com) "
        "with no provider (Flux's default, generic) and no secretRef: the source-controller asks ECR anonymously "
        "and is refused; set provider: aws"
    )
    assert message_of(result, "ECR406", 26).startswith(
        'Argo CD repository Secret "ecr-creds" holds a static password for private ECR '
        "(111122223333.dkr.ecr.us-east-1.amazonaws.com); ECR tokens expire after 12 hours"
    )


def test_oci_chart_versions_by_range():
    result = lint("unpinned_fail.yaml", cwd=GITOPS, select="ECR408")
    assert message_of(result, "ECR408", 23) == (
        'HelmRelease/flux-system/web installs chart "web" from oci://111122223333.dkr.ecr.us-east-1.amazonaws.com/charts '
        'at version "1.x", a range: the controller installs the newest matching tag; pin an exact version'
    )
    assert message_of(result, "ECR408", 37).endswith("with no version: Flux takes the newest tag; pin an exact version")


def test_releases_of_charts_in_the_repository_are_rendered_with_their_values():
    """A Flux HelmRelease (GitRepository chart path, values) and Argo CD Applications (path, valueFiles,
    a values block, parameters) render the scanned chart: the images they deploy are checked at the
    values line that sets them; one that sets the chart's own image adds nothing."""
    root = GITOPS / "releases-fail"
    result = assert_fixture(root, cwd=root, select="ECR1")
    assert message_of(result, "ECR101", 19).startswith(
        'image "nginx:0.9" (as HelmRelease/web/web installs charts/web, rendered in templates/deployment.yaml'
    )
    verbose = lint(".", cwd=root, select="ECR408", verbose=True)
    assert not [n for n in verbose.notes if "not among the scanned charts" in n]


def test_a_release_of_a_chart_elsewhere_is_a_verbose_note(tmp_path):
    (tmp_path / "release.yaml").write_text(
        "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata: {name: web, namespace: web}\n"
        "spec:\n  chart:\n    spec:\n      chart: ./charts/missing\n      sourceRef: {kind: GitRepository, name: repo}\n"
    )
    result = lint(".", cwd=tmp_path, select="ECR4", verbose=True)
    assert not result.findings
    assert any("chart './charts/missing' of HelmRelease/web/web is not among the scanned charts" in n for n in result.notes)
