"""Fixture harness: expectations written on the offending line, asserted as exact (path, rule, line, column) sets.

In YAML and Terraform fixtures: ``# expect: ECR101`` (several: ``# expect: ECR101, ECR103``). The column defaults to where
the line's value starts (after ``key: `` or ``- ``); give it explicitly as ``ECR201@3`` when the finding sits
elsewhere (a mapping key, say). JSON files cannot hold comments: a sibling ``<file>.expect`` lists
``LINE:COL RULE`` lines.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Iterable

from ecrlint.engine import RunOptions, RunResult, run

FIXTURES = Path(__file__).parent / "fixtures"
SHARED = Path(__file__).resolve().parent.parent.parent / "shared"
_EXPECT = re.compile(r"#\s*expect:\s*([A-Z0-9@,\s]+)$")


def lint(*paths: str | os.PathLike, cwd: str | os.PathLike | None = None, **options) -> RunResult:
    """Run ecrlint in-process like ``ecrlint check PATHS`` from ``cwd``."""
    cwd = str(cwd or FIXTURES)
    opts = RunOptions(paths=[str(p) for p in paths] or ["."], cwd=cwd, jobs=options.pop("jobs", 1), **options)
    old = os.getcwd()
    os.chdir(cwd)
    try:
        return run(opts)
    finally:
        os.chdir(old)


def _value_column(line: str) -> int:
    code = line.split(" #", 1)[0].rstrip()
    m = re.match(r"^(\s*(?:-\s+)*)(?:[^\s:'\"#][^:#]*?|\"[^\"]*\"|'[^']*'):(\s+|$)", code)
    if m and m.group(2):
        return m.end() + 1
    m = re.match(r"^(\s*(?:-\s+)+)", code)
    if m:
        return m.end() + 1
    return len(code) - len(code.lstrip()) + 1


def _hcl_value_column(line: str) -> int:
    """Terraform: where the value of ``name = value`` starts (else the first character)."""
    code = line.split(" #", 1)[0].rstrip()
    m = re.match(r"^\s*[A-Za-z_][\w-]*\s*=\s*", code)
    if m:
        return m.end() + 1
    return len(code) - len(code.lstrip()) + 1


def expectations(path: Path, display: str) -> set[tuple[str, str, int, int]]:
    expected: set[tuple[str, str, int, int]] = set()
    sidecar = path.with_name(path.name + ".expect")
    if sidecar.is_file():
        for raw in sidecar.read_text().splitlines():
            raw = raw.strip()
            if raw and not raw.startswith("#"):
                pos, rule = raw.split()
                line, col = pos.split(":")
                expected.add((display, rule, int(line), int(col)))
        return expected
    if path.suffix not in (".yaml", ".yml", ".template", ".tpl", ".tf", ".tfvars"):
        return expected
    column_of = _hcl_value_column if path.suffix in (".tf", ".tfvars") else _value_column
    for number, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), start=1):
        m = _EXPECT.search(line.rstrip())
        if not m:
            continue
        for item in m.group(1).split(","):
            item = item.strip()
            if not item:
                continue
            rule, _, col = item.partition("@")
            expected.add((display, rule, number, int(col) if col else column_of(line)))
    return expected


def expected_for(target: Path, cwd: Path) -> set[tuple[str, str, int, int]]:
    files: Iterable[Path] = [target] if target.is_file() else sorted(p for p in target.rglob("*") if p.is_file())
    out: set[tuple[str, str, int, int]] = set()
    for f in files:
        out |= expectations(f, os.path.relpath(f, cwd).replace(os.sep, "/"))
    return out


def found(result: RunResult) -> set[tuple[str, str, int, int]]:
    return {(f.path, f.rule, f.span.line, f.span.column) for f in result.findings}


def assert_fixture(target: str | os.PathLike, *, select: str | None = None, cwd: str | os.PathLike | None = None,
                   **options) -> RunResult:
    """Lint ``target`` (file or fixture directory) and assert exactly the expected findings."""
    target = Path(target)
    if not target.is_absolute():
        target = FIXTURES / target
    cwd = Path(cwd) if cwd else target.parent
    result = lint(os.path.relpath(target, cwd), cwd=cwd, select=select, **options)
    expected = expected_for(target, cwd)
    if select:
        prefixes = tuple(p.strip() for p in select.split(","))
        expected = {e for e in expected if e[1].startswith(prefixes) or e[1] == "ECR001"}
    actual = found(result)
    if actual != expected:
        missing = sorted(expected - actual)
        unexpected = sorted(actual - expected)
        details = "\n".join(
            f"  {f.path}:{f.span.line}:{f.span.column} {f.rule} {f.message}" for f in result.findings
        )
        raise AssertionError(f"missing: {missing}\nunexpected: {unexpected}\nall findings:\n{details}")
    return result


def message_of(result: RunResult, rule: str, line: int) -> str:
    matches = [f.message for f in result.findings if f.rule == rule and f.span.line == line]
    assert len(matches) == 1, f"expected one {rule} on line {line}, got {matches}"
    return matches[0]
