"""Sets of ARNs as automata: is there a repository an Allow reaches that no Deny takes away?

IAM resource patterns are globs (``*``, ``?``), so the set of ARNs one matches is a regular
language. "Allow on ``repository/prod/*`` and Deny on ``repository/prod/*``" allows nothing;
"Allow on ``repository/*`` and Deny on ``repository/prod/*``" still allows ``repository/dev``.
Neither is seen by comparing one pattern with one pattern, so this module decides, for one
question, whether some string is matched by the query *and* by an Allow of every required group
(identity policies, permissions boundary) *and* by no Deny: a breadth-first search over the
product of the patterns' automata, each determinized on the fly.

The query is a real resource of the action's type, with what AWS guarantees about its ARN
(https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonelasticcontainerregistry.html#amazonelasticcontainerregistry-resources-for-iam-policies,
https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_CreateRepository.html#ECR-CreateRepository-request-repositoryName):
a partition, a non-empty region (empty for ECR Public), a 12-digit account, and a repository name
in lowercase letters, digits and ``._-/``. A pattern with an empty region or account, or with an
uppercase repository name, matches no repository at all.

Tokens are the ones ``iam._tokens`` produces: one-character strings (literals), ``("*",)`` (any
run within a segment), ``("**",)`` (any run, ``:`` included), ``("?",)`` (one character but
``:``), plus two kinds used only by queries: ``("cls", name)`` (one character of a class) and
``("cls*", name)`` (any run of it). Symbols (values not known offline) are not handled here: the
caller only asks about patterns without them.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Iterable, Sequence

_CLASSES = {
    "partition": frozenset("abcdefghijklmnopqrstuvwxyz-"),
    "region": frozenset("abcdefghijklmnopqrstuvwxyz0123456789-"),
    "digit": frozenset("0123456789"),
    "name": frozenset("abcdefghijklmnopqrstuvwxyz0123456789._-/"),
}
# A search that has not decided after this many product states gives up (the caller keeps its
# older, pattern-by-pattern answer). Real policies need a few dozen.
STATE_LIMIT = 20_000

Tokens = tuple  # tuple of tokens, as above
_NONE = ("never",)  # matches no character: a query no real repository answers
# One statement's resource part: its patterns, and whether they are NotResource (matching every
# string none of them matches).
StatementSet = tuple[tuple[Tokens, ...], bool]


def query_tokens(template: str) -> Tokens | None:
    """The exact query for "some resource" of an ECR type, from a glob such as
    ``arn:*:ecr:*:*:repository/*`` (segments may already be pinned to literal values);
    None when the template is not an ECR repository ARN glob."""
    parts = re.split(r":(?![^{]*\})", template)  # not the "::" inside ${AWS::AccountId}
    if len(parts) != 6 or parts[0] != "arn" or parts[2] not in ("ecr", "ecr-public"):
        return None
    partition, service, region, account, resource = parts[1:]
    if _symbolic(partition):
        partition = "*"
    if not resource.startswith("repository/"):
        return None
    for segment in (region, account):
        if segment != "*" and ("*" in segment or "?" in segment):
            return None  # candidates pin whole segments only: a partial glob is not a query
    out: list = list("arn:")
    out += _segment(partition, "partition") + [":"] + list(service) + [":"]
    if service == "ecr-public":
        # ECR Public repositories have no region; a policy's region there matches none of them
        out += [_NONE] if region else []
    elif region == "*" or _symbolic(region):
        out += _segment("*", "region")  # ${AWS::Region}: some region
    else:
        # a region named by a policy: a real one is non-empty, in lowercase letters, digits, "-"
        out += list(region) if region and set(region) <= _CLASSES["region"] else [_NONE]
    out.append(":")
    if account == "*" or _symbolic(account):
        out += [("cls", "digit")] * 12  # ${AWS::AccountId}: some account
    else:
        out += list(account) if len(account) == 12 and account.isdigit() else [_NONE]
    out.append(":")
    name = resource[len("repository/") :]
    out += list("repository/")
    if name == "*":
        out += [("cls", "name"), ("cls*", "name")]
    elif "*" in name or "?" in name:
        return None
    else:
        out += list(name)
    return tuple(out)


def _symbolic(segment: str) -> bool:
    return segment.startswith("${") and segment.endswith("}") and segment.count("${") == 1


def _segment(text: str, cls: str) -> list:
    if text == "*":
        return [("cls", cls), ("cls*", cls)]
    return list(text)


def exists(
    query: Tokens,
    required: Sequence[Sequence[StatementSet]],
    forbidden: Sequence[StatementSet] = (),
    limit: int = STATE_LIMIT,
) -> bool | None:
    """Is there a string the query matches, that some statement of every ``required`` group
    matches, and that no ``forbidden`` statement matches? None: undecided within ``limit``."""
    return _exists(query, tuple(tuple(g) for g in required), tuple(forbidden), limit)


# The same statements meet the same few queries for every action and every role sharing them.
@lru_cache(maxsize=8192)
def _exists(
    query: Tokens,
    required: tuple[tuple[StatementSet, ...], ...],
    forbidden: tuple[StatementSet, ...],
    limit: int,
) -> bool | None:
    machines: list[_Machine] = [_machine(query)]
    groups: list[list[tuple[list[int], bool]]] = []
    for group in required:
        groups.append([_add(machines, s) for s in group])
    denies = [_add(machines, s) for s in forbidden]
    alphabet = _alphabet(m.tokens for m in machines)
    start = tuple(m.start for m in machines)
    seen = {start}
    stack = [start]
    while stack:
        state = stack.pop()
        if _accepts(machines, state, groups, denies):
            return True
        query_machine = machines[0]
        for c in alphabet:
            first = query_machine.step(state[0], c)
            if not first:
                continue  # no repository ARN goes on with this character: skip the other machines
            nxt = (first, *(m.step(s, c) for m, s in zip(machines[1:], state[1:], strict=True)))
            if not _alive(nxt, groups):
                continue
            if nxt not in seen:
                if len(seen) >= limit:
                    return None
                seen.add(nxt)
                stack.append(nxt)
    return False


class _Machine:
    """One pattern's automaton: states are sets of token positions, steps remembered."""

    __slots__ = ("tokens", "final", "start", "_steps")

    def __init__(self, tokens: Tokens) -> None:
        self.tokens = tokens
        self.final = len(tokens)
        self.start = _closure(tokens, frozenset([0]))
        self._steps: dict[tuple[frozenset[int], str], frozenset[int]] = {}

    def step(self, states: frozenset[int], c: str) -> frozenset[int]:
        key = (states, c)
        nxt = self._steps.get(key)
        if nxt is None:
            nxt = self._steps[key] = _step(self.tokens, states, c)
        return nxt


@lru_cache(maxsize=4096)
def _machine(tokens: Tokens) -> _Machine:
    return _Machine(tokens)


def _add(machines: list[_Machine], statement: StatementSet) -> tuple[list[int], bool]:
    patterns, negated = statement
    indices = []
    for p in patterns:
        indices.append(len(machines))
        machines.append(_machine(p))
    return indices, negated


def _matched(machines: list[_Machine], state: tuple, statement: tuple[list[int], bool]) -> bool:
    indices, negated = statement
    hit = any(machines[i].final in state[i] for i in indices)
    return hit != negated


def _accepts(machines: list[_Machine], state: tuple, groups: list, denies: list) -> bool:
    if machines[0].final not in state[0]:
        return False
    if not all(any(_matched(machines, state, s) for s in group) for group in groups):
        return False
    return not any(_matched(machines, state, s) for s in denies)


def _alive(state: tuple, groups: list) -> bool:
    """Prune: a required group whose (positive) patterns have all died can never match again."""
    for group in groups:
        if not any(negated or any(state[i] for i in indices) for indices, negated in group):
            return False
    return True


def _alphabet(machines: Iterable[Tokens]) -> list[str]:
    """Every literal character, plus one stand-in for each kind of character no pattern names."""
    literals = {t for m in machines for t in m if isinstance(t, str)}
    chars = set(literals) | set(":-._/")
    for pool in ("abcdefghijklmnopqrstuvwxyz", "0123456789", "ABCDEFGHIJKLMNOPQRSTUVWXYZ", "~!#%&+=@^`|"):
        spare = next((c for c in pool if c not in literals), None)
        if spare is not None:
            chars.add(spare)
    return sorted(chars)


def _closure(tokens: Tokens, states: frozenset[int]) -> frozenset[int]:
    out = set(states)
    stack = list(states)
    while stack:
        i = stack.pop()
        if i < len(tokens) and _is_run(tokens[i]) and i + 1 not in out:
            out.add(i + 1)
            stack.append(i + 1)
    return frozenset(out)


def _is_run(token: object) -> bool:
    return token == ("*",) or token == ("**",) or (isinstance(token, tuple) and token[:1] == ("cls*",))


def _step(tokens: Tokens, states: frozenset[int], c: str) -> frozenset[int]:
    nxt = set()
    for i in states:
        if i >= len(tokens):
            continue
        t = tokens[i]
        if isinstance(t, str):
            if t == c:
                nxt.add(i + 1)
        elif t == ("?",):
            if c != ":":
                nxt.add(i + 1)
        elif t == ("*",):
            if c != ":":
                nxt.add(i)
        elif t == ("**",):
            nxt.add(i)
        elif t[0] == "cls":
            if c in _CLASSES[t[1]]:
                nxt.add(i + 1)
        elif t[0] == "cls*":
            if c in _CLASSES[t[1]]:
                nxt.add(i)
        # anything else (a symbol, a variable that matches nothing) consumes no character
    return _closure(tokens, frozenset(nxt)) if nxt else frozenset()
