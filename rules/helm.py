"""ECR401-ECR404: charts that cannot be rendered offline, oci:// and unvendored dependencies in Chart.yaml."""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterable, Iterator

from ecrlint.model import Finding, Loc, Severity
from ecrlint.registry import Context, Rule
from ecrlint.workspace import Workspace

if TYPE_CHECKING:
    from ecrlint.helm.facts import ChartDependency, ChartFacts

OCI = "oci://"


def _charts(ws: Workspace) -> Iterator[ChartFacts]:
    yield from (chart for chart in ws.charts if chart is not None)


def _own_oci_dependencies(chart: ChartFacts) -> Iterator[ChartDependency]:
    """Dependencies the chart's own Chart.yaml declares from oci:// (vendored subcharts' are not the user's)."""
    for dep in chart.dependencies:
        repo = dep.repository or ""
        if dep.chart == chart.display and repo.lower().startswith(OCI):
            yield dep


class HelmRenderFailed(Rule):
    """A chart (or one of its templates) that cannot be rendered offline.

    ## What it does
    Renders every chart like `helm template` does: the chart's `values.yaml` merged with any
    `--helm-values` files, subcharts from `charts/` (directories and `.tgz` archives), library
    charts, global values, dependency conditions, tags, aliases and `import-values`, the default
    `.Release` (`release-name` in `default`), `.Chart` and `.Capabilities`, and `lookup`
    returning nothing. Reports, at the template and line where rendering stopped:

    - a `fail` call, or a `required` value that is missing (a `required` value that the chart's
      `values.yaml` declares empty, such as `clusterName: ""`, is an install-time input: the
      chart renders on as `helm lint` does and only `--verbose` mentions it);
    - a template syntax or execution error;
    - values that do not meet the chart's (or a subchart's) `values.schema.json`, which Helm
      checks before rendering anything (at the values line: the `--helm-values` file or the
      `values.yaml` that sets the key, or leaves it empty);
    - inside a vendored `.tgz` subchart: at the archive, the file inside it named in the message;
    - a chart that exceeds the render budget of Helm's own engine (helm-python-sdk renders each
      chart in a process of its own, within 20 s of CPU, 30 s and 2 GiB: a template that loops,
      recurses or allocates without end), or on which that engine crashed.

    Everything that still renders is checked: the other templates, and the chart's own
    templates when a dependency is missing (a dependency not vendored in `charts/` is ECR404,
    a warning: Argo CD and `helm dependency build` fetch it at deploy time).

    ## Why
    What cannot be rendered cannot be checked: images in a template that does not render are
    invisible to every other rule, and `helm install` fails on the same error.

    ## Example
    ```yaml
    # templates/deployment.yaml
    image: {{ required "image.repository is required" .Values.image.repository }}
    ```

    ## Fix
    Set the value in `values.yaml`, or pass the values you install with through
    `--helm-values` (or `helm.values` in config).

    ## Options
    `--helm-values FILE` / `helm.values`: values files merged in order, like `helm -f`.
    `--helm-engine`: `auto` (the built-in engine; a chart it cannot render is rendered again by
    helm-python-sdk when installed, whose verdict stands), `sdk`, `binary`, `builtin`.
    """

    id = "ECR401"
    name = "helm-render-failed"
    severity = Severity.ERROR

    def check(self, ws: Workspace, ctx: Context) -> Iterable[Finding]:
        for chart in _charts(ws):
            for error in chart.render_errors:
                if error.template:
                    message = f"{error.template} cannot be rendered offline: {error.message}"
                elif error.kind == "missing-dependency":
                    continue  # ECR404: fetched at deploy time, not a render failure
                else:
                    message = f'chart "{chart.name}" cannot be rendered offline: {error.message}'
                yield self.finding(error.loc, message, logical=f"Chart/{chart.name}")


class HelmOciDependencyUnpinned(Rule):
    """A `Chart.yaml` dependency from an `oci://` registry without an exact version.

    ## What it does
    Flags a dependency whose `repository` is `oci://...` and whose `version` is missing or a
    range (`2.x.x`, `^1.2.0`, `>=1.0.0`, `1.2`) instead of one exact SemVer version (`1.2.3`).
    The same for a Terraform `helm_release` whose chart comes from `oci://` (`repository =
    "oci://..."` or `chart = "oci://..."`), at its `version` line (or its name when it has none);
    a `version` not known offline (a `var` without a default) is not judged.

    ## Why
    For an OCI dependency `helm dependency update` lists the registry's tags and takes the
    highest one in the range (Helm `GetTagMatchingVersionOrConstraint`); without a version it
    takes the highest tag of all. The chart you vendor then depends on when you ran the command,
    and with ECR the pull needs `ecr:ListImages`/`DescribeImages` on top of `BatchGetImage`.
    A `helm_release` passes `version` to Helm as `helm install --version` does, which takes "a
    specific tag (e.g. 1.1.1) or ... a valid range (e.g. ^2.0.0)" and, without it, "the latest
    version" (https://helm.sh/docs/helm/helm_install/; the provider's `version`: "If this is not
    specified, the latest version is installed",
    https://registry.terraform.io/providers/hashicorp/helm/latest/docs/resources/release): each
    `terraform apply` may then install another chart than the one you reviewed.

    ## Example
    ```yaml
    dependencies:
      - name: common
        repository: oci://123456789012.dkr.ecr.us-east-1.amazonaws.com/charts
        version: 2.x.x
    ```

    ## Fix
    Pin the exact version you tested (`version: 2.31.4`) and let Chart.lock record its digest.

    ## Options
    None.
    """

    id = "ECR402"
    name = "helm-oci-dependency-unpinned"
    severity = Severity.WARNING

    def check(self, ws: Workspace, ctx: Context) -> Iterable[Finding]:
        if not ws.charts:
            return  # no chart: do not import the Helm package at all
        from ecrlint.helm.semver import is_exact

        for chart in _charts(ws):
            for dep in _own_oci_dependencies(chart):
                version = (dep.version or "").strip()
                if not dep.version_known or version and is_exact(version):
                    continue
                if dep.declared_by:  # a Terraform helm_release: Helm resolves the version at each apply
                    if not version:
                        message = (f'{dep.declared_by} installs chart "{dep.name}" from {dep.repository} without '
                                   "a version: each apply installs the newest tag; pin an exact version")
                    else:
                        message = (f'{dep.declared_by} version "{version}" is a range: each apply installs the '
                                   f"newest matching tag in {dep.repository}; pin an exact version")
                    yield self.finding(dep.version_loc or dep.loc, message, logical=f"Chart/{chart.name}")
                    continue
                vendored = f'; charts/ holds version "{dep.vendored_version}"' if dep.vendored_version else ""
                if not version:
                    message = (
                        f'oci:// dependency "{dep.name}" has no version; helm dependency update takes the newest tag '
                        f"in {dep.repository}{vendored}: pin an exact version"
                    )
                    loc = dep.loc
                else:
                    message = (
                        f'oci:// dependency "{dep.name}" version "{version}" is a range; helm dependency update '
                        f"resolves it to the newest matching tag in {dep.repository}{vendored}: pin an exact version"
                    )
                    loc = dep.version_loc or dep.loc
                yield self.finding(loc, message, logical=f"Chart/{chart.name}")


class HelmOciReferenceInvalid(Rule):
    """An `oci://` dependency whose registry host is not a valid (ECR) registry host.

    ## What it does
    Checks the host of every `oci://` dependency `repository` in `Chart.yaml` with the same
    registry-host checks as ECR105: an ECR-shaped host must be `ACCOUNT.dkr.ecr.REGION.amazonaws.com`
    (or one of the FIPS, dual-stack, China and ISO forms) with a 12-digit account and a real
    region; a placeholder such as `aws_account_id.dkr.ecr.region.amazonaws.com` is flagged, and
    so is an `oci://` reference without a host. A Terraform `helm_release` whose `repository`
    (or `chart`) is `oci://...` is checked the same way, at that line.

    ## Why
    `helm dependency update` cannot resolve such a host: the chart never gets vendored, and
    `helm registry login` for it fails the same way.

    ## Example
    ```yaml
    dependencies:
      - name: app
        version: 1.4.0
        repository: oci://aws_account_id.dkr.ecr.us-east1.amazonaws.com/charts
    ```

    ## Fix
    Write the registry's real host: `oci://123456789012.dkr.ecr.us-east-1.amazonaws.com/charts`.

    ## Options
    None.
    """

    id = "ECR403"
    name = "helm-oci-reference-invalid"
    severity = Severity.ERROR

    def check(self, ws: Workspace, ctx: Context) -> Iterable[Finding]:
        from ecrlint.analysis.images import InvalidEcrHost, classify_host

        for chart in _charts(ws):
            for dep in _own_oci_dependencies(chart):
                repo = dep.repository or ""
                loc: Loc = dep.repository_loc or dep.loc
                host = repo[len(OCI) :].split("/", 1)[0]
                what = f"{dep.declared_by} chart" if dep.declared_by else f'oci:// dependency "{dep.name}"'
                if not host:
                    yield self.finding(
                        loc,
                        f'{what} repository "{repo}" has no registry host; '
                        "write oci://HOST/PATH",
                        logical=f"Chart/{chart.name}",
                    )
                    continue
                verdict = classify_host(host)
                if isinstance(verdict, InvalidEcrHost):
                    yield self.finding(
                        loc,
                        f'{what} registry host "{verdict.host}" is not a valid ECR registry: '
                        + "; ".join(verdict.problems),
                        logical=f"Chart/{chart.name}",
                    )


class HelmDependencyNotVendored(Rule):
    """A `Chart.yaml` dependency that is not in `charts/`: its templates and images go unchecked.

    ## What it does
    Flags each dependency a chart's own `Chart.yaml` declares that is neither a directory nor a
    `.tgz` archive in its `charts/` folder, at the dependency's entry. The chart's own templates
    are still rendered and checked; the dependency's are not, since ecrlint works offline and
    never downloads a chart.

    ## Why
    Not vendoring is normal in GitOps repositories: Argo CD's repo server runs
    `helm dependency build` itself when `helm template` reports a dependency "found in Chart.yaml,
    but missing in charts/ directory" (`runHelmBuild` in
    https://github.com/argoproj/argo-cd/blob/master/reposerver/repository/repository.go), and
    `helm dependency build` fetches what `Chart.lock` pins
    (https://helm.sh/docs/helm/helm_dependency_build/). So it is a warning, not an error: the
    deployment works, but the images the dependency runs were not checked against the node role,
    the registry rules or the Fargate profiles.

    ## Example
    ```yaml
    # Chart.yaml, with no charts/redis-18.6.1.tgz next to it
    dependencies:
      - name: redis
        version: 18.6.1
        repository: https://charts.bitnami.com/bitnami
    ```

    ## Fix
    To check the dependency too, run `helm dependency build` before ecrlint (in CI, or commit
    `charts/` if you deploy with `helm install`). In a repository whose charts Argo CD builds,
    `ignore: [ECR404]` in config says that this is intended.

    ## Options
    None.
    """

    id = "ECR404"
    name = "helm-dependency-not-vendored"
    severity = Severity.WARNING

    def check(self, ws: Workspace, ctx: Context) -> Iterable[Finding]:
        for chart in _charts(ws):
            for dep in chart.dependencies:
                if dep.chart != chart.display or dep.vendored:
                    continue
                source = f" from {dep.repository}" if dep.repository else ""
                yield self.finding(
                    dep.loc,
                    f'dependency "{dep.name}"{source} is not vendored in charts/, so its templates and images '
                    "are not checked; helm and Argo CD build it at deploy time (run \"helm dependency build\" "
                    "before ecrlint to check them too)",
                    logical=f"Chart/{chart.name}",
                )
