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


def _artifact(path: str) -> dict[str, Any]:
    if os.path.isabs(path):
        return {"uri": "file://" + quote(uri_bytes(path))}
    # Percent-encoding the path's bytes keeps a file name that is not UTF-8 addressable.
    return {"uri": quote(uri_bytes(path)), "uriBaseId": "%SRCROOT%"}


def _region(span: Span) -> dict[str, int]:
    return {
        "startLine": span.line,
        "startColumn": span.column,
        "endLine": max(span.end_line, span.line),
        "endColumn": span.end_column if span.end_line > span.line else max(span.end_column, span.column + 1),
    }


def _location(path: str, span: Span) -> dict[str, Any]:
    return {"physicalLocation": {"artifactLocation": _artifact(path), "region": _region(span)}}


def _fingerprint(f: Finding, seen: dict[str, int]) -> str:
    # Stable across unrelated edits: no line numbers, neither ours nor those quoted in messages.
    basis = "\0".join([f.rule, f.path, f.logical or "", _LINE_REF.sub("", f.message)])
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
        "properties": {"tags": ["ecr", "eks"], "precision": "high"},
    }


def _result(f: Finding, index: dict[str, int], seen: dict[str, int]) -> dict[str, Any]:
    result: dict[str, Any] = {
        "ruleId": f.rule,
        "ruleIndex": index[f.rule],
        "level": _LEVEL[f.severity],
        "message": {"text": f.message},
        "locations": [_location(f.path, f.span)],
        "partialFingerprints": {"ecrlintFingerprint/v1": _fingerprint(f, seen)},
    }
    if f.logical:
        result["locations"][0]["logicalLocations"] = [
            {"name": f.logical.rsplit("/", 1)[-1], "fullyQualifiedName": f.logical, "kind": "resource"}
        ]
    if f.related:
        result["relatedLocations"] = [
            {"id": i, **_location(r.loc.path, r.loc.span), "message": {"text": r.message}}
            for i, r in enumerate(f.related, start=1)
        ]
    if f.fix:
        result["fixes"] = [
            {
                "description": {"text": f.fix.description},
                "artifactChanges": [
                    {
                        "artifactLocation": _artifact(f.fix.path),
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


def format_sarif(result: RunResult, cwd: str | None = None) -> str:
    rules = list(result.registry)
    index = {rule.id: i for i, rule in enumerate(rules)}
    seen: dict[str, int] = {}
    findings = sorted([*result.findings, *result.suppressed], key=Finding.sort_key)
    root = Path(cwd or os.getcwd()).resolve().as_uri() + "/"
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
                "originalUriBaseIds": {"%SRCROOT%": {"uri": root}},
                "columnKind": "unicodeCodePoints",
                "results": [_result(f, index, seen) for f in findings],
            }
        ],
    }
    return dump_json(doc)


