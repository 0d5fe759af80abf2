"""ECR206, ECR207, ECR211: an ECR image's repository against the role that pulls it and the repository's policy."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterable, Iterator, Sequence

from ecrlint.model import Finding, Related, Severity
from ecrlint.registry import Context, Option, Rule
from ecrlint.workspace import EcrRepository, ImageUse, PolicyDocument, Role, Workspace

if TYPE_CHECKING:
    from ecrlint.analysis.iam import Decision
    from ecrlint.analysis.links import ClusterLink, Puller, WorkloadLink
    from ecrlint.analysis.principals import Caller

    # An action the role cannot take on the repository: (action, decision, resources it is granted on).
    _Fail = tuple[str, Decision, list[str]]

# The linker and the IAM evaluator load only when a run has both images and something that pulls.
IMAGE_ACTIONS = ("ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer")
UNSURE = ("unknown", "conditional", "possibly-denied")


@dataclass(frozen=True)
class _Pull:
    """One ECR image of a linked workload, ready to be judged."""

    use: ImageUse
    link: WorkloadLink
    cluster: ClusterLink  # link.cluster: only linked workloads are judged
    arn: str  # the repository ARN
    account: str  # the registry's account, from the host
    partition: str
    repository: str  # the repository path


def _pulls(ws: Workspace, ctx: Context) -> Iterator[_Pull]:
    if not ws.images or not (ws.node_groups or ws.fargate_profiles or ctx.option("clusters")):
        return
    from ecrlint.analysis.images import analyze, ecr_repository_arn
    from ecrlint.analysis.links import links_for

    links = links_for(ws, ctx)
    for use in ws.images:
        link = links.of(use.workload) if use.workload is not None else None
        if link is None or link.cluster is None:
            continue
        analysis = analyze(use.value, use.symbolic)
        ref, host = analysis.reference, analysis.ecr
        # A tag known only at deploy time (``app:${Tag}``) still names a known repository.
        if ref is None or host is None or host.public or host.symbolic or {"domain", "path"} & set(ref.unknown):
            continue
        arn = ecr_repository_arn(ref)
        if arn is not None and host.account:
            yield _Pull(use, link, link.cluster, arn, host.account, host.partition, ref.path)


def _symbols(role: Role, pull: _Pull) -> dict[str, str]:
    """What a role template's ``${AWS::...}`` stand for: the cluster's account (a node or pod
    execution role lives in the cluster's account), the cluster's region when the role is defined
    in the cluster's own template, and the image's partition (no role pulls across partitions)."""
    cluster = pull.cluster
    symbols = {"AWS::Partition": pull.partition}
    if cluster.account:
        symbols["AWS::AccountId"] = cluster.account
    stack = role.template or (role.loc.path if role.source == "eksctl" else None)
    if cluster.region and stack and any(c.path == stack for c in cluster.clusters):
        symbols["AWS::Region"] = cluster.region
    return symbols


def _judge(results: Sequence[tuple[object, str, object]], on_fargate: bool) -> bool:
    """Is the pull certain to fail for some pod? ``results``: (puller, "ok"|"fails"|"unknown", detail).

    Fargate picks one of the matching profiles at random, so one failing execution role fails
    some pods. On nodes the scheduler's choice among node groups is not known offline (taints,
    labels): only when no candidate node role can pull is the failure certain.
    """
    states = [state for _p, state, _d in results]
    if not states:
        return False
    if on_fargate:
        return "fails" in states
    return all(state == "fails" for state in states)


class EcrRepositoryNotCovered(Rule):
    """An ECR image whose repository the pulling role (node role or Fargate execution role) does not cover.

    ## What it does
    For every private ECR image a workload pulls, derives the repository ARN from the image
    (partition, region and account from the registry host; the repository path) and asks the
    IAM evaluator whether the role that pulls it may `ecr:BatchGetImage` and
    `ecr:GetDownloadUrlForLayer` on that ARN. The pulling role is the execution role of the
    Fargate profile that selects the workload, else a node role of the cluster's node groups (the
    ones the pod's nodeSelector or required node affinity names through
    `eks.amazonaws.com/nodegroup` or `alpha.eksctl.io/nodegroup-name`). On Fargate one failing
    matching profile is enough (EKS picks a matching profile at random); on nodes the finding
    needs every candidate node role to fail, since which node group the scheduler picks is not
    known offline. `${AWS::AccountId}` in a role's policy stands for the cluster's account when
    that is known (`account-id` in the `clusters` config, or a literal account), and is never
    guessed otherwise. The finding sits on the image and names the role, with its file and line,
    and the resource patterns it does allow.

    ## Why
    A node role scoped to `repository/team-a/*` pulls nothing from `team-b/`: the pods fail with
    ImagePullBackOff and `403 Forbidden`, long after the policy was merged.

    ## Example
    ```yaml
    # infra/cluster.yaml: the node role allows ecr:BatchGetImage on
    #   arn:aws:ecr:us-east-1:111122223333:repository/team-a/*
    containers:
      - name: api
        image: 111122223333.dkr.ecr.us-east-1.amazonaws.com/team-b/api:1.4.2
    ```

    ## Fix
    Grant the repository (or a pattern that covers it) in the role's policy, or pull the image
    from a repository the role covers.

    ## Options
    `clusters` (config): which cluster runs which workloads, and each cluster's `account-id`.
    """

    id = "ECR206"
    name = "ecr-repository-not-covered"
    severity = Severity.ERROR

    def check(self, ws: Workspace, ctx: Context) -> Iterable[Finding]:
        from ecrlint.analysis.iam import boundary_of, evaluate, granted_resources

        for pull in _pulls(ws, ctx):
            results: list[tuple[Puller, str, list[_Fail]]] = []
            for puller in pull.link.pullers:
                role = puller.role
                if role is None:
                    # eksctl's own execution role allows every repository; others are not judged
                    results.append((puller, "ok" if puller.state == "generated" else "unknown", []))
                    continue
                fails: list[_Fail] = []
                unsure = False
                for action in IMAGE_ACTIONS:
                    decision = evaluate(role.policies, action, pull.arn, symbols=_symbols(role, pull),
                                        boundary=boundary_of(role))
                    if decision.allowed:
                        continue
                    if decision.status in UNSURE or (
                        role.unresolved_policies and decision.status in ("not-granted", "resource-mismatch")
                    ):
                        unsure = True  # a policy we cannot expand, or values known only at deploy time
                        continue
                    fails.append((action, decision, granted_resources(role.policies, action)))
                if fails and not all(evaluate(role.policies, a, "*", boundary=boundary_of(role)).allowed
                                     for a, _d, _g in fails):
                    # The role cannot pull from any repository: ECR201/ECR202/ECR303 report that once,
                    # on the role; repeating it on every image would be one mistake, many findings.
                    results.append((puller, "unknown", []))
                    continue
                results.append((puller, "fails" if fails else "unknown" if unsure else "ok", fails))
            if not _judge(results, pull.link.on_fargate):
                continue
            failing = [r for r in results if r[1] == "fails"]
            denied = all(d.status == "denied" for _p, _s, fails in failing for _a, d, _g in fails)
            fix = "lift the Deny for this repository" if denied else "grant the repository in the role's policy"
            account = pull.cluster.account
            shown = "; ".join(_failing_roles(failing))
            if account and "${AWS::AccountId}" in shown:
                shown += f" (${{AWS::AccountId}} is the cluster's account, {account})"
            yield self.finding(
                pull.use.loc,
                f'image "{pull.use.value}" needs {" and ".join(IMAGE_ACTIONS)} on "{pull.arn}", but {shown}; {fix}',
                logical=pull.use.logical,
                related=_related(p for p, _s, _f in failing),
            )


def _failing_roles(failing: list[tuple[Puller, str, list[_Fail]]]) -> list[str]:
    """One phrase per role, naming every node group or profile that uses it: a role shared by
    several node groups (an eksctl instanceRoleARN pointing at a template's role) is described once.
    A node group that stands for the role itself (a template's worker role no node group names)
    is left out when a real one uses the same role."""
    by_role: dict[int, list[tuple[Puller, list[_Fail]]]] = {}
    for puller, _state, fails in failing:
        by_role.setdefault(id(puller.role), []).append((puller, fails))
    phrases = []
    for entries in by_role.values():
        real = [p for p, _f in entries if p.role is None or p.via.loc != p.role.loc] or [entries[0][0]]
        places = " and ".join(p.where() for p in real)
        phrases.append(f"{entries[0][0].role_phrase()} of {places} {_coverage(entries[0][1])}")
    return phrases


def _coverage(fails: list[_Fail]) -> str:
    """'allows ecr:BatchGetImage only on "arn:...:repository/team-a/*"', actions merged when alike."""
    groups: dict[tuple[str, str], list[str]] = {}
    for action, decision, granted in fails:
        if decision.status == "denied":
            key = ("denied", decision.reason)
        elif decision.status == "resource-mismatch" and granted:
            more = f" and {len(granted) - 3} more" if len(granted) > 3 else ""
            key = ("only", ", ".join(f'"{g}"' for g in granted[:3]) + more)
        else:
            key = ("none", "")
        groups.setdefault(key, []).append(action)
    parts = []
    for (kind, detail), actions in groups.items():
        names = " and ".join(actions)
        if kind == "denied":
            parts.append(f"has {names} {detail}")
        elif kind == "only":
            parts.append(f"allows {names} only on {detail}")
        else:
            parts.append(f"does not grant {names}")
    return ", ".join(parts)


def _related(pullers: Iterable[Puller]) -> list[Related]:
    out = []
    for puller in pullers:
        if puller.role is not None:
            role = "pod execution role" if puller.fargate else "node role"
            out.append(Related(puller.role.loc, f'{role} "{puller.role.name}"'))
        what = "Fargate profile" if puller.fargate else "node group"
        out.append(Related(puller.via.loc, f'{what} "{puller.via.name}"'))
    return out


class CrossAccountPullNotGranted(Rule):
    """An ECR image from another account whose repository policy does not grant the pulling account or role.

    ## What it does
    For an ECR image whose registry account differs from the cluster's account (both known:
    literal ARNs, an eksctl/CloudFormation literal, or `account-id` in the `clusters` config) and
    whose repository is defined in the scanned CloudFormation (`AWS::ECR::Repository` with its
    `RepositoryPolicyText`, plus any `AWS::ECR::RegistryPolicy`), checks that some statement lets
    the cluster's account or its pulling role `ecr:BatchGetImage` and
    `ecr:GetDownloadUrlForLayer`. Statements under conditions ecrlint cannot judge offline
    (`aws:PrincipalOrgID`, say) count as granting.

    ## Why
    Cross-account pulls need both sides: the node role's own policy and the repository policy in
    the registry account. Without the repository statement the pull fails with 403 even though
    the node role looks right.

    ## Example
    ```yaml
    Repo:
      Type: AWS::ECR::Repository
      Properties:
        RepositoryName: team/api
        # no RepositoryPolicyText: only the registry's own account may pull
    ```

    ## Fix
    Add a `RepositoryPolicyText` statement with `Principal: {AWS: arn:aws:iam::<cluster account>:root}`
    (or the node role's ARN) and the two pull actions.

    ## Options
    `clusters` (config): give each cluster's `account-id` when the definitions do not hold it.
    """

    id = "ECR207"
    name = "cross-account-pull-not-granted"
    severity = Severity.WARNING

    def check(self, ws: Workspace, ctx: Context) -> Iterable[Finding]:
        repositories = [r for r in ws.repositories if not r.registry_policy and r.name]
        if not repositories:
            return
        from ecrlint.analysis.principals import Caller

        registry_policies = [_document(ws, r) for r in ws.repositories if r.registry_policy and r.policy is not None]
        pulls = list(_pulls(ws, ctx))
        # Which account deploys a repository's template is not written anywhere: a repository name
        # pulled from two accounts cannot be told apart, and is left alone.
        accounts: dict[str, set[str]] = {}
        for pull in pulls:
            accounts.setdefault(pull.repository, set()).add(pull.account)
        for pull in pulls:
            if len(accounts[pull.repository]) > 1:
                continue
            cluster = pull.cluster
            if not cluster.account or cluster.account == pull.account:
                continue
            repo = next((r for r in repositories if r.name == pull.repository), None)
            if repo is None:
                continue
            policies = ([_document(ws, repo)] if repo.policy is not None else []) + registry_policies
            callers: list[tuple[Puller | None, Caller]] = [
                (p, Caller(account=cluster.account, role_arn=_role_arn(p, cluster.account, pull)))
                for p in pull.link.pullers
            ] or [(None, Caller(account=cluster.account))]
            results = [(puller, *_granted(policies, caller)) for puller, caller in callers]
            if not _judge(results, pull.link.on_fargate):
                continue
            who = f"account {cluster.account}"
            roles = [p.role_phrase() for p, state, _w in results if p is not None and state == "fails" and p.role]
            if roles:
                who += " or " + ", ".join(roles)
            why = next((w for _p, _s, w in results if w), "")
            root = f"arn:{pull.partition}:iam::{cluster.account}:root"
            fix = f'add a repository policy statement with Principal {{"AWS": "{root}"}}'
            if repo.policy is None:
                problem = "has no RepositoryPolicyText, so only its own account may pull"
            elif why:
                problem = f"denies {who} the pull ({why})"
                fix = "lift the Deny for the cluster's account"
            else:
                problem = f"has no statement that lets {who} {' and '.join(IMAGE_ACTIONS)}"
            yield self.finding(
                pull.use.loc,
                f'image "{pull.use.value}" is in account {pull.account}, but cluster {cluster.label} runs in '
                f'account {cluster.account} and repository "{repo.name}" ({repo.loc.short()}) {problem}; {fix}',
                logical=pull.use.logical,
                related=[Related(repo.loc, f'repository "{repo.name}"'), *_related(p for p, _s, _w in results if p)],
            )


def _document(ws: Workspace, repo: EcrRepository) -> PolicyDocument:
    """The repository's policy as the extractor registered it (intrinsics resolve in its template)."""
    found = next((p for p in ws.policies if p.document is repo.policy), None)
    return found or PolicyDocument(repo.policy, repo.loc, repo.logical or "repository policy")


def _granted(policies: list[PolicyDocument], caller: Caller) -> tuple[str, str]:
    """("ok" | "fails", why): may ``caller`` pull under these repository and registry policies?"""
    from ecrlint.analysis.principals import evaluate

    why = ""
    for action in IMAGE_ACTIONS:
        verdicts = [evaluate(policy, action, caller) for policy in policies]
        if any(v.allowed or v.status in UNSURE for v in verdicts):
            continue
        denied = next((v for v in verdicts if v.status == "denied"), None)
        return "fails", denied.reason if denied else why
    return "ok", why


def _role_arn(puller: Puller, account: str, pull: _Pull) -> str | None:
    """The pulling role's ARN with the cluster's account filled in (it lives in that account)."""
    role = puller.role
    if role is None or not role.arn:
        return None
    return role.arn.replace("${AWS::AccountId}", account).replace("${AWS::Partition}", pull.partition)


# --- ECR211 --------------------------------------------------------------------------------------

IMPORT_UPSTREAM = "ecr:BatchImportUpstreamImage"


class PullThroughCachePermission(Rule):
    """A role that pulls pull-through cache images without `ecr:BatchImportUpstreamImage`.

    ## What it does
    Takes the pull-through cache rules in the scanned files (CloudFormation
    `AWS::ECR::PullThroughCacheRule`, its `EcrRepositoryPrefix`) and the prefixes named in the
    `pull-through-cache-prefixes` option, finds every ECR image whose repository starts with
    `<prefix>/` (`111122223333.dkr.ecr.eu-west-1.amazonaws.com/docker-hub/library/nginx:1.27`), and
    asks the IAM evaluator whether each role that pulls it (node role or Fargate pod execution
    role, linked as ECR206 links them) may `ecr:BatchImportUpstreamImage` on that repository. One
    finding per role, on the role, naming the images.

    ## Why
    A pull through a cache rule needs, besides the usual pull actions,
    `ecr:BatchImportUpstreamImage` "to retrieve the external image and import it to your private
    registry" (https://docs.aws.amazon.com/AmazonECR/latest/userguide/pull-through-cache-iam.html).
    `AmazonEC2ContainerRegistryReadOnly` lacks it; `AmazonEC2ContainerRegistryPullOnly` has it
    (https://docs.aws.amazon.com/aws-managed-policy/latest/reference/AmazonEC2ContainerRegistryPullOnly.html).
    Without it the first pull of each image fails with `ImagePullBackOff` even though every other
    ECR image pulls fine; the gap bit eksctl, Karpenter, CDK and terraform-aws-eks defaults.

    The same page says `ecr:CreateRepository` is needed too when the cache repository does not
    exist yet. AWS's own `AmazonEC2ContainerRegistryPullOnly` does not grant it (repositories are
    often created ahead, or by a repository creation template), so its absence is a `--verbose`
    note, not a finding. The action may also be granted by the registry's permissions policy or the
    repository's policy: when the scanned files hold an `AWS::ECR::RegistryPolicy` or a repository
    policy, ecrlint does not guess and stays quiet (`--verbose` says so).

    ## Example
    ```yaml
    CacheRule:
      Type: AWS::ECR::PullThroughCacheRule
      Properties: {EcrRepositoryPrefix: docker-hub, UpstreamRegistryUrl: registry-1.docker.io}
    NodeRole:
      Type: AWS::IAM::Role
      Properties:
        ManagedPolicyArns: [arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly]
    ```

    ## Fix
    Attach `AmazonEC2ContainerRegistryPullOnly`, or grant `ecr:BatchImportUpstreamImage` on the
    cache's repositories (`arn:aws:ecr:<region>:<account>:repository/<prefix>/*`).

    ## Options
    `pull-through-cache-prefixes`: ECR repository prefixes of pull-through cache rules created
    outside the scanned files, for example `["docker-hub", "ghcr"]`.
    """

    id = "ECR211"
    name = "pull-through-cache-permission"
    severity = Severity.ERROR
    options = (
        Option(
            "pull-through-cache-prefixes",
            "array",
            [],
            "ECR repository prefixes of pull-through cache rules created outside the scanned files",
        ),
    )

    def check(self, ws: Workspace, ctx: Context) -> Iterable[Finding]:
        prefixes = [r.prefix.strip("/") for r in ws.pull_through_rules]
        prefixes += [str(p).strip("/") for p in ctx.option("pull-through-cache-prefixes") or () if str(p).strip("/")]
        if not prefixes:
            return
        if any(repo.registry_policy or repo.policy for repo in ws.repositories):
            if ctx.verbose:
                ctx.notes.append("ECR211: a registry or repository policy in the scanned files may grant "
                                 f"{IMPORT_UPSTREAM}; pull-through cache pulls not judged")
            return
        from ecrlint.analysis.iam import boundary_of, evaluate

        by_role: dict[int, tuple[Role, list[_Pull], Decision, str]] = {}
        for pull in _pulls(ws, ctx):
            if not any(pull.repository.startswith(prefix + "/") for prefix in prefixes):
                continue
            for puller in pull.link.pullers:
                role = puller.role
                if role is None or role.external:
                    continue  # eksctl's generated roles and roles outside the scanned files: not judged
                decision = evaluate(role.policies, IMPORT_UPSTREAM, pull.arn, symbols=_symbols(role, pull),
                                    boundary=boundary_of(role))
                if decision.allowed or decision.status in UNSURE:
                    self._note_create(ctx, role, pull, decision.allowed)
                    continue
                if role.unresolved_policies and decision.status != "denied":
                    continue  # a policy ecrlint cannot read may grant it
                kind = "pod execution role" if puller.fargate else "node role"
                entry = by_role.setdefault(id(role), (role, [], decision, kind))
                entry[1].append(pull)
        for role, pulls, decision, kind in by_role.values():
            images = list(dict.fromkeys(p.use.value for p in pulls))
            shown = ", ".join(f'"{i}"' for i in images[:3]) + (f" and {len(images) - 3} more" if len(images) > 3 else "")
            why = "is not granted" if decision.status == "not-granted" else f"is {decision.reason}"
            many = len(images) > 1
            yield self.finding(
                role.loc,
                f'{kind} "{role.name}" pulls pull-through cache image{"s" if many else ""} {shown}, but '
                f'"{IMPORT_UPSTREAM}" {why}, so the cache cannot import {"them" if many else "it"}; attach '
                f"AmazonEC2ContainerRegistryPullOnly or grant it on the cache's repositories",
                logical=role.name if role.source == "cloudformation" else None,
                related=[Related(p.use.loc, f'pulls "{p.use.value}"') for p in pulls[:5]],
            )

    @staticmethod
    def _note_create(ctx: Context, role: Role, pull: _Pull, imported: bool) -> None:
        if not (imported and ctx.verbose):
            return
        from ecrlint.analysis.iam import boundary_of, evaluate

        if not evaluate(role.policies, "ecr:CreateRepository", pull.arn, symbols=_symbols(role, pull),
                        boundary=boundary_of(role)).allowed:
            ctx.notes.append(
                f'{role.loc.short()}: role "{role.name}" may not ecr:CreateRepository: the first pull of '
                f'"{pull.use.value}" fails unless its cache repository exists (or a creation template makes it)'
            )
