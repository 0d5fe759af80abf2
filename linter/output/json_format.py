"""JSON output: ``{"version": 1, "tool": {...}, "findings": [...], "summary": {...}}``, stable key order.

The format is documented by a JSON Schema shipped in the package (``ecrlint/data/output-schema.json``)
and in ``docs/schemas/ecrlint-output.schema.json``; ``version`` changes when a key is removed or changes
meaning (new keys may be added within a version).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from .. import __version__
from ..escape import dump_json
from ..model import Finding, Severity

if TYPE_CHECKING:
    from ..engine.options import RunResult


def finding_dict(f: Finding) -> dict[str, Any]:
    out: dict[str, Any] = {
        "rule": f.rule,
        "name": f.name,
        "severity": f.severity.label,
        "path": f.path,
        "line": f.span.line,
        "column": f.span.column,
        "end_line": f.span.end_line,
        "end_column": f.span.end_column,
        "message": f.message,
    }
    if f.logical:
        out["logical"] = f.logical
    if f.related:
        out["related"] = [
            {"path": r.loc.path, "line": r.loc.span.line, "column": r.loc.span.column, "message": r.message}
            for r in f.related
        ]
    if f.fix:
        out["fix"] = {
            "description": f.fix.description,
            "path": f.fix.path,
            "line": f.fix.span.line,
            "column": f.fix.span.column,
            "end_line": f.fix.span.end_line,
            "end_column": f.fix.span.end_column,
            "replacement": f.fix.replacement,
        }
    return out


def format_json(result: RunResult, cwd: str | None = None, root: str | None = None) -> str:
    from .sarif import fingerprints

    counts = {s.label: 0 for s in (Severity.ERROR, Severity.WARNING, Severity.NOTE)}
    for f in result.findings:
        counts[f.severity.label] += 1
    prints = fingerprints(result.findings, cwd or os.getcwd(), root)
    doc = {
        "version": 1,
        "tool": {"name": "ecrlint", "version": __version__},
        "findings": [{**finding_dict(f), "fingerprint": fp} for f, fp in zip(result.findings, prints, strict=True)],
        "summary": {
            "files": result.files,
            "findings": len(result.findings),
            "errors": counts["error"],
            "warnings": counts["warning"],
            "notes": counts["note"],
            "suppressed": len(result.suppressed),
            "baselined": result.baselined,
        },
    }
    return dump_json(doc)
