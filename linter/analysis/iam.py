"""Offline IAM evaluation: is an action allowed on a resource by a set of identity policies?"""

from __future__ import annotations

import itertools
import json
import re
import weakref
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any, Callable, Iterable, Iterator, Mapping, Sequence

from . import arnsets, awsdata
from ..model import NO_SPAN, Loc, Span, YMap, YSeq
from ..workspace import PolicyDocument, Role

# Semantics follow the IAM User Guide, https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies.html:
# action names are case-insensitive globs with "*" and "?";
# resource ARNs are matched segment by segment (a "*" that ends a segment may run across
# ":"); NotAction / NotResource match everything except what they list; an explicit Deny beats any
# Allow; a statement with a Condition only holds sometimes, so a grant under a condition is
# "conditional" and a Deny under a condition "possibly" applies. Values CloudFormation knows only at
# deploy time stay as ${...} tokens, and a comparison that depends on them is "unknown".
# The one condition decided offline is aws:ViaAWSService (see ``condition_holds``): every question
# asked here is about a direct call (kubelet, the ECR credential provider, Fargate's pull), for which
# the key is present and false; aws:SourceVpc, aws:SourceIp and every other key stay undecided.

ECR_PULL_ACTIONS = ("ecr:GetAuthorizationToken", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer")
VERSION_CURRENT = "2012-10-17"
VERSION_LEGACY = "2008-10-17"
VALID_VERSIONS = (VERSION_CURRENT, VERSION_LEGACY)
BUNDLED_PATH = "<aws-managed-policy>"

# --- statements --------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Statement:
    """One parsed statement, with where it is."""

    effect: str
    actions: tuple[str, ...]
    not_actions: tuple[str, ...] | None
    resources: tuple[str, ...]
    not_resources: tuple[str, ...] | None
    condition: Any
    sid: str | None
    loc: Loc | None
    policy: PolicyDocument | None
    # Extras beyond the shared API (all optional):
    index: int = 0  # position in the policy's Statement list
    version: str | None = None  # the policy's Version, as written (None when absent)
    node: Any = None  # the statement mapping itself (YMap carries spans)
    action_locs: tuple[Loc | None, ...] = ()  # one per entry of actions (or not_actions)
    principal: Any = None  # Principal / NotPrincipal as written (trust and resource policies)
    not_principal: Any = None

    @property
    def conditional(self) -> bool:
        return bool(self.condition)

    def where(self) -> str:
        """A short phrase naming the statement for messages: 'Sid DenyPull at iam.json:12'."""
        policy = self.policy
        if policy is not None and policy.bundled:
            return f"AWS managed policy {policy.name}"
        label = f"Sid {self.sid}" if self.sid else "the statement"
        if self.loc is None:
            return label
        return f"{label} at {self.loc.short()}"


_CACHE: "weakref.WeakKeyDictionary[PolicyDocument, list[Statement]]" = weakref.WeakKeyDictionary()


# A bundled AWS managed policy is expanded into a new PolicyDocument for every role attaching it
# (and arrives as a fresh copy from every pool worker); its statements differ only in where they
# point, so they are parsed once per managed policy ARN, which fixes the document.
_BUNDLED: dict[str, list[Statement]] = {}


def _bundled_arn(policy: PolicyDocument) -> str | None:
    if policy.bundled and policy.managed_arn and policy.template is None and isinstance(policy.document, dict):
        return policy.managed_arn
    return None


def statements(policy: PolicyDocument) -> list[Statement]:
    """The statements of a policy document (``Statement`` as an object or a list), intrinsics resolved."""
    cached = _CACHE.get(policy)
    if cached is None:
        arn = _bundled_arn(policy)
        if arn is None:
            cached = list(_parse_statements(policy))
        else:
            parsed = _BUNDLED.get(arn)
            if parsed is None:
                parsed = _BUNDLED[arn] = list(_parse_statements(policy))
            cached = [replace(s, loc=policy.loc, policy=policy) for s in parsed]
        _CACHE[policy] = cached
    return cached


def policy_document(policy: PolicyDocument) -> Any:
    """The policy as a mapping: CloudFormation also takes a JSON string, often built with ``!Sub``."""
    document = policy.document
    if _is_intrinsic(document):
        texts = _resolve(document, policy)
        document = texts[0] if len(texts) == 1 else None
    if isinstance(document, str):
        try:
            document = json.loads(document)
        except ValueError:
            return None
    return document


_document = policy_document


def _parse_statements(policy: PolicyDocument) -> Iterable[Statement]:
    document = _document(policy)
    if not isinstance(document, dict):
        return
    version = document.get("Version") if isinstance(document.get("Version"), str) else None
    raw = document.get("Statement")
    path = policy.loc.path
    if isinstance(raw, dict) and not _is_intrinsic(raw):
        items = [(raw, _value_span(document, "Statement", policy))]
    elif isinstance(raw, list):
        items = [(item, _item_span(raw, i, policy)) for i, item in enumerate(raw)]
    elif isinstance(raw, dict):
        items = [(raw, _value_span(document, "Statement", policy))]
    else:
        return
    index = 0
    for item, span in items:
        for stmt in _branches(item, policy):
            if not isinstance(stmt, dict):
                continue
            # a document without positions (a JSON string, a bundled copy): the policy's own place
            loc = policy.loc if policy.bundled or span is None else Loc(path, span)
            yield _statement(stmt, policy, version, index, loc)
        index += 1


def _branches(item: Any, policy: PolicyDocument) -> list[Any]:
    """A statement written as ``Fn::If [cond, A, B]`` stands for both A and B (AWS::NoValue drops out)."""
    if isinstance(item, dict) and len(item) == 1 and "Fn::If" in item:
        arg = item["Fn::If"]
        if isinstance(arg, list) and len(arg) == 3:
            return [b for branch in arg[1:] for b in _branches(branch, policy)]
        return []
    if isinstance(item, dict) and item.get("Ref") == "AWS::NoValue":
        return []
    return [item]


def _statement(stmt: dict, policy: PolicyDocument, version: str | None, index: int, loc: Loc) -> Statement:
    actions, action_locs = _strings_with_locs(stmt, "Action", policy)
    not_actions: tuple[str, ...] | None = None
    if "Action" not in stmt and "NotAction" in stmt:
        na, action_locs = _strings_with_locs(stmt, "NotAction", policy)
        not_actions = tuple(na)
    resources, _ = _strings_with_locs(stmt, "Resource", policy, unknown="${Fn::Unknown}")
    not_resources = None
    if "Resource" not in stmt and "NotResource" in stmt:
        nr, _ = _strings_with_locs(stmt, "NotResource", policy, unknown="${Fn::Unknown}")
        not_resources = tuple(nr)
    sid = stmt.get("Sid")
    effect = stmt.get("Effect")
    return Statement(
        effect=effect if isinstance(effect, str) else "",
        actions=tuple(actions) if not_actions is None else (),
        not_actions=not_actions,
        resources=tuple(resources) if not_resources is None else (),
        not_resources=not_resources,
        condition=stmt.get("Condition") or None,
        sid=sid if isinstance(sid, str) and sid else None,
        loc=loc,
        policy=policy,
        index=index,
        version=version,
        node=stmt,
        action_locs=tuple(action_locs),
        principal=stmt.get("Principal"),
        not_principal=stmt.get("NotPrincipal"),
    )


def _strings_with_locs(
    stmt: dict, key: str, policy: PolicyDocument, unknown: str | None = None
) -> tuple[list[str], list[Loc | None]]:
    """Every string of ``stmt[key]`` (a string, a list, or intrinsics) with the location of each."""
    value = stmt.get(key)
    if value is None:
        return [], []
    path = policy.loc.path
    out: list[str] = []
    locs: list[Loc | None] = []

    def add(item: Any, span: Span | None) -> None:
        if item is None:
            return
        loc = Loc(path, span) if span is not None and not policy.bundled else None
        if isinstance(item, str):
            out.append(item)
            locs.append(loc)
            return
        resolved = _resolve(item, policy)
        if not resolved and unknown is not None and not _is_no_value(item):
            resolved = [unknown]  # ImportValue and the like: some value, not knowable offline
        for text in resolved:
            out.append(text)
            locs.append(loc)

    if isinstance(value, list) and not _is_intrinsic(value):
        for i, item in enumerate(value):
            span = value.spans[i] if isinstance(value, YSeq) and i < len(value.spans) else None
            add(item, span)
    else:
        span = stmt.spans[key][1] if isinstance(stmt, YMap) and key in stmt.spans else None
        if isinstance(value, dict) and "Fn::If" in value:
            # a whole list chosen by Fn::If: both branches
            for branch in _branches(value, policy):
                if isinstance(branch, list):
                    for item in branch:
                        add(item, span)
                else:
                    add(branch, span)
        else:
            add(value, span)
    return out, locs


def _resolve(value: Any, policy: PolicyDocument) -> list[str]:
    template = getattr(policy, "template", None)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return [str(value)]
    if template is None or not isinstance(value, dict):
        return []
    from ..sources.cfn_intrinsics import resolve_values

    return list(dict.fromkeys(resolve_values(value, template)))


def _is_intrinsic(value: Any) -> bool:
    if not isinstance(value, dict) or len(value) != 1:
        return False
    key = next(iter(value))
    return key in ("Ref", "Condition") or str(key).startswith("Fn::")


def _is_no_value(value: Any) -> bool:
    return isinstance(value, dict) and value.get("Ref") == "AWS::NoValue"


def _value_span(container: Any, key: str, policy: PolicyDocument) -> Any:
    return container.value_span(key) if isinstance(container, YMap) else None


def _item_span(seq: Any, i: int, policy: PolicyDocument) -> Any:
    return seq.item_span(i) if isinstance(seq, YSeq) else None


# --- matching ----------------------------------------------------------------------------------

# Pattern tokens: a one-character str is a literal; the tuples below are wildcards and symbols.
_SEG = ("*",)  # any run of characters within an ARN segment (no ":")
_ALL = ("**",)  # any run of characters, ":" included (a "*" that ends a segment; a whole "*")
_ONE = ("?",)  # one character, not ":"
# ("$", name, spans_colons): a value not known offline (${AWS::AccountId}, ${aws:username}, Ref X)
_NEVER = ("never",)  # a policy variable with no value in the request: matches no character
_SEGMENT_PSEUDO = frozenset(["AWS::AccountId", "AWS::Region", "AWS::Partition", "AWS::URLSuffix"])
_VAR = re.compile(r"\$\{([^}]*)\}")
_DEFAULTED = re.compile(r"^\s*([^,\s]+)\s*,\s*'((?:[^']|'')*)'\s*$")
# Keys a role session's request never carries: aws:username exists only for IAM users, and the
# identity-provider keys only for web-identity or SAML sessions; aws:SourceIdentity only when
# the caller set one, which EC2 and Fargate do not
# (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-username).
_ABSENT_FOR_ROLES = frozenset(["aws:username", "aws:federatedprovider", "aws:sourceidentity"])
_ABSENT_PREFIXES = ("saml:", "cognito-identity.amazonaws.com:", "www.amazon.com:", "graph.facebook.com:",
                    "accounts.google.com:")


@lru_cache(maxsize=4096)
def action_matches(pattern: str, action: str) -> bool:
    """Case-insensitive IAM action glob: ``*`` any run, ``?`` one character."""
    # Nearly every pattern is exact ("ecr:BatchGetImage") or a prefix ("ecr:*", "ecr:Get*"):
    # compared directly, as compiling a regex for each costs more than the rest of the evaluation.
    if pattern.isascii() and action.isascii() and "?" not in pattern:
        stars = pattern.count("*")
        if stars == 0:
            return pattern.lower() == action.lower()
        if stars == 1 and pattern.endswith("*"):
            return action.lower().startswith(pattern[:-1].lower())
    return _action_regex(pattern).fullmatch(action) is not None


@lru_cache(maxsize=1024)
def _action_regex(pattern: str) -> re.Pattern[str]:
    body = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.compile(body, re.IGNORECASE | re.DOTALL)


def _substitute(text: str, symbols: Mapping[str, str] | None) -> str:
    if not symbols or "${" not in text:
        return text

    def repl(m: re.Match[str]) -> str:
        name = m.group(1)
        value = symbols.get(name)
        if value is None:
            value = symbols.get("${%s}" % name)
        if value is None and name.strip().lower() == "aws:principalaccount":
            value = symbols.get("AWS::AccountId") or symbols.get("${AWS::AccountId}")
        return value if value is not None else m.group(0)

    return _VAR.sub(repl, text)


@lru_cache(maxsize=4096)
def _tokens(text: str, version: str | None, wildcards: bool) -> tuple[Any, ...]:
    """Tokenize a resource pattern (``wildcards``) or a resource; ``${...}`` become symbols."""
    out: list[Any] = []
    i = 0
    n = len(text)
    while i < n:
        if text.startswith("${", i):
            end = text.find("}", i)
            if end != -1:
                name = text[i + 2 : end]
                token = _variable(name, version)
                if isinstance(token, str):
                    out.extend(token)
                else:
                    out.append(token)
                i = end + 1
                continue
        c = text[i]
        if wildcards and c == "*":
            # IAM: a "*" that is the last character of an ARN segment may match across ":".
            out.append(_ALL if i + 1 == n or text[i + 1] == ":" else _SEG)
        elif wildcards and c == "?":
            out.append(_ONE)
        else:
            out.append(c)
        i += 1
    return tuple(out)


def _variable(name: str, version: str | None) -> Any:
    """What ``${name}`` stands for: literal text, or a symbol whose value is unknown offline."""
    if version == VERSION_LEGACY and ":" in name and "::" not in name:
        # 2008-10-17 has no policy variables: "${aws:username}" is literal text.
        return "${%s}" % name
    if name in ("*", "?", "$"):
        # IAM special characters (2012-10-17): ${*} is a literal "*".
        return name if version != VERSION_LEGACY else "${%s}" % name
    if name in _SEGMENT_PSEUDO:
        return ("$", name, False)
    if "::" in name or ":" not in name:
        # a CloudFormation parameter, resource reference or GetAtt: could be a whole ARN
        return ("$", name, True)
    # an IAM policy variable (${aws:username}, ${aws:PrincipalTag/team}), possibly with a default
    # (${aws:username, 'none'}): https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html
    m = _DEFAULTED.match(name)
    key, default = (m.group(1), m.group(2).replace("''", "'")) if m else (name.strip(), None)
    lowered = key.lower()
    if lowered == "aws:principalaccount":
        return ("$", "AWS::AccountId", False)  # the role's own account, as ${AWS::AccountId} is in a stack
    if lowered in _ABSENT_FOR_ROLES or lowered.startswith(_ABSENT_PREFIXES):
        # Not in the request context of a role session (the node role, Fargate's pod execution
        # role): "a policy variable with no value" matches nothing, unless it has a default
        # (#policy-vars-no-value on the page above).
        return default if default is not None else _NEVER
    # set per request (tags, user ID, time): which repository it names cannot be known offline
    return ("$", "iam:" + key, True)


def _is_star(t: Any) -> bool:
    return t is _SEG or t is _ALL or t == _SEG or t == _ALL


def _is_sym(t: Any) -> bool:
    return isinstance(t, tuple) and len(t) == 3


def _wild(tokens: tuple[Any, ...]) -> tuple[Any, ...]:
    """Every unknown symbol replaced by the wildcard of the values it could take."""
    return tuple((_ALL if t[2] else _SEG) if _is_sym(t) else t for t in tokens)


def _star_emits(star: Any, tok: Any) -> bool:
    """Can ``star`` produce (part of) what ``tok`` stands for?"""
    if tok == _NEVER:
        return False
    if star == _ALL:
        return True
    if tok == ":":
        return False
    if _is_sym(tok):
        return not tok[2]
    return True


def _same(a: Any, b: Any) -> bool:
    """Do two non-star tokens share a character string?"""
    if isinstance(a, str) and isinstance(b, str):
        return a == b
    if a == _ONE:
        return (isinstance(b, str) and b != ":") or b == _ONE
    if b == _ONE:
        return isinstance(a, str) and a != ":"
    if _is_sym(a) and _is_sym(b):
        return a[1] == b[1]  # the same symbol has the same value within one evaluation
    return False


def _reachable(p: tuple[Any, ...], q: tuple[Any, ...], moves: Callable[..., Iterator[tuple[int, int]]]) -> bool:
    """Depth-first search over positions ``(i, j)`` in two token sequences: can ``moves`` (given the
    tokens at ``i`` and ``j``, None past the end) consume both sequences together?"""
    n, m = len(p), len(q)
    seen = set()
    stack = [(0, 0)]
    while stack:
        state = stack.pop()
        if state in seen:
            continue
        seen.add(state)
        i, j = state
        if i == n and j == m:
            return True
        stack.extend(moves(p[i] if i < n else None, q[j] if j < m else None, i, j))
    return False


def _intersect_moves(a: Any, b: Any, i: int, j: int) -> Iterator[tuple[int, int]]:
    if a is not None and _is_star(a):
        yield i + 1, j
        if b is not None and _star_emits(a, b):
            yield i, j + 1
    if b is not None and _is_star(b):
        yield i, j + 1
        if a is not None and _star_emits(b, a):
            yield i + 1, j
    if a is not None and b is not None and not _is_star(a) and not _is_star(b) and _same(a, b):
        yield i + 1, j + 1


def _cover_moves(a: Any, b: Any, i: int, j: int) -> Iterator[tuple[int, int]]:
    if a is None:
        return
    if _is_star(a):
        yield i + 1, j
        if b is not None and _absorbs(a, b):
            yield i, j + 1
    elif b is not None and not _is_star(b) and _covers_one(a, b):
        yield i + 1, j + 1


# The same few patterns meet the same few queries across every role: remember the answers.
@lru_cache(maxsize=8192)
def _intersects(p: tuple[Any, ...], q: tuple[Any, ...]) -> bool:
    """Is there a string both token sequences can stand for?"""
    return _reachable(p, q, _intersect_moves)


@lru_cache(maxsize=8192)
def _covers(p: tuple[Any, ...], q: tuple[Any, ...]) -> bool:
    """Does pattern ``p`` match every string ``q`` can stand for? (sound, not complete)"""
    return _reachable(p, q, _cover_moves)


def _absorbs(star: Any, tok: Any) -> bool:
    if tok == _NEVER:
        return False
    if star == _ALL:
        return True
    if tok == ":" or tok == _ALL:
        return False
    if _is_sym(tok):
        return not tok[2]
    return True


def _covers_one(a: Any, b: Any) -> bool:
    if isinstance(a, str):
        return isinstance(b, str) and a == b
    if a == _ONE:
        return (isinstance(b, str) and b != ":") or b == _ONE
    if _is_sym(a):
        return _is_sym(b) and a[1] == b[1]
    return False


def _has_wildcards(tokens: tuple[Any, ...]) -> bool:
    return any(t == _SEG or t == _ALL or t == _ONE for t in tokens)


def _has_symbols(tokens: tuple[Any, ...]) -> bool:
    return any(_is_sym(t) for t in tokens)


def _match(p: tuple[Any, ...], q: tuple[Any, ...]) -> bool | None:
    """Could ``q`` (a resource, or "some resource like q") be matched by ``p``? None: it depends on a symbol."""
    if _intersects(p, q):
        return True
    if not (_has_symbols(p) or _has_symbols(q)):
        return False
    return None if _intersects(_wild(p), _wild(q)) else False


def _full(p: tuple[Any, ...], q: tuple[Any, ...]) -> bool | None:
    """Does ``p`` match all of ``q``? For a concrete ``q`` the same as ``_match``."""
    if not _has_wildcards(q):
        return _match(p, q)
    if _covers(p, q):
        return True
    return None if _has_symbols(p) and _covers(_wild(p), q) else False


def resource_matches(pattern: str, resource: str, symbols: Mapping[str, str] | None = None) -> bool | None:
    """Does the policy ``pattern`` match ``resource``? None when it depends on an unknown symbol.

    ``resource`` may itself hold ``*``/``?``: then the question is whether it matches some resource
    of that shape.
    """
    p = _tokens(_substitute(pattern, symbols), VERSION_CURRENT, True)
    q = _tokens(_substitute(resource, symbols), VERSION_CURRENT, True)
    return _match(p, q)


# --- decisions ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Decision:
    # "allowed" | "conditional" | "denied" | "possibly-denied" | "not-granted" | "resource-mismatch"
    # | "outside-boundary" | "unknown"
    status: str
    allowed: bool  # status == "allowed"
    reason: str  # one human phrase for messages: "denied by Sid DenyPull at iam.json:12", ...
    allows: tuple[Statement, ...] = ()
    denies: tuple[Statement, ...] = ()


def _applies_to_action(stmt: Statement, action: str) -> bool:
    if stmt.not_actions is not None:
        return not any(action_matches(p, action) for p in stmt.not_actions)
    return any(action_matches(p, action) for p in stmt.actions)


def _shapeless(pattern: str) -> bool:
    """An ECR repository ARN pattern with an empty region or account: it matches no repository."""
    parts = arn_segments(pattern)
    if len(parts) != 6 or parts[0] != "arn":
        return False
    if parts[2] == "ecr":
        return not parts[3] or not parts[4]
    return parts[2] == "ecr-public" and not parts[4]


def _statement_set(stmt: Statement, symbols: Mapping[str, str] | None) -> arnsets.StatementSet | None:
    """The statement's Resource (or NotResource) patterns as tokens; None when one holds a symbol."""
    negated = stmt.not_resources is not None
    written = stmt.not_resources if stmt.not_resources is not None else stmt.resources
    patterns = tuple(_tokens(_substitute(r, symbols), stmt.version, True) for r in written)
    if any(_has_symbols(p) for p in patterns):
        return None
    return patterns, negated


def _resource_state(
    stmt: Statement,
    q: tuple[Any, ...],
    symbols: Mapping[str, str] | None,
    deny: bool,
    exact: tuple[Any, ...] | None = None,
) -> bool | None:
    """Does the statement's Resource / NotResource take in the requested resource?

    For a query with wildcards ("some ECR repository"), an Allow takes it in when it grants some
    such resource; a Deny only when it denies all of them. ``exact`` is that query as the set of
    real repository ARNs (``arnsets.query_tokens``): used whenever the patterns hold no symbol.
    """
    if exact is not None:
        own = _statement_set(stmt, symbols)
        if own is not None:
            if deny:  # every repository of the query is denied: none escapes the statement
                return arnsets.exists(exact, [], [own]) is False
            return arnsets.exists(exact, [[own]]) is True
    existential = _has_wildcards(q)
    if exact is not None:
        # the same ARN shape as arnsets checks, for patterns holding a symbol: an empty region or
        # account matches no repository, whatever the symbol
        stmt = replace(stmt, resources=tuple(r for r in stmt.resources if not _shapeless(r)),
                       not_resources=None if stmt.not_resources is None else
                       tuple(r for r in stmt.not_resources if not _shapeless(r)))
    if stmt.not_resources is not None:
        patterns = [_tokens(_substitute(r, symbols), stmt.version, True) for r in stmt.not_resources]
        if existential:
            if deny:
                # denies all of q only when no listed exception overlaps q
                states = [_match(p, q) for p in patterns]
                if any(s is True for s in states):
                    return False
                return None if any(s is None for s in states) else True
            states = [_full(p, q) for p in patterns]
            if any(s is True for s in states):
                return False
            return None if any(s is None for s in states) else True
        states = [_match(p, q) for p in patterns]
        if any(s is True for s in states):
            return False
        return None if any(s is None for s in states) else True
    patterns = [_tokens(_substitute(r, symbols), stmt.version, True) for r in stmt.resources]
    check = _full if deny else _match
    states = [check(p, q) for p in patterns]
    if any(s is True for s in states):
        return True
    return None if any(s is None for s in states) else False


def evaluate(
    policies: Sequence[PolicyDocument],
    action: str,
    resource: str = "*",
    *,
    symbols: Mapping[str, str] | None = None,
    boundary: Sequence[PolicyDocument] | None = None,
) -> Decision:
    """Is ``action`` on ``resource`` allowed by these identity policies together?

    ``resource`` "*" asks about *some* resource of the action's type (any ECR repository for
    ``ecr:BatchGetImage``): some repository an Allow reaches that no Deny takes away. Actions
    without a resource type (``ecr:GetAuthorizationToken``) are always asked about the resource
    "*", the only one that matches them. ``boundary``: the role's permissions boundary; the action
    is allowed only where the policies and the boundary both allow it
    (https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_boundaries.html).
    """
    if boundary is not None:
        return _evaluate_query(policies, action, resource, symbols, list(boundary))
    key = _bundled_key(policies, action, resource) if symbols is None else None
    if key is not None:
        hit = _BUNDLED_DECISIONS.get(key)
        if hit is not None:
            return _rebound(hit[1], hit[0], policies)
    decision = _evaluate_query(policies, action, resource, symbols)
    if key is not None:
        if len(_BUNDLED_DECISIONS) >= 4096:
            _BUNDLED_DECISIONS.clear()
        _BUNDLED_DECISIONS[key] = (list(policies), decision)
    return decision


# Node roles made only of AWS managed policies (every eksctl node group with the defaults, most
# CloudFormation node roles) are evaluated once per set of policy ARNs: such a decision depends
# only on the documents, and its reason names the policies, never a place in a file. A hit
# hands back the same decision with its statements taken from the asking role's policies.
_BUNDLED_DECISIONS: dict[tuple[Any, ...], tuple[list[PolicyDocument], Decision]] = {}


def _bundled_key(policies: Sequence[PolicyDocument], action: str, resource: str) -> tuple[Any, ...] | None:
    arns = tuple(_bundled_arn(p) for p in policies)
    if not arns or None in arns:
        return None
    return (arns, action, resource)


def _rebound(decision: Decision, seen: Sequence[PolicyDocument], policies: Sequence[PolicyDocument]) -> Decision:
    if not decision.allows and not decision.denies:
        return decision
    mapping: dict[int, Statement] = {}
    for old, new in zip(seen, policies, strict=True):  # same ARNs: same count, same statements
        for a, b in zip(statements(old), statements(new), strict=True):
            mapping[id(a)] = b
    return replace(
        decision,
        allows=tuple(mapping.get(id(s), s) for s in decision.allows),
        denies=tuple(mapping.get(id(s), s) for s in decision.denies),
    )


def _evaluate_query(
    policies: Sequence[PolicyDocument],
    action: str,
    resource: str,
    symbols: Mapping[str, str] | None,
    boundary: list[PolicyDocument] | None = None,
) -> Decision:
    query_text, query_kind = _query(action, resource)
    if query_kind == "type" and query_text.startswith("arn:"):
        # "Some repository" is asked within the partition, region and account the policies are
        # written for: a Deny on arn:aws:ecr:*:111122223333:repository/* must not be escaped by
        # imagining the repository in another account or the role in aws-cn.
        best: Decision | None = None
        for candidate in _candidates(list(policies) + (boundary or []), action, query_text, symbols):
            decision = _judge(policies, boundary, action, candidate, query_kind, resource, symbols)
            if best is None or _RANK[decision.status] < _RANK[best.status]:
                best = decision
        assert best is not None
        return best
    return _judge(policies, boundary, action, query_text, query_kind, resource, symbols)


def _judge(
    policies: Sequence[PolicyDocument],
    boundary: list[PolicyDocument] | None,
    action: str,
    query_text: str,
    query_kind: str,
    resource: str,
    symbols: Mapping[str, str] | None,
) -> Decision:
    """One query: the identity policies' decision, then the Deny and boundary arithmetic over the
    repositories the Allows reach (``arnsets``), then the boundary's own decision."""
    exact = arnsets.query_tokens(query_text) if query_kind == "type" else None
    decision = _evaluate(policies, action, query_text, query_kind, resource, symbols, exact)
    if decision.status == "denied" or (boundary is None and not decision.allowed):
        return decision
    if boundary is None:
        if exact is None or not decision.allowed:
            return decision
        partial = _partial_denies(policies, action, sure=True, exact=exact, symbols=symbols)
        if partial and _reach(policies, [], action, exact, symbols) is False:
            return replace(
                decision,
                status="denied",
                allowed=False,
                reason=f"denied by {partial[0].where()} on every repository the Allows reach",
                denies=tuple(partial),
            )
        if partial:
            # name an Allow whose repositories a Deny leaves, not one whose every repository is denied
            survivor = _surviving_allow(policies, action, exact, symbols, partial)
            if survivor is not None:
                decision = replace(decision, reason=f"allowed by {survivor.where()}")
        maybe = _partial_denies(policies, action, sure=False, exact=exact, symbols=symbols)
        if maybe and _reach(policies, [], action, exact, symbols, conditional_denies=True) is False:
            stmt = maybe[0]
            return replace(
                decision,
                status="possibly-denied",
                allowed=False,
                reason=f"denied by {stmt.where()} when {_when(stmt)}, on every repository the Allows reach",
                denies=tuple(partial + maybe),
            )
        return decision
    return _bounded(decision, policies, boundary, action, query_text, query_kind, resource, symbols, exact)


def _bounded(
    decision: Decision,
    policies: Sequence[PolicyDocument],
    boundary: list[PolicyDocument],
    action: str,
    query_text: str,
    query_kind: str,
    resource: str,
    symbols: Mapping[str, str] | None,
    exact: tuple[Any, ...] | None,
) -> Decision:
    """The identity decision held against the permissions boundary."""
    name = _boundary_name(boundary)
    bound = _evaluate(boundary, action, query_text, query_kind, resource, symbols, exact)
    allows = decision.allows + bound.allows
    denies = decision.denies + bound.denies
    if bound.status == "denied":
        return Decision("denied", False, f"{bound.reason} (the permissions boundary {name})", allows, denies)
    if not decision.allowed:
        if decision.status in ("conditional", "unknown", "possibly-denied") and bound.status in (
            "not-granted",
            "resource-mismatch",
        ):
            # whatever the identity policies' undecided grant turns out to be, the boundary allows none
            return Decision(
                "outside-boundary", False, f"not allowed by the permissions boundary {name}", allows, denies
            )
        return replace(decision, allows=allows, denies=denies)
    if bound.status in ("not-granted", "resource-mismatch"):
        why = "" if bound.status == "not-granted" else f" (it allows them {bound.reason.removeprefix('granted ')})"
        return Decision(
            "outside-boundary", False, f"{decision.reason} but not by the permissions boundary {name}{why}", allows, denies
        )
    if not bound.allowed:
        return Decision(bound.status, False, f"the permissions boundary {name}: {bound.reason}", allows, denies)
    if exact is not None:
        reach = _reach(policies, boundary, action, exact, symbols)
        if reach is False:
            return Decision(
                "outside-boundary",
                False,
                f"{decision.reason} but on no repository the permissions boundary {name} also allows",
                allows,
                denies,
            )
    return replace(decision, allows=allows, denies=denies)


def _applying(
    documents: Sequence[PolicyDocument],
    action: str,
    symbols: Mapping[str, str] | None,
    exact: tuple[Any, ...] | None,
) -> Iterator[tuple[Statement, bool | None]]:
    """Allow and Deny statements that name the action and may apply to a direct call, with whether
    their condition surely holds (True) or is not decided offline (None)."""
    for policy in documents:
        for stmt in statements(policy):
            if stmt.effect not in ("Allow", "Deny") or not _applies_to_action(stmt, action):
                continue
            if _void(stmt, symbols, None, exact):
                continue
            held = condition_holds(stmt.condition) if stmt.conditional else True
            if held is not False:
                yield stmt, held


def _partial_denies(
    policies: Sequence[PolicyDocument],
    action: str,
    sure: bool,
    exact: tuple[Any, ...] | None = None,
    symbols: Mapping[str, str] | None = None,
) -> list[Statement]:
    """The Deny statements that name the action and surely apply (``sure``), or that apply only
    under a condition not decided offline (not ``sure``)."""
    return [stmt for stmt, held in _applying(policies, action, symbols, exact)
            if stmt.effect == "Deny" and held is (True if sure else None)]


def _boundary_name(boundary: Sequence[PolicyDocument]) -> str:
    names = [p.name for p in boundary]
    return f'"{names[0]}"' if len(names) == 1 else ", ".join(f'"{n}"' for n in names)


def _reach(
    policies: Sequence[PolicyDocument],
    boundary: Sequence[PolicyDocument],
    action: str,
    exact: tuple[Any, ...],
    symbols: Mapping[str, str] | None,
    conditional_denies: bool = False,
) -> bool | None:
    """Is there a repository of the query that an unconditional Allow of the policies (and of the
    boundary, when there is one) reaches and no unconditional Deny takes away (nor a conditional
    one, with ``conditional_denies``)? None: undecided (a pattern holds a value not known offline,
    or the search gave up)."""
    groups: list[list[arnsets.StatementSet]] = []
    denies: list[arnsets.StatementSet] = []
    for documents in (policies, boundary):
        if documents is boundary and not boundary:
            continue
        group: list[arnsets.StatementSet] = []
        for stmt, held in _applying(documents, action, symbols, exact):
            if held is None and (stmt.effect == "Allow" or not conditional_denies):
                # conditional Allows are never relied on; a conditional Deny may not apply, so it
                # takes nothing away for sure unless asked (``conditional_denies``)
                continue
            own = _statement_set(stmt, symbols)
            if own is None:
                return None
            (group if stmt.effect == "Allow" else denies).append(own)
        groups.append(group)
    # "Some Allow of each group" is a disjunction: asked one combination at a time, each with only
    # the Denies that can meet it, the automata stay a handful instead of every pattern at once.
    undecided = False
    for combination in itertools.product(*groups):
        relevant = [d for d in denies if all(_may_meet(d, a) for a in combination)]
        answer = arnsets.exists(exact, [[a] for a in combination], relevant)
        if answer:
            return True
        undecided = undecided or answer is None
    return None if undecided else False


def _surviving_allow(
    policies: Sequence[PolicyDocument],
    action: str,
    exact: tuple[Any, ...],
    symbols: Mapping[str, str] | None,
    denies: list[Statement],
) -> Statement | None:
    """The first unconditional Allow that reaches a repository none of ``denies`` takes away."""
    deny_sets = [d for d in (_statement_set(stmt, symbols) for stmt in denies) if d is not None]
    for stmt, held in _applying(policies, action, symbols, exact):
        if stmt.effect != "Allow" or held is not True:
            continue
        own = _statement_set(stmt, symbols)
        if own is not None and arnsets.exists(exact, [[own]], [d for d in deny_sets if _may_meet(d, own)]):
            return stmt
    return None


def _may_meet(deny: arnsets.StatementSet, allow: arnsets.StatementSet) -> bool:
    """Can the Deny take anything from what the Allow reaches? (cheap, pattern against pattern)"""
    if deny[1] or allow[1]:
        return True  # NotResource: everything but a few patterns
    return any(_intersects(d, a) for d in deny[0] for a in allow[0])


_RANK = {
    "allowed": 0,
    "possibly-denied": 1,
    "conditional": 2,
    "unknown": 3,
    "denied": 4,
    "outside-boundary": 5,
    "resource-mismatch": 6,
    "not-granted": 7,
}


_PINNED = (1, 3, 4)  # partition, region, account: the ARN segments a Deny is usually scoped by
# a value a real repository can have, or one CloudFormation fills in (${AWS::AccountId}: the same
# account wherever the template names it)
_REAL = {
    1: re.compile(r"^(?:[a-z][a-z-]*|\$\{[^}]+\})$"),
    3: re.compile(r"^(?:[a-z0-9-]+|\$\{[^}]+\})$"),
    4: re.compile(r"^(?:\d{12}|\$\{[^}]+\})$"),
}
_MAX_CANDIDATES = 16


def _candidates(
    policies: Sequence[PolicyDocument], action: str, query: str, symbols: Mapping[str, str] | None
) -> list[str]:
    """Queries for "some resource of the type", one per partition/region/account the statements name."""
    template = arn_segments(query)
    named: dict[int, dict[str, None]] = {i: {} for i in _PINNED}
    for policy in policies:
        for stmt in statements(policy):
            if stmt.effect not in ("Allow", "Deny") or not _applies_to_action(stmt, action):
                continue
            for pattern in stmt.resources + (stmt.not_resources or ()):
                parts = arn_segments(_substitute(pattern, symbols))
                if len(parts) < 3 or parts[0] != "arn":
                    continue
                for i in _PINNED:
                    # a segment the pattern spells out (a short ARN's last segment may run on past
                    # ":"), and one a real repository can have: a value no repository has
                    # ("US-EAST-1", an empty partition) must not hide the grants of other patterns
                    if i + 1 >= len(parts) and len(parts) != 6:
                        continue
                    value = parts[i]
                    if template[i] == "*" and value and "*" not in value and "?" not in value and _REAL[i].match(value):
                        named[i][value] = None
    out = [template]
    for i in _PINNED:
        values = list(named[i]) or [template[i]]
        out = [c[:i] + [v] + c[i + 1 :] for c in out for v in values][:_MAX_CANDIDATES]
    return [":".join(c) for c in out]


_SEGMENT = re.compile(r"(?:\$\{[^}]*\}|[^:$]|\$(?!\{))*")


def arn_segments(text: str) -> list[str]:
    """``text`` split on ":" the way an ARN is, keeping ``${AWS::Partition}`` tokens whole."""
    parts: list[str] = []
    pos = 0
    while True:
        m = _SEGMENT.match(text, pos)
        end = m.end() if m else pos
        parts.append(text[pos:end])
        if end >= len(text) or text[end] != ":":
            if end < len(text):
                parts[-1] += text[end:]  # an unterminated "${": keep the rest as is
            return parts
        pos = end + 1


def _void(
    stmt: Statement,
    symbols: Mapping[str, str] | None,
    q: tuple[Any, ...] | None = None,
    exact: tuple[Any, ...] | None = None,
) -> bool:
    """A NotResource naming a variable the request lacks (${aws:username} for a role) makes the
    statement invalid (reference_policies_variables.html: "might cause the entire statement to be
    invalid"), where it would otherwise apply to everything; but only when the variable's value
    matters: a pattern whose other parts already miss the resource (another partition, "*" for an
    action without a resource type) simply does not match it, as the independent simulator judges
    (benchmarks/iam_oracle)."""
    if stmt.not_resources is None:
        return False
    for r in stmt.not_resources:
        tokens = _tokens(_substitute(r, symbols), stmt.version, True)
        if _NEVER not in tokens:
            continue
        wild = tuple(_ALL if t == _NEVER else t for t in tokens)
        if exact is not None and not _has_symbols(wild):
            could = arnsets.exists(exact, [[((wild,), False)]]) is not False
        elif q is not None:
            could = _match(wild, q) is not False
        else:
            could = True
        if could:
            return True
    return False


def _classify(
    stmt: Statement, action: str, q: tuple[Any, ...], symbols: Mapping[str, str] | None, exact: tuple[Any, ...] | None
) -> tuple[bool, bool | None] | None:
    """(conditional, resource state) of a statement for the query; None when it does not apply."""
    if stmt.effect not in ("Allow", "Deny") or not _applies_to_action(stmt, action):
        return None
    held = condition_holds(stmt.condition) if stmt.conditional else True
    if held is False:
        return None  # its condition never holds for a direct call: the statement does not apply
    conditional = held is None
    if _void(stmt, symbols, q, exact):
        return None
    state = _resource_state(stmt, q, symbols, stmt.effect == "Deny", exact)
    if state is not False and not conditional and _request_dependent(stmt, symbols):
        if stmt.not_resources is None:
            # another pattern of the statement may match whatever the request says
            plain = tuple(r for r in stmt.resources if not _pattern_variables(r, stmt.version, symbols))
            if plain and _resource_state(replace(stmt, resources=plain), q, symbols, stmt.effect == "Deny", exact):
                return False, True
        return True, True  # a tag or other request value names the repository
    return conditional, state


def _evaluate(
    policies: Sequence[PolicyDocument],
    action: str,
    query_text: str,
    query_kind: str,
    resource: str,
    symbols: Mapping[str, str] | None,
    exact: tuple[Any, ...] | None = None,
) -> Decision:
    q = _tokens(_substitute(query_text, symbols), VERSION_CURRENT, query_kind != "literal")
    allows: list[Statement] = []
    cond_allows: list[Statement] = []
    unknown_allows: list[Statement] = []
    elsewhere: list[Statement] = []
    denies: list[Statement] = []
    cond_denies: list[Statement] = []
    unknown_denies: list[Statement] = []
    for policy in policies:
        for stmt in statements(policy):
            classified = _classify(stmt, action, q, symbols, exact)
            if classified is None:
                continue
            conditional, state = classified
            if stmt.effect == "Deny":
                if state is True:
                    (cond_denies if conditional else denies).append(stmt)
                elif state is None:
                    unknown_denies.append(stmt)
            elif state is True:
                (cond_allows if conditional else allows).append(stmt)
            elif state is None:
                unknown_allows.append(stmt)
            else:
                elsewhere.append(stmt)
    every_allow = tuple(allows + cond_allows + unknown_allows + elsewhere)
    every_deny = tuple(denies + cond_denies + unknown_denies)
    if denies:
        return Decision("denied", False, f"denied by {denies[0].where()}", every_allow, every_deny)
    if allows:
        return _allowed(allows, cond_denies, unknown_denies, every_allow, every_deny)
    if cond_allows:
        stmt = cond_allows[0]
        return Decision(
            "conditional",
            False,
            f"granted only when {_when(stmt)} ({stmt.where()})",
            every_allow,
            every_deny,
        )
    if unknown_allows:
        stmt = unknown_allows[0]
        return Decision(
            "unknown",
            False,
            f"granted on {_quote_list(_resource_list(stmt))} ({stmt.where()}), which depends on values not known offline",
            every_allow,
            every_deny,
        )
    if elsewhere:
        stmt = elsewhere[0]
        granted = _quote_list(_resource_list(stmt))
        tail = _mismatch(action, query_kind, resource) + (_shape_hint(stmt) if query_kind == "type" else "")
        return Decision(
            "resource-mismatch", False, f"granted only on {granted} ({stmt.where()}), {tail}", every_allow, every_deny
        )
    return Decision("not-granted", False, "no statement grants it", every_allow, every_deny)


def _allowed(
    allows: list[Statement],
    cond_denies: list[Statement],
    unknown_denies: list[Statement],
    every_allow: tuple[Statement, ...],
    every_deny: tuple[Statement, ...],
) -> Decision:
    """An Allow matches and no Deny surely does: allowed, unless a conditional or unknown Deny may apply."""
    if cond_denies:
        stmt = cond_denies[0]
        return Decision(
            "possibly-denied",
            False,
            f"denied by {stmt.where()} when {_when(stmt)}",
            every_allow,
            every_deny,
        )
    if unknown_denies:
        stmt = unknown_denies[0]
        return Decision(
            "unknown",
            False,
            f"may be denied by {stmt.where()}: its resource {_quote_list(_resource_list(stmt))} depends on "
            f"values not known offline",
            every_allow,
            every_deny,
        )
    return Decision("allowed", True, f"allowed by {allows[0].where()}", every_allow, every_deny)


def _shape_hint(stmt: Statement) -> str:
    """Why a pattern that looks like a repository ARN matches none: what AWS's ARNs always have."""
    written = stmt.resources
    if stmt.version != VERSION_LEGACY and any(_ABSENT.search(r) for r in written):
        return " (a role's session has no ${aws:username})"
    for r in written:
        parts = arn_segments(r)
        if len(parts) == 6 and parts[2] == "ecr" and (not parts[3] or not parts[4]):
            return " (a repository ARN always has a region and an account)"
        if len(parts) == 6 and parts[2] in ("ecr", "ecr-public") and parts[5] != parts[5].lower() and "${" not in parts[5]:
            return " (repository names are lowercase)"
    return ""


_ABSENT = re.compile(r"\$\{\s*aws:username\s*\}", re.IGNORECASE)


def _mismatch(action: str, query_kind: str, resource: str) -> str:
    """Why the resources an Allow names miss the one asked about (see ``_query`` for the kinds)."""
    if query_kind == "literal":
        return 'but it has no resource type and only "*" matches it'
    if query_kind == "type":
        return "which matches no " + _type_label(action)
    return f'not on "{resource}"'


def _query(action: str, resource: str) -> tuple[str, str]:
    """The resource to ask about and its kind: "literal" ("*" itself), "type" (any of the type), "given"."""
    info = awsdata.action_info(action)
    if info is not None and not info.has_resource_type:
        return "*", "literal"
    if resource == "*":
        if info is not None:
            return awsdata.resource_arn_pattern(info), "type"
        return "*", "type"
    return resource, "given"


def _type_label(action: str) -> str:
    info = awsdata.action_info(action)
    if info is None:
        return "resource of the action"
    service = "ECR Public" if info.prefix == "ecr-public" else "ECR"
    return f"{service} {info.resource.rstrip('?')}"


def _resource_list(stmt: Statement) -> list[str]:
    if stmt.not_resources is not None:
        return ["everything except " + ", ".join(stmt.not_resources)]
    return list(stmt.resources)


def _quote_list(items: Sequence[str], limit: int = 3) -> str:
    if not items:
        return 'nothing (the statement has no "Resource")'
    shown = ", ".join(f'"{x}"' for x in items[:limit])
    if len(items) > limit:
        shown += f" and {len(items) - limit} more"
    return shown


# aws:ViaAWSService is true only when an AWS service calls another on the principal's behalf with
# the principal's credentials (forward access sessions); kubelet and the ECR credential provider
# call ECR directly with the node role's credentials, so for their pulls the key is present and
# false: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-viaawsservice
# Operators are case-sensitive, keys case-insensitive, Bool values compared case-insensitively.
_DIRECT_CALL_KEYS = {"aws:viaawsservice": "false"}
_BOOL_OPERATORS = ("Bool", "BoolIfExists")


def condition_holds(condition: Any) -> bool | None:
    """Does a statement's Condition block hold for a direct call (a kubelet pull)?

    True when every test is decided and matches, False when one test surely fails (all must
    match), None when any test cannot be decided offline (aws:SourceVpc, aws:SourceIp, ...).
    """
    if not isinstance(condition, dict) or not condition:
        return None
    result: bool | None = True
    for operator, block in condition.items():
        if not isinstance(block, dict) or not block:
            result = None
            continue
        for key, values in block.items():
            verdict = _test_holds(str(operator), str(key), values)
            if verdict is False:
                return False
            if verdict is None:
                result = None
    return result


def _test_holds(operator: str, key: str, values: Any) -> bool | None:
    actual = _DIRECT_CALL_KEYS.get(key.lower())
    if actual is not None and operator == "Null":
        # the key is present for a direct call: "Null": "false" (it exists) holds, "true" fails
        listed = values if isinstance(values, list) else [values]
        present = {str(v).lower() for v in listed if isinstance(v, (str, bool))}
        if present == {"false"}:
            return True
        if present == {"true"}:
            return False
        return None if not present <= {"true", "false"} or not present else True
    if actual is None or operator not in _BOOL_OPERATORS:
        return None
    items = values if isinstance(values, list) else [values]
    words = [str(v).lower() if isinstance(v, (str, bool)) else None for v in items]
    if actual in words:
        return True  # any value matches
    if words and all(w in ("true", "false") for w in words):
        return False
    return None  # an intrinsic, an empty list or a value that is no boolean: not decided


def _request_dependent(stmt: Statement, symbols: Mapping[str, str] | None) -> bool:
    """Does the statement's resource hold a policy variable set per request (a tag, the user ID)?"""
    return bool(_request_variables(stmt, symbols))


def _request_variables(stmt: Statement, symbols: Mapping[str, str] | None) -> list[str]:
    found: list[str] = []
    for r in stmt.not_resources if stmt.not_resources is not None else stmt.resources:
        found.extend(v for v in _pattern_variables(r, stmt.version, symbols) if v not in found)
    return found


def _pattern_variables(pattern: str, version: str | None, symbols: Mapping[str, str] | None) -> list[str]:
    """The request-dependent policy variables (``${aws:PrincipalTag/team}``) one pattern names."""
    return ["${%s}" % t[1][4:] for t in _tokens(_substitute(pattern, symbols), version, True)
            if _is_sym(t) and t[1].startswith("iam:")]


def _when(stmt: Statement) -> str:
    """When a conditional statement applies: its Condition, or the request values its resource names."""
    if stmt.condition:
        return describe_condition(stmt.condition)
    names = _request_variables(stmt, None)
    if names:
        return f"{' and '.join(names)} name the repository" if len(names) > 1 else f"{names[0]} names the repository"
    return "a condition holds"


def describe_condition(condition: Any) -> str:
    """A short phrase for a Condition block: 'StringEquals aws:SourceVpc = "vpc-1"'."""
    if not isinstance(condition, dict):
        return "a condition holds"
    parts = []
    for operator, block in condition.items():
        if isinstance(block, dict):
            for key, value in block.items():
                parts.append(f"{operator} {key} = {_short_value(value)}")
        else:
            parts.append(str(operator))
    return " and ".join(parts) if parts else "a condition holds"


def _short_value(value: Any) -> str:
    if isinstance(value, list):
        items = [_short_value(v) for v in value[:2]]
        more = f", +{len(value) - 2}" if len(value) > 2 else ""
        return "[" + ", ".join(items) + more + "]"
    if isinstance(value, dict):
        return "(intrinsic)"
    return f'"{value}"'


def boundary_of(role: Role) -> list[PolicyDocument] | None:
    """The role's permissions boundary to evaluate with, when ecrlint can read it; a boundary it
    cannot read (a customer managed policy outside the scanned files) only ever restricts, so the
    role is judged without it (what is not granted without it is not granted with it either)."""
    return [role.boundary] if role.boundary is not None else None


def unreadable(unresolved: Sequence[tuple[str, Loc]]) -> list[tuple[str, Loc]]:
    """Attached policies ecrlint cannot read that may grant something (customer managed policies,
    lists known only at deploy time); empty when any is a misspelt AWS managed policy ARN, which
    ECR209 reports: the role is not judged until it is fixed."""
    if any(":iam::aws:policy/" in text for text, _loc in unresolved):
        return []
    return list(unresolved)


def unless_granted(unread: Sequence[tuple[str, Loc]], actions: Sequence[str]) -> str:
    """'unless arn:...:policy/x grants "a", "b": no policy ecrlint can read grants them' - the
    warning of a role whose readable policies grant no pull (ECR201, ECR303)."""
    names = [text for text, _loc in unread]
    shown = " or ".join(names[:3]) + (f" (or {len(names) - 3} more)" if len(names) > 3 else "")
    what = ", ".join(f'"{a}"' for a in actions)
    return f"unless {shown} grants {what}: no policy ecrlint can read grants {'it' if len(actions) == 1 else 'them'}"


def granted_resources(policies: Sequence[PolicyDocument], action: str) -> list[str]:
    """Resource patterns of the Allow statements that name the action (NotResource grants excluded)."""
    out: list[str] = []
    for policy in policies:
        for stmt in statements(policy):
            if stmt.effect == "Allow" and stmt.not_resources is None and _applies_to_action(stmt, action):
                out.extend(r for r in stmt.resources if r not in out)
    return out


def managed_policy(arn_or_name: str, loc: Loc | None = None) -> PolicyDocument | None:
    """The bundled copy of an AWS managed policy, by ARN (any partition) or by name."""
    ref = awsdata.parse_managed_arn(arn_or_name)
    if ref is None:
        if arn_or_name.startswith("arn:") or "/" in arn_or_name:
            return None
        name, partition, path = arn_or_name, "aws", None
    else:
        name, partition, path = ref.name, ref.partition, ref.path
    entry = awsdata.managed_policies().get(name)
    if entry is None or (path is not None and entry.get("Path", "/") != path):
        return None
    document = awsdata.managed_policy_document(name, partition)
    arn = f"arn:{partition}:iam::aws:policy{entry.get('Path', '/')}{name}"
    return PolicyDocument(
        document=document,
        loc=loc or Loc(BUNDLED_PATH, NO_SPAN),
        name=name,
        managed_arn=arn,
        bundled=True,
    )


def service_principals(stmt: Statement) -> list[str]:
    """``Principal: {Service: ...}`` values of a statement, intrinsics resolved (every branch)."""
    principal = stmt.principal
    if not isinstance(principal, dict):
        return []
    value = principal.get("Service")
    items = value if isinstance(value, list) and not _is_intrinsic(value) else [value]
    out: list[str] = []
    for item in items:
        if isinstance(item, str):
            out.append(item)
        elif item is not None and stmt.policy is not None:
            out.extend(_resolve(item, stmt.policy))
    return out


def describe_missing(missing: list[tuple[str, Decision]]) -> str:
    """'"a" and "b" are not granted (no statement grants them); "c" is denied by Sid X at f:3'."""
    by_reason: dict[str | None, list[str]] = {}
    for action, decision in missing:
        # None: "not granted", worded once the number of actions sharing it is known
        reason = None if decision.status == "not-granted" else decision.reason
        by_reason.setdefault(reason, []).append(f'"{action}"')
    parts = []
    for reason, actions in by_reason.items():
        one = len(actions) == 1
        names = actions[0] if one else ", ".join(actions[:-1]) + " and " + actions[-1]
        if reason is None:
            reason = f"not granted (no statement grants {'it' if one else 'them'})"
        parts.append(f"{names} {'is' if one else 'are'} {reason}")
    return "; ".join(parts)
