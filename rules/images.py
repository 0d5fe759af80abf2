"""ECR101-ECR109: image references, ECR registry hosts, placeholders and ECR pull secrets."""

from __future__ import annotations

import re
from fnmatch import fnmatchcase
from typing import Iterable, Iterator

from ecrlint.analysis.images import EcrHost, ImageAnalysis, Reference, analyze, classify_host, registry_of_auth_key
from ecrlint.model import Finding, Loc, Severity
from ecrlint.registry import Context, Option, Rule
from ecrlint.workspace import DockerConfigSecret, ImageUse, PullSecretRef, Workload, Workspace

# Every image rule reads the same ``analyze`` result, which decides once per image string which
# finding applies (see ImageAnalysis): one mistake never gives two findings.


def _analyzed(ws: Workspace) -> Iterator[tuple[ImageUse, ImageAnalysis]]:
    for use in ws.images:
        if use.not_a_string is None:  # a number, a boolean, null or a list: ECR104 alone reports it
            yield use, analyze(use.value, use.symbolic)


def _image(use: ImageUse) -> str:
    """``image "nginx:1.25"``, with where a rendered chart produced it."""
    where = f" ({use.origin})" if use.origin else ""
    return f'image "{use.value}"{where}'


def _kubelet(use: ImageUse) -> bool:
    return use.source in ("kubernetes", "helm")


class ImageNotFullyQualified(Rule):
    """An image with no registry host: it silently means Docker Hub.

    ## What it does
    Flags an image whose first path component is not a registry host (`nginx:1.25`,
    `library/redis:7`, `bitnami/nginx`). Kubelet and containerd normalise such names to
    `docker.io/...` (`nginx` becomes `docker.io/library/nginx`), exactly as `docker pull` does.

    ## Why
    The registry is part of the image's identity. An unqualified name depends on a default the
    reader cannot see, pulls from Docker Hub with its anonymous rate limits, and bypasses a
    pull-through cache or mirror the cluster is meant to use. Writing the host makes the source
    reviewable and lets `allowed-registries` (ECR107) judge it.

    ## Example
    ```yaml
    containers:
      - name: web
        image: nginx:1.25   # docker.io/library/nginx:1.25
    ```

    ## Fix
    Write the registry host: `docker.io/library/nginx:1.25`, or better the ECR copy you pull
    through, e.g. `123456789012.dkr.ecr.us-east-1.amazonaws.com/docker-hub/library/nginx:1.25`
    or `public.ecr.aws/docker/library/nginx:1.25`.

    ## Options
    None.
    """

    id = "ECR101"
    name = "image-not-fully-qualified"
    severity = Severity.ERROR

    def check(self, ws: Workspace, ctx: Context) -> Iterable[Finding]:
        for use, a in _analyzed(ws):
            ref = a.reference
            if ref is None or not ref.host_missing:
                continue
            message = f"{_image(use)} has no registry host; it resolves to {ref.resolved}"
            if "/" not in ref.path and classify_host(ref.path) is not None:
                message += f'; "{ref.path}" looks like a registry host: add the repository after it (HOST/REPOSITORY:TAG)'
            yield self.finding(use.loc_for("registry"), message, logical=use.logical)


class ImageTagMissing(Rule):
    """An image with neither a tag nor a digest: it silently means `:latest`.

    ## What it does
    Flags an image reference that has no `:tag` and no `@sha256:` digest (`nginx`,
    `123456789012.dkr.ecr.us-east-1.amazonaws.com/app`). Kubelet and containerd add `:latest`
    (distribution/reference `ParseDockerRef`).

    ## Why
    Whatever was pushed last runs: two nodes can run different code for the same manifest, and a
    rollback changes nothing. Kubernetes also defaults `imagePullPolicy` to `Always` for such an
    image, so every pod start depends on the registry.

    ## Example
    ```yaml
    containers:
      - name: api
        image: 123456789012.dkr.ecr.us-east-1.amazonaws.com/team/api
    ```

    ## Fix
    Pin a version tag (`.../team/api:2.4.1`) or a digest (`.../team/api@sha256:<64 hex>`).

    ## Options
    None.
    """

    id = "ECR102"
    name = "image-tag-missing"
    severity = Severity.ERROR

    def check(self, ws: Workspace, ctx: Context) -> Iterable[Finding]:
        for use, a in _analyzed(ws):
            ref = a.reference
            if ref is None or not ref.tag_missing:
                continue
            yield self.finding(
                use.loc_for("tag"),
                f"{_image(use)} has no tag or digest; it resolves to {ref.resolved}; pin a version tag or a digest",
                logical=use.logical,
            )


class ImageTagLatest(Rule):
    """An image pinned to the mutable tag `:latest`.

    ## What it does
    Flags an image whose tag is exactly `latest` and that has no digest (with a digest, the
    digest is what is pulled and the tag is ignored).

    ## Why
    `latest` moves with every push, so what runs depends on when a node pulled. For such an image
    Kubernetes defaults `imagePullPolicy` to `Always`: every pod start contacts the registry, and
    pods fail to start when it is unreachable or rate-limits. The message says so when the
    container does not set `imagePullPolicy` itself.

    ## Example
    ```yaml
    containers:
      - name: worker
        image: public.ecr.aws/docker/library/busybox:latest
    ```

    ## Fix
    Pin the version you tested: `public.ecr.aws/docker/library/busybox:1.37`, or a digest.

    ## Options
    None.
    """

    id = "ECR103"
    name = "image-tag-latest"
    severity = Severity.WARNING

    def check(self, ws: Workspace, ctx: Context) -> Iterable[Finding]:
        for use, a in _analyzed(ws):
            ref = a.reference
            if ref is None or ref.tag != "latest" or ref.digest is not None or "digest" in ref.unknown:
                continue
            message = f'{_image(use)} uses the mutable tag "latest"; pin a version tag or a digest'
            if _kubelet(use) and use.pull_policy is None:
                message += "; without an explicit imagePullPolicy kubelet pulls it again on every start"
            yield self.finding(use.loc_for("tag"), message, logical=use.logical)


class ImageReferenceInvalid(Rule):
    """An image string that breaks the image reference grammar.

    ## What it does
    Parses every image as kubelet and containerd do (distribution/reference): `[host[:port]/]path
    [:tag][@digest]`, path components of lowercase letters, digits and `.`, `_`, `__`, `-`
    separators, a path of at most 255 characters, a tag of at most 128 characters from
    `[A-Za-z0-9_.-]` not starting with `.` or `-`, a digest `sha256:` plus 64 lowercase hex
    characters (or sha384/sha512). The message says which part is wrong and why. On a private ECR
    host it also applies ECR's own repository-name limit, 2 to 256 characters (a one-character
    name is valid for kubelet but can never exist in ECR; the finding sits on the repository). In
    Kubernetes manifests, an `image` that is not a string (a number, a boolean, a list) or is
    empty is flagged too.

    ## Why
    Kubelet cannot parse such an image: the pod never starts (`InvalidImageName`). Common causes:
    an uppercase repository name, a stray space, a tag with `+`, a truncated digest.

    ## Example
    ```yaml
    containers:
      - name: app
        image: MyOrg/App:1.0   # "MyOrg" is read as a host; "App" must be lowercase
    ```

    ## Fix
    Write the reference the registry shows, e.g. `ghcr.io/myorg/app:1.0`. Placeholders are
    reported by ECR109 and malformed ECR hosts by ECR105 instead of this rule.

    ## Options
    None.
    """

    id = "ECR104"
    name = "image-reference-invalid"
    severity = Severity.ERROR

    def check(self, ws: Workspace, ctx: Context) -> Iterable[Finding]:
        for use in ws.images:
            if use.not_a_string is not None:
                yield self.finding(use.loc, _not_a_string(use.not_a_string), logical=use.logical)
        for use, a in _analyzed(ws):
            if a.error is None:
                continue
            loc = use.loc_for(a.error_part) if a.error_part else use.loc
            yield self.finding(loc, f"{_image(use)} is not a valid image reference: {a.error}", logical=use.logical)


def _not_a_string(what: str) -> str:
    """``image is the number 123, not a string; quote it``: YAML read the value as something else."""
    if what == "empty":
        return "image is empty; name the image"
    if what.startswith(("the number", "the boolean")):
        return f"image is {what}, not a string; quote it"
    return f"image is {what}, not a string; write the image as one string"


class EcrRegistryHostInvalid(Rule):
    """An ECR-shaped registry host that cannot exist.

    ## What it does
    Checks every host that looks like Amazon ECR against the registry forms kubelet's ECR
    credential provider matches (`ACCOUNT.dkr.ecr.REGION.amazonaws.com`, `.amazonaws.com.cn`,
    FIPS `dkr.ecr-fips`, dual-stack `ACCOUNT.dkr-ecr.REGION.on.aws`, the ISO and EUSC partitions,
    `public.ecr.aws`) and the bundled list of real AWS regions. It reports: an account that is not
    12 digits, a region that does not exist (`us-east1`, `region-code`), a region of another
    partition than the domain (`cn-north-1` with `.amazonaws.com`), a mixed form (`dkr-ecr` with
    `.amazonaws.com`), the API endpoint (`ecr.us-east-1.amazonaws.com`) used as a registry,
    documentation placeholders (`aws_account_id.dkr.ecr.region.amazonaws.com`, `<account-id>`,
    `ACCOUNT_ID`), and `public.ecr.aws/<repo>` without a registry alias. In CloudFormation,
    `${AWS::AccountId}`, `${AWS::Region}`, `${AWS::URLSuffix}` and parameters are valid values.
    A repository name ECR cannot hold (shorter than 2 characters) is not a host problem: ECR104
    reports it, on the repository.

    ## Why
    The host does not resolve, or kubelet's credential provider does not recognise it and pulls
    anonymously: the pod stays in `ImagePullBackOff` with an error that does not name the typo.

    ## Example
    ```yaml
    containers:
      - name: envoy
        image: 840364872350.dkr.ecr.region-code.amazonaws.com/aws-appmesh-envoy:v1.29.12.1-prod
    ```

    ## Fix
    Use the real account and region: `840364872350.dkr.ecr.us-west-2.amazonaws.com/...`. In
    CloudFormation, `!Sub "${AWS::AccountId}.dkr.ecr.${AWS::Region}.${AWS::URLSuffix}/app:1.0"`.

    ## Options
    None.
    """

    id = "ECR105"
    name = "ecr-registry-host-invalid"
    severity = Severity.ERROR

    def check(self, ws: Workspace, ctx: Context) -> Iterable[Finding]:
        for use, a in _analyzed(ws):
            if a.bad_host is None:
                continue
            yield self.finding(
                use.loc_for("registry"),
                f"{_image(use)} does not name a valid ECR registry: {'; '.join(a.bad_host.problems)}",
                logical=use.logical,
            )


class ImageNotPinnedByDigest(Rule):
    """An image not pinned by digest (opt-in policy).

    ## What it does
    Flags every image without an `@sha256:` digest. Off by default; on when selected or when the
    config sets `require-digest = true`.

    ## Why
    Tags can be moved (unless the ECR repository has immutable tags); a digest names exactly one
    image, so what was reviewed and scanned is what runs.

    ## Example
    ```yaml
    containers:
      - name: api
        image: 123456789012.dkr.ecr.us-east-1.amazonaws.com/team/api:2.4.1
    ```

    ## Fix
    Append the digest of the tested image (`docker buildx imagetools inspect` or
    `aws ecr describe-images` show it): `.../team/api:2.4.1@sha256:<64 hex>`. With both a tag
    and a digest, the digest is what is pulled.

    ## Options
    `require-digest` (boolean, default false): enable this rule from config.
    """

    id = "ECR106"
    name = "image-not-pinned-by-digest"
    severity = Severity.NOTE
    enabled_by_default = False
    options = (Option("require-digest", "boolean", False, "require @sha256: digests on every image (enables ECR106)"),)

    def check(self, ws: Workspace, ctx: Context) -> Iterable[Finding]:
        for use, a in _analyzed(ws):
            ref = a.reference
            if ref is None or ref.digest is not None or "digest" in ref.unknown:
                continue
            yield self.finding(
                use.loc_for("digest"),
                f"{_image(use)} is not pinned by digest; append @sha256:<digest> of the image you tested",
                logical=use.logical,
            )


class ImageRegistryNotAllowed(Rule):
    """An image from a registry that is not in `allowed-registries`.

    ## What it does
    When the config sets `allowed-registries`, flags every image whose registry host matches none
    of its globs (`fnmatch`, case-insensitive). An image without a host is judged as `docker.io`.
    A glob with a `/` is matched against `host/repository` instead, so `ghcr.io/myorg/*` allows
    one organisation. A port in the image is matched with and without the port.

    ## Why
    Clusters that must pull only from their own ECR registries (or a pull-through cache) break
    when a manifest slips in an image from elsewhere: node egress rules block it, or it pulls
    from a source nobody scans.

    ## Example
    ```toml
    [tool.ecrlint]
    allowed-registries = ["*.dkr.ecr.*.amazonaws.com", "public.ecr.aws"]
    ```
    ```yaml
    containers:
      - name: cache
        image: quay.io/opstree/redis:v7.0.15   # quay.io is not allowed
    ```

    ## Fix
    Pull the image through an allowed registry (an ECR pull-through cache rule for quay.io:
    `123456789012.dkr.ecr.us-east-1.amazonaws.com/quay/opstree/redis:v7.0.15`), or add the
    registry to `allowed-registries`.

    ## Options
    `allowed-registries` (array of globs): the registry hosts images may come from; the rule is
    silent when it is not set. In CloudFormation, a host built from `${...}` values is flagged
    only when no glob can match it.
    """

    id = "ECR107"
    name = "image-registry-not-allowed"
    severity = Severity.ERROR
    options = (
        Option("allowed-registries", "array", None,
               "registry host globs images may come from (ECR107); a glob with '/' matches host/repository"),
    )

    def check(self, ws: Workspace, ctx: Context) -> Iterable[Finding]:
        allowed = ctx.option("allowed-registries")
        if allowed is None:
            return
        globs = [str(g).lower() for g in allowed]
        for use, a in _analyzed(ws):
            ref = a.reference
            if ref is None or a.bad_host is not None or _allowed(ref, globs):
                continue
            if "domain" in ref.unknown and _could_match(ref, globs):
                continue
            implied = " (implied)" if ref.domain is None else ""
            shown = ", ".join(globs[:5]) + (", ..." if len(globs) > 5 else "") if globs else "none"
            yield self.finding(
                use.loc_for("registry"),
                f"{_image(use)} comes from registry {ref.normalized_domain}{implied}, which is not in "
                f"allowed-registries ({shown}); pull it through an allowed registry",
                logical=use.logical,
            )


def _allowed(ref: Reference, globs: list[str]) -> bool:
    domain = ref.normalized_domain.lower()
    candidates = {domain, ref.host.lower()}
    full = f"{domain}/{ref.normalized_path}".lower()
    for glob in globs:
        if "/" in glob:
            if fnmatchcase(full, glob) or fnmatchcase(f"{ref.host.lower()}/{ref.normalized_path}", glob):
                return True
        elif any(fnmatchcase(c, glob) for c in candidates):
            return True
    return False


def _could_match(ref: Reference, globs: list[str]) -> bool:
    """Whether a host built from CloudFormation values could satisfy a glob: its literal parts must
    fit the glob with each ``${...}`` standing for any text (tested both ways on samples)."""
    if ref.domain is None:
        return True  # ``${Registry}/app``: the host is entirely unknown
    domain = ref.domain.lower()
    parts = re.split(r"\$\{[^}]*\}", domain)
    sampled = re.sub(r"\$\{[^}]*\}", "x", domain)
    for glob in globs:
        host_glob = glob.split("/", 1)[0]
        if fnmatchcase(sampled, host_glob) or _parts_fit(parts, host_glob.replace("*", "x").replace("?", "x")):
            return True
    return False


def _parts_fit(parts: list[str], text: str) -> bool:
    """Does ``text`` read as ``parts`` joined by any text? Linear: each middle part at its first fit.

    (A regex ``a.*b.*c`` backtracks polynomially in the number of ``${...}`` an image holds.)
    """
    first, *middle, last = parts if len(parts) > 1 else (parts[0], parts[0])
    if len(parts) == 1:
        return text == first
    if not text.startswith(first) or len(text) < len(first) + len(last):
        return False
    position = len(first)
    end = len(text) - len(last)
    for part in middle:
        found = text.find(part, position, end)
        if found < 0:
            return False
        position = found + len(part)
    return text.endswith(last) and position <= end


class EcrImagePullSecret(Rule):
    """An image pull secret holding ECR credentials.

    ## What it does
    Flags two things, each once:

    - a `kubernetes.io/dockerconfigjson` (or `dockercfg`) Secret whose `auths` name an ECR
      registry: the finding points at the Secret's config data and names the ECR hosts;
    - an `imagePullSecrets` entry of a pod spec whose Secret is not in the scanned files (or holds
      no readable hosts) while every image of that pod is on ECR: such a secret can only be an
      ECR token. When the Secret is scanned, the Secret gets the finding, not each reference.

    ## Why
    An ECR authorization token is valid for 12 hours (`aws ecr get-login-password`). A pull
    secret made from it works on the day it is created and fails later, unless a job keeps
    refreshing it. EKS nodes already pull from ECR with the node IAM role through kubelet's ECR
    credential provider (Fargate: the pod execution role), with no secret to rotate. Images on
    ECR Public (`public.ecr.aws`) need no credentials at all: ECR Public allows unauthenticated
    pulls.

    ## Example
    ```yaml
    apiVersion: v1
    kind: Secret
    metadata: {name: ecr-creds}
    type: kubernetes.io/dockerconfigjson
    stringData:
      .dockerconfigjson: '{"auths": {"123456789012.dkr.ecr.us-east-1.amazonaws.com": {"auth": "..."}}}'
    ```

    ## Fix
    Delete the Secret and the `imagePullSecrets` entry, and grant the node role (or Fargate pod
    execution role) ECR pull, e.g. `AmazonEC2ContainerRegistryPullOnly` (see ECR201). For
    `public.ecr.aws` images, deleting the secret is all it takes.

    ## Options
    None.
    """

    id = "ECR108"
    name = "ecr-image-pull-secret"
    severity = Severity.WARNING

    def check(self, ws: Workspace, ctx: Context) -> Iterable[Finding]:
        by_name: dict[tuple[str, str], list[DockerConfigSecret]] = {}
        for secret in ws.docker_config_secrets:
            by_name.setdefault((secret.namespace, secret.name), []).append(secret)
            hosts = list(dict.fromkeys(h for h, _ in _ecr_registries(secret)))
            if hosts:
                loc = next(loc for _, loc in _ecr_registries(secret))
                shown = ", ".join(hosts)
                yield self.finding(
                    loc,
                    f'pull secret "{secret.name}" holds credentials for ECR ({shown}); '
                    f"{_why_no_secret(hosts, 'delete the secret')}",
                    logical=f"Secret/{secret.namespace}/{secret.name}",
                )
        images_of: dict[int, list[ImageUse]] = {}
        for use in ws.images:
            if use.workload is not None:
                images_of.setdefault(id(use.workload), []).append(use)
        for ref in ws.pull_secret_refs:
            finding = self._reference(ref, by_name, images_of)
            if finding is not None:
                yield finding

    def _reference(
        self,
        ref: PullSecretRef,
        by_name: dict[tuple[str, str], list[DockerConfigSecret]],
        images_of: dict[int, list[ImageUse]],
    ) -> Finding | None:
        workload: Workload | None = ref.workload
        if workload is None:
            return None  # a ServiceAccount's secrets: judged through the Secret when it is scanned
        secrets = by_name.get((workload.namespace, ref.name), [])
        if any(s.registries for s in secrets):
            return None  # the Secret is scanned and readable: it carries the finding, if any
        uses = images_of.get(id(workload), [])
        if not uses:
            return None
        hosts: list[str] = []
        for use in uses:
            a = analyze(use.value, use.symbolic)
            if a.reference is None or a.reference.domain is None:
                return None
            if a.ecr is None and a.bad_host is None:
                return None  # some image is not on ECR: the secret may be for it
            hosts.append(a.reference.domain)
        hosts = list(dict.fromkeys(hosts))
        return self.finding(
            ref.loc,
            f'imagePullSecret "{ref.name}" can only serve ECR images here ({", ".join(hosts)}); '
            f"{_why_no_secret(hosts, 'remove the pull secret')}",
            logical=ref.logical,
        )


def _why_no_secret(hosts: list[str], remove: str) -> str:
    """Why ECR needs no pull secret, and what to do, for the private and public ECR hosts named.

    Private ECR: nodes pull with the node role, Fargate with the pod execution role (ECR User Guide,
    "Using Amazon ECR Images with Amazon EKS": https://docs.aws.amazon.com/AmazonECR/latest/userguide/ECR_on_EKS.html).
    ECR Public supports unauthenticated pulls (ECR Public User Guide, "Pulling an image from the
    Amazon ECR Public Gallery"): no role to grant, ``ecr:`` actions do not cover it anyway.
    """
    public = [h for h in hosts if _is_public(h)]
    if not public:
        return (f"ECR tokens expire after 12 hours and EKS pulls from ECR with the node or Fargate pod "
                f"execution role; {remove} and grant that role ECR pull")
    if len(public) == len(hosts):
        return f"ECR tokens expire after 12 hours and ECR Public allows unauthenticated pulls; {remove}"
    return ("ECR tokens expire after 12 hours, EKS pulls from private ECR with the node or Fargate pod execution "
            f"role and ECR Public allows unauthenticated pulls; {remove} and grant that role ECR pull")


def _is_public(host: str) -> bool:
    ecr = classify_host(host)
    return isinstance(ecr, EcrHost) and ecr.public


def _ecr_registries(secret: DockerConfigSecret) -> list[tuple[str, Loc]]:
    out = []
    for key, loc in secret.registries:
        host = registry_of_auth_key(key)
        if host and classify_host(host) is not None:
            out.append((host, loc))
    return out


class ImagePlaceholder(Rule):
    """An image that still holds a placeholder or an unrendered template variable.

    ## What it does
    Flags images containing template or variable syntax (`${TAG}`, `$IMAGE`, `$(VAR)`,
    `{{ .Values.image }}`, `#{Tag}#`, `%s`, `@VERSION@`, `__TAG__`) or placeholder text left from
    documentation (`<image_url>`, `<account-id>`, `REPLACE_ME`, `CHANGEME`, `TODO`,
    `your-registry`, all-caps names such as `IMAGE_TAG`). When an image has one, the other image
    rules stay silent about it. Placeholders in the account or region of an ECR host are reported
    by ECR105, which names the exact part. In CloudFormation, `${...}` inside `!Sub`/`!Join` are
    CloudFormation's own substitutions and are not placeholders.

    ## Why
    Kubernetes and CloudFormation take the string literally: `app:${TAG}` and `IMAGE_TAG` are not
    valid image names, and `<image_url>` is not either. The file was meant to be rendered
    (envsubst, sed, a CI step, Helm) before it is applied.

    ## Example
    ```yaml
    containers:
      - name: app
        image: 123456789012.dkr.ecr.us-east-1.amazonaws.com/app:${IMAGE_TAG}
    ```

    ## Fix
    Lint the rendered output (`envsubst < deploy.yaml | ecrlint check - --stdin-filename deploy.yaml`),
    or fill in the real value. In CloudFormation, wrap the value in `!Sub` so `${Param}` is
    substituted. Suppress with `# ecrlint: ignore[ECR109]` on files that are templates by design.

    ## Options
    None.
    """

    id = "ECR109"
    name = "image-placeholder"
    severity = Severity.WARNING

    def check(self, ws: Workspace, ctx: Context) -> Iterable[Finding]:
        for use, a in _analyzed(ws):
            p = a.placeholder
            if p is None:
                continue
            if p.what == "placeholder":
                message = f'{_image(use)} contains the placeholder "{p.text}"; replace it with the real value'
            elif use.source == "cloudformation" and p.text.startswith("${"):
                message = (f'{_image(use)} contains "{p.text}", which CloudFormation substitutes only inside Fn::Sub; '
                           "wrap the value in !Sub")
            else:
                message = f'{_image(use)} contains the unrendered {p.what} "{p.text}"; render the file before applying it'
            yield self.finding(use.loc, message, logical=use.logical)


class KustomizeImageUnmatched(Rule):
    """A kustomization `images:` entry that matches no image of its build.

    ## What it does
    Follows each `kustomization.yaml` through the scanned files (its `resources`, `bases` and
    `components`, recursively; nothing outside the scanned files is read and a remote base is
    never fetched) and flags an `images:` entry (on its `name`) whose `name` matches no
    container or init container image of the build. Matching is kustomize's: the image without
    its tag or digest must equal `name` exactly (`nginx` does not match `docker.io/library/nginx`
    or `myorg/nginx`). Patches are applied first, as kustomize runs them before the images
    transformer (strategic-merge and JSON 6902, in a file or inline): an entry naming an image a
    patch replaced matches nothing; the charts `helmCharts` inflates (from the scanned tree, with
    `valuesInline` / `valuesFile`) are part of the build. Builds that are not known in full (a
    remote or unscanned resource or chart, a patch selected by labels, generators) are not judged. The images the entries do rewrite are
    checked by ECR101-ECR109 as deployed, at the entry's `newName` / `newTag` / `digest`; a base
    image that every overlay using it rewrites is no longer checked as written.

    ## Why
    kustomize silently ignores an entry that matches nothing: the overlay deploys the base's
    image (often an unqualified name or a tag meant for another environment) while the
    kustomization reads as if it pinned the release (kubernetes-sigs/kustomize#1534 and #4006,
    argoproj/argo-cd#3940, fluxcd/flux2#1457). Source:
    https://kubectl.docs.kubernetes.io/references/kustomize/kustomization/images/ and kustomize's
    `api/image` (IsImageMatched, Split) and `api/filters/imagetag`.

    ## Example
    ```yaml
    # base/deployment.yaml: image: 111122223333.dkr.ecr.us-east-1.amazonaws.com/shop/api:2.4.0
    images:
      - name: shop/api        # the image's name is the whole repository URL
        newTag: "2.4.1"
    ```

    ## Fix
    Write the image's name exactly as the resources spell it, without tag or digest
    (`name: 111122223333.dkr.ecr.us-east-1.amazonaws.com/shop/api`), or remove the entry.

    ## Options
    None.
    """

    id = "ECR110"
    name = "kustomize-image-unmatched"
    severity = Severity.WARNING

    def check(self, ws: Workspace, ctx: Context) -> Iterable[Finding]:
        for k in ws.kustomizations:
            if ctx.verbose:
                ctx.notes.extend(f"{loc.short()}: remote base {target!r} is not fetched (ecrlint reads only the "
                                 "scanned files); its images are not checked" for target, loc in k.remote)
                ctx.notes.extend(f"{loc.short()}: resource {target!r} is not among the scanned Kubernetes files; "
                                 "the build is followed without it" for target, loc in k.unread)
                ctx.notes.extend(f"{chart.loc.short()}: {chart.problem}" for chart in k.helm_charts if chart.problem)
            for image in k.images:
                if image.matched is False:
                    yield self.finding(
                        image.loc,
                        f'images entry "{image.name}" matches no image of the resources {k.path} builds, so '
                        "kustomize leaves every image as it is; write the image's name as the resources spell it "
                        "(without tag or digest)",
                    )
