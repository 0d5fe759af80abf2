"""Fargate: EKS API profile JSON, selector matching, pod execution role ARNs and trust, what Fargate cannot run."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Iterator, Sequence

from . import iam
from . import principals
from ..model import Loc, Span, YMap, YSeq
from ..workspace import FargateProfile, FargateSelector, PolicyDocument, Role, Workload

# Sources, pages of the EKS User Guide (https://docs.aws.amazon.com/eks/latest/userguide/):
# pod-execution-role.html (trust principal, the SourceArn condition), fargate-profile.html
# (selectors, wildcards, the profile label), fargate.html ("AWS Fargate considerations": no
# DaemonSets, privileged containers, HostNetwork/HostPort, GPUs).
FARGATE_SERVICE = "eks-fargate-pods.amazonaws.com"
ASSUME_ROLE = "sts:AssumeRole"
PROFILE_LABEL = "eks.amazonaws.com/fargate-profile"
SOURCE_KEYS = ("aws:sourcearn", "aws:sourceaccount")
GPU_RESOURCES = ("nvidia.com/gpu", "amd.com/gpu")
GPU_PREFIXES = ("aws.amazon.com/neuron",)  # Inferentia/Trainium: neuron, neuroncore, neurondevice
_TOKEN = re.compile(r"^\$\{([^}.]+)(?:\.([^}]+))?\}$")  # a !Ref / !GetAtt as cfn_intrinsics resolves it


# --- selectors -----------------------------------------------------------------------------------


@lru_cache(maxsize=1024)
def _wildcard(pattern: str) -> re.Pattern[str]:
    parts = (".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.compile("".join(parts) + r"\Z", re.DOTALL)


def wildcard_match(pattern: str, text: str) -> bool:
    """EKS selector wildcards: ``*`` any run of characters, ``?`` exactly one; case-sensitive."""
    return _wildcard(pattern).match(text) is not None


def selector_matches(selector: FargateSelector, namespace: str, labels: dict[str, str]) -> bool:
    """The namespace matches and every selector label matches some pod label (key and value)."""
    if not wildcard_match(selector.namespace, namespace):
        return False
    return all(
        any(wildcard_match(key, k) and wildcard_match(value, v) for k, v in labels.items())
        for key, value in selector.labels.items()
    )


def matching_selector(profile: FargateProfile, namespace: str, labels: dict[str, str]) -> FargateSelector | None:
    return next((s for s in profile.selectors if selector_matches(s, namespace, labels)), None)


def selecting_profiles(
    profiles: Sequence[FargateProfile], namespace: str, labels: dict[str, str]
) -> list[tuple[FargateProfile, FargateSelector]]:
    """The profiles that may run a pod: every matching one (EKS picks one of them at random),
    or only the one the ``eks.amazonaws.com/fargate-profile`` label names, if it matches."""
    matches = [(p, s) for p in profiles if (s := matching_selector(p, namespace, labels)) is not None]
    pinned = labels.get(PROFILE_LABEL)
    if pinned is not None and len(matches) > 1:
        chosen = [(p, s) for p, s in matches if p.name == pinned]
        return chosen or matches
    return matches


# --- pod execution role ARNs (ECR306) ------------------------------------------------------------

_PLACEHOLDER = re.compile(r"<[^>]*>|\{\{.*?\}\}|\$\{[^}]*\}|\$[A-Z_][A-Z0-9_]*")
_PARTITION = re.compile(r"^aws(?:-[a-z]+)*$")
_ROLE_NAME = re.compile(r"^[\w+=,.@-]{1,64}$")
_ROLE_PATH = re.compile(r"^[\x21-\x7e]*$")
EXAMPLE_ARN = "arn:aws:iam::111122223333:role/NAME"
_CFN_TOKEN = re.compile(r"\$\{[^}]*\}")
_MASK = "\x00"


def _unmask(part: str, tokens: list[str]) -> str:
    """Put masked tokens back, in order (each ``_MASK`` stands for the next token)."""
    while _MASK in part:
        part = part.replace(_MASK, tokens.pop(0), 1)
    return part


def role_arn_problem(text: str, symbols_allowed: bool) -> str | None:
    """What is wrong with a pod execution role ARN as written, or None.

    ``symbols_allowed``: CloudFormation values keep ``${AWS::AccountId}``-style tokens for values
    only known at deploy time; anywhere else ``${X}`` is an unrendered placeholder.
    """
    arn = text.strip()
    placeholder = next(
        (m.group(0) for m in _PLACEHOLDER.finditer(arn) if not (symbols_allowed and m.group(0).startswith("${"))),
        None,
    )
    if placeholder is not None:
        return f'holds the placeholder "{placeholder}"; put the real value'
    # ${AWS::Partition} holds colons: mask CloudFormation tokens before splitting the ARN
    tokens = _CFN_TOKEN.findall(arn)
    parts = _CFN_TOKEN.sub(_MASK, arn).split(":", 5)
    if len(parts) != 6 or parts[0] != "arn":
        return f"is not an ARN; a pod execution role ARN looks like {EXAMPLE_ARN}"
    _, partition, service, region, account, resource = (_unmask(p, tokens) for p in parts)
    if "${" not in partition and not _PARTITION.match(partition):
        return f'has an unknown partition "{partition}"; use aws, aws-cn or aws-us-gov'
    if service != "iam":
        return f'names the service "{service}", not "iam"; a pod execution role ARN looks like {EXAMPLE_ARN}'
    if region:
        return f'has a region "{region}"; IAM ARNs have none ({EXAMPLE_ARN})'
    if "${" not in account:
        if not account.isdigit():
            return f'has the placeholder account "{account}"; put the 12-digit account ID'
        if len(account) != 12:
            return f'has an account "{account}" of {len(account)} digits; an account ID has 12'
    rtype, _, rest = resource.partition("/")
    if rtype != "role":
        what = f'the resource type "{rtype}"' if rtype else "no resource type"
        return f'names {what}, not "role"; a pod execution role ARN looks like {EXAMPLE_ARN}'
    path, _, name = rest.rpartition("/")
    if "${" not in name and not _ROLE_NAME.match(name):
        return f'has an invalid role name "{name}" (1-64 letters, digits and +=,.@_-)'
    if path and not _ROLE_PATH.match(path):
        return f'has an invalid role path "{path}"'
    return None


def role_ref_problem(profile: FargateProfile) -> str | None:
    """ECR306's message for a profile's pod execution role reference, or None."""
    ref = profile.role_ref
    if not ref:
        return None
    m = _TOKEN.match(ref)
    if m is not None:
        role = profile.role
        if role is not None and role.source == "cloudformation" and m.group(1) == role.name and not m.group(2):
            return (
                f'PodExecutionRoleArn is !Ref "{role.name}", which returns the role\'s name, not its ARN; '
                f"use !GetAtt {role.name}.Arn"
            )
        return None  # a reference resolved at deploy time (ECR301 judges dangling ones)
    # CloudFormation and Terraform facts write deploy-time values as ${...} symbols
    problem = role_arn_problem(ref, symbols_allowed=profile.source in ("cloudformation", "terraform"))
    return f'pod execution role ARN "{ref}" {problem}' if problem else None


# --- trust policies (ECR302, ECR304) -------------------------------------------------------------


@dataclass(frozen=True)
class Trust:
    """Whether a role's trust policy lets Fargate assume it, and how."""

    verdict: principals.Verdict
    unguarded: tuple[iam.Statement, ...]  # allowing statements without SourceArn/SourceAccount
    blocked: tuple[tuple[iam.Statement, str], ...]  # allowing statements whose condition never holds
    trusted_services: tuple[str, ...]  # who the policy does trust (for the message)


def trust_document(role: Role) -> PolicyDocument | None:
    """The role's trust policy as a policy document (intrinsics resolve against its template).

    A trust policy written as ``!Sub`` JSON text is read too: CloudFormation substitutes the
    ``${...}`` and parses the JSON; here the tokens stay symbolic."""
    document = role.trust_policy
    if document is None:
        return None
    template = next((p.template for p in role.policies if p.template is not None), None)
    loc = role.trust_loc or role.loc
    if isinstance(document, dict) and len(document) == 1 and next(iter(document)) in ("Fn::Sub", "Fn::Join"):
        from ..sources.cfn_intrinsics import Template, resolve_string

        text, _symbolic = resolve_string(document, template or Template({}))
        try:
            document = _spanned(json.loads(text), loc.span) if text else None
        except ValueError:
            document = None
        if document is None:
            return None
    return PolicyDocument(document, loc, f"trust policy of {role.name}", template=template)


def _spanned(value: Any, span: Span) -> Any:
    """JSON parsed from a ``!Sub`` string, every node placed at the ``!Sub`` itself."""
    if isinstance(value, dict):
        out = YMap(span)
        for key, item in value.items():
            out[key] = _spanned(item, span)
            out.spans[key] = (span, span)
        return out
    if isinstance(value, list):
        seq = YSeq(span)
        seq.extend(_spanned(item, span) for item in value)
        seq.spans.extend(span for _ in value)
        return seq
    return value


def check_trust(role: Role, cluster_name: str | None = None, account: str | None = None) -> Trust | None:
    """Evaluate ``sts:AssumeRole`` for eks-fargate-pods.amazonaws.com; None when the policy is unknown."""
    document = trust_document(role)
    if document is None or not iam.statements(document):
        return None

    def test(operator: str, key: str, values: list[Any]) -> bool | None:
        return _source_condition(operator, key, values, cluster_name, account)[0]

    caller = principals.Caller(service=FARGATE_SERVICE)
    verdict = principals.evaluate(document, ASSUME_ROLE, caller, condition_test=test, trust_policy=True)
    unguarded: tuple[iam.Statement, ...] = ()
    if verdict.status == "allowed":
        unguarded = tuple(s for s in verdict.allows if not _has_source_condition(s))
    blocked = tuple((stmt, _block_reason(stmt, cluster_name, account)) for stmt in verdict.blocked)
    return Trust(verdict, unguarded, blocked, tuple(_trusted(iam.statements(document))))


def _block_reason(stmt: iam.Statement, cluster_name: str | None, account: str | None) -> str:
    for operator, key, values in principals.conditions(stmt):
        holds, why = _source_condition(operator, key, values, cluster_name, account)
        if holds is False:
            return why
    return "its condition never holds"


def _has_source_condition(stmt: iam.Statement) -> bool:
    return any(key.lower() in SOURCE_KEYS for _op, key, _values in principals.conditions(stmt))


def _trusted(stmts: Sequence[iam.Statement]) -> Iterator[str]:
    """The principals a trust policy does allow, for the message ("it trusts ec2.amazonaws.com")."""
    seen: set[str] = set()
    for stmt in stmts:
        principal = stmt.principal
        if stmt.effect != "Allow" or not isinstance(principal, dict):
            continue
        for items in principal.values():
            for item in principals.as_list(items):
                if isinstance(item, str) and item not in seen:
                    seen.add(item)
                    yield item


def _source_condition(
    operator: str, key: str, values: list[Any], cluster_name: str | None, account: str | None
) -> tuple[bool | None, str]:
    """Does a SourceArn/SourceAccount test hold when Fargate assumes the role for this cluster?
    ``(True, "")`` holds (or depends on symbols of this stack), ``(False, why)`` never holds,
    ``(None, "")`` cannot be judged offline."""
    key = key.lower()
    base = operator.removeprefix("ForAnyValue:").removeprefix("ForAllValues:").removesuffix("IfExists")
    if key not in SOURCE_KEYS or base not in ("ArnLike", "ArnEquals", "StringLike", "StringEquals"):
        return None, ""
    written = [principals.as_text(v) for v in values]
    texts = [t for t in written if t is not None and "${" not in t]
    if not written or len(texts) != len(written):
        return True, ""  # symbolic: "this stack's" values, never guessed to be wrong
    shown = ", ".join(f'"{t}"' for t in texts)
    if key == "aws:sourceaccount":
        if account is None or account in texts:
            return True, ""
        return False, f"requires aws:SourceAccount {shown}, not the cluster's account {account}"
    like = base in ("ArnLike", "StringLike")
    if any(_may_be_profile_arn(t, like, cluster_name) for t in texts):
        return True, ""
    target = f"arn:aws:eks:REGION:ACCOUNT:fargateprofile/{cluster_name or 'CLUSTER'}/*"
    return False, f"requires aws:SourceArn {shown}, which no Fargate profile ARN matches (they look like {target})"


def _may_be_profile_arn(pattern: str, like: bool, cluster_name: str | None) -> bool:
    """Could a Fargate profile ARN of this cluster match ``pattern``? Only literal parts are judged."""
    parts = pattern.split(":", 5)
    if len(parts) != 6:
        return like and "*" in pattern  # a wildcard may span the colons
    if not (wildcard_match(parts[2], "eks") if like else parts[2] == "eks"):
        return False
    literal = re.split(r"[*?]", parts[5], maxsplit=1)[0] if like else parts[5]
    head = "fargateprofile/"
    if not (literal.startswith(head) or head.startswith(literal)):
        return False
    rest = literal[len(head):] if literal.startswith(head) else ""
    if cluster_name and rest:
        segment, slash, _ = rest.partition("/")
        return segment == cluster_name if slash else cluster_name.startswith(segment)
    return True


# --- what Fargate cannot run (ECR305) --------------------------------------------------------------


@dataclass(frozen=True)
class Blocker:
    """One reason Fargate cannot run a workload, at the offending field."""

    loc: Loc
    what: str  # what Fargate does not support: "DaemonSets", "hostNetwork", ...


def blockers(workload: Workload, spec: YMap | None = None) -> list[Blocker]:
    """Every feature of a workload that Fargate does not support, at the field that asks for it.

    ``spec``: the pod spec when the workload no longer holds it (Workspace.pod_spec_of).
    """
    path = workload.path
    out: list[Blocker] = []
    if workload.kind == "DaemonSet":
        out.append(Blocker(workload.kind_loc, "DaemonSets"))
    spec = spec if spec is not None else workload.pod_spec or YMap()
    if spec.get("hostNetwork") is True:
        out.append(Blocker(Loc(path, spec.key_span("hostNetwork")), "hostNetwork"))
    for container in _containers(workload, spec):
        out.extend(_container_blockers(container, path))
    return out


# Argo Workflows: the workload's spec is the workflow spec; each template runs a pod of its own.
WORKFLOW_KINDS = ("Workflow", "WorkflowTemplate", "ClusterWorkflowTemplate", "CronWorkflow")


def _containers(workload: Workload, spec: YMap) -> Iterator[YMap]:
    lists: list[Any] = [spec.get(n) for n in ("initContainers", "containers", "ephemeralContainers")]
    templates = spec.get("templates") if workload.kind in WORKFLOW_KINDS else None
    for template in templates if isinstance(templates, YSeq) else ():
        if isinstance(template, YMap):
            lists.append([template.get("container"), template.get("script")])
            container_set = template.get("containerSet")
            lists.extend([template.get("initContainers"), template.get("sidecars"),
                          container_set.get("containers") if isinstance(container_set, YMap) else None])
    for items in lists:
        if isinstance(items, list):
            yield from (c for c in items if isinstance(c, YMap))


def _container_blockers(container: YMap, path: str) -> Iterator[Blocker]:
    name = container.get("name")
    label = f'container "{name}"' if isinstance(name, str) else "a container"
    security = container.get("securityContext")
    if isinstance(security, YMap) and security.get("privileged") is True:
        yield Blocker(Loc(path, security.key_span("privileged")), f"privileged containers ({label})")
    ports = container.get("ports")
    if isinstance(ports, YSeq):
        for port in ports:
            if isinstance(port, YMap) and port.get("hostPort") not in (None, 0, "0"):
                what = f"hostPort ({label}, hostPort {port.get('hostPort')})"
                yield Blocker(Loc(path, port.key_span("hostPort")), what)
    resources = container.get("resources")
    if not isinstance(resources, YMap):
        return
    for section, block in resources.items():  # in the order written: the first mention is flagged
        if section not in ("limits", "requests") or not isinstance(block, YMap):
            continue
        for resource, amount in block.items():
            key = str(resource)
            if (key in GPU_RESOURCES or key.startswith(GPU_PREFIXES)) and amount not in (0, "0"):
                yield Blocker(Loc(path, block.key_span(resource)), f"GPUs and accelerators ({label} {section} {key})")
                return  # one finding per container: limits and requests name the same device


# --- DaemonSets and the Fargate node taint (ECR307) -----------------------------------------------

# Every Fargate node carries the taint eks.amazonaws.com/compute-type=fargate:NoSchedule and the label
# eks.amazonaws.com/compute-type=fargate; a DaemonSet pod is made for each node whose taints it
# tolerates and whose labels its node selector and required node affinity allow. A toleration with
# no key and ``operator: Exists`` matches every taint; an empty effect matches every effect
# (https://kubernetes.io/docs/reference/kubernetes-api/definitions/toleration-v1/,
# https://kubernetes.io/docs/concepts/scheduling-eviction/taint-and-toleration/). Such a DaemonSet's
# pod on a Fargate node stays Pending for ever (aws/amazon-cloudwatch-agent-operator#183,
# kubernetes-sigs/aws-efs-csi-driver#340, aws-samples/amazon-cloudwatch-container-insights#61);
# the fix is the node affinity aws-node and kube-proxy carry, ``eks.amazonaws.com/compute-type
# NotIn [fargate]`` (aws-observability/helm-charts#58).
COMPUTE_TYPE = "eks.amazonaws.com/compute-type"
# Node labels a Fargate node has with these values (Fargate runs Linux pods on x86_64): a selector
# on them alone does not keep the DaemonSet off Fargate nodes.
_FARGATE_NODE_LABELS = {
    "kubernetes.io/os": "linux",
    "beta.kubernetes.io/os": "linux",
    "kubernetes.io/arch": "amd64",
    "beta.kubernetes.io/arch": "amd64",
}


def fargate_toleration(spec: Any) -> Loc | None:
    """The span of the first toleration that tolerates the Fargate taint (as a Loc without a path:
    the caller supplies it), or None."""
    tolerations = spec.get("tolerations") if isinstance(spec, dict) else None
    if not isinstance(tolerations, YSeq):
        return None
    for i, toleration in enumerate(tolerations):
        if isinstance(toleration, dict) and _tolerates(toleration):
            return Loc("", tolerations.item_span(i))
    return None


def _tolerates(toleration: dict[str, Any]) -> bool:
    effect = toleration.get("effect")
    if effect not in (None, "", "NoSchedule"):
        return False
    key = toleration.get("key") or ""
    operator = toleration.get("operator") or "Equal"
    if operator == "Exists":
        return key in ("", COMPUTE_TYPE)
    return operator == "Equal" and key == COMPUTE_TYPE and toleration.get("value") == "fargate"


def may_run_on_fargate_nodes(spec: Any) -> bool:
    """Do the pod spec's node selector and required node affinity surely allow a Fargate node? Only
    selectors on labels whose Fargate value is known count; anything else may keep them off (False)."""
    if not isinstance(spec, dict):
        return False
    selector = spec.get("nodeSelector")
    if selector is not None:
        if not isinstance(selector, dict):
            return False
        for key, value in selector.items():
            if _FARGATE_NODE_LABELS.get(str(key)) != value:
                return False  # another label (or compute-type itself): Fargate nodes may lack it
    affinity = spec.get("affinity")
    node_affinity = affinity.get("nodeAffinity") if isinstance(affinity, dict) else None
    required = node_affinity.get("requiredDuringSchedulingIgnoredDuringExecution") if isinstance(node_affinity, dict) else None
    if required is None:
        return True
    terms = required.get("nodeSelectorTerms") if isinstance(required, dict) else None
    if not isinstance(terms, list) or not terms:
        return False
    # Terms are ORed: one term a Fargate node surely satisfies is enough.
    return any(_term_allows_fargate(term) for term in terms)


def _term_allows_fargate(term: Any) -> bool:
    if not isinstance(term, dict) or term.get("matchFields"):
        return False
    expressions = term.get("matchExpressions") or []
    if not isinstance(expressions, list):
        return False
    for expression in expressions:
        if not isinstance(expression, dict):
            return False
        key, operator, values = expression.get("key"), expression.get("operator"), expression.get("values") or []
        fargate_value = "fargate" if key == COMPUTE_TYPE else _FARGATE_NODE_LABELS.get(str(key))
        if fargate_value is None or not isinstance(values, list):
            return False
        if operator == "In" and fargate_value in values:
            continue
        if operator == "NotIn" and fargate_value not in values:
            continue
        if operator == "Exists":
            continue
        return False
    return True
