"""Baselines: adopt ecrlint on a big repository today and fail only on new findings.

``--write-baseline FILE`` records every current finding by its SARIF fingerprint (rule, path from the
repository root, object, message without line numbers, and an occurrence count), so moving lines does
not make a finding new; ``--baseline FILE`` leaves out the findings it lists. A finding is new when its
fingerprint is not in the file: a third copy of a baselined problem in the same file is new.
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

from .. import __version__
from ..config import ConfigError
from .options import RunResult

VERSION = 1
MAX_BASELINE_BYTES = 64 * 1024 * 1024


def baseline_text(result: RunResult, cwd: str) -> str:
    from ..output.sarif import fingerprints, repository_path

    entries = [
        {"fingerprint": fp, "rule": f.rule, "path": repository_path(f.path, cwd), "message": f.message}
        for f, fp in zip(result.findings, fingerprints(result.findings, cwd), strict=True)
    ]
    doc = {"version": VERSION, "tool": {"name": "ecrlint", "version": __version__}, "findings": entries}
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def read_baseline(path: str) -> set[str]:
    """The fingerprints a baseline file lists; a ConfigError (one line) when it cannot be used."""
    try:
        with open(path, "rb") as fh:
            data = fh.read(MAX_BASELINE_BYTES + 1)
    except OSError as exc:
        raise ConfigError(f"cannot read baseline {path}: {exc.strerror or exc}") from None
    if len(data) > MAX_BASELINE_BYTES:
        raise ConfigError(f"{path}: baseline larger than {MAX_BASELINE_BYTES} bytes")
    try:
        doc: Any = json.loads(data)
    except (ValueError, RecursionError) as exc:
        raise ConfigError(f"{path}: not a baseline (invalid JSON: {exc})") from None
    if not isinstance(doc, dict) or doc.get("version") != VERSION or not isinstance(doc.get("findings"), list):
        raise ConfigError(f"{path}: not an ecrlint baseline of version {VERSION} (write one with --write-baseline)")
    prints = {e.get("fingerprint") for e in doc["findings"] if isinstance(e, dict)}
    return {p for p in prints if isinstance(p, str)}


def apply_baseline(result: RunResult, path: str, cwd: str) -> RunResult:
    """The run without the findings the baseline lists; a --verbose note counts entries now fixed."""
    from ..output.sarif import fingerprints

    known = read_baseline(path)
    prints = fingerprints(result.findings, cwd)
    kept = [f for f, fp in zip(result.findings, prints, strict=True) if fp not in known]
    gone = len(known - set(prints))
    notes = list(result.notes)
    if gone:
        notes.append(f"{path}: {gone} baselined finding{'s are' if gone != 1 else ' is'} gone; "
                     "--write-baseline again to drop them")
    return replace(result, findings=kept, baselined=len(result.findings) - len(kept), notes=notes)
