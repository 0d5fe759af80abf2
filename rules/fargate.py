"""ECR301-ECR306: Fargate profiles, their pod execution roles, and workloads Fargate cannot run."""

from __future__ import annotations

from typing import Iterable, Iterator

from ecrlint.model import Finding, Loc, Related, Severity
from ecrlint.registry import Context, Rule
from ecrlint.workspace import FargateProfile, Role, Workspace

# ecrlint.fargate / ecrlint.links import the IAM evaluator: only load them when a run has profiles.


def _finding_loc(profile: FargateProfile) -> Loc:
    """SPEC §2: eksctl findings sit on the profile's name; CloudFormation and EKS API JSON ones on
    the PodExecutionRoleArn value when it is written, else on the profile."""
    if profile.source == "eksctl":
        return profile.loc
    return profile.role_loc or profile.loc


def _judged_roles(ws: Workspace, ctx: Context) -> Iterator[tuple[FargateProfile, Role, str | None, str | None]]:
    """Each profile with its pod execution role (when defined in the scanned files), and its
    cluster's name and account when they are known."""
    from ecrlint.links import links_for

    links = links_for(ws, ctx.config)
    for profile in ws.fargate_profiles:
        puller = links.puller(profile)
        cluster = links.cluster_of(profile)
        if puller.role is not None:
            name = cluster.name if cluster and cluster.name_known else None
            yield profile, puller.role, name, cluster.account if cluster else None


def _role_related(role: Role, profile: FargateProfile) -> Related:
    return Related(role.loc, f'pod execution role "{role.name}" of Fargate profile "{profile.name}"')


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
                    f'Fargate profile "{profile.name}" has no pod execution role; set PodExecutionRoleArn to the ARN '
                    "of a role trusted by eks-fargate-pods.amazonaws.com",
                    logical=profile.name,
                )
                continue
            if profile.role_target_missing:
                yield self.finding(
                    profile.role_loc or profile.loc,
                    f'PodExecutionRoleArn of Fargate profile "{profile.name}" refers to '
                    f'"{profile.role_target_missing}", which the template does not define; add the role or '
                    "reference an existing one",
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
    policy.

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
        from ecrlint.fargate import FARGATE_SERVICE, check_trust

        for profile, role, cluster_name, account in _judged_roles(ws, ctx):
            trust = check_trust(role, cluster_name, account)
            if trust is None or trust.verdict.status not in ("not-granted", "denied", "invalid"):
                continue
            verdict = trust.verdict
            related = [_role_related(role, profile)]
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
                _finding_loc(profile),
                f'pod execution role "{role.name}" ({role.loc.short()}) of Fargate profile "{profile.name}" cannot '
                f"be assumed by {FARGATE_SERVICE}: {detail}; {fix}",
                logical=profile.name,
                related=related,
            )


class FargateExecutionRoleMissingEcrPull(Rule):
    """The pod execution role cannot pull from ECR.

    ## What it does
    Evaluates the pod execution role's policies (inline, attached, AWS managed policies from
    ecrlint's bundled copy) for `ecr:GetAuthorizationToken` on `*` and `ecr:BatchGetImage` and
    `ecr:GetDownloadUrlForLayer` on some ECR repository — the same evaluation as ECR201 — and
    names each missing action and why. Roles with attached policies ecrlint cannot expand
    (customer managed policies outside the scanned files) are not judged on what those could grant.

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
        from ecrlint.iam import ECR_PULL_ACTIONS, evaluate
        from ecrlint.rules.node_role import describe_missing  # ECR201's wording, so both read alike

        for profile, role, _name, _account in _judged_roles(ws, ctx):
            missing = []
            for action in ECR_PULL_ACTIONS:
                decision = evaluate(role.policies, action)
                if decision.allowed or decision.status in ("unknown", "possibly-denied"):
                    continue  # a conditional Deny may never apply: not an error (as ECR201)
                if role.unresolved_policies and decision.status != "denied":
                    continue  # an attached policy we cannot read may grant it
                missing.append((action, decision))
            if not missing:
                continue
            related = [_role_related(role, profile)]
            related.extend(
                Related(stmt.loc, f'"{action}": {decision.reason}')
                for action, decision in missing
                for stmt in decision.denies[:1]
                if stmt.loc is not None
            )
            yield self.finding(
                _finding_loc(profile),
                f'pod execution role "{role.name}" ({role.loc.short()}) of Fargate profile "{profile.name}" cannot '
                f"pull from ECR: {describe_missing(missing)}; attach AmazonEKSFargatePodExecutionRolePolicy",
                logical=profile.name,
                related=related,
            )


class FargateExecutionRoleNoSourceArn(Rule):
    """The pod execution role's trust policy has no aws:SourceArn condition (confused deputy).

    ## What it does
    Flags a pod execution role whose trust policy lets `eks-fargate-pods.amazonaws.com` assume it
    in a statement without an `aws:SourceArn` (or `aws:SourceAccount`) condition.

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
        from ecrlint.fargate import check_trust

        for profile, role, cluster_name, account in _judged_roles(ws, ctx):
            trust = check_trust(role, cluster_name, account)
            if trust is None or not trust.unguarded:
                continue
            stmt = trust.unguarded[0]
            cluster_name = cluster_name or "CLUSTER"
            yield self.finding(
                _finding_loc(profile),
                f'pod execution role "{role.name}" ({role.loc.short()}) of Fargate profile "{profile.name}" trusts '
                f"eks-fargate-pods.amazonaws.com without an aws:SourceArn condition ({stmt.where()}); add "
                f'ArnLike aws:SourceArn "arn:aws:eks:REGION:ACCOUNT:fargateprofile/{cluster_name}/*"',
                logical=profile.name,
                related=[_role_related(role, profile), *([Related(stmt.loc, "the trust statement")] if stmt.loc else [])],
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
    Which cluster runs a workload: see `ecrlint links`. A DaemonSet is flagged only when its cluster
    has no node group in the scanned files: its pods are created one per node, and on a cluster with
    EC2 nodes they run there (`aws-node` and `kube-proxy` in a `kube-system` profile's namespace).

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
        from ecrlint.fargate import blockers
        from ecrlint.links import links_for

        links = links_for(ws, ctx.config)
        for link in links.workloads:
            if not link.profiles:
                continue
            if link.workload.kind == "DaemonSet" and link.cluster.node_groups:
                continue  # DaemonSet pods are made one per node: with node groups they run there
            names = ", ".join(f'"{p.name}" ({p.loc.short()})' for p, _s in link.profiles)
            named = f"Fargate profile{'s' if len(link.profiles) > 1 else ''} {names}"
            related = [Related(s.loc, f'selector of Fargate profile "{p.name}"') for p, s in link.profiles]
            for blocker in blockers(link.workload):
                # A rendered chart's field positions are in the rendered text, not the template the
                # user edits: findings sit on the workload (as its other findings do) instead.
                yield self.finding(
                    link.workload.kind_loc if link.workload.chart else blocker.loc,
                    f"{link.workload.logical} is selected by {named}, but Fargate does not support {blocker.what}; "
                    "run it on a node group or change the profile's selectors",
                    logical=link.workload.logical,
                    related=related,
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
        from ecrlint.fargate import role_ref_problem

        for profile in ws.fargate_profiles:
            problem = role_ref_problem(profile)
            if problem is not None and profile.role_loc is not None:
                yield self.finding(profile.role_loc, problem, logical=profile.name)
