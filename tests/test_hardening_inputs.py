"""Hostile input (issue 8.2): every odd file gives ECR001 or is skipped with a reason, and the run goes on.

Each case lints the hostile path next to a sentinel manifest whose ECR101 must still be reported, so
"the run continues with the other files" is checked every time. In-process runs sit under a hang guard
(SIGALRM; not a timing assertion: it only turns a hang into a failure instead of a stuck suite);
``test_all_hostile_files_in_one_run_within_memory_and_cpu_limits`` repeats them in one child process
under RLIMIT_AS and RLIMIT_CPU, which is what bounds memory.

A file that is neither a kind ecrlint reads nor parseable is a --verbose note, not ECR001
(tests/test_foreign_files.py): every tree here has a config whose ``context`` names all its files,
which makes them ours, so each hostile file's problem is reported as the ECR001 it would be in an
EKS manifest.
"""

from __future__ import annotations

import codecs
import json
import os
import random
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import lint

SENTINEL = "zz-sentinel.yaml"
SENTINEL_TEXT = """apiVersion: v1
kind: Pod
metadata:
  name: sentinel
spec:
  containers:
    - name: app
      image: nginx:1.25
"""
SENTINEL_FINDING = (SENTINEL, "ECR101", 8, 14)
HANG_GUARD_SECONDS = 120
OURS_CONFIG, OURS_CONFIG_TEXT = ".ecrlint.yaml", 'context: ["**"]\n'  # every file here is ours


class Hang(Exception):
    """The run did not come back: a hang, reported as a failure instead of a stuck suite."""


@pytest.fixture(autouse=True)
def hang_guard():
    def fire(signum, frame):
        raise Hang(f"no result after {HANG_GUARD_SECONDS} s")

    previous = signal.signal(signal.SIGALRM, fire)
    signal.setitimer(signal.ITIMER_REAL, HANG_GUARD_SECONDS)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    (root / SENTINEL).write_text(SENTINEL_TEXT)
    (root / OURS_CONFIG).write_text(OURS_CONFIG_TEXT)
    return root


def run(root: Path, *paths: str):
    result = lint(*(paths or (".",)), cwd=root)
    if paths and "." not in paths:
        # named paths: lint the sentinel too, after the hostile one
        result = lint(*paths, SENTINEL, cwd=root)
    found = {(f.path, f.rule, f.span.line, f.span.column) for f in result.findings}
    assert SENTINEL_FINDING in found, f"the run did not go on to the other files: {sorted(found)}"
    return result


def only(result, path: str):
    """The findings for ``path`` (all ECR001 for hostile files)."""
    return [f for f in result.findings if f.path == path]


def one_ecr001(result, path: str, contains: str, line: int | None = None, column: int | None = None):
    findings = only(result, path)
    assert [f.rule for f in findings] == ["ECR001"], findings
    f = findings[0]
    assert contains in f.message, f.message
    if line is not None:
        assert (f.span.line, f.span.column) == (line, column), f.span
    return f


def noted(result, path: str, *reasons: str) -> None:
    """No finding for ``path``, and a note saying why it was skipped (any of ``reasons``)."""
    assert not only(result, path), only(result, path)
    assert any(n.startswith(path + ":") and any(r in n for r in reasons) for n in result.notes), result.notes


# --- YAML alias bombs -------------------------------------------------------------------------

def _billion_laughs(levels: int = 9) -> str:
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, levels + 1):
        lines.append(f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 9) + "]")
    return "\n".join(lines) + "\n"


def _merge_key_bomb() -> str:
    lines = ["m0: &m0 {" + ", ".join(f"k{j}: v" for j in range(20)) + "}"]
    for i in range(1, 8):
        lines.append(f"m{i}: &m{i}\n  <<: [" + ", ".join([f"*m{i - 1}"] * 20) + "]\n  " +
                     "\n  ".join(f"n{i}_{j}: *m{i - 1}" for j in range(20)))
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("text, line, column", [(_billion_laughs(), 6, 14), (_billion_laughs(30), 6, 14),
                                                (_merge_key_bomb(), 47, 13)],
                         ids=["billion-laughs", "thirty-levels", "merge-keys"])
def test_yaml_alias_bomb(tree, text, line, column):
    (tree / "bomb.yaml").write_text(text)
    result = run(tree)
    # the alias where expansion passed the cap, not the top of the file
    f = one_ecr001(result, "bomb.yaml", "alias", line, column)
    assert f.message == "YAML aliases expand to more than 200000 nodes (an alias bomb?)"


# --- 200,000-deep nesting ---------------------------------------------------------------------

DEPTH = 200_000


@pytest.mark.parametrize(
    "name, text",
    [
        ("flow.yaml", "[" * DEPTH + "]" * DEPTH),
        ("flowmap.yaml", "{a: " * DEPTH + "1" + "}" * DEPTH),
        ("block.yaml", "- " * DEPTH + "x\n"),
        ("unclosed.yaml", "[" * DEPTH),
        ("arrays.json", "[" * DEPTH + "]" * DEPTH),
        ("objects.json", '{"a":' * DEPTH + "1" + "}" * DEPTH),
        ("objects-in-yaml.yaml", '{"a":' * DEPTH + "1" + "}" * DEPTH),
    ],
)
def test_200000_deep_nesting(tree, name, text):
    (tree / name).write_text(text)
    f = one_ecr001(run(tree), name, "nesting")
    assert f.span.line == 1


# --- size ---------------------------------------------------------------------------------------

def test_100_mb_file_is_refused_without_reading_it(tree):
    big = tree / "big.yaml"
    with open(big, "wb") as handle:
        handle.truncate(100 * 1024 * 1024)  # sparse: 100 MB to stat(), nothing on disk
    one_ecr001(run(tree), "big.yaml", "larger than the 10485760-byte limit", 1, 1)


def test_oversized_stdin_is_refused(tree):
    result = lint("-", SENTINEL, cwd=tree, stdin=b"a: b\n" * (2 * 1024 * 1024 + 10))
    one_ecr001(result, "-", "larger than")
    assert SENTINEL_FINDING in {(f.path, f.rule, f.span.line, f.span.column) for f in result.findings}


# --- encodings and bytes ------------------------------------------------------------------------

def test_invalid_utf8_points_at_the_byte(tree):
    (tree / "latin1.yaml").write_bytes("apiVersion: v1\nkind: Pod\nmetadata:\n  name: caf\u00e9\n".encode("latin-1"))
    one_ecr001(run(tree), "latin1.yaml", "invalid UTF-8 (byte 0xe9)", 4, 12)


@pytest.mark.parametrize("codec, bom", [("utf-16-le", codecs.BOM_UTF16_LE), ("utf-16-be", codecs.BOM_UTF16_BE),
                                        ("utf-32-le", codecs.BOM_UTF32_LE), ("utf-8", codecs.BOM_UTF8)])
def test_byte_order_marked_files_are_read_not_refused(tree, codec, bom):
    (tree / "pod.yaml").write_bytes(bom + SENTINEL_TEXT.encode(codec))
    result = run(tree)
    assert [(f.rule, f.span.line, f.span.column) for f in only(result, "pod.yaml")] == [("ECR101", 8, 14)]


def test_broken_utf16_and_utf32_after_a_bom(tree):
    # once a UnicodeDecodeError out of the loader (found by the bytes property)
    (tree / "odd.yaml").write_bytes(codecs.BOM_UTF16_BE + "a: 1\n".encode("utf-16-be") + b"\x00")
    (tree / "surrogate.yaml").write_bytes(codecs.BOM_UTF16_LE + "a: 1\nb: ".encode("utf-16-le") + b"\x00\xd8")
    (tree / "utf32.yaml").write_bytes(codecs.BOM_UTF32_LE + b"\xff\xff\xff\xff")
    result = run(tree)
    one_ecr001(result, "odd.yaml", "invalid UTF-16", 2, 1)
    one_ecr001(result, "surrogate.yaml", "invalid UTF-16", 2, 4)
    one_ecr001(result, "utf32.yaml", "invalid UTF-32", 1, 1)


def test_utf16_without_bom_is_binary(tree):
    (tree / "pod.yaml").write_bytes(SENTINEL_TEXT.encode("utf-16-le"))
    f = one_ecr001(run(tree), "pod.yaml", "binary file", 1, 1)
    assert f.message == "binary file (NUL bytes); not YAML or JSON"


def test_nul_bytes_early_and_late(tree):
    (tree / "early.yaml").write_bytes(b"a: b\x00c\n")
    # past the 8 KiB binary sniff: libyaml's refusal, located at the character
    (tree / "late.yaml").write_bytes(b"a: 1\n" * 5000 + b"b: \xc3\xa9\x00\n")
    result = run(tree)
    one_ecr001(result, "early.yaml", "binary file", 1, 1)
    one_ecr001(result, "late.yaml", "control character U+0000", 5001, 5)


@pytest.mark.parametrize("kind", ["elf", "gzip", "png", "random-high-bytes"])
def test_binary_file_named_yaml(tree, kind):
    rng = random.Random(8)
    body = bytes(rng.randrange(256) for _ in range(4096))
    data = {
        "elf": b"\x7fELF\x02\x01\x01\x00" + body,
        "gzip": b"\x1f\x8b\x08\x00" + body,
        "png": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + body,
        "random-high-bytes": bytes(rng.randrange(0x80, 0x100) for _ in range(4096)),
    }[kind]
    (tree / "blob.yaml").write_bytes(data)
    f = one_ecr001(run(tree), "blob.yaml", "")
    assert "binary" in f.message or "UTF-8" in f.message


@pytest.mark.parametrize("text", ["", "\n\n", "   \n", "# only a comment\n", "---\n", "--- \n...\n", "\ufeff"])
def test_empty_files_are_skipped_with_a_reason(tree, text):
    (tree / "empty.yaml").write_text(text, encoding="utf-8")
    noted(run(tree), "empty.yaml", "no documents", "no known kind of document")


# --- filesystem oddities ------------------------------------------------------------------------

def test_directory_named_like_a_yaml_file(tree):
    inner = tree / "x.yaml"
    inner.mkdir()
    (inner / "pod.yaml").write_text(SENTINEL_TEXT)
    for result in (run(tree), run(tree, "x.yaml")):
        assert [(f.rule, f.span.line) for f in only(result, "x.yaml/pod.yaml")] == [("ECR101", 8)]
        assert not only(result, "x.yaml")


def test_symlink_loops(tree):
    os.symlink("loop-b.yaml", tree / "loop-a.yaml")
    os.symlink("loop-a.yaml", tree / "loop-b.yaml")
    os.symlink("self.yaml", tree / "self.yaml")
    (tree / "sub").mkdir()
    os.symlink("..", tree / "sub" / "up")  # a directory loop: walking it would never end
    walked = run(tree)
    for name in ("loop-a.yaml", "loop-b.yaml", "self.yaml"):
        noted(walked, name, "looping symlink")
    noted(walked, "sub/up", "symlinked directory not followed")
    named = run(tree, "loop-a.yaml")
    one_ecr001(named, "loop-a.yaml", "too many levels of symbolic links", 1, 1)


def test_symlinks_out_of_the_tree_are_not_followed(tmp_path, tree):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.yaml").write_text(SENTINEL_TEXT)
    os.symlink(outside / "secret.yaml", tree / "leak.yaml")
    os.symlink(outside, tree / "leakdir")
    os.symlink("/etc/passwd", tree / "passwd.yaml")
    (tree / "inside.yaml").write_text(SENTINEL_TEXT)
    os.symlink("inside.yaml", tree / "alias.yaml")  # control: a link within the tree is read
    walked = run(tree)
    noted(walked, "leak.yaml", "symlink out of the tree not followed")
    noted(walked, "passwd.yaml", "symlink out of the tree not followed")
    noted(walked, "leakdir", "symlinked directory not followed")
    assert [f.rule for f in only(walked, "alias.yaml")] == ["ECR101"]
    for name in ("leak.yaml", "passwd.yaml", "leakdir", "leakdir/secret.yaml"):
        named = run(tree, name)
        assert not any("secret" in f.path or f.path.startswith("leak") for f in named.findings), named.findings
        assert any("symlink out of the tree not followed" in n for n in named.notes), named.notes


# root reads any file through CAP_DAC_OVERRIDE (1) / CAP_DAC_READ_SEARCH (2); dropped from the
# bounding set (prctl PR_CAPBSET_DROP, 24) before exec, they are gone in the program that follows,
# and the kernel applies the mode bits as for anyone. A launcher, not preexec_fn: no ctypes in a
# child forked from a possibly threaded test process.
_WITHOUT_PERMISSION_OVERRIDES = """
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
for cap in (1, 2):
    if libc.prctl(24, cap, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP) failed")
os.execvp(sys.argv[1], sys.argv[1:])
"""


def test_unreadable_file(tree):
    """A mode-000 file is refused by the kernel, not by a simulation.

    Tests run as root here, and root reads mode-000 files. So as root the run happens in a child
    process whose capabilities to bypass file permissions are dropped; as any other user, in process.
    Either way the open() really fails with EACCES and the finding says so.
    """
    secret = tree / "secret.yaml"
    secret.write_text(SENTINEL_TEXT)
    secret.chmod(0)
    try:
        if os.geteuid() != 0:
            result = run(tree)
            one_ecr001(result, "secret.yaml", "cannot read file: permission denied", 1, 1)
            return
        proc = subprocess.run(
            [sys.executable, "-c", _WITHOUT_PERMISSION_OVERRIDES, sys.executable, "-m", "ecrlint", "check",
             "--format", "json", "."], cwd=tree, capture_output=True, text=True, timeout=HANG_GUARD_SECONDS,
            env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
        )
        assert proc.returncode == 1, proc.stderr
        findings = {(f["path"], f["rule"], f["line"], f["column"], f["message"]) for f in json.loads(proc.stdout)["findings"]}
        assert ("secret.yaml", "ECR001", 1, 1, "cannot read file: permission denied") in findings
        assert SENTINEL_FINDING in {f[:4] for f in findings}
    finally:
        secret.chmod(0o644)


def test_named_pipe_never_blocks(tree):
    os.mkfifo(tree / "pipe.yaml")
    for result in (run(tree), run(tree, "pipe.yaml")):
        one_ecr001(result, "pipe.yaml", "not a regular file", 1, 1)


def test_unix_socket_and_device(tree):
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(tree / "sock.yaml"))
    try:
        os.symlink("/dev/zero", tree / "zero.yaml")  # out of the tree: not followed when walking
        walked = run(tree)
        one_ecr001(walked, "sock.yaml", "cannot read file", 1, 1)
        named = lint("/dev/zero", SENTINEL, cwd=tree)
        one_ecr001(named, "/dev/zero", "not a regular file", 1, 1)
    finally:
        server.close()


# --- line ends and whitespace -------------------------------------------------------------------

@pytest.mark.parametrize("newline", ["\r\n", "\r"], ids=["crlf", "cr-only"])
def test_crlf_and_cr_line_ends_keep_positions(tree, newline):
    (tree / "pod.yaml").write_bytes(SENTINEL_TEXT.replace("\n", newline).encode())
    (tree / "pod.json").write_bytes(json.dumps(
        {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "j"},
         "spec": {"containers": [{"name": "a", "image": "nginx:1.25"}]}}, indent=1).replace("\n", newline).encode())
    result = run(tree)
    assert [(f.rule, f.span.line, f.span.column) for f in only(result, "pod.yaml")] == [("ECR101", 8, 14)]
    assert [(f.rule, f.span.line, f.span.column) for f in only(result, "pod.json")] == [("ECR101", 11, 14)]


def test_tabs(tree):
    (tree / "tab-indent.yaml").write_text("apiVersion: v1\nkind: Pod\nspec:\n\tcontainers: []\n")
    (tree / "tab-in-list.yaml").write_text("a:\n  - x\n\t- y\n")
    # a tab after "key:" and inside quotes is legal YAML: read normally
    (tree / "tab-separator.yaml").write_text(SENTINEL_TEXT.replace("image: nginx", "image:\tnginx"))
    result = run(tree)
    one_ecr001(result, "tab-indent.yaml", "invalid YAML", 4, 1)
    one_ecr001(result, "tab-in-list.yaml", "tab", 3, 1)
    assert [(f.rule, f.span.line, f.span.column) for f in only(result, "tab-separator.yaml")] == [("ECR101", 8, 14)]


def test_unicode_line_separators_and_control_characters(tree):
    # NEL, LS and PS break lines for libyaml: positions must stay consistent with that
    (tree / "nel.yaml").write_text(SENTINEL_TEXT.replace("kind: Pod\n", "kind: Pod\x85"), encoding="utf-8")
    (tree / "bell.yaml").write_text("a: 1\nb: x\x07y\n", encoding="utf-8")
    result = run(tree)
    assert [(f.rule, f.span.line, f.span.column) for f in only(result, "nel.yaml")] == [("ECR101", 8, 14)]
    one_ecr001(result, "bell.yaml", "control character U+0007", 2, 5)


# --- documents at the parser's depth limit go through every extractor --------------------------

def _deep(levels: int, leaf):
    node = leaf
    for _ in range(levels):
        node = {"k": [node]}
    return node


def _nested_fn(levels: int):
    node = "nginx:1.25"
    for i in range(levels):
        node = {"Fn::If": ["C", node, {"Fn::Join": ["", [node if i < 3 else "x", ":1"]]}]} if i % 2 else \
            {"Fn::Select": [0, [node]]}
    return node


def _depth(root) -> int:
    deepest, stack = 0, [(root, 0)]
    while stack:  # iterative: recursing 500 levels would itself hit Python's recursion limit
        node, depth = stack.pop()
        if isinstance(node, (dict, list)):
            deepest = max(deepest, depth + 1)
            stack.extend((child, depth + 1) for child in (node.values() if isinstance(node, dict) else node))
    return deepest


@pytest.mark.parametrize("kind", ["kubernetes", "cloudformation", "iam", "eksctl"])
def test_documents_at_the_depth_limit_do_not_crash_extractors_or_rules(tree, kind):
    docs = {
        "kubernetes": {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "d", "labels": {"a": "b"}},
                       "spec": {"containers": [{"name": "a", "image": "nginx:1.25", "env": [_deep(250, "v")]}]}},
        "cloudformation": {"AWSTemplateFormatVersion": "2010-09-09", "Resources": {
            "Role": {"Type": "AWS::IAM::Role", "Properties": {"AssumeRolePolicyDocument": _deep(250, "x")}},
            "Task": {"Type": "AWS::ECS::TaskDefinition", "Properties": {"ContainerDefinitions": [
                {"Name": "a", "Image": _nested_fn(195)}]}}}},
        "iam": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "ecr:*", "Resource": "*",
                                                      "Condition": {"StringEquals": _deep(250, "x")}}]},
        "eksctl": {"apiVersion": "eksctl.io/v1alpha5", "kind": "ClusterConfig",
                   "metadata": {"name": "c", "region": "us-east-1"},
                   "managedNodeGroups": [{"name": "ng", "iam": {"attachPolicyARNs": [_deep(250, "arn")]}}]},
    }
    assert 480 <= _depth(docs[kind]) <= 512  # as deep as the parser lets through
    (tree / f"deep-{kind}.json").write_text(json.dumps(docs[kind]))
    result = run(tree)  # a RecursionError anywhere downstream would escape as an internal error
    assert not [f for f in result.findings if f.rule == "ECR001"], result.findings


# --- odd types where a kind expects lists, maps and strings -------------------------------------

_ODD_TYPES = {
    "eksctl-attach-bool": "apiVersion: eksctl.io/v1alpha5\nkind: ClusterConfig\nmetadata: {name: c, region: eu-west-1}\n"
                          "managedNodeGroups:\n  - name: ng\n    iam: {attachPolicyARNs: true}\n",
    "eksctl-groups-map": "apiVersion: eksctl.io/v1alpha5\nkind: ClusterConfig\nmetadata: {name: c, region: 7}\n"
                         "nodeGroups: {a: 1}\nmanagedNodeGroups: [7, null, {iam: []}, {name: 5, iam: {withAddonPolicies: 1}}]\n"
                         "fargateProfiles: [{name: f, selectors: true}, {selectors: [{namespace: 5, labels: []}]}]\n",
    "pod-odd": "apiVersion: v1\nkind: Pod\nmetadata: []\nspec:\n  containers: true\n  initContainers: [5, {image: 7}, "
               "{image: [a]}]\n  imagePullSecrets: {name: x}\n",
    "deployment-odd": "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: 5, namespace: [x], labels: 3}\n"
                      "spec: {template: {metadata: {labels: [a]}, spec: {containers: [{image: {Ref: x}}], hostNetwork: yes}}}\n",
    "cfn-odd": "AWSTemplateFormatVersion: '2010-09-09'\nResources:\n  A: {Type: AWS::EKS::Nodegroup, Properties: x}\n"
               "  B: {Type: AWS::IAM::Role, Properties: {Policies: true, ManagedPolicyArns: 5}}\n"
               "  C: {Type: AWS::EKS::FargateProfile, Properties: {Selectors: {Namespace: 1}, PodExecutionRoleArn: [1]}}\n"
               "  D: {Type: AWS::EKS::Cluster, Properties: {Name: {Fn::If: [c]}}}\n"
               "  E: {Type: AWS::ECS::TaskDefinition, Properties: {ContainerDefinitions: [{Image: {Fn::Join: 5}}]}}\n",
    "policy-odd": '{"Version": 5, "Statement": [true, {"Effect": "Allow", "Action": 5, "Resource": [null]},'
                  ' {"Effect": [1], "NotAction": {"a": 1}, "NotResource": true, "Condition": []}]}',
}


# What each odd file gives: (rule, line, column). An extractor that crashes on one of them does not
# stop the run (the engine turns it into ECR001 "could not read facts"), so the exact set is what
# tells a crash apart from a judged file.
_ODD_TYPES_FINDINGS = {
    "eksctl-attach-bool": [],
    "eksctl-groups-map": [],
    "pod-odd": [("ECR104", 6, 31), ("ECR104", 6, 43)],  # image: 7, image: [a]
    "deployment-odd": [("ECR104", 4, 72)],  # image: {Ref: x}
    "cfn-odd": [("ECR306", 5, 100)],  # PodExecutionRoleArn: [1]
    "policy-odd": [],
}


@pytest.mark.parametrize("name", list(_ODD_TYPES))
def test_odd_types_in_known_fields_do_not_crash_the_run(tree, name):
    # Each is one small file a fuzz case reduced to: the run goes on and every extractor reads it
    suffix = ".json" if _ODD_TYPES[name].startswith("{") else ".yaml"
    (tree / (name + suffix)).write_text(_ODD_TYPES[name])
    findings = only(run(tree), name + suffix)
    assert not [f.message for f in findings if "could not read facts" in f.message], "an extractor crashed"
    assert [(f.rule, f.span.line, f.span.column) for f in findings] == _ODD_TYPES_FINDINGS[name], findings


# --- unsafe YAML: never constructed, only reported ----------------------------------------------

@pytest.mark.parametrize(
    "snippet",
    [
        "!!python/object/apply:os.system ['touch {canary}']",
        "!!python/object/apply:subprocess.check_call [['touch', '{canary}']]",
        "!!python/object/new:subprocess.Popen [['touch', '{canary}']]",
        "!!python/object:builtins.object {{}}",
        "!!python/name:os.system",
        "!!python/module:os",
        "!<tag:yaml.org,2002:python/object/apply:os.system> ['touch {canary}']",
        "!!python/object/apply:builtins.exec [\"open('{canary}', 'w')\"]",
    ],
)
def test_unsafe_python_tags_are_reported_never_constructed(tree, snippet):
    canary = tree.parent / "canary"
    (tree / "evil.yaml").write_text("x: " + snippet.format(canary=canary) + "\n")
    result = run(tree)
    f = one_ecr001(result, "evil.yaml", "is never constructed", 1, 4)
    assert f.message.startswith('unsafe tag "!!python/')
    assert not canary.exists()


def test_no_unsafe_loader_is_ever_used(tree, monkeypatch):
    # Whatever any module does with YAML (values files, config, rendered charts): never a loader
    # that can construct Python objects.
    import yaml

    def refuse(*args, **kwargs):
        raise AssertionError("an unsafe YAML loader was used")

    for name in ("unsafe_load", "unsafe_load_all", "full_load", "full_load_all"):
        monkeypatch.setattr(yaml, name, refuse)
    for name in ("UnsafeLoader", "FullLoader", "Loader", "CUnsafeLoader", "CFullLoader", "CLoader"):
        if hasattr(yaml, name):
            monkeypatch.setattr(getattr(yaml, name), "__init__", refuse)
    real_load = yaml.load

    def checked_load(stream, Loader=None, **kwargs):  # noqa: N803 - PyYAML's argument name
        if Loader not in (yaml.SafeLoader, getattr(yaml, "CSafeLoader", yaml.SafeLoader), yaml.BaseLoader):
            refuse()
        return real_load(stream, Loader=Loader, **kwargs)

    monkeypatch.setattr(yaml, "load", checked_load)
    fixtures = Path(__file__).parent / "fixtures"
    result = lint(str(fixtures), cwd=tree)
    assert result.files > 10


# --- all of it at once, in a child with hard memory and CPU limits ------------------------------

MEMORY_LIMIT = 768 * 1024 * 1024  # address space: python + ecrlint is ~100 MB; a bomb would need GBs
CPU_LIMIT = 120


_WITH_LIMITS = f"""
import os, resource, sys
resource.setrlimit(resource.RLIMIT_AS, ({MEMORY_LIMIT}, {MEMORY_LIMIT}))
resource.setrlimit(resource.RLIMIT_CPU, ({CPU_LIMIT}, {CPU_LIMIT}))
os.execvp(sys.argv[1], sys.argv[1:])
"""


def _hostile_tree(root: Path) -> dict[str, str]:
    """Every hostile file in one directory; returns path -> the ECR001 message fragment expected."""
    (root / "bomb.yaml").write_text(_billion_laughs(12))
    (root / "deep.yaml").write_text("[" * DEPTH + "]" * DEPTH)
    (root / "deep-block.yaml").write_text("- " * DEPTH + "x\n")
    (root / "deep.json").write_text('{"a":' * DEPTH + "1" + "}" * DEPTH)
    with open(root / "big.yaml", "wb") as handle:
        handle.truncate(100 * 1024 * 1024)
    (root / "latin1.yaml").write_bytes(b"a: caf\xe9\n")
    (root / "nul.yaml").write_bytes(b"a: \x00\n")
    (root / "elf.yaml").write_bytes(b"\x7fELF\x02\x01\x01\x00" + bytes(range(256)) * 8)
    (root / "tabs.yaml").write_text("a:\n\tb: 1\n")
    os.mkfifo(root / "pipe.yaml")
    (root / "evil.yaml").write_text("x: !!python/object/apply:os.system ['echo pwned']\n")
    (root / "utf16.yaml").write_bytes(codecs.BOM_UTF16_LE + "a: 1\n".encode("utf-16-le"))
    (root / "crlf.yaml").write_bytes(b"a: 1\r\nb: 2\r\n")
    (root / "empty.yaml").write_text("")
    (root / "dir.yaml").mkdir()
    os.symlink("loop2.yaml", root / "loop1.yaml")
    os.symlink("loop1.yaml", root / "loop2.yaml")
    os.symlink("/etc/passwd", root / "out.yaml")
    (root / SENTINEL).write_text(SENTINEL_TEXT)
    (root / OURS_CONFIG).write_text(OURS_CONFIG_TEXT)
    return {"bomb.yaml": "alias", "deep.yaml": "nesting", "deep-block.yaml": "nesting", "deep.json": "nesting",
            "big.yaml": "larger than", "latin1.yaml": "invalid UTF-8", "nul.yaml": "binary", "elf.yaml": "binary",
            "tabs.yaml": "invalid YAML", "pipe.yaml": "not a regular file", "evil.yaml": "unsafe tag",
            "-": "larger than"}


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_all_hostile_files_in_one_run_within_memory_and_cpu_limits(tmp_path, jobs):
    root = tmp_path / "hostile"
    root.mkdir()
    expected = _hostile_tree(root)
    big = root / "big.yaml"
    args = [".", "-"] if jobs == "1" else ["."]  # stdin keeps a run in one process
    if jobs == "2":
        expected.pop("-")
    with open(big, "rb") as stdin:  # 100 MB of zeros on standard input: read up to the cap only
        proc = subprocess.run(
            [sys.executable, "-c", _WITH_LIMITS, sys.executable, "-m", "ecrlint", "check", "--format", "json",
             "--jobs", jobs, "--verbose", *args],
            cwd=root, stdin=stdin, capture_output=True, text=True, timeout=HANG_GUARD_SECONDS * 2,
            env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
        )
    assert proc.returncode == 1, proc.stderr[-3000:]
    assert "Traceback" not in proc.stderr
    findings = json.loads(proc.stdout)["findings"]
    by_path: dict[str, list[str]] = {}
    for f in findings:
        by_path.setdefault(f["path"], []).append(f"{f['rule']} {f['message']}")
    for path, fragment in expected.items():
        assert any(m.startswith("ECR001") and fragment in m for m in by_path.get(path, [])), (path, by_path.get(path))
    assert (SENTINEL, "ECR101", 8, 14) in {(f["path"], f["rule"], f["line"], f["column"]) for f in findings}
    for skipped in ("loop1.yaml", "loop2.yaml", "out.yaml", "empty.yaml"):
        assert skipped not in by_path and f"{skipped}: " in proc.stderr, skipped
    assert not {"utf16.yaml", "crlf.yaml", "dir.yaml"} & set(by_path)
