"""Resource-based policies for one caller: role trust policies and ECR repository policies."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Callable, Iterator

from .iam import Statement, action_matches, statements
from ..workspace import PolicyDocument

# ``iam.evaluate`` answers for identity policies and ignores principals; here they are the point.
# Sources: IAM UG reference_policies_elements_principal.html ("*" and {"AWS": "*"} mean every
# principal; an account principal delegates to that account's identity policies),
# reference_policies_elements_notprincipal.html ("You cannot use the NotPrincipal element in an IAM
# identity-based policy nor in an IAM role trust policy"), and
# reference_policies_evaluation-logic_policy-eval-denyallow.html (an explicit Deny wins).

ACCOUNT = re.compile(r"^\d{12}$")
_ACCOUNT_ROOT = re.compile(r"^arn:[a-z-]+:iam::(\d{12}):root$")
_IAM_ARN = re.compile(r"^arn:[a-z-]+:(?:iam|sts)::(\d{12}):")
_URL_SUFFIX = "${aws::urlsuffix}"

# A condition test: (operator, context key, values) -> True (holds for this caller), False (never
# holds), None (cannot be judged offline).
ConditionTest = Callable[[str, str, list[Any]], "bool | None"]


@dataclass(frozen=True)
class Caller:
    """Who calls: a service principal, or an IAM role in an account (any part may be unknown)."""

    service: str | None = None
    account: str | None = None  # 12 digits when known
    role_arn: str | None = None  # a ``${...}`` token in it makes comparisons unknown


@dataclass(frozen=True)
class Verdict:
    """The answer for one action. ``status``: "allowed"; "conditional" (only under a condition that
    cannot be judged offline); "denied"; "possibly-denied"; "not-granted"; "invalid" (the document
    cannot be a trust policy as written); "unknown" (depends on values not known offline)."""

    status: str
    reason: str
    allows: tuple[Statement, ...] = ()
    denies: tuple[Statement, ...] = ()
    blocked: tuple[Statement, ...] = ()  # would allow, but their condition never holds for this caller

    @property
    def allowed(self) -> bool:
        return self.status == "allowed"


def as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list) else [value]


def as_text(value: Any) -> str | None:
    """A principal or condition value as text; CloudFormation intrinsics resolved symbolically."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        from ..sources.cfn_intrinsics import Template, resolve_string

        return resolve_string(value, Template({}))[0]
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    return None


def _service_matches(name: str, service: str) -> bool | None:
    text = name.strip().lower()
    # CDK writes the suffix as ${AWS::URLSuffix} (amazonaws.com; amazonaws.com.cn in China).
    if text.endswith(_URL_SUFFIX):
        text = text[: -len(_URL_SUFFIX)] + "amazonaws.com"
    if "${" in text:
        return None
    return text in (service.lower(), service.lower() + ".cn")


def _aws_matches(value: str, caller: Caller) -> bool | None:
    if value == "*":
        return True
    if caller.service is not None:
        return False  # an AWS principal names accounts and IAM identities, never a service
    if "${" in value:
        return None
    m = _ACCOUNT_ROOT.match(value)
    account = value if ACCOUNT.match(value) else (m.group(1) if m else None)
    if account is not None:
        return None if caller.account is None else account == caller.account
    m = _IAM_ARN.match(value)
    if m is None:
        return None  # a unique ID (AROA...) or text we cannot read
    if caller.account is not None and m.group(1) != caller.account:
        return False  # an identity of another account
    if caller.role_arn is not None and "${" not in caller.role_arn:
        return value == caller.role_arn
    return None


def principal_matches(principal: Any, caller: Caller) -> bool | None:
    """Whether a ``Principal`` element names ``caller``; None when that depends on unknown values."""
    if not isinstance(principal, dict) or set(principal) & {"Ref", "Fn::If", "Fn::Sub", "Fn::Join"}:
        text = as_text(principal)
        return True if text == "*" else (None if text is None or "${" in text else False)
    unknown = False
    for ptype, raw in principal.items():
        for item in as_list(raw):
            text = as_text(item)
            if text is None:
                unknown = True
                continue
            if ptype == "Service":
                hit = _service_matches(text, caller.service) if caller.service else False
            elif ptype == "AWS":
                hit = _aws_matches(text, caller)
            else:  # Federated, CanonicalUser: never a role or a service
                hit = text == "*"
            if hit:
                return True
            unknown = unknown or hit is None
    return None if unknown else False


def _names_action(stmt: Statement, action: str) -> bool:
    if stmt.not_actions is not None:
        return not any(action_matches(p, action) for p in stmt.not_actions)
    return any(action_matches(p, action) for p in stmt.actions)


def conditions(stmt: Statement) -> Iterator[tuple[str, str, list[Any]]]:
    """``(operator, key, values)`` for each test in a statement's Condition block."""
    block = stmt.condition
    if not isinstance(block, dict):
        return
    for operator, tests in block.items():
        if not isinstance(tests, dict):
            yield str(operator), "", []
            continue
        for key, values in tests.items():
            yield str(operator), str(key), as_list(values)


def _condition_holds(stmt: Statement, test: ConditionTest | None) -> bool | None:
    if stmt.condition is not None and not isinstance(stmt.condition, dict):
        return None
    result: bool | None = True
    for operator, key, values in conditions(stmt):
        verdict = test(operator, key, values) if test else None
        if verdict is False:
            return False
        if verdict is None:
            result = None
    return result


def _covers(stmt: Statement, caller: Caller) -> bool | None:
    """Whether the statement's Principal (or NotPrincipal) takes in ``caller``; None when that is not known."""
    if stmt.not_principal is not None:
        named = principal_matches(stmt.not_principal, caller)
        return None if named is None else not named
    return principal_matches(stmt.principal, caller)


def evaluate(
    policy: PolicyDocument,
    action: str,
    caller: Caller,
    *,
    condition_test: ConditionTest | None = None,
    trust_policy: bool = False,
) -> Verdict:
    """May ``caller`` perform ``action`` under this resource-based (or trust) policy?"""
    stmts = statements(policy)
    if not stmts:
        return Verdict("unknown", "the policy has no statement ecrlint can read")
    allows: list[Statement] = []
    conditional: list[Statement] = []
    denies: list[Statement] = []
    maybe_denies: list[Statement] = []
    blocked: list[Statement] = []
    unknown = False
    for stmt in stmts:
        if trust_policy and stmt.not_principal is not None:
            return Verdict(
                "invalid",
                f"{stmt.where()} uses NotPrincipal, which a role trust policy cannot use (IAM rejects it)",
                denies=(stmt,),
            )
        covers = _covers(stmt, caller)
        if covers is False or not _names_action(stmt, action):
            continue
        if covers is None:
            unknown = True
            continue
        holds = _condition_holds(stmt, condition_test)
        deny = stmt.effect == "Deny"
        if holds is False:
            if not deny:
                blocked.append(stmt)
        elif deny:
            (denies if holds else maybe_denies).append(stmt)
        elif stmt.effect == "Allow":
            (allows if holds else conditional).append(stmt)
    every_allow = tuple(allows + conditional)
    if denies:
        return Verdict("denied", f"denied by {denies[0].where()}", every_allow, tuple(denies))
    if maybe_denies and every_allow:
        reason = f"{maybe_denies[0].where()} denies it under a condition"
        return Verdict("possibly-denied", reason, every_allow, tuple(maybe_denies))
    return _not_denied(allows, conditional, unknown, blocked)


def _not_denied(
    allows: list[Statement], conditional: list[Statement], unknown: bool, blocked: list[Statement]
) -> Verdict:
    """The verdict when no Deny stands in the way: allowed, only under a condition, unknown, or not granted."""
    every_allow = tuple(allows + conditional)
    if allows:
        return Verdict("allowed", f"allowed by {allows[0].where()}", every_allow)
    if conditional:
        return Verdict("conditional", f"allowed only under the condition of {conditional[0].where()}", every_allow)
    if unknown:
        return Verdict("unknown", "a statement names principals that are not known offline")
    if blocked:
        return Verdict("not-granted", f"the condition of {blocked[0].where()} never holds", blocked=tuple(blocked))
    return Verdict("not-granted", "no statement allows it")
