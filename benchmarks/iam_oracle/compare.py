"""The differential IAM oracle (issue 12, "How to prove it"): ecrlint's evaluator against iam-simulate.

    make oracle                                              # npm ci when needed, then this
    .venv/bin/python benchmarks/iam_oracle/compare.py --cases 10000 --seed 12
    .venv/bin/python benchmarks/iam_oracle/compare.py --first 4711 --cases 1 --show   # replay one case

Every case of generate.py (identity policies, sometimes a permissions boundary) is asked the pull
questions (an ECR action on a repository ARN, ``ecr:GetAuthorizationToken`` on "*") twice:
``ecrlint.analysis.iam.evaluate`` and @cloud-copilot/iam-simulate (simulate.js, one Node process
kept running). The simulator's request is kubelet's direct call: aws:ViaAWSService "false",
aws:PrincipalAccount and aws:PrincipalArn of the node role, no aws:SourceVpc, no principal tags.
When the policies mention a key ecrlint cannot know offline (aws:SourceVpc, aws:PrincipalTag/team)
the simulator is also asked under every combination of that key absent or set (generate.py
UNKNOWN_KEY_VALUES), to tell "the answer depends on it" from "it does not matter".

Verdicts compared (ecrlint "conditional", "possibly-denied" and "unknown" are "undecided"):

- agree: same allowed/not allowed; or ecrlint undecided and the simulator's answer changes with
  the undecided keys;
- "ecrlint allows, simulator denies" / "ecrlint denies, simulator allows" (base context);
- "ecrlint undecided, simulator decided": the simulator gives one answer whatever the keys;
- "ecrlint decided, simulator depends": ecrlint agrees with the base context but the answer
  changes with a key it cannot know.

Each disagreement is shrunk (policies, statements, list entries, conditions, the boundary dropped
while the same disagreement remains) and grouped by the traits of what is left (see ``traits``).
Cases with a boundary are compared only when ``iam.evaluate`` takes ``boundary=``; until then
they are counted as "boundary: not supported yet". The report (stdout and
benchmarks/.work/iam-oracle/summary.md) lists each group with its count and smallest example;
every disagreement is in benchmarks/.work/iam-oracle/disagreements.jsonl.
"""

from __future__ import annotations

import argparse
import collections
import copy
import inspect
import itertools
import json
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Iterator

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
WORK = ROOT / "benchmarks" / ".work" / "iam-oracle"
sys.path.insert(0, str(HERE))

import generate  # noqa: E402

UNDECIDED = ("conditional", "possibly-denied", "unknown")
AGREE = "agree"
AGREE_UNDECIDED = "agree (both undecided)"
ECR_ALLOWS = "ecrlint allows, simulator denies"
ECR_DENIES = "ecrlint denies, simulator allows"
ECR_UNDECIDED = "ecrlint undecided, simulator decided"
SIM_DEPENDS = "ecrlint decided, simulator depends on an undecided key"
SIM_ERROR = "simulator rejected the request"
NO_BOUNDARY = "boundary: not supported yet"


# --- the simulator ----------------------------------------------------------------------------


class Simulator:
    """simulate.js kept running; requests go in batches, each ended by a flush marker."""

    def __init__(self) -> None:
        node = shutil.which("node")
        if node is None:
            sys.exit("compare.py: node is not on PATH")
        if not (HERE / "node_modules" / "@cloud-copilot" / "iam-simulate").is_dir():
            sys.exit("compare.py: run `npm ci` in benchmarks/iam_oracle first (make oracle does)")
        self.proc = subprocess.Popen(
            [node, str(HERE / "simulate.js")],
            cwd=HERE,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            bufsize=1 << 20,
        )
        self.calls = 0

    def run(self, requests: list[dict[str, Any]]) -> list[dict[str, Any]]:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        out: list[dict[str, Any]] = []
        for start in range(0, len(requests), 2000):
            batch = requests[start : start + 2000]
            lines = [json.dumps(r, separators=(",", ":")) for r in batch]
            lines.append(json.dumps({"id": "flush", "flush": True}))
            self.proc.stdin.write("\n".join(lines) + "\n")
            self.proc.stdin.flush()
            while True:
                line = self.proc.stdout.readline()
                if not line:
                    sys.exit("compare.py: simulate.js ended early")
                answer = json.loads(line)
                if answer.get("flush"):
                    break
                out.append(answer)
        self.calls += len(requests)
        return out

    def close(self) -> None:
        if self.proc.stdin:
            self.proc.stdin.close()
        self.proc.wait(timeout=30)


def _principal(resource: str) -> tuple[str, str, str]:
    """(account, assumed-role session ARN, role ARN) of the node role in the resource's account."""
    parts = resource.split(":")
    if resource == "*" or len(parts) < 6 or "*" in parts[1] or "*" in parts[4]:
        partition, account = "aws", generate.ACCOUNT
    else:
        partition, account = parts[1], parts[4]
    session = f"arn:{partition}:sts::{account}:assumed-role/node-role/i-0123456789abcdef0"
    return account, session, f"arn:{partition}:iam::{account}:role/node-role"


def contexts(case: dict[str, Any], resource: str) -> list[dict[str, str]]:
    """The base context (kubelet's direct call) first, then every combination of undecided keys."""
    account, _, role = _principal(resource)
    base = {"aws:ViaAWSService": "false", "aws:PrincipalAccount": account, "aws:PrincipalArn": role}
    keys = generate.unknown_keys(json.dumps(case))
    out = [base]
    choices = [[None, *generate.UNKNOWN_KEY_VALUES[k]] for k in keys]
    if "aws:PrincipalTag/team" in keys and ":repository/" in resource:
        # a tag used in a Resource matches only when it names the asked repository's first segment
        first = resource.split(":repository/", 1)[1].split("/")[0]
        tag = choices[keys.index("aws:PrincipalTag/team")]
        if first not in tag and "*" not in first:
            tag.append(first)
    for combo in itertools.product(*choices):
        if all(v is None for v in combo):
            continue
        ctx = dict(base)
        ctx.update({k: v for k, v in zip(keys, combo, strict=True) if v is not None})
        out.append(ctx)
    return out


def sim_requests(case: dict[str, Any], action: str, resource: str, tag: str) -> list[dict[str, Any]]:
    account, session, _ = _principal(resource)
    return [
        {
            "id": f"{tag}/{n}",
            "identity": case["policies"],
            "boundary": case["boundary"],
            "action": action,
            "resource": resource,
            "account": account,
            "principal": session,
            "context": ctx,
        }
        for n, ctx in enumerate(contexts(case, resource))
    ]


# --- ecrlint -----------------------------------------------------------------------------------


def _ecrlint() -> tuple[Any, Any, Any, Any, bool]:
    from ecrlint.analysis import iam
    from ecrlint.model import NO_SPAN, Loc
    from ecrlint.workspace import PolicyDocument

    return iam, Loc, NO_SPAN, PolicyDocument, "boundary" in inspect.signature(iam.evaluate).parameters


IAM, LOC, NO_SPAN, POLICY_DOCUMENT, HAS_BOUNDARY = _ecrlint()


def _document(doc: dict[str, Any], name: str) -> Any:
    return POLICY_DOCUMENT(document=doc, loc=LOC(name, NO_SPAN), name=name, identity=True)


def ecrlint_status(case: dict[str, Any], action: str, resource: str) -> str | None:
    """ecrlint's status, or None when the case needs ``boundary=`` and evaluate has none."""
    if resource == generate.SOME_REPOSITORY:
        resource = "*"  # ecrlint's own "some repository of the action's type"
    policies = [_document(d, f"p{i}.json") for i, d in enumerate(case["policies"])]
    if case["boundary"] is None:
        return str(IAM.evaluate(policies, action, resource).status)
    if not HAS_BOUNDARY:
        return None
    boundary = _document(case["boundary"], "boundary.json")
    annotation = str(inspect.signature(IAM.evaluate).parameters["boundary"].annotation)
    if "Sequence" in annotation or "list" in annotation:
        return str(IAM.evaluate(policies, action, resource, boundary=[boundary]).status)
    return str(IAM.evaluate(policies, action, resource, boundary=boundary).status)


# --- one verdict -------------------------------------------------------------------------------


def verdict(status: str | None, sims: list[dict[str, Any]]) -> tuple[str, str]:
    """(kind, the simulator's base answer) for one question."""
    errors = [s["error"] for s in sims if "error" in s]
    if errors:
        return SIM_ERROR, errors[0]
    base = sims[0]["result"]
    if status is None:
        return NO_BOUNDARY, base
    allowed = {s["result"] == "Allowed" for s in sims}
    if status in UNDECIDED:
        return (AGREE_UNDECIDED if len(allowed) > 1 else ECR_UNDECIDED), base
    ecr_allowed = status == "allowed"
    if ecr_allowed != (base == "Allowed"):
        return (ECR_ALLOWS if ecr_allowed else ECR_DENIES), base
    if len(allowed) > 1:
        return SIM_DEPENDS, base
    return AGREE, base


def judge(sim: Simulator, case: dict[str, Any], action: str, resource: str) -> tuple[str, str, str | None]:
    status = ecrlint_status(case, action, resource)
    sims = sim.run(sim_requests(case, action, resource, "m"))
    kind, base = verdict(status, sims)
    return kind, base, status


# --- shrinking a disagreement --------------------------------------------------------------------


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _statements(doc: dict[str, Any]) -> list[dict[str, Any]]:
    raw = doc.get("Statement")
    return raw if isinstance(raw, list) else [raw] if isinstance(raw, dict) else []


def _smaller(case: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every case one step smaller than ``case``."""
    if case["boundary"] is not None:
        yield {**case, "boundary": None}
    for i in range(len(case["policies"])):
        if len(case["policies"]) > 1:
            yield {**case, "policies": case["policies"][:i] + case["policies"][i + 1 :]}
    docs: list[tuple[str, int, dict[str, Any]]] = [("policies", i, d) for i, d in enumerate(case["policies"])]
    if case["boundary"] is not None:
        docs.append(("boundary", 0, case["boundary"]))
    for where, i, doc in docs:
        stmts = _statements(doc)
        for j in range(len(stmts)):
            variants = _statement_variants(stmts, j)
            for new in variants:
                new_doc = {**doc, "Statement": new}
                yield _put(case, where, i, new_doc)
        if doc.get("Version") != "2012-10-17":
            yield _put(case, where, i, {"Version": "2012-10-17", **{k: v for k, v in doc.items() if k != "Version"}})


def _statement_variants(stmts: list[dict[str, Any]], j: int) -> list[list[dict[str, Any]]]:
    """The statement lists one step smaller at statement ``j``: dropped, one entry or one test less."""
    variants: list[list[dict[str, Any]]] = []
    if len(stmts) > 1:
        variants.append(stmts[:j] + stmts[j + 1 :])
    stmt = stmts[j]
    for key in ("Action", "NotAction", "Resource", "NotResource"):
        if key in stmt and isinstance(stmt[key], list):
            items = stmt[key]
            if len(items) > 1:
                for k in range(len(items)):
                    variants.append(_replace(stmts, j, {**stmt, key: items[:k] + items[k + 1 :]}))
            else:
                variants.append(_replace(stmts, j, {**stmt, key: items[0]}))
    if "Condition" in stmt:
        variants.append(_replace(stmts, j, {k: v for k, v in stmt.items() if k != "Condition"}))
        cond = stmt["Condition"]
        tests = [(op, key) for op, block in cond.items() for key in block]
        if len(tests) > 1:
            for op, key in tests:
                smaller = copy.deepcopy(cond)
                del smaller[op][key]
                if not smaller[op]:
                    del smaller[op]
                variants.append(_replace(stmts, j, {**stmt, "Condition": smaller}))
    return variants


def _replace(stmts: list[dict[str, Any]], j: int, stmt: dict[str, Any]) -> list[dict[str, Any]]:
    return stmts[:j] + [stmt] + stmts[j + 1 :]


def _put(case: dict[str, Any], where: str, i: int, doc: dict[str, Any]) -> dict[str, Any]:
    if where == "boundary":
        return {**case, "boundary": doc}
    return {**case, "policies": case["policies"][:i] + [doc] + case["policies"][i + 1 :]}


def shrink(sim: Simulator, case: dict[str, Any], action: str, resource: str, kind: str) -> dict[str, Any]:
    current = case
    for _ in range(200):
        for candidate in _smaller(current):
            if judge(sim, candidate, action, resource)[0] == kind:
                current = candidate
                break
        else:
            return current
    return current


_ARN_SEGMENT = re.compile(r":(?![^${]*\})")  # a ":" outside ${...}


# --- classes: which primitive the two sides disagree on ---------------------------------------


class Primitives:
    """One pattern, one condition block, asked alone of both sides (cached): where they part ways."""

    def __init__(self, sim: Simulator) -> None:
        self.sim = sim
        self.cache: dict[str, Any] = {}

    def _sim_allowed(self, stmt: dict[str, Any], action: str, resource: str) -> bool | None:
        """The simulator on one Allow statement: True/False, None when its answer varies with the keys."""
        case = {"policies": [{"Version": "2012-10-17", "Statement": [stmt]}], "boundary": None}
        return self._sim_allowed_doc(case, action, resource)

    def _sim_allowed_doc(self, case: dict[str, Any], action: str, resource: str) -> bool | None:
        key = json.dumps([case, action, resource], sort_keys=True)
        if key not in self.cache:
            answers = self.sim.run(sim_requests(case, action, resource, "prim"))
            if any("error" in a for a in answers):
                self.cache[key] = "error"
            else:
                seen = {a["result"] == "Allowed" for a in answers}
                self.cache[key] = seen.pop() if len(seen) == 1 else None
        value = self.cache[key]
        return None if value == "error" else value

    def resource(self, pattern: str, action: str, resource: str, key: str, effect: str) -> tuple[bool | None, bool | None]:
        """Does a statement with this one Resource (or NotResource, ``key``) pattern apply, on each side?

        An Allow applies when it grants; a Deny when it takes away an Allow of everything.
        """
        stmt = {"Effect": effect, "Action": action, key: pattern}
        stmts = [stmt] if effect == "Allow" else [{"Effect": "Allow", "Action": "*", "Resource": "*"}, stmt]
        case = {"policies": [{"Version": "2012-10-17", "Statement": stmts}], "boundary": None}
        status = ecrlint_status(case, action, resource)
        ecr = None if status in UNDECIDED else status == "allowed"
        sim = self._sim_allowed_doc(case, action, resource)
        if effect == "Deny":
            ecr = None if ecr is None else not ecr
            sim = None if sim is None else not sim
        return ecr, sim

    def action(self, pattern: str, action: str) -> tuple[bool | None, bool | None]:
        return IAM.action_matches(pattern, action), self._sim_allowed(
            {"Effect": "Allow", "Action": pattern, "Resource": "*"}, action, "*" if action == generate.TOKEN_ACTION else generate.QUERY_RESOURCES[0]
        )

    def condition(self, condition: dict[str, Any], action: str) -> tuple[bool | None, bool | None]:
        stmt = {"Effect": "Allow", "Action": "*", "Resource": "*", "Condition": condition}
        return IAM.condition_holds(condition), self._sim_allowed(stmt, action, "*" if action == generate.TOKEN_ACTION else generate.QUERY_RESOURCES[0])


def _word(value: bool | None) -> str:
    return {True: "matches", False: "no match", None: "undecided"}[value]


def _pattern_class(pattern: str, query: str, key: str, ecr: bool | None) -> str:
    """The one feature of a Resource pattern that explains a matching disagreement, most specific first."""
    segs = _ARN_SEGMENT.split(pattern)
    head = segs[1:5]
    q = query.split(":")
    if query != "*" and any(s != s.lower() for s in head) and all(
        s.lower() == t or "*" in s + t or "?" in s or "${" in s for s, t in zip(head, q[1:5], strict=False)
    ):
        return "uppercase partition/service/region/account"
    if key == "NotResource" and len(segs) < 6 and segs[0] == "arn":
        return "short ARN in NotResource"
    if query == "*":
        return f'GetAuthorizationToken (resource "*") against a {key} pattern'
    if key == "NotResource" and "${" in pattern:
        return "policy variable in NotResource " + pattern[pattern.index("${") : pattern.index("}") + 1]
    if query == generate.SOME_REPOSITORY and len(segs) > 1 and segs[1] not in ("aws", "") and not any(c in segs[1] for c in "*?$"):
        return "pattern in another partition (ecrlint asks 'some repository' in the partitions the policies name)"
    if "${" in pattern:
        return "policy variable " + pattern[pattern.index("${") : pattern.index("}") + 1]
    if len(segs) < 6:
        if any(s.endswith("*") for s in segs[1:]):
            return 'short ARN whose "*" ends a segment (trailing * across ":")'
        return "short ARN without a wildcard"
    if any(s == "" for s in head):
        return "empty partition/region/account segment"
    if len(segs) > 6:
        return '":" inside the resource part'
    rid = segs[5]
    if rid != rid.lower() and "${" not in rid:
        return "uppercase repository name"
    if not rid.startswith("repository/"):
        return 'resource part not "repository/..." (' + ("*..." if rid.startswith("*") else rid) + ")"
    if "*" in segs[2] or "?" in segs[2]:
        return "wildcard in the service segment"
    if any(s.endswith("*") and s != "*" for s in head):
        return '"*" ends a segment of a six-segment ARN'
    return "other resource pattern"


_NOT_GRANTED = ("not-granted", "resource-mismatch", "denied", "outside-boundary")


def _other_partition(pattern: str) -> bool:
    segs = pattern.split(":")
    return len(segs) > 1 and segs[0] == "arn" and segs[1] not in ("aws", "") and not any(c in segs[1] for c in "*?$")


def _primitive_class(prims: Primitives, stmts: list[dict[str, Any]], action: str, resource: str) -> tuple[str, str] | None:
    """The first Action or Resource pattern the two sides match differently, as (class, detail)."""
    for stmt in stmts:
        for pattern in _as_list(stmt.get("Action", stmt.get("NotAction", []))):
            ecr, sim = prims.action(str(pattern), action)
            if ecr != sim:
                return f"action pattern {pattern!r}", f"ecrlint {_word(ecr)}, simulator {_word(sim)}"
    for stmt in stmts:
        key = "Resource" if "Resource" in stmt else "NotResource"
        for pattern in _as_list(stmt.get(key, [])):
            ecr, sim = prims.resource(str(pattern), action, resource, key, str(stmt.get("Effect")))
            if ecr != sim:
                detail = f"{key} {pattern!r} applies: ecrlint {_word(ecr)}, simulator {_word(sim)}"
                return _pattern_class(str(pattern), resource, key, ecr), detail
    return None


def classify(prims: Primitives, case: dict[str, Any], action: str, resource: str, kind: str = "") -> tuple[str, str]:
    """(class, detail) of a shrunk disagreement."""
    stmts = []
    for doc in case["policies"] + ([case["boundary"]] if case["boundary"] else []):
        stmts.extend(_statements(doc))
    docs = case["policies"] + ([case["boundary"]] if case["boundary"] else [])
    if any(d.get("Version") != "2012-10-17" and "${" in json.dumps(d) for d in docs):
        return "policy variable under Version 2008-10-17 or no Version", ""
    if case["boundary"] is not None and kind == ECR_UNDECIDED:
        alone = {"policies": [case["boundary"]], "boundary": None}
        if ecrlint_status(alone, action, resource) in _NOT_GRANTED and prims._sim_allowed_doc(alone, action, resource) is False:
            return "identity grant undecided, the boundary does not grant it (AWS: not allowed)", ""
    found = _primitive_class(prims, stmts, action, resource)
    if found is not None:
        return found
    return _structural_class(prims, case, stmts, action, resource)


def _structural_class(
    prims: Primitives, case: dict[str, Any], stmts: list[dict[str, Any]], action: str, resource: str
) -> tuple[str, str]:
    """No single pattern differs: the class comes from how the statements meet."""
    text = json.dumps(case).lower()
    for key in generate.UNKNOWN_KEY_VALUES:
        if text.count(key.lower()) > 1:
            return f"{key} used twice (correlated: one value decides both)", ""
    for stmt in stmts:
        if stmt.get("Condition"):
            ecr, sim = prims.condition(stmt["Condition"], action)
            if ecr != sim:
                tests = ", ".join(f"{op} {key}" for op, block in stmt["Condition"].items() for key in block)
                return f"condition {tests}", f"holds for a direct call: ecrlint {_word(ecr)}, simulator {_word(sim)}"
    for stmt in stmts:
        patterns = _as_list(stmt.get("Resource", stmt.get("NotResource", [])))
        if len(patterns) > 1 and any("${" in str(p) for p in patterns):
            return "a Resource list mixing a policy variable with patterns that match", ""
    if case["boundary"] is not None and not any(
        s.get("Effect") == "Allow" for s in _statements(case["boundary"])
    ):
        return "permissions boundary that allows nothing", ""
    if resource == generate.SOME_REPOSITORY and any(
        s.get("Effect") == "Deny" and _other_partition(str(p))
        for s in stmts
        for p in _as_list(s.get("Resource", s.get("NotResource", [])))
    ):
        return "a Deny naming another partition hides the Allows", ""
    effects = {s.get("Effect") for s in stmts}
    shapes = sorted({k for s in stmts for k in ("NotAction", "NotResource") if k in s})
    if case["boundary"] is not None:
        return "permissions boundary", ""
    if effects == {"Allow", "Deny"}:
        return "Deny against Allow" + (f" ({', '.join(shapes)})" if shapes else ""), ""
    if shapes:
        return "statement with " + " and ".join(shapes), ""
    return "other (no single pattern or condition differs)", ""


# --- the run -----------------------------------------------------------------------------------


class Run:
    """The comparison pass: every case's questions to both sides, tallied."""

    def __init__(self, sim: Simulator, show: bool) -> None:
        self.sim = sim
        self.show = show
        self.tally: collections.Counter[str] = collections.Counter()
        self.errors: collections.Counter[str] = collections.Counter()
        self.deny_kind: collections.Counter[str] = collections.Counter()
        self.disagreements: list[dict[str, Any]] = []
        self.cases = self.questions = self.simulations = self.boundary_cases = 0

    def case(self, seed: int, index: int) -> None:
        c = generate.make_case(seed, index)
        case = {"policies": c.policies, "boundary": c.boundary}
        self.cases += 1
        self.boundary_cases += c.boundary is not None
        requests: list[dict[str, Any]] = []
        spans = []
        for q, (action, resource) in enumerate(c.queries):
            reqs = sim_requests(case, action, resource, f"{index}/{q}")
            spans.append((len(requests), len(requests) + len(reqs)))
            requests.extend(reqs)
        answers = self.sim.run(requests)
        self.simulations += len(requests)
        for (action, resource), (lo, hi) in zip(c.queries, spans, strict=True):
            self.question(index, case, action, resource, answers[lo:hi])

    def question(self, index: int, case: dict[str, Any], action: str, resource: str, sims: list[dict[str, Any]]) -> None:
        self.questions += 1
        status = ecrlint_status(case, action, resource)
        kind, base = verdict(status, sims)
        self.tally[kind] += 1
        record = {"case": index, "action": action, "resource": resource, "ecrlint": status, "simulator": base, "kind": kind}
        if self.show:
            print(json.dumps(record))
        if kind == SIM_ERROR:
            self.errors[base[:160]] += 1
        elif kind == AGREE and status == "denied" and base == "ImplicitlyDenied":
            self.deny_kind["ecrlint explicit Deny, simulator implicit"] += 1
        elif kind == AGREE and status in ("not-granted", "resource-mismatch") and base == "ExplicitlyDenied":
            self.deny_kind["ecrlint not granted, simulator explicit Deny"] += 1
        elif kind not in (AGREE, AGREE_UNDECIDED, NO_BOUNDARY):
            self.disagreements.append({**record, "policies": case})


def render(run: Run, groups: dict[str, list[dict[str, Any]]], title: str, timing: str) -> str:
    lines = [
        title,
        "",
        f"{run.cases} cases ({run.boundary_cases} with a permissions boundary), {run.questions} questions, "
        f"{run.simulations} simulator runs in the comparison, {run.sim.calls} in all (shrinking included); {timing}; "
        f"ecrlint evaluate {'takes' if HAS_BOUNDARY else 'does not take'} boundary=.",
        "",
        "| verdict | questions |",
        "|---|---:|",
    ]
    for kind, n in run.tally.most_common():
        lines.append(f"| {kind} | {n} |")
    if run.deny_kind:
        lines += ["", "Allowed/denied agree, but not on which kind of deny (not counted as disagreements):", ""]
        lines += [f"- {k}: {n}" for k, n in run.deny_kind.most_common()]
    if run.errors:
        lines += ["", "Simulator errors:", ""]
        lines += [f"- {n} × {msg}" for msg, n in run.errors.most_common(10)]
    lines += ["", "## Disagreements by class (what the shrunk case's one differing primitive is)", ""]
    lines += ["| class | questions | kinds |", "|---|---:|---|"]
    ordered = sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0]))
    for cls, items in ordered:
        kinds = collections.Counter(d["kind"] for d in items)
        lines.append(f"| {cls} | {len(items)} | {'; '.join(f'{k}: {n}' for k, n in kinds.most_common())} |")
    lines.append("")
    for cls, items in ordered:
        lines.append(f"### {cls} ({len(items)})")
        lines.append("")
        by_kind: dict[str, list[dict[str, Any]]] = collections.defaultdict(list)
        for d in items:
            by_kind[d["kind"]].append(d)
        for kind, some in sorted(by_kind.items(), key=lambda kv: -len(kv[1])):
            example = min(some, key=lambda d: len(json.dumps(d.get("minimal", d["policies"]))))
            shown = example.get("minimal", example["policies"])
            lines.append(
                f"{len(some)} × {kind}. Smallest: case {example['case']}, {example['action']} on "
                f"{example['resource']}: ecrlint {example['ecrlint']}, simulator {example['simulator']}. "
                f"{example.get('detail', '')}"
            )
            lines.append("")
            lines.append("```json")
            lines.append(json.dumps(shown))
            lines.append("```")
            lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", type=int, default=10000)
    ap.add_argument("--first", type=int, default=0)
    ap.add_argument("--seed", type=int, default=12)
    ap.add_argument("--show", action="store_true", help="print every question of every case")
    ap.add_argument("--max-shrink", type=int, default=5000, help="disagreements shrunk (the rest only counted)")
    args = ap.parse_args(argv)

    started = time.monotonic()
    WORK.mkdir(parents=True, exist_ok=True)
    sim = Simulator()
    run = Run(sim, args.show)
    for index in range(args.first, args.first + args.cases):
        run.case(args.seed, index)
    compared_in = time.monotonic() - started

    groups: dict[str, list[dict[str, Any]]] = collections.defaultdict(list)
    prims = Primitives(sim)
    for n, d in enumerate(run.disagreements):
        if n < args.max_shrink:
            small = shrink(sim, d["policies"], d["action"], d["resource"], d["kind"])
            d["minimal"] = small
            d["class"], d["detail"] = classify(prims, small, d["action"], d["resource"], d["kind"])
            if d["resource"] == generate.SOME_REPOSITORY:
                d["class"] = "[some repository] " + d["class"]
        else:
            d["class"], d["detail"] = "(not shrunk)", ""
        groups[d["class"]].append(d)
    sim.close()
    elapsed = time.monotonic() - started

    with open(WORK / "disagreements.jsonl", "w", encoding="utf-8") as fh:
        for d in run.disagreements:
            fh.write(json.dumps(d) + "\n")
    title = f"# IAM oracle: seed {args.seed}, cases {args.first}..{args.first + args.cases - 1}"
    report = render(run, groups, title, f"compared in {compared_in:.1f} s, {elapsed:.1f} s in all")
    (WORK / "summary.md").write_text(report + "\n", encoding="utf-8")
    print(report)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
