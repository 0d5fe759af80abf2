"""SARIF 2.1.0 output, valid against the OASIS schema, that GitHub code scanning and SARIF viewers accept."""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from .. import __version__
from ..escape import dump_json, uri_bytes
from ..model import Finding, Severity, Span

if TYPE_CHECKING:
    from ..engine.options import RunResult
    from ..registry import Rule

SCHEMA_URI = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
INFORMATION_URI = "https://github.com/ecrlint/ecrlint"
_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.NOTE: "note"}
_LINE_REF = re.compile(r":\d+\b")


# GitHub code scanning ranks results of rules tagged "security" by `security-severity` (a CVSS-like
# score: 9.0 and above critical, 7.0-8.9 high, 4.0-6.9 medium, 0.1-3.9 low):
# https://docs.github.com/en/code-security/code-scanning/integrating-with-code-scanning/sarif-support-for-code-scanning#reportingdescriptor-object
_SECURITY_SEVERITY = {Severity.ERROR: "7.5", Severity.WARNING: "5.0", Severity.NOTE: "2.0"}
# A failed pull stops a deployment; a wrong IAM grant or trust is a security problem: the families
# whose findings are about who may pull what are tagged "security", the others "correctness".
_FAMILY_TAGS = {
    "ECR0": ("correctness", "parse"),
    "ECR1": ("security", "supply-chain", "container-image"),
    "ECR2": ("security", "iam"),
    "ECR3": ("security", "iam", "fargate"),
    "ECR4": ("correctness", "helm"),
}


def repository_root(cwd: str) -> str:
    """The directory SARIF URIs are relative to: the nearest one at or above ``cwd`` holding ``.git``
    (GitHub places results by their path in the repository), else ``cwd``."""
    directory = os.path.realpath(cwd)
    while True:
        if os.path.exists(os.path.join(directory, ".git")):
            return directory
        parent = os.path.dirname(directory)
        if parent == directory:
            return os.path.realpath(cwd)
        directory = parent


class _Paths:
    """Displayed paths (relative to the working directory) as URIs relative to the repository root."""

    def __init__(self, cwd: str, root: str) -> None:
        self.cwd = os.path.realpath(cwd)
        self.root = root

    def key(self, path: str) -> str:
        """The path as the fingerprint sees it: the artifact's URI."""
        return self.artifact(path)["uri"]

    def artifact(self, path: str) -> dict[str, Any]:
        absolute = path if os.path.isabs(path) else os.path.join(self.cwd, path)
        rel = os.path.relpath(absolute, self.root) if path != "-" else path
        if rel == ".." or rel.startswith(".." + os.sep) or os.path.isabs(rel):
            return {"uri": "file://" + quote(uri_bytes(absolute.replace(os.sep, "/")))}
        # Percent-encoding the path's bytes keeps a file name that is not UTF-8 addressable.
        return {"uri": quote(uri_bytes(rel.replace(os.sep, "/"))), "uriBaseId": "%SRCROOT%"}


def _region(span: Span) -> dict[str, int]:
    return {
        "startLine": span.line,
        "startColumn": span.column,
        "endLine": max(span.end_line, span.line),
        "endColumn": span.end_column if span.end_line > span.line else max(span.end_column, span.column + 1),
    }


def _location(paths: _Paths, path: str, span: Span) -> dict[str, Any]:
    return {"physicalLocation": {"artifactLocation": paths.artifact(path), "region": _region(span)}}


def _fingerprint(f: Finding, seen: dict[str, int], path: str) -> str:
    # Stable across unrelated edits: no line numbers, neither ours nor those quoted in messages; the
    # path relative to the repository root, so the working directory changes nothing either.
    basis = "\0".join([f.rule, path, f.logical or "", _LINE_REF.sub("", f.message)])
    digest = hashlib.sha256(basis.encode("utf-8", "surrogatepass")).hexdigest()[:32]
    seen[digest] = seen.get(digest, 0) + 1
    return f"{digest}:{seen[digest]}"


def _rule_descriptor(rule: type[Rule]) -> dict[str, Any]:
    sections = rule.sections()
    doc = rule.doc()
    body = doc.split("\n", 1)[1].strip() if "\n" in doc else doc
    plain = re.sub(r"^## ", "", body, flags=re.M)
    return {
        "id": rule.id,
        "name": rule.name,
        "shortDescription": {"text": rule.summary()},
        "fullDescription": {"text": sections.get("What it does", rule.summary())},
        "help": {"text": plain, "markdown": body},
        "helpUri": rule.help_uri(),
        "defaultConfiguration": {"level": _LEVEL[rule.severity], "enabled": bool(rule.enabled_by_default)},
        "properties": {
            "tags": ["ecr", "eks", *next((t for p, t in _FAMILY_TAGS.items() if rule.id.startswith(p)), ())],
            "precision": "high",
            "security-severity": _SECURITY_SEVERITY[rule.severity],
        },
    }


def _result(f: Finding, index: dict[str, int], seen: dict[str, int], paths: _Paths) -> dict[str, Any]:
    result: dict[str, Any] = {
        "ruleId": f.rule,
        "ruleIndex": index[f.rule],
        "level": _LEVEL[f.severity],
        "message": {"text": f.message},
        "locations": [_location(paths, f.path, f.span)],
        "partialFingerprints": {"ecrlintFingerprint/v1": _fingerprint(f, seen, paths.key(f.path))},
    }
    if f.logical:
        result["locations"][0]["logicalLocations"] = [
            {"name": f.logical.rsplit("/", 1)[-1], "fullyQualifiedName": f.logical, "kind": "resource"}
        ]
    if f.related:
        result["relatedLocations"] = [
            {"id": i, **_location(paths, r.loc.path, r.loc.span), "message": {"text": r.message}}
            for i, r in enumerate(f.related, start=1)
        ]
    if f.fix:
        result["fixes"] = [
            {
                "description": {"text": f.fix.description},
                "artifactChanges": [
                    {
                        "artifactLocation": paths.artifact(f.fix.path),
                        "replacements": [
                            {"deletedRegion": _region(f.fix.span), "insertedContent": {"text": f.fix.replacement}}
                        ],
                    }
                ],
            }
        ]
    if f.suppressed_by:
        result["suppressions"] = [{"kind": "inSource", "justification": "ecrlint ignore comment or annotation"}]
    return result


def repository_path(path: str, cwd: str, root: str | None = None) -> str:
    """A displayed path relative to the repository root (absolute when outside it)."""
    root = os.path.realpath(root) if root else repository_root(cwd)
    if "uriBaseId" not in _Paths(cwd, root).artifact(path):
        return path
    rel = os.path.relpath(path if os.path.isabs(path) else os.path.join(os.path.realpath(cwd), path), root)
    return rel.replace(os.sep, "/")


def fingerprints(findings: list[Finding], cwd: str, root: str | None = None) -> list[str]:
    """Each finding's SARIF fingerprint, in order (a baseline records these)."""
    seen: dict[str, int] = {}
    paths = _Paths(cwd, os.path.realpath(root) if root else repository_root(cwd))
    return [_fingerprint(f, seen, paths.key(f.path)) for f in sorted(findings, key=Finding.sort_key)]


def format_sarif(result: RunResult, cwd: str | None = None, root: str | None = None) -> str:
    """SARIF for a run from ``cwd``; URIs relative to ``root`` (default: the repository root)."""
    rules = list(result.registry)
    index = {rule.id: i for i, rule in enumerate(rules)}
    seen: dict[str, int] = {}
    findings = sorted([*result.findings, *result.suppressed], key=Finding.sort_key)
    cwd = cwd or os.getcwd()
    root = os.path.realpath(root) if root else repository_root(cwd)
    paths = _Paths(cwd, root)
    root_uri = Path(root).as_uri() + "/"
    doc = {
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "ecrlint",
                        "version": __version__,
                        "semanticVersion": __version__,
                        "informationUri": INFORMATION_URI,
                        "rules": [_rule_descriptor(r) for r in rules],
                    }
                },
                "originalUriBaseIds": {"%SRCROOT%": {"uri": root_uri}},
                "columnKind": "unicodeCodePoints",
                "results": [_result(f, index, seen, paths) for f in findings],
            }
        ],
    }
    return dump_json(doc)


