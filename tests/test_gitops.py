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
