"""ECR405-ECR408: GitOps controllers (Flux, Argo CD) that fetch charts and artifacts from Amazon ECR."""

from __future__ import annotations

from typing import Iterable

from ecrlint.analysis.images import EcrHost, InvalidEcrHost, classify_host
from ecrlint.model import Finding, Severity
from ecrlint.registry import Context, Rule
from ecrlint.workspace import Workspace


def _host(url: str) -> str:
    """The registry host of an ``oci://``, ``https://`` or scheme-less registry URL."""
    rest = url.split("://", 1)[1] if "://" in url else url
    return rest.split("/", 1)[0].lower()


def _private_ecr_host(url: str) -> str | None:
    """The private ECR registry host of an ``oci://``, ``https://`` or scheme-less registry URL, or None."""
    host = _host(url)
    ecr = classify_host(host)
    return host if isinstance(ecr, EcrHost) and not ecr.public and not ecr.symbolic else None


class FluxEcrSourceWithoutAwsProvider(Rule):
    """A Flux OCI source on private Amazon ECR that does not log in to ECR.

    ## What it does
    Flags a Flux `HelmRepository` with `type: oci` or an `OCIRepository` (on `spec.url`) whose URL
    is a private ECR registry (`oci://<account>.dkr.ecr.<region>.amazonaws.com/...`) and which
    sets neither `spec.provider: aws` nor a `spec.secretRef`.

    ## Why
    Flux's `spec.provider` defaults to `generic`, which means no cloud login: with no secret the
    source-controller asks ECR anonymously and every fetch fails with 401 Unauthorized (private
    ECR has no anonymous pulls). `provider: aws` makes it log in with the EKS worker node role or
    the source-controller's IRSA role. Sources: Flux "Helm Repositories" and "OCI Repositories"
    (`.spec.provider`): https://fluxcd.io/flux/components/source/helmrepositories/#provider,
    https://fluxcd.io/flux/components/source/ocirepositories/#provider; ECR authentication:
    https://docs.aws.amazon.com/AmazonECR/latest/userguide/registry_auth.html.

    ## Example
    ```yaml
    apiVersion: source.toolkit.fluxcd.io/v1
    kind: HelmRepository
    spec:
      type: oci
      url: oci://111122223333.dkr.ecr.us-east-1.amazonaws.com/charts
    ```

    ## Fix
    Add `provider: aws` and give the source-controller (IRSA) or the node role ECR pull
    (`AmazonEC2ContainerRegistryReadOnly` / `PullOnly`).

    ## Options
    None.
    """

    id = "ECR405"
    name = "flux-ecr-source-without-aws-provider"
    severity = Severity.ERROR

    def check(self, ws: Workspace, ctx: Context) -> Iterable[Finding]:
        for source in ws.oci_sources:
            host = _private_ecr_host(source.url)
            if host is None or source.provider == "aws" or source.secret_ref:
                continue
            provider = f'provider "{source.provider}"' if source.provider else "no provider (Flux's default, generic)"
            yield self.finding(
                source.loc,
                f'{source.logical} fetches from private ECR ({host}) with {provider} and no secretRef: '
                "the source-controller asks ECR anonymously and is refused; set provider: aws",
                logical=source.logical,
            )


class GitopsStaticEcrCredentials(Rule):
    """An Argo CD repository Secret holding a static password for private Amazon ECR.

    ## What it does
    Flags an Argo CD repository or credential-template Secret (label
    `argocd.argoproj.io/secret-type: repository` or `repo-creds`) whose `url` is a private ECR
    registry and which holds a `password` written in the file (`stringData` or `data`), on the
    password.

    ## Why
    An ECR password is an authorization token (`aws ecr get-login-password`), valid for 12 hours:
    the repository works on the day the Secret is made and Argo CD's repo-server fails to fetch
    the chart afterwards, unless something keeps replacing the Secret. Sources: ECR "Registry
    authentication" (https://docs.aws.amazon.com/AmazonECR/latest/userguide/registry_auth.html:
    "an authorization token ... valid for 12 hours"); Argo CD declarative repositories
    (https://argo-cd.readthedocs.io/en/stable/operator-manual/declarative-setup/#repositories).

    ## Example
    ```yaml
    kind: Secret
    metadata:
      labels: {argocd.argoproj.io/secret-type: repository}
    stringData:
      type: helm
      enableOCI: "true"
      url: 111122223333.dkr.ecr.us-east-1.amazonaws.com
      username: AWS
      password: eyJwYXlsb2FkIjoi...
    ```

    ## Fix
    Do not commit the token: have it refreshed in the cluster (External Secrets Operator's
    `ECRAuthorizationToken` generator writing this Secret, or a CronJob that runs
    `aws ecr get-login-password`), with an IAM role allowed `ecr:GetAuthorizationToken` and pull.

    ## Options
    None.
    """

    id = "ECR406"
    name = "gitops-static-ecr-credentials"
    severity = Severity.WARNING

    def check(self, ws: Workspace, ctx: Context) -> Iterable[Finding]:
        for credential in ws.repository_credentials:
            host = _private_ecr_host(credential.url)
            if host is None:
                continue
            yield self.finding(
                credential.loc,
                f'Argo CD repository Secret "{credential.name}" holds a static password for private ECR ({host}); '
                "ECR tokens expire after 12 hours, so fetching charts fails from then on; have the token refreshed "
                "in the cluster (External Secrets Operator ECRAuthorizationToken, or a CronJob) instead of "
                "committing it",
                logical=f"Secret/{credential.namespace}/{credential.name}",
            )


class GitopsEcrUrlInvalid(Rule):
    """A GitOps chart or artifact source whose ECR-shaped registry host cannot exist.

    ## What it does
    Applies ECR105's host checks to the registry URLs GitOps objects fetch from: a Flux
    `HelmRepository` (`type: oci`) or `OCIRepository` `spec.url`, an Argo CD `Application` or
    `ApplicationSet` Helm chart source's `repoURL`, an Argo CD repository Secret's `url`. It
    flags a host shaped like a private ECR registry whose account is not 12 digits, whose region
    is not an AWS region (`us-east1`), or that is a documentation placeholder
    (`aws_account_id.dkr.ecr.region.amazonaws.com`). A host with `${VAR}` or `{{ }}` in it is
    filled in when applied (Flux `postBuild` substitution, Helm) and is not judged.

    ## Why
    The controller resolves the host when it reconciles: a name that cannot exist fails every
    fetch (no such host), the chart is never installed and nothing in git says why. Host format:
    https://docs.aws.amazon.com/AmazonECR/latest/userguide/Registries.html (`aws_account_id.dkr.ecr.region.amazonaws.com`).

    ## Example
    ```yaml
    kind: OCIRepository
    spec:
      url: oci://111122223333.dkr.ecr.us-east1.amazonaws.com/manifests/app
    ```

    ## Fix
    Write the registry host as ECR shows it: `<12-digit account>.dkr.ecr.<region>.amazonaws.com`.

    ## Options
    None.
    """

    id = "ECR407"
    name = "gitops-ecr-url-invalid"
    severity = Severity.ERROR

    def check(self, ws: Workspace, ctx: Context) -> Iterable[Finding]:
        for reference in ws.registry_references:
            host = _host(reference.url)
            if "${" in host or "{{" in host:
                continue  # filled in when applied (Flux postBuild substitution, Helm, envsubst)
            ecr = classify_host(host)
            if not isinstance(ecr, InvalidEcrHost):
                continue
            yield self.finding(
                reference.loc,
                f'{reference.what} fetches from "{reference.url}", whose registry host "{host}" cannot be an ECR '
                f"registry: {'; '.join(ecr.problems)}",
                logical=reference.logical,
            )


class GitopsOciChartUnpinned(Rule):
    """A Flux HelmRelease or Argo CD Application that installs an OCI chart by a version range.

    ## What it does
    Flags a Flux `HelmRelease` whose chart comes from an OCI `HelmRepository` (`type: oci`) and
    whose `spec.chart.spec.version` is missing or a SemVer range (`2.x`, `^1.2.0`, `>=1.0.0`,
    `*`), and an Argo CD `Application` / `ApplicationSet` Helm source on an OCI registry
    (`repoURL` without a scheme, or `oci://`, with `chart`) whose `targetRevision` is a range,
    instead of one exact version (`1.2.3`); a HelmRelease whose `chartRef` names an
    `OCIRepository` with a `spec.ref.semver` range (on the `semver`); likewise an `AWSQS::Kubernetes::Helm` resource of a
    CloudFormation template with an `oci://` chart and a `Version` range. ECR402's logic, for
    GitOps objects.

    ## Why
    For an OCI chart the controller lists the repository's tags and installs the highest one in the
    range, so what runs depends on when it last reconciled, not on the commit, and a new chart
    pushed to ECR rolls out untested. Listing tags needs `ecr:ListImages` on top of the pull
    permissions, and Argo CD versions before 2.6 cannot resolve a range on OCI at all
    (argoproj/argo-cd#6686, #9528; range support: #10641). Flux's `version` defaults to `*` (the
    newest tag) when omitted: https://fluxcd.io/flux/components/source/helmcharts/#version and
    https://fluxcd.io/flux/components/helm/helmreleases/#chart-template; Argo CD Helm sources:
    https://argo-cd.readthedocs.io/en/stable/user-guide/helm/.

    ## Example
    ```yaml
    apiVersion: helm.toolkit.fluxcd.io/v2
    kind: HelmRelease
    spec:
      chart:
        spec:
          chart: web
          version: "1.x"
          sourceRef: {kind: HelmRepository, name: ecr-charts}  # type: oci
    ```

    ## Fix
    Pin the exact chart version you tested (`version: 1.4.2`, `targetRevision: 1.4.2`) and let a
    dependency bot propose upgrades.

    ## Options
    None.
    """

    id = "ECR408"
    name = "gitops-oci-chart-unpinned"
    severity = Severity.WARNING

    def check(self, ws: Workspace, ctx: Context) -> Iterable[Finding]:
        if ctx.verbose:
            ctx.notes.extend(note for release in ws.chart_releases for note in release.notes)
        if not ws.chart_releases:
            return
        from ecrlint.helm.semver import is_exact

        oci = {(s.kind, s.namespace, s.name): s for s in ws.oci_sources}
        for release in ws.chart_releases:
            url, version, version_loc = release.oci_url, (release.version or "").strip(), release.version_loc
            if url is None and release.source_ref is not None:
                source = oci.get(release.source_ref)
                if source is None:
                    continue
                url = source.url
                if source.kind == "OCIRepository":  # chartRef: the OCIRepository's ref picks the tag
                    if not source.semver:
                        continue  # a tag or a digest
                    version, version_loc = source.semver.strip(), source.semver_loc
            if url is None:
                continue
            if version and (is_exact(version) or "{{" in version or "${" in version):
                continue  # exact, or filled in by an ApplicationSet generator / Flux substitution
            if not version:
                if release.version_field != "version":
                    continue  # Argo CD requires targetRevision for a chart: its own error
                message = (f'{release.what} installs chart "{release.chart}" from {url} with no version: Flux takes '
                           "the newest tag; pin an exact version")
                yield self.finding(release.loc, message, logical=release.what)
                continue
            message = (f'{release.what} installs chart "{release.chart}" from {url} at {release.version_field} '
                       f'"{version}", a range: the controller installs the newest matching tag; pin an exact version')
            yield self.finding(version_loc or release.loc, message, logical=release.what)
