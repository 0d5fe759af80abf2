"""Which findings are shown: enabled rules, reported paths, per-file ignores, severities, suppressions."""

from __future__ import annotations

from dataclasses import replace
from typing import Iterable

from ..config import Config, ignored_for_path, is_enabled
from ..model import Finding, ParsedFile, Span
from ..parsing import PARSE_ERROR
from ..workspace import Workspace


def config_relative(path: str, config: Config, cwd: str) -> str:
    """Config globs are relative to the config file's directory, wherever ecrlint runs from."""
    if config.cwd is None:
        config.cwd = cwd
    return config.relative(path)


def _in_reported(path: str, reported: set[str]) -> bool:
    if path in reported:
        return True
    if "." in reported and not path.startswith(("../", "/")) and not (len(path) > 1 and path[1] == ":"):
        return True  # the working directory itself was a unit (a Terraform module run from inside it)
    return any(path.startswith(r + "/") for r in reported)


def filter_findings(
    raw: Iterable[Finding],
    config: Config,
    select: tuple[str, ...],
    ignore: tuple[str, ...],
    reported: set[str],
    parsed: dict[str, ParsedFile],
    ws: Workspace,
    notes: list[str],
    verbose: bool,
    cwd: str,
    known: set[str],
) -> tuple[list[Finding], list[Finding]]:
    kept: dict[tuple, Finding] = {}
    suppressed: dict[tuple, Finding] = {}
    used: set[tuple[str, int]] = set()
    regions_by_path: dict[str, list[tuple[Span, frozenset[str] | None]]] = {}
    for path, region, ids, _how in ws.suppression_regions:
        regions_by_path.setdefault(path, []).append((region, ids))
    for finding in raw:
        if finding.rule == PARSE_ERROR and not is_enabled(PARSE_ERROR, True, select, ignore):
            continue  # other rules that are not enabled never ran
        if not _in_reported(finding.path, reported):
            continue
        if config.per_file_ignores and ignored_for_path(finding.rule, config_relative(finding.path, config, cwd), config.per_file_ignores):
            continue
        if finding.rule in config.severity:
            finding = replace(finding, severity=config.severity[finding.rule])
        how = None if finding.rule == PARSE_ERROR else _suppressed_by(finding, parsed.get(finding.path), regions_by_path, used)
        key = (finding.sort_key(), finding.span)
        if how:
            suppressed.setdefault(key, replace(finding, suppressed_by=how))
        else:
            kept.setdefault(key, finding)
    if verbose:
        for path, pf in parsed.items():
            for line, ids in pf.lines_ignored.items():
                if (path, line) not in used:
                    notes.append(f"{path}:{line}: unused suppression comment")
                for rule_id in sorted(ids or ()):
                    if not any(k.startswith(rule_id) for k in known):
                        notes.append(f"{path}:{line}: suppression names unknown rule ID '{rule_id}'")
    shown = {f.key for f in kept.values() if not f.unless_shown and not f.only_if_shown}
    return _consequences(kept.values(), shown), _consequences(suppressed.values(), shown)


def _consequences(findings: Iterable[Finding], shown: set[tuple[str, str, int, int]]) -> list[Finding]:
    """Drop a consequence while its causes are shown, and its shorter form while they are not."""
    out = []
    for f in findings:
        if f.unless_shown and all(k in shown for k in f.unless_shown):
            continue
        if f.only_if_shown and not all(k in shown for k in f.only_if_shown):
            continue
        out.append(f)
    return sorted(out, key=Finding.sort_key)


def _covers(ids: frozenset[str] | None, finding: Finding) -> bool:
    # IDs or prefixes, as --select/--ignore and per-file-ignores take them, or the rule's name
    # (suppression comments are read upper-cased).
    return ids is None or any(finding.rule.startswith(i) for i in ids) or finding.name.upper() in ids


def _suppressed_by(
    finding: Finding,
    parsed: ParsedFile | None,
    regions: dict[str, list[tuple[Span, frozenset[str] | None]]],
    used: set[tuple[str, int]],
) -> str | None:
    if parsed is not None:
        if parsed.file_ignored is not False and _covers(parsed.file_ignored, finding):
            return "inSource"
        line = finding.span.line
        if line in parsed.lines_ignored and _covers(parsed.lines_ignored[line], finding):
            used.add((finding.path, line))
            return "inSource"
    at = (finding.span.line, finding.span.column)
    for region, ids in regions.get(finding.path, ()):
        if (region.line, region.column) <= at < (region.end_line, region.end_column) and _covers(ids, finding):
            return "inSource"
    return None
