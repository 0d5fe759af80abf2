"""GitLab Code Quality: the JSON array the merge request widget reads (artifacts:reports:codequality).

The format, a subset of Code Climate's: https://docs.gitlab.com/ci/testing/code_quality/#code-quality-report-format
(``description``, ``check_name``, ``fingerprint``, ``severity``, ``location.path`` relative to the
repository root, ``location.lines.begin``). Fingerprints are the SARIF ones (stable across line moves,
unique per finding), so GitLab tracks a finding across pipelines as code scanning does.
"""

from __future__ import annotations

import hashlib
import os
from typing import TYPE_CHECKING, Any

from ..escape import dump_json
from ..model import Severity
from .sarif import fingerprints, repository_path

if TYPE_CHECKING:
    from ..engine.options import RunResult

# GitLab's scale: info, minor, major, critical, blocker.
_SEVERITY = {Severity.ERROR: "major", Severity.WARNING: "minor", Severity.NOTE: "info"}


def format_gitlab(result: RunResult, cwd: str | None = None, root: str | None = None) -> str:
    """``root``: what paths are relative to (default: the repository root above ``cwd``)."""
    cwd = cwd or os.getcwd()
    issues: list[dict[str, Any]] = []
    for finding, fingerprint in zip(result.findings, fingerprints(result.findings, cwd, root), strict=True):
        issues.append({
            "description": f"{finding.rule} {finding.message} ({finding.name})",
            "check_name": finding.rule,
            "fingerprint": hashlib.md5(fingerprint.encode(), usedforsecurity=False).hexdigest(),
            "severity": _SEVERITY[finding.severity],
            "location": {
                "path": repository_path(finding.path, cwd, root),
                "lines": {"begin": finding.span.line, "end": max(finding.span.end_line, finding.span.line)},
            },
        })
    return dump_json(issues)
