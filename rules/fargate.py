"""ECR301-ECR306: Fargate profiles, their pod execution roles, and workloads Fargate cannot run."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Iterable

from ecrlint.model import Finding, Loc, Related, Severity
from ecrlint.registry import Context, Rule
from ecrlint.workspace import FargateProfile, Role, Workspace

if TYPE_CHECKING:
    from ecrlint.analysis.fargate import Trust
    from ecrlint.analysis.iam import Decision

# ecrlint.analysis.fargate / ecrlint.analysis.links import the IAM evaluator: only load them when a run has profiles.


def _finding_loc(profile: FargateProfile) -> Loc:
    """eksctl findings sit on the profile's name; CloudFormation and EKS API JSON ones on
    the PodExecutionRoleArn value when it is written, else on the profile."""
    if profile.source == "eksctl":
        return profile.loc
    return profile.role_loc or profile.loc


@dataclass(eq=False)
class _RoleUse:
    """A pod execution role defined in the scanned files, with every profile of one cluster that
    uses it: ECR302-ECR304 judge the role once and report it once, on the first profile,
    with the other profiles as related locations."""

    role: Role
    cluster_name: str | None  # the cluster's name and account when known (trust conditions use them)
    account: str | None
    profiles: list[FargateProfile] = field(default_factory=list)

    @cached_property
    def trust(self) -> Trust | None:
        from ecrlint.analysis.fargate import check_trust

        return check_trust(self.role, self.cluster_name, self.account)

    @cached_property
    def missing_pull(self) -> list[tuple[str, Decision]]:
        """The pull actions the role is surely not granted, with the IAM decision for each (as ECR201)."""
        from ecrlint.analysis.iam import ECR_PULL_ACTIONS, boundary_of, evaluate

        missing: list[tuple[str, Decision]] = []
        for action in ECR_PULL_ACTIONS:
            decision = evaluate(self.role.policies, action, boundary=boundary_of(self.role))
            if decision.allowed or decision.status in ("unknown", "possibly-denied"):
                continue  # a conditional Deny may never apply: not an error (as ECR201)
            if self.role.unresolved_policies and decision.status != "denied":
                continue  # an attached policy we cannot read may grant it: see unsure_pull
            missing.append((action, decision))
        return missing

    @cached_property
    def unsure_pull(self) -> list[str]:
        """Pull actions no readable policy grants while the role attaches customer managed policies
        ecrlint cannot read (issue 12, item 9: a warning naming them, never silence, as ECR201)."""
        from ecrlint.analysis.iam import ECR_PULL_ACTIONS, boundary_of, evaluate, unreadable

        if not unreadable(self.role.unresolved_policies):
            return []  # nothing unread, or a misspelt AWS managed ARN (ECR209's story)
        return [
            action for action in ECR_PULL_ACTIONS
            if evaluate(self.role.policies, action, boundary=boundary_of(self.role)).status
            in ("not-granted", "resource-mismatch")
        ]

    @property
    def loc(self) -> Loc:
        return _finding_loc(self.profiles[0])

    @property
    def logical(self) -> str:
        return self.profiles[0].name

    def named(self) -> str:
        """``pod execution role "R" (iam.yaml:4) of Fargate profiles "a" and "b"``."""
        return f'pod execution role "{self.role.name}" ({self.role.loc.short()}) of {self._profiles()}'

    def related(self) -> list[Related]:
        """The role, then each other profile that shares it."""
        out = [Related(self.role.loc, f'pod execution role "{self.role.name}" of {self._profiles()}')]
        out.extend(Related(_finding_loc(p), f'Fargate profile "{p.name}" uses the same role') for p in self.profiles[1:])
        return out

    def _profiles(self) -> str:
        names = [f'"{p.name}"' for p in self.profiles]
        if len(names) == 1:
            return f"Fargate profile {names[0]}"
        return f"Fargate profiles {', '.join(names[:-1])} and {names[-1]}"


def _role_uses(ws: Workspace, ctx: Context) -> list[_RoleUse]:
    """Each pod execution role defined in the scanned files with the profiles that use it, built
    once per run: ECR302, ECR303 and ECR304 read the same list (and the same trust evaluation)."""
    return ctx.shared("fargate.role_uses", lambda: _build_role_uses(ws, ctx))


def _build_role_uses(ws: Workspace, ctx: Context) -> list[_RoleUse]:
    from ecrlint.analysis.links import links_for

    links = links_for(ws, ctx)
    uses: dict[tuple[int, str | None, str | None], _RoleUse] = {}
    for profile in ws.fargate_profiles:
        role = links.puller(profile).role
        if role is None:
            continue
        cluster = links.cluster_of(profile)
        name = cluster.name if cluster and cluster.name_known else None
        account = cluster.account if cluster else None
        key = (id(role), name, account)
        uses.setdefault(key, _RoleUse(role, name, account)).profiles.append(profile)
    return list(uses.values())


class FargateProfileMissingExecutionRole(Rule):
    """A Fargate profile without a pod execution role, or whose role reference names nothing.

    ## What it does
    Flags a CloudFormation `AWS::EKS::FargateProfile` or an EKS API profile JSON
    (`aws eks create-fargate-profile --cli-input-json`) that has no `PodExecutionRoleArn`
    (`podExecutionRoleArn`), and a CloudFormation profile whose `!Ref` / `!GetAtt` names a
    resource or parameter that the template does not define. An ARN string that points at a role
    defined elsewhere is fine. eksctl profiles are never flagged: without `podExecutionRoleARN`
    they inherit `iam.fargatePodExecutionRoleARN`, and with neither eksctl creates a correct role.

    ## Why
    The EKS API requires the pod execution role: Fargate uses it to register the pod's node and
    to pull the image from ECR. CloudFormation rejects the stack when the reference is dangling.

    ## Example
    ```yaml
    Profile:
      Type: AWS::EKS::FargateProfile
      Properties:
        ClusterName: !Ref Cluster
        PodExecutionRoleArn: !GetAtt FargateRole.Arn   # no FargateRole in Resources
        Selectors:
          - Namespace: apps
    ```

    ## Fix
    Define the role (trusted by `eks-fargate-pods.amazonaws.com`, with
    `AmazonEKSFargatePodExecutionRolePolicy`) and reference it with `!GetAtt Role.Arn`, or pass
    the ARN of an existing role.

    ## Options
    None.
    """

    id = "ECR301"
    name = "fargate-profile-missing-execution-role"
    severity = Severity.ERROR

    def check(self, ws: Workspace, ctx: Context) -> Iterable[Finding]:
        for profile in ws.fargate_profiles:
            if profile.source == "eksctl" or profile.role is not None or profile.role_generated:
                continue
            if not profile.role_ref:
                yield self.finding(
                    profile.loc,
                    f'no pod execution role for Fargate profile "{profile.name}"; set PodExecutionRoleArn to the ARN '
                    "of a role trusted by eks-fargate-pods.amazonaws.com",
                    logical=profile.name,
                )
                continue
            if profile.role_target_missing:
                yield self.finding(
                    profile.role_loc or profile.loc,
                    f'pod execution role "{profile.role_target_missing}" of Fargate profile "{profile.name}" '
                    "is not defined in the template; add the role or reference an existing one",
                    logical=profile.name,
                )


class FargateExecutionRoleUntrusted(Rule):
    """The pod execution role's trust policy does not let eks-fargate-pods.amazonaws.com assume it.

    ## What it does
    Evaluates the trust policy of each Fargate profile's pod execution role (when the role is
    defined in the scanned files) for `sts:AssumeRole` by the service principal
    `eks-fargate-pods.amazonaws.com`: `Principal` as a string or a list, `Service`, `AWS`, `*`,
    `Action`/`NotAction` patterns, explicit `Deny` statements, and `aws:SourceArn` /
    `aws:SourceAccount` conditions whose literal values can never match a Fargate profile of the
    cluster. A trust policy with `NotPrincipal` is flagged too: IAM does not accept it in a trust
    policy. A role shared by several profiles is reported once, on the first of them; the others
    are listed as related locations.

    ## Why
    Fargate assumes the role to start every pod the profile selects. A role trusted only by
    `ec2.amazonaws.com` (a node role reused by mistake) leaves the pods Pending.

    ## Example
    ```yaml
    FargateRole:
      Type: AWS::IAM::Role
      Properties:
        AssumeRolePolicyDocument:
          Statement:
            - Effect: Allow
              Principal: {Service: ec2.amazonaws.com}
              Action: sts:AssumeRole
    ```

    ## Fix
    Trust the Fargate service principal, scoped to your cluster's profiles:
    ```yaml
    - Effect: Allow
      Principal: {Service: eks-fargate-pods.amazonaws.com}
      Action: sts:AssumeRole
      Condition:
        ArnLike:
          aws:SourceArn: !Sub arn:${AWS::Partition}:eks:${AWS::Region}:${AWS::AccountId}:fargateprofile/my-cluster/*
    ```

    ## Options
    None.
    """

    id = "ECR302"
    name = "fargate-execution-role-untrusted"
    severity = Severity.ERROR

    def check(self, ws: Workspace, ctx: Context) -> Iterable[Finding]:
        if not ws.fargate_profiles:
            return
        from ecrlint.analysis.fargate import FARGATE_SERVICE

        for use in _role_uses(ws, ctx):
            trust, role = use.trust, use.role
            if trust is None or trust.verdict.status not in ("not-granted", "denied", "invalid"):
                continue
            verdict = trust.verdict
            related = use.related()
            fix = f"trust {FARGATE_SERVICE} with sts:AssumeRole"
            if trust.blocked:
                stmt, why = trust.blocked[0]
                detail = f"the condition of {stmt.where()} {why}"
                fix = "fix the condition"
                related.append(Related(stmt.loc or role.loc, "the trust statement whose condition never holds"))
            elif verdict.status == "not-granted":
                trusted = ", ".join(f'"{p}"' for p in trust.trusted_services)
                detail = f"its trust policy allows sts:AssumeRole only for {trusted}" if trusted else (
                    "no statement of its trust policy allows sts:AssumeRole for it"
                )
            elif verdict.status == "denied":
                detail = f"sts:AssumeRole is {verdict.reason}"
                fix = "remove the Deny or exempt the service"
                related.extend(Related(s.loc, "the denying statement") for s in verdict.denies if s.loc)
            else:
                detail = verdict.reason
                fix = "replace NotPrincipal with a Deny on aws:PrincipalArn conditions, or drop it"
                related.extend(Related(s.loc, "the statement") for s in verdict.denies if s.loc)
            yield self.finding(
                use.loc,
                f"{use.named()} cannot be assumed by {FARGATE_SERVICE}: {detail}; {fix}",
                logical=use.logical,
                related=related,
            )


class FargateExecutionRoleMissingEcrPull(Rule):
    """The pod execution role cannot pull from ECR.

    ## What it does
    Evaluates the pod execution role's policies (inline, attached, AWS managed policies from
    ecrlint's bundled copy) for `ecr:GetAuthorizationToken` on `*` and `ecr:BatchGetImage` and
    `ecr:GetDownloadUrlForLayer` on some ECR repository — the same evaluation as ECR201 — and
    names each missing action and why, permissions boundary included. When no policy ecrlint can
    read grants the pull and the role attaches customer managed policies it cannot expand, the
    finding is a *warning* that names them ("cannot pull unless ... grants it"), as ECR201 does.
    A role shared by several profiles is reported once, on the first of them.

    ## Why
    Fargate pulls the pod's images with the pod execution role, not with any node role. Without
    these actions every pod the profile selects fails with ImagePullBackOff.

    ## Example
    ```yaml
    FargateRole:
      Type: AWS::IAM::Role
      Properties:
        AssumeRolePolicyDocument: ...
        ManagedPolicyArns: []   # no AmazonEKSFargatePodExecutionRolePolicy
    ```

    ## Fix
    Attach `arn:aws:iam::aws:policy/AmazonEKSFargatePodExecutionRolePolicy` (or grant the three
    actions in a policy of your own).

    ## Options
    None.
    """

    id = "ECR303"
    name = "fargate-execution-role-missing-ecr-pull"
    severity = Severity.ERROR

    def check(self, ws: Workspace, ctx: Context) -> Iterable[Finding]:
        if not ws.fargate_profiles:
            return
        from ecrlint.analysis.iam import describe_missing  # ECR201's wording, so both read alike

        for use in _role_uses(ws, ctx):
            missing = use.missing_pull
            if not missing:
                if use.unsure_pull:
                    from ecrlint.analysis.iam import unless_granted

                    yield self.finding(
                        use.loc,
                        f"{use.named()} cannot pull from ECR {unless_granted(use.role.unresolved_policies, use.unsure_pull)}; "
                        f"attach AmazonEKSFargatePodExecutionRolePolicy to be sure",
                        logical=use.logical,
                        related=use.related(),
                        severity=Severity.WARNING,
                    )
                continue
            related = use.related()
            related.extend(
                Related(stmt.loc, f'"{action}": {decision.reason}')
                for action, decision in missing
                for stmt in decision.denies[:1]
                if stmt.loc is not None
            )
            yield self.finding(
                use.loc,
                f"{use.named()} cannot pull from ECR: {describe_missing(missing)}; "
                "attach AmazonEKSFargatePodExecutionRolePolicy",
                logical=use.logical,
                related=related,
            )


class FargateExecutionRoleNoSourceArn(Rule):
    """The pod execution role's trust policy has no aws:SourceArn condition (confused deputy).

    ## What it does
    Flags a pod execution role whose trust policy lets `eks-fargate-pods.amazonaws.com` assume it
    in a statement without an `aws:SourceArn` (or `aws:SourceAccount`) condition. A role shared by
    several profiles is reported once, on the first of them.

    ## Why
    AWS: "To avoid a confused deputy security problem, it's important that the role restricts
    access based on SourceArn" (EKS User Guide, pod execution role). Without the condition the role
    still works; any Fargate profile, in any account, that names the role may use it.

    ## Example
    ```yaml
    AssumeRolePolicyDocument:
      Statement:
        - Effect: Allow
          Principal: {Service: eks-fargate-pods.amazonaws.com}
          Action: sts:AssumeRole
    ```

    ## Fix
    Add the condition:
    ```yaml
      Condition:
        ArnLike:
          aws:SourceArn: !Sub arn:${AWS::Partition}:eks:${AWS::Region}:${AWS::AccountId}:fargateprofile/my-cluster/*
    ```

    ## Options
    None.
    """

    id = "ECR304"
    name = "fargate-execution-role-no-source-arn"
    severity = Severity.WARNING

    def check(self, ws: Workspace, ctx: Context) -> Iterable[Finding]:
        if not ws.fargate_profiles:
            return
        for use in _role_uses(ws, ctx):
            trust = use.trust
            if trust is None or not trust.unguarded:
                continue
            stmt = trust.unguarded[0]
            yield self.finding(
                use.loc,
                f"{use.named()} trusts eks-fargate-pods.amazonaws.com without an aws:SourceArn condition "
                f'({stmt.where()}); add ArnLike aws:SourceArn '
                f'"arn:aws:eks:REGION:ACCOUNT:fargateprofile/{use.cluster_name or "CLUSTER"}/*"',
                logical=use.logical,
                related=[*use.related(), *([Related(stmt.loc, "the trust statement")] if stmt.loc else [])],
            )


class FargateIncompatibleWorkload(Rule):
    """A workload a Fargate profile selects but Fargate cannot run.

    ## What it does
    Matches each workload's pod template (its namespace and the pod template's labels, not the
    controller's) against the selectors of its cluster's Fargate profiles, with `*` and `?`
    wildcards and the `eks.amazonaws.com/fargate-profile` label, and flags what Fargate does not
    support in a selected workload: a DaemonSet (on `kind`), a privileged container (on
    `privileged`), `hostNetwork`, `hostPort`, and GPU or accelerator requests (`nvidia.com/gpu`,
    `amd.com/gpu`, `aws.amazon.com/neuron*`). The message names the profile with its file and line.
    A DaemonSet gets one finding, on `kind`: running it on nodes fixes its other features too.
    Which cluster runs a workload: see `ecrlint links`. A DaemonSet is flagged only when its cluster
    has no node group in the scanned files: its pods are created one per node, and on a cluster with
    EC2 nodes they run there (`aws-node` and `kube-proxy` in a `kube-system` profile's namespace);
    one that tolerates the Fargate node taint gets a Pending pod per Fargate node: ECR307.

    ## Why
    EKS User Guide, "AWS Fargate considerations": DaemonSets, privileged containers, HostPort and
    HostNetwork, and GPUs are not supported on Fargate. A selected pod with any of them never
    starts.

    ## Example
    ```yaml
    # a Fargate-only cluster, whose profile selects namespace "monitoring"
    kind: DaemonSet
    metadata: {name: node-exporter, namespace: monitoring}
    ```

    ## Fix
    Run the workload on a node group (a namespace or labels no profile selects), narrow the
    profile's selectors, or drop the feature (a DaemonSet becomes a sidecar).

    ## Options
    None; clusters are linked to workloads by the `clusters` config (see `ecrlint links`).
    """

    id = "ECR305"
    name = "fargate-incompatible-workload"
    severity = Severity.ERROR

    def check(self, ws: Workspace, ctx: Context) -> Iterable[Finding]:
        if not ws.fargate_profiles or not ws.workloads:
            return
        from ecrlint.analysis.fargate import blockers
        from ecrlint.analysis.links import links_for

        links = links_for(ws, ctx)
        for link in links.workloads:
            if not link.profiles:
                continue
            if link.workload.kind == "DaemonSet" and link.cluster is not None and link.cluster.node_groups:
                continue  # DaemonSet pods are made one per node: with node groups they run there
            names = ", ".join(f'"{p.name}" ({p.loc.short()})' for p, _s in link.profiles)
            named = f"Fargate profile{'s' if len(link.profiles) > 1 else ''} {names}"
            related = [Related(s.loc, f'selector of Fargate profile "{p.name}"') for p, s in link.profiles]
            found = blockers(link.workload, ws.pod_spec_of(link.workload))
            if link.workload.kind == "DaemonSet":
                # Its pods can never be placed on Fargate: that is the one thing to fix (moving it to
                # a node group fixes hostNetwork, privileged and hostPort as well).
                found = [b for b in found if b.what == "DaemonSets"]
            for blocker in found:
                # A rendered chart's field positions are in the rendered text, not the template the
                # user edits: findings sit on the workload (as its other findings do) instead.
                yield self.finding(
                    link.workload.kind_loc if link.workload.chart else blocker.loc,
                    f"workload {link.workload.logical} is selected by {named}, but Fargate does not support "
                    f"{blocker.what}; run it on a node group or change the profile's selectors",
                    logical=link.workload.logical,
                    related=related,
                )


class DaemonSetToleratesFargateTaint(Rule):
    """A DaemonSet that tolerates the Fargate node taint, on a cluster with Fargate profiles.

    ## What it does
    Flags a DaemonSet (on the toleration) whose tolerations match the taint every Fargate node
    carries, `eks.amazonaws.com/compute-type=fargate:NoSchedule` (a toleration with no key and
    `operator: Exists` tolerates every taint), when nothing else keeps it off Fargate nodes: no
    node selector or required node affinity on a label Fargate nodes lack or carry with another
    value (`eks.amazonaws.com/compute-type NotIn [fargate]`), and its cluster (see `ecrlint links`)
    has Fargate profiles. Whether a profile selects the DaemonSet's namespace does not matter: the
    taint is on every Fargate node of the cluster. A DaemonSet without such a toleration gets no
    pod for a Fargate node (the controller skips nodes whose taints the pod does not tolerate) and
    is not flagged here, even in a namespace a profile selects: EKS says a label-less selector
    "attempts to schedule all the Pods that run in that namespace onto Fargate"
    (https://docs.aws.amazon.com/eks/latest/userguide/fargate-profile.html), but not what becomes
    of DaemonSet pods, which the controller pins to their node with a `metadata.name` node
    affinity (https://kubernetes.io/docs/concepts/workloads/controllers/daemonset/#how-daemon-pods-are-scheduled);
    `aws-node` and `kube-proxy` keep running on EC2 nodes of clusters with a `kube-system`
    profile. ecrlint does not guess there. (A DaemonSet a profile selects on a cluster with no
    node group in the scanned files is ECR305.)

    ## Why
    The DaemonSet controller makes one pod for every node that the pod's tolerations and node
    selection admit (Kubernetes: "Taints and Tolerations", "DaemonSet"; the Toleration API: an
    empty key with `Exists` matches all taints). Fargate runs no DaemonSets (EKS User Guide,
    "AWS Fargate considerations"), so the pod made for each Fargate node stays Pending for ever,
    the rollout never completes and add-ons that wait for it report a failure
    (aws/amazon-cloudwatch-agent-operator#183, kubernetes-sigs/aws-efs-csi-driver#340,
    aws-samples/amazon-cloudwatch-container-insights#61). Sources:
    https://kubernetes.io/docs/reference/kubernetes-api/definitions/toleration-v1/,
    https://docs.aws.amazon.com/eks/latest/userguide/fargate.html,
    https://github.com/aws-observability/helm-charts/pull/58 (the fix AWS shipped).

    ## Example
    ```yaml
    kind: DaemonSet
    spec:
      template:
        spec:
          tolerations:
            - operator: Exists
    ```

    ## Fix
    Keep the DaemonSet off Fargate nodes with the node affinity `aws-node` and `kube-proxy` carry:
    ```yaml
    affinity:
      nodeAffinity:
        requiredDuringSchedulingIgnoredDuringExecution:
          nodeSelectorTerms:
            - matchExpressions:
                - key: eks.amazonaws.com/compute-type
                  operator: NotIn
                  values: [fargate]
    ```
    or tolerate only the taints it needs.

    ## Options
    None; clusters are linked to workloads by the `clusters` config (see `ecrlint links`).
    """

    id = "ECR307"
    name = "daemonset-tolerates-fargate-taint"
    severity = Severity.WARNING

    def check(self, ws: Workspace, ctx: Context) -> Iterable[Finding]:
        if not ws.fargate_profiles or not any(w.kind == "DaemonSet" for w in ws.workloads):
            return
        from ecrlint.analysis.fargate import fargate_toleration, may_run_on_fargate_nodes
        from ecrlint.analysis.links import links_for

        links = links_for(ws, ctx)
        for link in links.workloads:
            workload = link.workload
            if workload.kind != "DaemonSet" or link.cluster is None or not link.cluster.profiles:
                continue
            if link.profiles and not link.cluster.node_groups:
                continue  # ECR305: a profile selects it and there are no nodes it could run on
            spec = ws.pod_spec_of(workload)
            toleration = fargate_toleration(spec)
            if toleration is None or not may_run_on_fargate_nodes(spec):
                continue
            profiles = link.cluster.profiles
            shown = ", ".join(f'"{p.name}" ({p.loc.short()})' for p in profiles[:3])
            more = f" and {len(profiles) - 3} more" if len(profiles) > 3 else ""
            loc = workload.kind_loc if workload.chart else Loc(workload.path, toleration.span)
            yield self.finding(
                loc,
                f"DaemonSet {workload.logical} tolerates the Fargate node taint "
                f"eks.amazonaws.com/compute-type=fargate:NoSchedule, and its cluster {link.cluster.label} has "
                f"Fargate profile{'s' if len(profiles) > 1 else ''} {shown}{more}: the pod it makes for each "
                "Fargate node stays Pending; add the node affinity eks.amazonaws.com/compute-type NotIn [fargate]",
                logical=workload.logical,
                related=[Related(p.loc, f'Fargate profile "{p.name}"') for p in profiles[:3]],
            )


class FargateExecutionRoleArnInvalid(Rule):
    """A pod execution role ARN that is malformed or a placeholder.

    ## What it does
    Checks the pod execution role ARN written in a Fargate profile (CloudFormation
    `PodExecutionRoleArn`, eksctl `podExecutionRoleARN` / `iam.fargatePodExecutionRoleARN`, EKS
    API `podExecutionRoleArn`): placeholders (`ACCOUNT_ID`, `<account>`, `${ACCOUNT_ID}` outside
    CloudFormation), an account that is not 12 digits, a service other than `iam`, a region, a
    resource type other than `role/`, an invalid role name. In CloudFormation, `!Ref` of an
    `AWS::IAM::Role` returns the role's name, not its ARN, and is flagged as well.

    ## Why
    EKS rejects the profile (`InvalidParameterException`), or the deployment silently needs a
    manual edit that a pipeline never makes.

    ## Example
    ```yaml
    fargateProfiles:
      - name: apps
        podExecutionRoleARN: arn:aws:iam::ACCOUNT_ID:role/FargatePodRole
    ```

    ## Fix
    Write the full ARN: `arn:aws:iam::111122223333:role/FargatePodRole` (in CloudFormation:
    `!GetAtt FargatePodRole.Arn` or `!Sub arn:${AWS::Partition}:iam::${AWS::AccountId}:role/...`).

    ## Options
    None.
    """

    id = "ECR306"
    name = "fargate-execution-role-arn-invalid"
    severity = Severity.ERROR

    def check(self, ws: Workspace, ctx: Context) -> Iterable[Finding]:
        if not ws.fargate_profiles:
            return
        from ecrlint.analysis.fargate import role_ref_problem

        for profile in ws.fargate_profiles:
            problem = role_ref_problem(profile)
            if problem is not None and profile.role_loc is not None:
                yield self.finding(profile.role_loc, problem, logical=profile.name)
