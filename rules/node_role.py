"""ECR201-ECR205, ECR208-ECR210: worker-node roles that cannot pull from ECR, and policy mistakes behind them."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Iterable, Iterator

from ecrlint.analysis import awsdata
from ecrlint.analysis import iam
from ecrlint.model import Finding, Fix, Loc, Related, Severity, Span
from ecrlint.registry import Context, Option, Rule
from ecrlint.workspace import NodeGroup, PolicyDocument, Role, Workspace

GET_TOKEN = "ecr:GetAuthorizationToken"
GET_TOKEN_LOWER = GET_TOKEN.lower()
BATCH_CHECK = "ecr:BatchCheckLayerAvailability"
PULL_ONLY = "AmazonEC2ContainerRegistryPullOnly"
PULL_ONLY_ARN = "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryPullOnly"
ECR_PREFIXES = ("ecr", "ecr-public")


# --- the shared analysis -------------------------------------------------------------------------


@dataclass
class Subject:
    """One thing judged as a node role: a role (shared by its node groups) or the node-role policy files."""

    label: str  # 'node role "NodeInstanceRole"', 'node group "ng-1"', 'node-role policy "iam/node.json"',
    # 'node-role policies in iam/a.json and iam/b.json'
    loc: Loc
    logical: str | None
    policies: list[PolicyDocument]
    unresolved: list[tuple[str, Loc]] = field(default_factory=list)
    managed_names: list[str] = field(default_factory=list)
    groups: list[NodeGroup] = field(default_factory=list)
    policy: PolicyDocument | None = None  # set when the subject is one standalone node-role policy
    boundary: list[PolicyDocument] | None = None  # the role's permissions boundary, when readable
    decisions: dict[str, iam.Decision] = field(default_factory=dict)

    def decide(self, action: str) -> iam.Decision:
        if action not in self.decisions:
            # a document IAM rejects (ECR210) is never attached: it grants and denies nothing
            valid = [p for p in self.policies if not rejected(p)]
            self.decisions[action] = iam.evaluate(valid, action, boundary=self.boundary)
        return self.decisions[action]

    @property
    def replaces_defaults(self) -> bool:
        return any(g.replaces_default_policies for g in self.groups)

    @property
    def holds_pull_only(self) -> bool:
        return PULL_ONLY in self.managed_names or any(p.bundled and p.name == PULL_ONLY for p in self.policies)


def subjects(ws: Workspace, ctx: Context | None = None) -> list[Subject]:
    """Every node role of the workspace, once each (built once per run when a Context is given, as
    every ECR2xx rule reads them); roles outside the scanned files are skipped."""
    if ctx is None:
        return _build_subjects(ws, None)
    return ctx.shared("node_role.subjects", lambda: _build_subjects(ws, ctx))


def _build_subjects(ws: Workspace, ctx: Context | None) -> list[Subject]:
    out: list[Subject] = []
    by_role: dict[int, Subject] = {}
    resolver = None
    for group in ws.node_groups:
        role = group.role
        if (role is None or role.external) and (group.role_ref or role is not None):
            # an ARN that names a role another scanned file defines (an eksctl instanceRoleARN and
            # the template that creates the role): judged as that role, as ECR206 links it
            from ecrlint.analysis.links import role_resolver

            resolver = resolver or role_resolver(ws)
            role = resolver.find(group.role_ref or (role.arn if role else None), group.loc.path) or role
        if role is None or role.external:
            if ctx is not None and ctx.verbose:
                ref = f" ({group.role_ref})" if group.role_ref else ""
                ctx.notes.append(
                    f"{group.loc.short()}: node group \"{group.name}\" uses a role defined outside the scanned "
                    f"files{ref}; not judged"
                )
            continue
        subject = by_role.get(id(role))
        if subject is None:
            subject = Subject(
                label=_role_label(role, group),
                loc=role.loc,
                logical=role.name if role.source == "cloudformation" else None,
                policies=list(role.policies),
                unresolved=list(role.unresolved_policies),
                managed_names=list(role.managed_policy_names),
                boundary=iam.boundary_of(role),
            )
            if role.boundary_ref is not None and role.boundary is None and ctx is not None and ctx.verbose:
                ctx.notes.append(
                    f"{role.boundary_ref[1].short()}: permissions boundary {role.boundary_ref[0]} is not in the "
                    f"scanned files; {subject.label} is judged without it"
                )
            by_role[id(role)] = subject
            out.append(subject)
        subject.groups.append(group)
    standalone = _standalone_subject(ws.node_role_policies)
    if standalone is not None:
        out.append(standalone)
    return out


def _standalone_subject(policies: list[PolicyDocument]) -> Subject | None:
    """Every file named by ``node-role-policies`` is one principal: IAM evaluates all of a role's identity
    policies together (an Allow in any, a Deny in any), so the files are one subject, not one each."""
    if not policies:
        return None
    ordered = sorted(policies, key=lambda p: (p.loc.path, p.loc.span.line, p.loc.span.column))
    if len(ordered) == 1:
        label = f'node-role policy "{ordered[0].name}"'
    else:
        names = [p.name for p in ordered]
        label = f"node-role policies in {', '.join(names[:-1])} and {names[-1]}"
    return Subject(
        label=label,
        loc=_statement_key_loc(ordered[0]),
        logical=None,
        policies=ordered,
        policy=ordered[0] if len(ordered) == 1 else None,
    )


def _role_label(role: Role, group: NodeGroup) -> str:
    if role.source == "eksctl":
        return f'node group "{group.name}"' if group.kind in ("managed", "self-managed") else f'{group.kind} node role'
    return f'node role "{role.name}"'


def _statement_key_loc(policy: PolicyDocument) -> Loc:
    document = policy.document
    if hasattr(document, "key_span") and "Statement" in document:
        return Loc(policy.loc.path, document.key_span("Statement"))
    return policy.loc


def _note(ctx: Context, subject: Subject, what: str, decision: iam.Decision | None = None) -> None:
    if not ctx.verbose:
        return
    if decision is not None and decision.status == "unknown":
        ctx.notes.append(f"{subject.loc.short()}: {subject.label}: {what} not judged: {decision.reason}")
        return
    names = ", ".join(u for u, _ in subject.unresolved[:3])
    ctx.notes.append(
        f"{subject.loc.short()}: {subject.label}: {what} not judged: it depends on {names}, not in the scanned files"
    )


def _phrase(action: str, decision: iam.Decision) -> str:
    return iam.describe_missing([(action, decision)])


def _implicated(decision: iam.Decision) -> list[iam.Statement]:
    if decision.status in ("denied", "possibly-denied"):
        return [s for s in decision.denies if s.policy is not None and not s.policy.bundled]
    return [s for s in decision.allows if s.policy is not None and not s.policy.bundled]


def _unreadable(subject: Subject) -> list[tuple[str, Loc]]:
    return iam.unreadable(subject.unresolved)


def _judgeable(subject: Subject, decision: iam.Decision) -> bool:
    """A policy we cannot read may grant what the others do not; it can never undo a Deny."""
    if decision.status == "unknown":
        return False
    if subject.unresolved and decision.status not in ("denied", "possibly-denied"):
        return False
    return True


def _unknown_actions(policies: Iterable[PolicyDocument]) -> Iterator[tuple[iam.Statement, str, Loc | None, str | None]]:
    """(statement, action as written, where, nearest real action) for ecr/ecr-public actions that match nothing."""
    for policy in policies:
        if policy.bundled:
            continue
        for stmt in iam.statements(policy):
            names = stmt.not_actions if stmt.not_actions is not None else stmt.actions
            for i, action in enumerate(names):
                prefix = action.split(":", 1)[0].lower()
                if prefix not in ECR_PREFIXES or ":" not in action:
                    continue
                if any(iam.action_matches(action, known.name) for known in awsdata.ecr_actions().values()):
                    continue
                loc = stmt.action_locs[i] if i < len(stmt.action_locs) else None
                yield stmt, action, loc or stmt.loc, nearest_action(action)


def nearest_action(action: str) -> str | None:
    """The real ecr/ecr-public action closest to a misspelt one (``GetDownloadUrlForLayers``)."""
    import difflib  # only when a policy holds an unknown action

    known = awsdata.ecr_actions()
    prefix = action.split(":", 1)[0].lower()
    candidates = [k for k in known if k.startswith(prefix + ":")]
    match = difflib.get_close_matches(action.lower(), candidates, n=1, cutoff=0.75)
    return known[match[0]].name if match else None


def scalar_fix(loc: Loc, written: str, replacement: str, description: str) -> Fix | None:
    """Replace a one-line scalar's text, keeping its quotes; None when the span is not just that text."""
    span = loc.span
    if span.line != span.end_line:
        return None
    width = span.end_column - span.column
    if width == len(written):
        return Fix(description, loc.path, span, replacement)
    if width == len(written) + 2:  # quoted (JSON, or YAML '...' / "...") without escapes
        inner = Span(span.line, span.column + 1, span.end_line, span.end_column - 1)
        return Fix(description, loc.path, inner, replacement)
    return None


# --- ECR201 --------------------------------------------------------------------------------------

_ADVICE = (
    ("not-granted", "attach AmazonEC2ContainerRegistryPullOnly or grant the missing actions"),
    ("resource-mismatch", "grant them on the ECR repositories"),
    ("conditional", "grant them without the condition"),
    ("denied", "remove or narrow the Deny"),
    ("outside-boundary", "allow them in the permissions boundary too"),
)


class NodeRoleMissingEcrPull(Rule):
    """A worker-node role that cannot pull images from Amazon ECR.

    ## What it does
    Finds every worker-node role in the scanned files - the `NodeRole` of an `AWS::EKS::Nodegroup`,
    the role behind the instance profile of a self-managed node group's launch template, launch
    configuration and Auto Scaling group, `ComputeConfig.NodeRoleArn` of an EKS Auto Mode cluster,
    the role eksctl creates for each node group (with eksctl's defaults), policy files named in
    `node-role-policies`, and in `aws iam get-account-authorization-details` dumps the roles trusted
    by EC2 that carry `AmazonEKSWorkerNodePolicy` - and evaluates offline whether its policies allow
    `ecr:GetAuthorizationToken` (on `*`), `ecr:BatchGetImage` and `ecr:GetDownloadUrlForLayer`.
    Wildcards, `NotAction`, `NotResource`, explicit `Deny`, conditions and AWS managed policies
    (expanded from a bundled copy) are all taken into account. The message names each missing
    action and why: no statement grants it, a Deny (Sid, file and line) blocks it, it is granted
    only on resources that are not ECR repositories, or only under a condition.

    Conditions are decided offline only for `aws:ViaAWSService` (`Bool` / `BoolIfExists`): it is
    true only when an AWS service calls on the role's behalf with its credentials, and the kubelet
    calls ECR directly, so for its pulls the key is present and false
    (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-viaawsservice).
    A Deny under `"aws:ViaAWSService": "false"` blocks the pulls; an Allow under `"true"` grants
    nothing. A Deny under a condition that cannot be decided offline (`aws:SourceVpc`,
    `aws:SourceIp`, ...) may never apply to the nodes: `--verbose` notes it, never an error.

    A grant counts only on repositories an Allow reaches and no Deny takes away: an Allow on
    `repository/prod/*` with a Deny on the same pattern grants nothing. Resource ARNs are matched
    as AWS issues repository ARNs: a region and a 12-digit account (an empty one matches nothing),
    `repository/` and a lowercase name. A policy variable a role session does not carry
    (`${aws:username}`) matches nothing
    (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html#policy-vars-no-value);
    one set per request (`${aws:PrincipalTag/team}`) makes the grant conditional.

    A permissions boundary (CloudFormation `PermissionsBoundary`, eksctl
    `iam.instanceRolePermissionsBoundary`, `PermissionsBoundary` in an authorization-details dump)
    limits the role: an action is allowed only where its policies *and* its boundary allow it
    (https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_boundaries.html); the message
    names the boundary when it is the reason. A boundary ecrlint cannot read (a customer managed
    policy outside the scanned files) only ever restricts, so the role is judged without it.

    A grant on *some* ECR repositories counts as granted here: which repositories the workloads
    need is ECR206's job. A role defined outside the scanned files is never guessed about
    (`--verbose` says so). When no policy ecrlint can read grants the pull and the role also
    attaches a policy it cannot read (a customer managed policy ARN), the finding is a *warning*
    that names that policy: "cannot pull unless ... grants it". The most common real mistake is
    exactly that policy not granting ECR pull (eksctl issue 3800), so it is never silent. A
    customer managed policy whose JSON is in a scanned `aws iam get-account-authorization-details`
    dump is read from there, for roles in templates and eksctl files too.

    ## Why
    The kubelet pulls ECR images with the node's IAM role. Without these three actions every pod
    whose image lives in ECR stays in `ImagePullBackOff`, and nothing fails at deploy time.

    ## Example
    ```yaml
    NodeInstanceRole:
      Type: AWS::IAM::Role
      Properties:
        ManagedPolicyArns:
          - !Sub arn:${AWS::Partition}:iam::aws:policy/AmazonEKSWorkerNodePolicy
          - !Sub arn:${AWS::Partition}:iam::aws:policy/AmazonEKS_CNI_Policy
    ```

    ## Fix
    Attach `AmazonEC2ContainerRegistryPullOnly` (or `AmazonEC2ContainerRegistryReadOnly`), or
    grant the three actions yourself; remove or narrow the Deny that blocks them.

    ## Options
    `node-role-policies`: globs of standalone policy files (JSON or YAML) that are node-role
    policies, for example `["iam/node-*.json"]`. All the files matched form one role and are
    evaluated together, as IAM evaluates a role's policies: an Allow in any, a Deny in any.
    """

    id = "ECR201"
    name = "node-role-missing-ecr-pull"
    severity = Severity.ERROR
    options = (
        Option(
            "node-role-policies",
            "array",
            [],
            "globs of standalone IAM policy files that are worker-node role policies",
        ),
    )

    def check(self, ws: Workspace, ctx: Context) -> Iterable[Finding]:
        for subject in subjects(ws, ctx):
            # ECR204 points at each misspelt action with its suggestion: while it is shown, the
            # action it would grant is its story, not this rule's (Finding.unless_shown)
            typos: dict[str, list[tuple[str, str, int, int]]] = {}
            for _stmt, _written, loc, hint in _unknown_actions(subject.policies):
                if hint and loc is not None:
                    typos.setdefault(hint, []).append(("ECR204", loc.path, loc.span.line, loc.span.column))
            missing, unsure = self._triage(subject, ctx)
            if not missing:
                if unsure:
                    yield self._unsure_finding(subject, unsure)
                continue
            explained: list[tuple[str, str, int, int]] = []
            for action, decision in missing:
                if decision.status == "not-granted" and action in typos:
                    explained.extend(k for k in typos[action] if k not in explained)
            if not explained:
                yield self._finding(subject, missing)
                continue
            # the whole story while a misspelt action's ECR204 is not shown (ignored, suppressed)...
            yield self._finding(subject, missing, unless_shown=explained)
            rest = [(a, d) for a, d in missing if not (d.status == "not-granted" and a in typos)]
            if rest:
                # ...and, while it is, only what the misspelling does not explain
                yield self._finding(subject, rest, only_if_shown=explained)

    @staticmethod
    def _triage(subject: Subject, ctx: Context) -> tuple[list[tuple[str, iam.Decision]], list[str]]:
        """(the pull actions surely missing with their decisions, those a policy ecrlint cannot read
        may grant); what other rules report or cannot be judged goes to --verbose notes."""
        missing: list[tuple[str, iam.Decision]] = []
        unsure: list[str] = []
        for action in iam.ECR_PULL_ACTIONS:
            decision = subject.decide(action)
            if decision.allowed:
                continue
            if action == GET_TOKEN and decision.status == "resource-mismatch":
                continue  # ECR203
            if decision.status == "not-granted" and subject.replaces_defaults:
                continue  # ECR202 says why for eksctl managed groups with attachPolicyARNs
            if _unreadable(subject) and decision.status in ("not-granted", "resource-mismatch"):
                unsure.append(action)  # a policy ecrlint cannot read may grant it: a warning
                continue
            if not _judgeable(subject, decision):
                _note(ctx, subject, f'"{action}"', decision)
                continue
            if decision.status == "possibly-denied":
                # a Deny under a condition (aws:SourceVpc, ...) may never apply to the nodes: say so
                # with --verbose, never as an error
                if ctx.verbose:
                    ctx.notes.append(f"{subject.loc.short()}: {subject.label}: \"{action}\" may be {decision.reason}")
                continue
            missing.append((action, decision))
        return missing, unsure

    def _unsure_finding(self, subject: Subject, actions: list[str]) -> Finding:
        """Nothing ecrlint can read grants the pull, and a policy it cannot read might (issue 12,
        item 9): a warning that names those policies, never silence."""
        return self.finding(
            subject.loc,
            f"{subject.label} cannot pull from ECR {iam.unless_granted(_unreadable(subject), actions)}; attach "
            f"AmazonEC2ContainerRegistryPullOnly to be sure, or scan the policy's JSON (an "
            f"`aws iam get-account-authorization-details` dump)",
            logical=subject.logical,
            severity=Severity.WARNING,
            related=[Related(loc, "a policy ecrlint cannot read") for _text, loc in _unreadable(subject)[:3]],
        )

    def _finding(
        self,
        subject: Subject,
        missing: list[tuple[str, iam.Decision]],
        unless_shown: list[tuple[str, str, int, int]] | tuple = (),
        only_if_shown: list[tuple[str, str, int, int]] | tuple = (),
    ) -> Finding:
        reasons = iam.describe_missing(missing)
        statuses = {d.status for _, d in missing}
        advice = [text for status, text in _ADVICE if status in statuses]
        message = f"{subject.label} cannot pull from ECR: {reasons}; {'; '.join(advice)}"
        related: list[Related] = []
        implicated: list[iam.Statement] = []
        for action, decision in missing:
            for stmt in _implicated(decision)[:1]:
                if stmt.loc is not None:
                    related.append(Related(stmt.loc, f'"{action}": {decision.reason}'))
                    implicated.append(stmt)
        loc = subject.loc
        if subject.policy is not None and "not-granted" not in statuses and len({id(s) for s in implicated}) == 1:
            loc = implicated[0].loc or loc  # one statement is the whole story: point at it
        for group in subject.groups:
            if group.loc != subject.loc:
                related.append(Related(group.loc, f'node group "{group.name}" uses this role'))
        return self.finding(
            loc,
            message,
            logical=subject.logical,
            related=related,
            unless_shown=unless_shown,
            only_if_shown=only_if_shown,
        )


# --- ECR202 --------------------------------------------------------------------------------------


class EksctlAttachPolicyArnsDropsEcr(Rule):
    """An eksctl managed node group whose `attachPolicyARNs` drop eksctl's ECR pull policy.

    ## What it does
    For `managedNodeGroups`, eksctl attaches its default policies (AmazonEKSWorkerNodePolicy,
    AmazonEKS_CNI_Policy, AmazonEC2ContainerRegistryPullOnly, AmazonSSMManagedInstanceCore) only
    when `iam.attachPolicyARNs` is empty: a list *replaces* them. This rule flags a managed node
    group whose list grants no ECR pull and which does not set `withAddonPolicies.imageBuilder`
    (that adds AmazonEC2ContainerRegistryPowerUser). Self-managed `nodeGroups` are not affected:
    eksctl keeps ECR pull on them. When the list also holds a customer managed policy ecrlint cannot
    read, the finding is a warning naming it: that policy may grant the pull, and most often does
    not (https://github.com/eksctl-io/eksctl/issues/3800).

    ## Why
    The node group is created without error, nodes join the cluster, and then every image from
    ECR fails with `ImagePullBackOff`. eksctl's docs warn that you must list the defaults yourself.

    ## Example
    ```yaml
    managedNodeGroups:
      - name: ng-1
        iam:
          attachPolicyARNs:
            - arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy
            - arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy
    ```

    ## Fix
    Add `arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryPullOnly` to `attachPolicyARNs`.

    ## Options
    None.
    """

    id = "ECR202"
    name = "eksctl-attach-policy-arns-drops-ecr"
    severity = Severity.ERROR

    def check(self, ws: Workspace, ctx: Context) -> Iterable[Finding]:
        for subject in subjects(ws, ctx):
            if not subject.replaces_defaults:
                continue
            missing = [(a, subject.decide(a)) for a in iam.ECR_PULL_ACTIONS if subject.decide(a).status == "not-granted"]
            if not missing:
                continue
            group = subject.groups[0]
            names = ", ".join(f'"{a}"' for a, _ in missing)
            arn = PULL_ONLY_ARN.replace("arn:aws:", f"arn:{_partition(subject)}:")
            if subject.unresolved and not _unreadable(subject):
                _note(ctx, subject, "ECR pull", missing[0][1])  # a misspelt AWS managed ARN: ECR209's story
                continue
            if subject.unresolved:
                # a customer policy in the list may grant the pull: most often it does not (eksctl
                # issue 3800), so say so as a warning that names it, never nothing
                unread = " or ".join(text for text, _loc in _unreadable(subject)[:3])
                yield self.finding(
                    group.loc,
                    f'managed node group "{group.name}" sets iam.attachPolicyARNs, which replaces eksctl\'s '
                    f"default policies, and no AWS managed policy it lists grants {names}: nodes cannot pull from "
                    f"ECR unless {unread} grants them; add {arn} to attachPolicyARNs to be sure",
                    severity=Severity.WARNING,
                )
                continue
            yield self.finding(
                group.loc,
                f'managed node group "{group.name}" sets iam.attachPolicyARNs, which replaces eksctl\'s default '
                f"policies, and nothing it lists grants {names}; add {arn} to attachPolicyARNs "
                f"(or set withAddonPolicies.imageBuilder)",
            )


def _partition(subject: Subject) -> str:
    for policy in subject.policies:
        if policy.managed_arn and policy.managed_arn.startswith("arn:"):
            return policy.managed_arn.split(":", 2)[1]
    return "aws"


# --- ECR203 --------------------------------------------------------------------------------------


class EcrAuthTokenResourceScoped(Rule):
    """`ecr:GetAuthorizationToken` granted only on resources other than `*`.

    ## What it does
    `ecr:GetAuthorizationToken` has no resource type: IAM only matches it against `Resource: "*"`.
    This rule flags a node role (and any other policy in the scanned files) that names the action
    but grants it only on repository ARNs or other resources, so the grant never applies.

    ## Why
    Without a token the kubelet cannot log in to the registry at all, even when `BatchGetImage` is
    granted on the right repositories. The mistake is common when a policy scopes "all ECR actions"
    to one repository.

    ## Example
    ```json
    {"Effect": "Allow",
     "Action": ["ecr:GetAuthorizationToken", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
     "Resource": "arn:aws:ecr:eu-west-1:111122223333:repository/app"}
    ```

    ## Fix
    Move `ecr:GetAuthorizationToken` into its own statement with `"Resource": "*"`.

    ## Options
    None.
    """

    id = "ECR203"
    name = "ecr-auth-token-resource-scoped"
    severity = Severity.ERROR

    def check(self, ws: Workspace, ctx: Context) -> Iterable[Finding]:
        judged: set[int] = set()
        for subject in subjects(ws, ctx):
            judged.update(id(p) for p in subject.policies)
            decision = subject.decide(GET_TOKEN)
            if decision.status != "resource-mismatch" or not _judgeable(subject, decision):
                continue
            stmts = _implicated(decision)
            loc = subject.loc
            if subject.policy is not None and stmts and stmts[0].loc is not None:
                loc = stmts[0].loc
            related = [Related(s.loc, "grants it here") for s in stmts[:1] if s.loc is not None and s.loc != loc]
            yield self.finding(
                loc,
                f'{subject.label}: "{GET_TOKEN}" is {decision.reason}; grant it in a statement with "Resource": "*"',
                logical=subject.logical,
                related=related,
            )
        # Other policies (CI roles, users): a statement that names the action explicitly but scopes it.
        for policy in ws.policies:
            if id(policy) in judged or policy.bundled:
                continue
            if not any(n.lower() == GET_TOKEN_LOWER for st in iam.statements(policy) for n in st.actions):
                continue  # only a statement naming the action is reported below: skip the evaluation
            decision = iam.evaluate([policy], GET_TOKEN)
            if decision.status != "resource-mismatch":
                continue
            for stmt in decision.allows:
                if stmt.principal is not None or stmt.not_principal is not None:
                    continue  # a repository policy: its resource is the repository itself
                names = stmt.actions if stmt.not_actions is None else ()
                if any(n.lower() == GET_TOKEN_LOWER for n in names) and stmt.loc is not None:
                    granted = ", ".join(f'"{r}"' for r in stmt.resources)
                    yield self.finding(
                        stmt.loc,
                        f'"{GET_TOKEN}" is granted only on {granted}, but it has no resource type and only "*" '
                        f'matches it; grant it in a statement with "Resource": "*"',
                    )
                    break


# --- ECR204 --------------------------------------------------------------------------------------


class UnknownEcrAction(Rule):
    """An `ecr:` or `ecr-public:` action that does not exist.

    ## What it does
    Checks every `Action` / `NotAction` entry with the `ecr` or `ecr-public` prefix in the scanned
    policies (standalone files, CloudFormation, eksctl `attachPolicy`, repository policies)
    against the actions AWS defines, case-insensitively and with `*` / `?` patterns, and suggests
    the nearest real action.

    ## Why
    IAM accepts a policy with a misspelt action and silently grants nothing: `ecr:GetDownloadUrlForLayers`
    allows no call, and the pull fails at run time.

    ## Example
    ```json
    {"Effect": "Allow", "Action": "ecr:GetDownloadUrlForLayers", "Resource": "*"}
    ```

    ## Fix
    Use the suggested action name (`ecr:GetDownloadUrlForLayer`); `--fix` replaces a misspelt
    action by the suggestion.

    ## Options
    None.
    """

    id = "ECR204"
    name = "unknown-ecr-action"
    severity = Severity.ERROR

    def check(self, ws: Workspace, ctx: Context) -> Iterable[Finding]:
        seen: set[tuple[str, int, int]] = set()
        for stmt, action, loc, hint in _unknown_actions(ws.policies):
            if loc is None:
                continue
            key = (loc.path, loc.span.line, loc.span.column)
            if key in seen:
                continue  # one written action, even when an Fn::If statement was expanded twice
            seen.add(key)
            wild = "*" in action or "?" in action
            what = f'"{action}" matches no ECR action' if wild else f'unknown ECR action "{action}"'
            tail = f'; did you mean "{hint}"?' if hint else "; see the Service Authorization Reference for ECR"
            fix = scalar_fix(loc, action, hint, f'use "{hint}"') if hint and not wild and loc != stmt.loc else None
            yield self.finding(loc, f"{what}: IAM grants nothing for it{tail}", fix=fix)


# --- ECR205 --------------------------------------------------------------------------------------


class PolicyVersion(Rule):
    """A policy without a valid `Version`, or a 2008-10-17 policy that uses policy variables.

    ## What it does
    Checks the `Version` of every policy document in the scanned files that names an `ecr` or
    `ecr-public` action or belongs to a worker-node role: it must be `2012-10-17` (or the legacy
    `2008-10-17`). A `2008-10-17` policy that uses `${...}` policy variables is flagged too.

    ## Why
    Under `2008-10-17` policy variables such as `${aws:username}` are not substituted: they are
    literal text, so a resource like `repository/${aws:username}/*` matches nothing. AWS's
    documentation asks for `2012-10-17` in every new policy; a missing or misspelt Version is a
    sign the document was never validated.

    ## Example
    ```json
    {"Version": "2008-10-17",
     "Statement": [{"Effect": "Allow", "Action": "ecr:BatchGetImage",
                    "Resource": "arn:aws:ecr:*:*:repository/${aws:username}/*"}]}
    ```

    ## Fix
    Set `"Version": "2012-10-17"`; `--fix` rewrites an invalid or legacy Version (a missing one is
    left to you).

    ## Options
    None.
    """

    id = "ECR205"
    name = "policy-version"
    severity = Severity.WARNING

    def check(self, ws: Workspace, ctx: Context) -> Iterable[Finding]:
        node_policies = {id(p) for s in subjects(ws, ctx) for p in s.policies}
        for policy in ws.policies:
            document = iam.policy_document(policy)
            if policy.bundled or not isinstance(document, dict):
                continue
            stmts = iam.statements(policy)
            if id(policy) not in node_policies and not any(_names_ecr(s) for s in stmts):
                continue
            version = document.get("Version")
            path = policy.loc.path
            if "Version" not in document:
                yield self.finding(policy.loc, 'policy has no "Version"; add "Version": "2012-10-17"')
            elif version not in iam.VALID_VERSIONS:
                loc = Loc(path, document.value_span("Version")) if hasattr(document, "value_span") else policy.loc
                yield self.finding(
                    loc,
                    f'policy "Version" is "{version}", which IAM does not know; use "2012-10-17"',
                    fix=self._fix(loc, version, policy),
                )
            elif version == iam.VERSION_LEGACY and _uses_variables(stmts):
                loc = Loc(path, document.value_span("Version")) if hasattr(document, "value_span") else policy.loc
                yield self.finding(
                    loc,
                    'policy "Version" is "2008-10-17" but the policy uses ${...} variables, which 2008-10-17 '
                    'reads as literal text; use "2012-10-17"',
                    fix=self._fix(loc, version, policy),
                )

    @staticmethod
    def _fix(loc: Loc, version: Any, policy: PolicyDocument) -> Fix | None:
        if not isinstance(version, str) or loc == policy.loc:
            return None
        return scalar_fix(loc, version, iam.VERSION_CURRENT, 'set "Version" to "2012-10-17"')


def _names_ecr(stmt: iam.Statement) -> bool:
    names = stmt.not_actions if stmt.not_actions is not None else stmt.actions
    return any(n.split(":", 1)[0].lower() in ECR_PREFIXES for n in names)


def _uses_variables(stmts: list[iam.Statement]) -> bool:
    """An IAM policy variable (``${aws:username}``), not a CloudFormation token (``${AWS::Region}``)."""
    for stmt in stmts:
        for text in stmt.resources + (stmt.not_resources or ()) + _condition_strings(stmt.condition):
            start = text.find("${")
            while start != -1:
                end = text.find("}", start)
                name = text[start + 2 : end] if end != -1 else ""
                if name in ("*", "?", "$") or (":" in name and "::" not in name):
                    return True
                start = text.find("${", start + 2)
    return False


def _condition_strings(condition: Any) -> tuple[str, ...]:
    out: list[str] = []
    stack = [condition]
    while stack:
        cur = stack.pop()
        if isinstance(cur, str):
            out.append(cur)
        elif isinstance(cur, dict):
            stack.extend(cur.values())
        elif isinstance(cur, list):
            stack.extend(cur)
    return tuple(out)


# --- ECR208 --------------------------------------------------------------------------------------


class NodeRoleMissingBatchCheckLayer(Rule):
    """A node role that can pull from ECR but is not granted `ecr:BatchCheckLayerAvailability` (opt-in).

    ## What it does
    For worker-node roles that pass ECR201, checks `ecr:BatchCheckLayerAvailability`, which the
    ECR guide "Using Amazon ECR Images with Amazon EKS" and `AmazonEC2ContainerRegistryReadOnly`
    include. Off by default; enable it with `--select ECR208` (or `select` in the config).

    ## Why
    It is not needed to pull: the node role AWS recommends today grants
    `AmazonEC2ContainerRegistryPullOnly`
    (https://docs.aws.amazon.com/eks/latest/userguide/create-node-role.html), whose statement is
    `GetAuthorizationToken`, `BatchGetImage`, `GetDownloadUrlForLayer` and
    `BatchImportUpstreamImage` only
    (https://docs.aws.amazon.com/aws-managed-policy/latest/reference/AmazonEC2ContainerRegistryPullOnly.html),
    and eksctl moved its node roles from ReadOnly to PullOnly in v0.210.0. A warning on every role
    written that way would be wrong, so the rule is for teams that keep their hand-written pull
    policies in step with the ReadOnly policy or the ECR guide, as a review aid.

    ## Example
    ```json
    {"Effect": "Allow",
     "Action": ["ecr:GetAuthorizationToken", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
     "Resource": "*"}
    ```

    ## Fix
    Add `ecr:BatchCheckLayerAvailability` next to `ecr:BatchGetImage`, or attach
    `AmazonEC2ContainerRegistryReadOnly`.

    ## Options
    None.
    """

    id = "ECR208"
    name = "node-role-missing-batch-check-layer"
    severity = Severity.WARNING
    enabled_by_default = False

    def check(self, ws: Workspace, ctx: Context) -> Iterable[Finding]:
        for subject in subjects(ws, ctx):
            if subject.holds_pull_only or not all(subject.decide(a).allowed for a in iam.ECR_PULL_ACTIONS):
                continue  # without pull, ECR201 (or ECR202) already tells the story
            decision = subject.decide(BATCH_CHECK)
            if decision.allowed:
                continue
            if not _judgeable(subject, decision):
                _note(ctx, subject, f'"{BATCH_CHECK}"', decision)
                continue
            loc = subject.loc
            yield self.finding(
                loc,
                f"{subject.label} can pull from ECR but {_phrase(BATCH_CHECK, decision)}, which the ECR guide and "
                f"AmazonEC2ContainerRegistryReadOnly include; add it next to \"ecr:BatchGetImage\" or attach "
                f"AmazonEC2ContainerRegistryReadOnly (pulls work without it: AmazonEC2ContainerRegistryPullOnly "
                f"omits it)",
                logical=subject.logical,
            )


# --- ECR209 --------------------------------------------------------------------------------------


class ManagedPolicyUnknown(Rule):
    """An AWS managed policy ARN that names no real AWS managed policy.

    ## What it does
    Checks every `arn:<partition>:iam::aws:policy/...` ARN a role attaches in the scanned files,
    in CloudFormation `ManagedPolicyArns` (also `arn:${AWS::Partition}:...` built with `!Sub` or
    `!Join`) and eksctl `iam.attachPolicyARNs`, against ecrlint's bundled list of every AWS
    managed policy, path included (`service-role/`, `aws-service-role/`, `job-function/`). An ARN
    that matches none, a misspelt name or a wrong or missing path, is reported with the nearest
    real ARN. Authorization-details dumps are not checked: they list what an account really
    attaches, which may be a policy newer than ecrlint's list.

    ## Why
    AWS managed policies are owned by AWS and have ARNs of the form
    `arn:aws:iam::aws:policy/<path><name>`; only the policies AWS publishes exist
    (https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_managed-vs-inline.html#aws-managed-policies;
    each one's ARN is in the AWS Managed Policy Reference,
    https://docs.aws.amazon.com/aws-managed-policy/latest/reference/).
    Attaching an ARN that names none fails at deploy time (IAM answers `NoSuchEntity`: the policy
    does not exist or is not attachable), and until it is fixed ecrlint cannot tell what the role
    may do, so the role's ECR pull is not judged.

    ## Example
    ```yaml
    NodeInstanceRole:
      Type: AWS::IAM::Role
      Properties:
        ManagedPolicyArns:
          - arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadonly   # "Readonly"
          - arn:aws:iam::aws:policy/AmazonEC2ContainerServiceforEC2Role  # lacks service-role/
    ```

    ## Fix
    Use the ARN the message suggests, for example
    `arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly`, or a customer managed policy ARN
    (with an account ID) if that is what was meant.

    ## Options
    None.
    """

    id = "ECR209"
    name = "managed-policy-unknown"
    severity = Severity.ERROR

    def check(self, ws: Workspace, ctx: Context) -> Iterable[Finding]:
        seen: set[tuple[str, str, int, int]] = set()
        for role in ws.roles:
            if role.source == "authorization-details":
                continue  # a dump is what the account attaches: a policy newer than the bundled list
            for text, loc in role.unresolved_policies:
                ref = awsdata.parse_managed_arn(text)
                if ref is None or "${" in ref.path + ref.name:
                    continue  # not an AWS managed policy ARN, or one whose name is a parameter
                if iam.managed_policy(text) is not None:
                    continue
                key = (text, loc.path, loc.span.line, loc.span.column)
                if key in seen:
                    continue
                seen.add(key)
                nearest = awsdata.nearest_managed_arn(ref)
                hint = f"; did you mean {nearest}?" if nearest else ""
                yield self.finding(
                    loc,
                    f'"{text}" names no AWS managed policy (attaching it fails at deploy time){hint}',
                    logical=role.name if role.source == "cloudformation" else None,
                )


# --- ECR210 --------------------------------------------------------------------------------------

_REJECTED = "IAM rejects the whole document at deploy time"


def rejections(policy: PolicyDocument) -> list[tuple[Loc, str]]:
    """(where, message) for each part of an identity policy that makes IAM reject the document.

    Only what is surely written is judged: a key whose value may be ``AWS::NoValue`` (under ``!If``)
    may be absent, and an intrinsic ``Effect`` is known only at deploy time.
    """
    if not policy.identity or policy.bundled:
        return []
    out: list[tuple[Loc, str]] = []
    for stmt in iam.statements(policy):
        node = stmt.node
        if not isinstance(node, dict) or stmt.loc is None:
            continue
        for key in ("Principal", "NotPrincipal"):
            if key in node and not _may_be_absent(node[key]):
                out.append((
                    _key_loc(stmt, key),
                    f'"{key}": {_show(node[key])} in an identity policy, which cannot name a principal: {_REJECTED}; '
                    f"remove it (the policy applies to whoever it is attached to) or move the statement to a "
                    f"trust or resource policy",
                ))
        if "Effect" not in node:
            out.append((stmt.loc, f'statement has no "Effect": {_REJECTED}; add "Effect": "Allow" or "Deny"'))
        else:
            effect = node["Effect"]
            if not isinstance(effect, dict) and effect not in ("Allow", "Deny"):
                hint = next((e for e in ("Allow", "Deny") if isinstance(effect, str) and effect.strip().lower() == e.lower()), None)
                fix = f'write "{hint}"' if hint else 'use "Allow" or "Deny"'
                out.append((
                    _value_loc(stmt, "Effect"),
                    f'"Effect" is {_show(effect)}, but IAM accepts only "Allow" or "Deny" (case-sensitive): '
                    f"{_REJECTED}; {fix}",
                ))
        if "Action" not in node and "NotAction" not in node:
            out.append((
                stmt.loc,
                f'statement has neither "Action" nor "NotAction": {_REJECTED}; add "Action" with the actions '
                f"it allows or denies",
            ))
        if "Resource" not in node and "NotResource" not in node:
            out.append((
                stmt.loc,
                f'statement has neither "Resource" nor "NotResource", which an identity policy requires: '
                f'{_REJECTED}; add "Resource" with what it applies to ("*" for every resource)',
            ))
    return out


def rejected(policy: PolicyDocument) -> bool:
    return policy.identity and not policy.bundled and bool(rejections(policy))


def _may_be_absent(value: Any) -> bool:
    """A value that is, or may be, ``AWS::NoValue`` (``!If [c, X, !Ref AWS::NoValue]``)."""
    stack = [value]
    while stack:
        cur = stack.pop()
        if isinstance(cur, dict):
            if cur.get("Ref") == "AWS::NoValue":
                return True
            if len(cur) == 1 and next(iter(cur)) == "Fn::If":
                stack.append(cur["Fn::If"])
        elif isinstance(cur, list):
            stack.extend(cur)
    return False


def _key_loc(stmt: iam.Statement, key: str) -> Loc:
    node = stmt.node
    assert stmt.loc is not None
    if hasattr(node, "key_span") and key in node:
        return Loc(stmt.loc.path, node.key_span(key))
    return stmt.loc


def _value_loc(stmt: iam.Statement, key: str) -> Loc:
    node = stmt.node
    assert stmt.loc is not None
    if hasattr(node, "value_span") and key in node:
        return Loc(stmt.loc.path, node.value_span(key))
    return stmt.loc


def _show(value: Any, limit: int = 80) -> str:
    try:
        text = json.dumps(value, default=str)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


class PolicyDocumentRejected(Rule):
    """An identity policy that IAM rejects: `Principal` in it, no `Resource`, no `Action`, a bad `Effect`.

    ## What it does
    Checks every identity policy in the scanned files - the `Policies` of an `AWS::IAM::Role`, the
    `PolicyDocument` of an `AWS::IAM::Policy`, `AWS::IAM::ManagedPolicy` or `AWS::IAM::RolePolicy`,
    eksctl `iam.attachPolicy`, files named in `node-role-policies` and the policies of an
    authorization-details dump - for statements IAM refuses: one with `Principal` or
    `NotPrincipal`, one with neither `Resource` nor `NotResource`, one with neither `Action` nor
    `NotAction`, and an `Effect` that is missing or not exactly `Allow` or `Deny`. Trust policies
    and ECR repository and registry policies (resource policies, where `Principal` is required)
    are not checked, nor are standalone policy files of unknown kind. A key whose value may be
    `AWS::NoValue` (under `!If`) may be absent and is not judged; neither is an `Effect` built with
    an intrinsic function.

    ## Why
    "You cannot use the `Principal` element in an identity-based policy"
    (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html);
    an identity policy statement must include `Resource` or `NotResource`
    (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_resource.html);
    `Effect` is required and its value is `Allow` or `Deny`, case-sensitive
    (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_effect.html).
    IAM answers `MalformedPolicyDocument` ("Has prohibited field Principal", for one) and rejects
    the whole document, so the stack or node group fails to deploy. ECR201, ECR203 and ECR208
    treat a rejected document as granting and denying nothing.

    ## Example
    ```yaml
    PolicyDocument:
      Version: "2012-10-17"
      Statement:
        - Effect: allow
          Principal: {Service: ec2.amazonaws.com}
          Action: ecr:BatchGetImage
    ```

    ## Fix
    Remove `Principal` (an identity policy applies to whoever it is attached to), add a
    `Resource` (`"*"` for every resource), add the `Action`, and write `Allow` or `Deny` exactly.

    ## Options
    None.
    """

    id = "ECR210"
    name = "policy-document-rejected"
    severity = Severity.ERROR

    def check(self, ws: Workspace, ctx: Context) -> Iterable[Finding]:
        seen: set[tuple[str, int, int, str]] = set()
        judged: set[int] = set()
        for policy in ws.policies + ws.node_role_policies:
            if id(policy) in judged:
                continue
            judged.add(id(policy))
            for loc, message in rejections(policy):
                key = (loc.path, loc.span.line, loc.span.column, message)
                if key in seen:
                    continue  # one written statement, even when an Fn::If statement was expanded twice
                seen.add(key)
                yield self.finding(loc, message)
