"""Seeded mutation fuzzing of whole lint runs: shared by tests/test_fuzz_corpus.py and benchmarks/fuzz.py.

A case is a seed document (the test fixtures, the examples, a few built-in documents of every kind,
or the shared corpus in the long run) mutated by one ``random.Random(seed)``: byte-level damage
(flips, cuts, splices, YAML/JSON/CloudFormation tokens, odd encodings and line ends) or, for seeds
that parse, tree-level damage (a value swapped for another type, a key dropped, a subtree copied,
nested, or turned into a list) written back as YAML or JSON. Tree mutations keep files parseable,
so they reach the extractors and rules with types those never expect. The same seed always gives
the same bytes.
"""

from __future__ import annotations

import json
import os
import random
import re
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable

import yaml

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent
SUFFIXES = (".yaml", ".yml", ".json", ".template")
MAX_CASE_BYTES = 1 << 20

BUILTIN_SEEDS: dict[str, str] = {
    "pod.yaml": """apiVersion: v1
kind: Pod
metadata:
  name: web
  namespace: apps
  labels: {app: web, compute: fargate}
  annotations: {ecrlint.io/ignore: ECR103}
spec:
  hostNetwork: false
  imagePullSecrets: [{name: regcred}]
  initContainers:
    - name: init
      image: 111122223333.dkr.ecr.us-east-1.amazonaws.com/init:1.0
  containers:
    - name: app  # ecrlint: ignore[ECR103]
      image: nginx:latest
      securityContext: {privileged: true}
      ports: [{containerPort: 80, hostPort: 8080}]
      resources: {limits: {nvidia.com/gpu: 1}}
---
apiVersion: v1
kind: Secret
type: kubernetes.io/dockerconfigjson
metadata: {name: regcred}
data:
  .dockerconfigjson: eyJhdXRocyI6eyIxMTExMjIyMjMzMzMuZGtyLmVjci51cy1lYXN0LTEuYW1hem9uYXdzLmNvbSI6e319fQ==
""",
    "list.yaml": """apiVersion: v1
kind: List
items:
  - apiVersion: batch/v1
    kind: CronJob
    metadata: {name: c}
    spec:
      schedule: "* * * * *"
      jobTemplate:
        spec:
          template:
            spec:
              containers: [{name: c, image: "${REGISTRY}/c:${TAG}"}]
  - apiVersion: apps/v1
    kind: DaemonSet
    metadata: {name: d, namespace: kube-system}
    spec:
      template:
        metadata: {labels: {a: b}}
        spec:
          containers: [{name: d, image: "public.ecr.aws/eks/d@sha256:0000000000000000000000000000000000000000000000000000000000000000"}]
""",
    "template.yaml": """AWSTemplateFormatVersion: "2010-09-09"
Parameters:
  Tag: {Type: String, Default: "1.0"}
Conditions:
  IsProd: !Equals [!Ref AWS::StackName, prod]
Resources:
  Cluster:
    Type: AWS::EKS::Cluster
    Properties:
      Name: prod
      RoleArn: !GetAtt ClusterRole.Arn
      ResourcesVpcConfig: {SubnetIds: [subnet-1]}
  NodeRole:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Version: "2012-10-17"
        Statement: [{Effect: Allow, Principal: {Service: ec2.amazonaws.com}, Action: sts:AssumeRole}]
      ManagedPolicyArns:
        - arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy
        - !Sub arn:${AWS::Partition}:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly
      Policies:
        - PolicyName: pull
          PolicyDocument:
            Version: "2012-10-17"
            Statement:
              - Sid: Deny
                Effect: Deny
                NotAction: ["ecr:Get*"]
                NotResource: !Sub "arn:aws:ecr:${AWS::Region}:${AWS::AccountId}:repository/*"
                Condition: {StringEquals: {aws:username: "${aws:username}"}}
  Nodes:
    Type: AWS::EKS::Nodegroup
    Properties:
      ClusterName: !Ref Cluster
      NodeRole: !GetAtt NodeRole.Arn
      Subnets: [subnet-1]
  Profile:
    Type: AWS::EKS::FargateProfile
    Properties:
      ClusterName: !Ref Cluster
      PodExecutionRoleArn: !If [IsProd, !GetAtt NodeRole.Arn, !Ref AWS::NoValue]
      Selectors: [{Namespace: "apps*", Labels: [{Key: compute, Value: fargate}]}]
  Repo:
    Type: AWS::ECR::Repository
    Properties:
      RepositoryName: web
      RepositoryPolicyText:
        Statement: [{Effect: Allow, Principal: {AWS: "arn:aws:iam::444455556666:root"}, Action: ["ecr:BatchGetImage"]}]
  Task:
    Type: AWS::ECS::TaskDefinition
    Properties:
      ContainerDefinitions:
        - Name: a
          Image: !Join ["", [!Ref AWS::AccountId, ".dkr.ecr.", !Ref AWS::Region, ".amazonaws.com/web:", !Ref Tag]]
""",
    "cluster.yaml": """apiVersion: eksctl.io/v1alpha5
kind: ClusterConfig
metadata: {name: c, region: eu-west-1}
iam: {withOIDC: true}
managedNodeGroups:
  - name: ng
    iam:
      attachPolicyARNs: [arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy]
      withAddonPolicies: {imageBuilder: false}
nodeGroups:
  - name: self
    iam: {instanceRoleARN: "arn:aws:iam::111122223333:role/nodes"}
fargateProfiles:
  - name: fp
    podExecutionRoleARN: arn:aws:iam::111122223333:role/fargate
    selectors: [{namespace: apps, labels: {a: b}}]
""",
    "policy.json": json.dumps({"Version": "2012-10-17", "Statement": [
        {"Sid": "Pull", "Effect": "Allow", "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayers", "ecr:*Layer*"],
         "Resource": "arn:aws:ecr:us-east-1:111122223333:repository/web"},
        {"Effect": "Allow", "Action": "ecr:GetAuthorizationToken", "Resource": "arn:aws:ecr:*:*:repository/*"},
        {"Effect": "Deny", "NotAction": "ecr:*", "NotResource": ["*"], "Condition": {"Bool": {"aws:SecureTransport": "false"}}},
    ]}, indent=2),
    "auth-details.json": json.dumps({"RoleDetailList": [{
        "RoleName": "nodes", "Arn": "arn:aws:iam::111122223333:role/nodes",
        "AssumeRolePolicyDocument": {"Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"},
                                                     "Action": "sts:AssumeRole"}]},
        "AttachedManagedPolicies": [{"PolicyName": "AmazonEKSWorkerNodePolicy",
                                     "PolicyArn": "arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy"}],
        "RolePolicyList": [{"PolicyName": "p", "PolicyDocument": {"Statement": {"Effect": "Allow", "Action": "ecr:*",
                                                                                "Resource": "*"}}}],
    }], "Policies": [], "UserDetailList": []}, indent=1),
    "fargate-profile.json": json.dumps({"fargateProfile": {
        "fargateProfileName": "fp", "clusterName": "c", "podExecutionRoleArn": "arn:aws:iam::111122223333:role/x",
        "selectors": [{"namespace": "apps", "labels": {"a": "b"}}]}}),
}

TOKENS = [
    b": ", b"- ", b"{", b"}", b"[", b"]", b",", b"&a ", b"*a", b"<<: *a", b"!Ref ", b"!GetAtt a.b", b"!Sub ", b"!If ",
    b"!!python/object/apply:os.system ", b"!!binary ", b"!!set ", b"? ", b"|", b">-", b"'", b'"', b"#", b"---\n",
    b"...\n", b"%YAML 1.1\n", b"\t", b"\x00", b"\xff", b"\r", b"\r\n", b"\xc2\x85", b"\xe2\x80\xa8", b"\\",
    b"\xef\xbb\xbf", b"${AWS::AccountId}", b"{{ .Values.image }}", b"9" * 40, b"-1e999", b".nan", b"~", b"null",
    b"*", b"?", b"ecr:*", b"arn:aws:ecr:*:*:repository/*", b"NotAction", b"NotResource", b"Deny", b"Fn::",
    b"apiVersion: v1\nkind: Pod\n", b"kind: List\nitems:\n", b'{"Statement": ', b"\xf0\x9f\x98\x80", b"A" * 300,
]

INTERESTING: list[Any] = [
    None, True, False, 0, -1, 2**70, 1e308, float("inf"), "", " ", "*", "?", "${AWS::Region}", "x" * 5000,
    "arn:aws:iam::111122223333:role/x", "ecr:*", "nginx", "UPPER/Case:Tag", [], {}, [None], {"": None}, [[[]]],
    {"Fn::If": ["C", 1]}, {"Ref": 1}, {"Fn::GetAtt": "a"}, {"Fn::Join": ["", "x"]}, {"Fn::Sub": [1, 2]},
    {"Fn::Select": ["9", []]}, {"Ref": "AWS::NoValue"}, ["a", {"b": []}], {"1": {"2": {"3": {}}}},
]


def seed_files(extra_roots: Iterable[Path] = ()) -> list[tuple[str, bytes]]:
    """(name, bytes) of every seed: built-ins, test fixtures, examples, and any extra roots."""
    seeds = [(name, text.encode()) for name, text in BUILTIN_SEEDS.items()]
    for root in (TESTS / "fixtures", ROOT / "examples", *extra_roots):
        if not root.is_dir():
            continue
        for path in sorted(root.rglob("*")):
            if path.suffix in SUFFIXES and path.is_file() and not path.is_symlink() and path.stat().st_size < 200_000:
                seeds.append((path.name, path.read_bytes()))
    return seeds


# --- mutations ----------------------------------------------------------------------------------

def _span(rng: random.Random, n: int) -> tuple[int, int]:
    a = rng.randrange(n + 1)
    return a, min(n, a + rng.choice([1, 2, 4, 16, 64, 512]))


def mutate_bytes(rng: random.Random, data: bytes, other: bytes) -> bytes:
    for _ in range(rng.choice([1, 1, 2, 3, 8])):
        op = rng.randrange(10)
        n = len(data)
        if op == 0 and n:
            i = rng.randrange(n)
            data = data[:i] + bytes([data[i] ^ (1 << rng.randrange(8))]) + data[i + 1:]
        elif op == 1:
            a, b = _span(rng, n)
            data = data[:a] + data[b:]
        elif op in (2, 3):
            i = rng.randrange(n + 1)
            data = data[:i] + rng.choice(TOKENS) + data[i:]
        elif op == 4:
            a, b = _span(rng, n)
            data = data[:b] + data[a:b] * rng.choice([2, 3, 50]) + data[b:]
        elif op == 5:
            data = data[: rng.randrange(n + 1)]
        elif op == 6:
            a, b = _span(rng, len(other))
            i = rng.randrange(n + 1)
            data = data[:i] + other[a:b] + data[i:]
        elif op == 7:
            lines = data.split(b"\n")
            if len(lines) > 1:
                i, j = rng.randrange(len(lines)), rng.randrange(len(lines))
                lines[i], lines[j] = lines[j], lines[i]
            data = b"\n".join(lines)
        elif op == 8:
            lines = data.split(b"\n")
            i = rng.randrange(len(lines))
            lines[i] = rng.choice([b"", b" ", b"  ", b"\t", b"    "]) + lines[i].lstrip(b" ") if rng.random() < 0.5 \
                else lines[i][rng.randrange(len(lines[i]) + 1):]
            data = b"\n".join(lines)
        else:
            data = rng.choice([
                lambda d: d.replace(b"\n", b"\r\n"), lambda d: d.replace(b"\n", b"\r"),
                lambda d: b"\xef\xbb\xbf" + d, lambda d: d.replace(b"  ", b"\t"),
                lambda d: _reencode(d, "utf-16"), lambda d: _reencode(d, "utf-32"), lambda d: d.upper(),
            ])(data)
    return data


def _reencode(data: bytes, codec: str) -> bytes:
    try:
        return data.decode("utf-8").encode(codec)
    except UnicodeError:
        return data


def _containers(node: Any) -> list[tuple[Any, Any]]:
    """(container, key or index) of every slot in the tree, iteratively."""
    slots, stack = [], [node]
    while stack:
        cur = stack.pop()
        if isinstance(cur, dict):
            for key in list(cur):
                slots.append((cur, key))
                stack.append(cur[key])
        elif isinstance(cur, list):
            for i in range(len(cur)):
                slots.append((cur, i))
                stack.append(cur[i])
    return slots


def mutate_tree(rng: random.Random, root: Any) -> Any:
    for _ in range(rng.choice([1, 1, 2, 4, 10])):
        slots = _containers(root)
        if not slots:
            return _copy(rng.choice(INTERESTING))
        container, key = rng.choice(slots)
        value = container[key]
        op = rng.randrange(8)
        if op < 3:
            container[key] = _copy(rng.choice(INTERESTING))
        elif op == 3 and isinstance(container, dict):
            del container[key]
        elif op == 4:
            donor_container, donor_key = rng.choice(slots)
            container[key] = _copy(donor_container[donor_key])
        elif op == 5:
            container[key] = [value] if rng.random() < 0.5 else {"k": value}
        elif op == 6:
            if isinstance(value, dict):
                container[key] = list(value.values())
            elif isinstance(value, list):
                container[key] = {str(i): v for i, v in enumerate(value)}
            else:
                container[key] = str(value) if not isinstance(value, str) else value * rng.choice([2, 100])
        elif isinstance(container, dict):
            container[rng.choice([1, "", "*", "Fn::If", "Ref", "<<"])] = _copy(value)
        if len(json.dumps(root, default=str)) > MAX_CASE_BYTES:
            break  # copies of copies grow exponentially: keep cases small
    return root


def _copy(value: Any) -> Any:
    # never share a subtree: a tree that reuses nodes doubles with every copy of an ancestor
    return json.loads(json.dumps(value, default=str))


def _load(data: bytes) -> list[Any] | None:
    try:
        docs = list(yaml.safe_load_all(data.decode("utf-8")))
    except Exception:  # noqa: BLE001 - an unparseable seed simply gets byte-level mutations only
        return None
    return [json.loads(json.dumps(d, default=str)) for d in docs if d is not None] or None


def make_case(seed: int, seeds: list[tuple[str, bytes]]) -> tuple[str, bytes]:
    """The file name and bytes of fuzz case ``seed``: the same seed always gives the same case."""
    rng = random.Random(seed)
    name, data = seeds[rng.randrange(len(seeds))]
    other = seeds[rng.randrange(len(seeds))][1]
    stem, suffix = os.path.splitext(name)
    if rng.random() < 0.5:
        docs = _load(data)
        if docs is not None:
            docs = [mutate_tree(rng, d) for d in docs]
            if suffix == ".json" or rng.random() < 0.3:
                suffix = ".json"
                data = json.dumps(docs[0], indent=rng.choice([None, 1, 2])).encode()
            else:
                data = yaml.safe_dump_all(docs, default_flow_style=rng.choice([None, False, True]),
                                          sort_keys=rng.random() < 0.5, allow_unicode=True).encode()
            if rng.random() < 0.3:
                data = mutate_bytes(rng, data, other)
            return f"case{seed}-{stem}{suffix}", data[:MAX_CASE_BYTES]
    return f"case{seed}-{stem}{suffix}", mutate_bytes(rng, data, other)[:MAX_CASE_BYTES]


# --- running ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Crash:
    case: str
    error: str  # "ExcType: message"
    where: str  # the innermost ecrlint frame, "module.py:123 in function"

    @property
    def signature(self) -> tuple[str, str]:
        return self.error.split(":", 1)[0], self.where


def _where(exc: BaseException) -> str:
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if "/linter/" in f.filename or "/rules/" in f.filename]
    if not frames:
        return "?"
    f = frames[-1]
    return f"{Path(f.filename).parent.name}/{Path(f.filename).name}:{f.lineno} in {f.name}"


def well_formed(result: Any, names: set[str], rule_ids: set[str]) -> None:
    """Every finding points at a file of the run, inside it, from a known rule, with a one-line message."""
    for f in result.findings:
        assert f.rule in rule_ids, f.rule
        assert f.path.split("/", 1)[0] in names, f.path
        assert f.span.line >= 1 and f.span.column >= 1, f.span
        assert (f.span.end_line, f.span.end_column) >= (f.span.line, f.span.column), f.span
        assert isinstance(f.message, str) and f.message and "\n" not in f.message, f.message


def lint_cases(directory: Path, cases: list[tuple[str, bytes]], lint: Callable[..., Any]) -> list[Crash]:
    """Write the cases into ``directory`` and lint them in one run; on a crash, find each culprit."""
    for name, data in cases:
        (directory / name).write_bytes(data)
    names = [name for name, _ in cases]
    crashes = _run(directory, names, lint)
    if crashes and len(names) > 1:
        crashes = []
        for name in names:  # one run per file tells which case crashes, and how
            crashes.extend(_run(directory, [name], lint))
    for name in names:
        os.unlink(directory / name)
    return crashes


def _run(directory: Path, names: list[str], lint: Callable[..., Any]) -> list[Crash]:
    from ecrlint.registry import load_registry

    try:
        result = lint(*names, cwd=directory)
        well_formed(result, set(names), set(load_registry().rules))
    except Exception as exc:  # noqa: BLE001 - this is what the fuzzer is looking for
        cause = exc.__cause__ if exc.__cause__ is not None else exc
        return [Crash(",".join(names) if len(names) < 4 else f"{len(names)} cases",
                      f"{type(cause).__name__}: {str(cause)[:200]}", _where(cause))]
    return []


class Hang(Exception):
    """A batch that did not finish within the campaign's hang guard."""


def run_campaign(first: int, count: int, workdir: Path, *, batch: int = 100, extra_roots: Iterable[Path] = (),
                 hang_guard: int = 120, progress: Callable[[int, list[Crash]], None] | None = None) -> dict[str, Any]:
    """Lint cases ``first .. first+count-1`` in batches; returns counts and every crash found.

    Meant for a child process with resource limits (the test and benchmarks/fuzz.py set them):
    a case that makes ecrlint exhaust memory surfaces as a MemoryError crash, a hang as ``Hang``.
    """
    import signal

    from helpers import lint

    def fire(signum: int, frame: Any) -> None:
        raise Hang(f"a batch took more than {hang_guard} s")

    signal.signal(signal.SIGALRM, fire)
    seeds = seed_files(extra_roots)
    crashes: list[Crash] = []
    done = 0
    for start in range(first, first + count, batch):
        cases = [make_case(seed, seeds) for seed in range(start, min(start + batch, first + count))]
        signal.alarm(hang_guard)
        try:
            crashes.extend(lint_cases(workdir, cases, lint))
        except Hang as exc:
            crashes.append(Crash(f"cases {start}..{start + len(cases) - 1}", f"Hang: {exc}", _where(exc)))
            for name, _ in cases:
                if (workdir / name).exists():
                    os.unlink(workdir / name)
        finally:
            signal.alarm(0)
        done += len(cases)
        if progress is not None:
            progress(done, crashes)
    return {"seeds": len(seeds), "cases": done, "crashes": [c.__dict__ for c in crashes],
            "signatures": sorted({" @ ".join(c.signature) for c in crashes})}


# --- template functions under the built-in engine's budgets -------------------------------------
#
# A template case is a chart whose templates call the functions that build strings and collections
# (repeat, indent, printf widths, wrap, join, toYaml, list growth, fromYaml of an alias bomb, ...)
# with random arguments, huge ones included, nested in each other and in loops. The engine must end
# every case with rendered output or an ECR401 - never a traceback, an internal error, a
# MemoryError, or a case that takes more than SLOW_CASE_SECONDS. Budgets can be scaled down
# (``budget_scale``) so that a case that exhausts its chart's budget ends in a fraction of the
# time; the mechanisms that stop it are the same.

# A case slower than this (seconds, at budget scale 1) is a crash: a budget counts less work than
# some function does. Most of it scales with the budgets, a little (startup, parsing) does not.
SLOW_CASE_SECONDS = 30.0
COUNTS = ["0", "1", "2", "7", "80", "1000", "65536", "100000", "9999999", "10000001", "500000000", "2147483648",
          "-1", "-500000000", "1.5", '"12"', "true"]
FORMATS = ['"%s"', '"%v-%q"', '"%x"', '"%0500000000d"', '"%500000000s"', '"%.500000000f"', '"%*d"', '"%[2]*[1]d"',
           '"%-*s|"', '"%.*x"', '"%d %d %d"', '"%[3]v%[3]v%[3]v"', '"%!"', '"%"', '"%09d"', '"% x"', '"%+.3e"']
REGEXES = ['""', '"a"', '"(a|b)+z"', '"[a-z]{1,300}X"', '"x*"', '"(?i)A+"', '"\\\\s+"', '"("', '"a{1000}"']
STRINGS = ['""', '"x"', '"ab cd"', '"\\n"', '"é€😀"', '"{{ . }}"', '"a,b,c"', '"- "', '"\\t\\x01"', '"1.2.3"']
TEMPLATE_FUNCTIONS: dict[str, tuple[str, ...]] = {
    "repeat": ("count", "str"), "indent": ("count", "str"), "nindent": ("count", "str"),
    "printf": ("format", "value", "value"), "trunc": ("count", "str"), "substr": ("count", "count", "str"),
    "wrap": ("count", "str"), "wrapWith": ("count", "str", "str"), "cat": ("value", "value", "value"),
    "join": ("str", "list"), "replace": ("str", "str", "str"), "b64enc": ("str",), "b32enc": ("str",),
    "b64dec": ("str",), "toYaml": ("value",), "toJson": ("value",), "toPrettyJson": ("value",),
    "toYamlPretty": ("value",), "list": ("value", "value", "value"), "append": ("list", "value"),
    "concat": ("list", "list"), "dict": ("str", "value", "str", "value"), "set": ("dict", "str", "value"),
    "merge": ("dict", "dict"), "mergeOverwrite": ("dict", "dict"), "print": ("value", "value"),
    "println": ("value",), "quote": ("value",), "squote": ("value",), "upper": ("str",), "kebabcase": ("str",),
    "title": ("str",), "regexReplaceAll": ("regex", "str", "str"), "regexFindAll": ("regex", "str", "count"),
    "regexSplit": ("regex", "str", "count"), "splitList": ("str", "str"), "split": ("str", "str"),
    "until": ("count",), "seq": ("count",), "untilStep": ("count", "count", "count"), "deepCopy": ("value",),
    "uniq": ("list",), "fromYaml": ("yaml",), "fromYamlArray": ("yaml",), "fromJson": ("json",),
    "fromJsonArray": ("json",), "tpl": ("tplsrc", "dot"), "include": ("define", "value"),
    "randAlphaNum": ("count",), "randBytes": ("count",), "randInt": ("count", "count"), "shuffle": ("str",),
    "sha256sum": ("str",), "semverCompare": ("str", "str"), "keys": ("dict",), "sortAlpha": ("list",),
    "has": ("value", "list"), "without": ("list", "value"), "toString": ("value",), "toStrings": ("list",),
    "deepEqual": ("value", "value"), "eq": ("value", "value"), "uuidv4": (), "now": (), "ago": ("value",),
    "html": ("value",), "js": ("value",), "urlquery": ("value",), "slice": ("list", "count", "count"),
    "abbrev": ("count", "str"), "chunk": ("count", "list"), "toDecimal": ("value",), "default": ("value", "value"),
    "genCA": ("str", "count"), "htpasswd": ("str", "str"), "len": ("value",), "index": ("list", "count"),
}
_SIMPLE = {"count": COUNTS, "format": FORMATS, "regex": REGEXES,
           "define": ['"twice"', '"loop"', '"deep"', '"missing"'],
           "tplsrc": ['"{{ . }}{{ . }}"', "$t", '(repeat 1000 "{{ . }}")', '"{{ range until 100000 }}{{ . }}{{ end }}"',
                      '"{{ define \\"q\\" }}{{ . }}{{ end }}{{ template \\"q\\" . }}"'],
           "dot": ["$", "$s", "$l", "$d", "."]}


def _expression(rng: random.Random, kind: str, depth: int) -> str:
    """A random template expression of roughly ``kind``: a literal, a variable, a value or a nested call."""
    if kind in _SIMPLE and (kind != "count" or rng.random() < 0.8):
        return rng.choice(_SIMPLE[kind])
    if kind == "yaml":
        return rng.choice(['(.Files.Get "bomb.yaml")', '(.Files.Get "bomba.yaml")', "(toYaml $d)", '"a: [1, 2]"', "$s"])
    if kind == "json":
        return rng.choice(['(.Files.Get "deep.json")', "(toJson $l)", '"[1, [2, [3]]]"', '"{\\"a\\": 1}"', "$s"])
    if depth > 0 and rng.random() < 0.45:
        name = rng.choice(sorted(TEMPLATE_FUNCTIONS))
        args = " ".join(_expression(rng, arg, depth - 1) for arg in TEMPLATE_FUNCTIONS[name])
        return f"({name} {args})".replace(" )", ")")
    pools = {
        "str": ["$s", "$t", ".Values.text", '(.Files.Get "big.txt")', '(repeat 100000 "ab")', *STRINGS],
        "list": ["$l", "(list 1 2 3)", "(until 100)", '(splitList "," "a,b,c")', ".Values.items", "(list $l $l)"],
        "dict": ["$d", "$", ".Values", '(dict "a" $d "b" $d)', "(dict)"],
    }
    pool = pools.get(kind) or [*pools["str"], *pools["list"], *pools["dict"], *COUNTS]
    return rng.choice(pool)


def _statements(rng: random.Random, depth: int) -> str:
    out = []
    for _ in range(rng.randint(1, 4)):
        roll = rng.random()
        if roll < 0.2 and depth > 0:
            body = _statements(rng, depth - 1)
            out.append(f"{{{{ range $i := until {rng.choice(COUNTS)} }}}}{body}{{{{ end }}}}")
        elif roll < 0.3:
            var = rng.choice(["$s", "$l", "$d"])
            out.append(f"{{{{ range until 40 }}}}{{{{ {var} = list {var} {var} }}}}{{{{ end }}}}" if var != "$s" else
                       "{{ range until 40 }}{{ $s = print $s $s }}{{ end }}")
        elif roll < 0.6:
            var, kind = rng.choice([("$s", "str"), ("$l", "list"), ("$d", "dict"), ("$t", "str")])
            out.append(f"{{{{ {var} = {_expression(rng, kind, 3)} }}}}")
        elif roll < 0.8:
            out.append(f"{{{{ $_ := {_expression(rng, 'value', 3)} }}}}")
        else:
            out.append(f"x: {{{{ {_expression(rng, 'value', 3)} }}}}\n")
    return "".join(out)


_HELPERS = """{{- define "twice" }}{{ . }}{{ . }}{{ end }}
{{- define "loop" }}{{ range until 1000 }}{{ . }}{{ end }}{{ end }}
{{- define "deep" }}{{ if lt (len (toString .)) 200 }}{{ include "deep" (print . "x") }}{{ end }}{{ end }}
"""


def make_template_case(seed: int) -> dict[str, bytes]:
    """The files of template case ``seed`` (a chart): the same seed always gives the same chart."""
    rng = random.Random(seed)
    files = {
        "Chart.yaml": f"apiVersion: v2\nname: case{seed}\nversion: 1.0.0\n",
        "values.yaml": "text: " + rng.choice(["x", "abc " * 1000, "é" * 100_000]) + "\nitems: [1, 2, 3]\n",
        "templates/_helpers.tpl": _HELPERS,
        "bomb.yaml": "a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + "".join(
            f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]\n" for i in range(1, 10)),
        "bomba.yaml": "- [&a [x, x, x, x, x, x, x, x]" + ", [*a, *a, *a, *a, *a, *a, *a, *a]" * 3 + "]\n",
        "deep.json": "[" * rng.choice([10, 600]) + "]" * 600,
        "big.txt": "y" * rng.choice([10, 1_000_000]),
    }
    for index in range(rng.randint(1, 3)):
        prelude = '{{ $s := "x" }}{{ $t := "{{ . }}" }}{{ $l := list 1 2 }}{{ $d := dict "k" "v" }}'
        files[f"templates/t{index}.yaml"] = "kind: ConfigMap\n" + prelude + _statements(rng, 2) + "\n"
    return {name: text.encode() for name, text in files.items()}


_INTERNAL = re.compile(r"cannot be rendered: (?:[A-Za-z_.]*(?:Error|Exception)\b|it needs too much memory)")


def run_template_campaign(first: int, count: int, workdir: Path, *, budget_scale: float = 1.0,
                          max_rss_mb: int = 1_500) -> dict[str, Any]:
    """Lint template cases ``first .. first+count-1`` one chart each with the built-in engine.

    For a child process with an address-space limit (the test and benchmarks/fuzz.py set one). A
    crash is an exception out of the run, an ECR401 that reports an internal error or exhausted
    memory, a case slower than SLOW_CASE_SECONDS (scaled like the budgets), or the process's peak
    memory above ``max_rss_mb``.
    """
    import resource
    import time

    from ecrlint.helm import budgets
    from ecrlint.registry import load_registry
    from helpers import lint

    if budget_scale != 1.0:
        budgets.MAX_CHART_WORK = int(budgets.MAX_CHART_WORK * budget_scale)
        budgets.MAX_RUN_WORK = int(budgets.MAX_RUN_WORK * budget_scale)
    rule_ids = set(load_registry().rules)
    crashes: list[Crash] = []
    slowest = 0.0
    for seed in range(first, first + count):
        name = f"tcase{seed}"
        chart = workdir / name
        for rel, data in make_template_case(seed).items():
            (chart / rel).parent.mkdir(parents=True, exist_ok=True)
            (chart / rel).write_bytes(data)
        budgets.reset_run()  # each case is a run of its own
        started = time.monotonic()
        try:
            result = lint(name, cwd=workdir, helm_engine="builtin")
            well_formed(result, {name}, rule_ids)
            for f in result.findings:
                if f.rule == "ECR401" and _INTERNAL.search(f.message):
                    crashes.append(Crash(name, f"ECR401: {f.message[:200]}", "render"))
        except Exception as exc:  # noqa: BLE001 - what the fuzzer is looking for
            cause = exc.__cause__ if exc.__cause__ is not None else exc
            crashes.append(Crash(name, f"{type(cause).__name__}: {str(cause)[:200]}", _where(cause)))
        elapsed = time.monotonic() - started
        slowest = max(slowest, elapsed)
        if elapsed > 5 + SLOW_CASE_SECONDS * budget_scale:
            crashes.append(Crash(name, f"Slow: {elapsed:.0f} s", "render"))
        for path in sorted(chart.rglob("*"), reverse=True):
            path.unlink() if path.is_file() else path.rmdir()
        chart.rmdir()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    if peak_mb > max_rss_mb:
        crashes.append(Crash(f"tcases {first}..{first + count - 1}", f"Memory: peak {peak_mb} MB", "render"))
    return {"cases": count, "crashes": [c.__dict__ for c in crashes], "slowest_s": round(slowest, 2),
            "peak_mb": peak_mb, "signatures": sorted({" @ ".join(c.signature) for c in crashes})}


def campaign_in_child(call: str, workdir: Path, memory_limit: int, hang_guard: int) -> dict[str, Any]:
    """Run ``fuzzing.<call>`` (e.g. ``run_campaign(0, 50, Path(sys.argv[1]))``) in a child process
    under an address-space limit, killing its whole process group if it hangs; return its report.

    A separate process, so a case that exhausts memory or hangs fails one test, not the session.
    """
    import signal
    import subprocess
    import sys

    import pytest

    tests = Path(__file__).resolve().parent
    script = (
        "import json, resource, sys\n"
        f"resource.setrlimit(resource.RLIMIT_AS, ({memory_limit}, {memory_limit}))\n"
        f"sys.path.insert(0, {str(tests)!r})\n"
        "from pathlib import Path\n"
        "import fuzzing\n"
        f"print(json.dumps(fuzzing.{call}))\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", script, str(workdir)], cwd=tests, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True,
                            env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"})
    try:
        out, err = proc.communicate(timeout=hang_guard)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        pytest.fail(f"the fuzz cases did not finish in {hang_guard} s")
    assert proc.returncode == 0, err[-3000:]
    report: dict[str, Any] = json.loads(out)
    return report
