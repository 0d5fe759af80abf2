"""Findings as LSP diagnostics, their fixes and suppressions as code actions, images as hovers."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Callable

from lsprotocol import types

from ..model import Finding, Severity, Span
from ..parsing import PARSE_ERROR
from ..workspace import ImageUse
from .positions import LineIndex
from .state import ConfigProblem, LintResult

SOURCE = "ecrlint"
_SEVERITY = {
    Severity.ERROR: types.DiagnosticSeverity.Error,
    Severity.WARNING: types.DiagnosticSeverity.Warning,
    Severity.NOTE: types.DiagnosticSeverity.Information,
}

# path -> the text the editor has (open documents) or the file has, indexed; None when unreadable.
Indexer = Callable[[str], LineIndex | None]
# path -> the URI to publish under (the client's own for open documents).
Uris = Callable[[str], str]


def file_uri(path: str) -> str:
    return Path(path).as_uri()


def lsp_range(index: LineIndex | None, span: Span) -> types.Range:
    if index is None:  # a file that cannot be read: the span as it is, 0-based
        return types.Range(types.Position(max(span.line - 1, 0), max(span.column - 1, 0)),
                           types.Position(max(span.end_line - 1, 0), max(span.end_column - 1, 0)))
    (sl, sc), (el, ec) = index.range(span)
    return types.Range(types.Position(sl, sc), types.Position(el, ec))


def diagnostic(finding: Finding, result: LintResult, index: Indexer, uri: Uris) -> types.Diagnostic:
    path = result.fs_path(finding.path)
    rule = result.registry.get(finding.rule)
    related = [
        types.DiagnosticRelatedInformation(
            types.Location(uri(result.fs_path(r.loc.path)), lsp_range(index(result.fs_path(r.loc.path)), r.loc.span)),
            r.message,
        )
        for r in finding.related
    ]
    return types.Diagnostic(
        range=lsp_range(index(path), finding.span),
        message=finding.message,
        severity=_SEVERITY[finding.severity],
        code=finding.rule,
        code_description=types.CodeDescription(href=rule.help_uri()) if rule is not None else None,
        source=SOURCE,
        related_information=related or None,
        data={"rule": finding.rule, "name": finding.name},
    )


def config_diagnostic(problem: ConfigProblem) -> types.Diagnostic:
    position = types.Position(problem.line, problem.column)
    return types.Diagnostic(
        range=types.Range(position, types.Position(problem.line, problem.column + 1)),
        message=f"bad ecrlint config (the previous one, or the defaults, is used): {problem.message}",
        severity=types.DiagnosticSeverity.Error,
        source=SOURCE,
    )


# --- code actions --------------------------------------------------------------------------------


def _overlaps(a: types.Range, b: types.Range) -> bool:
    def key(p: types.Position) -> tuple[int, int]:
        return p.line, p.character

    return key(a.start) <= key(b.end) and key(b.start) <= key(a.end)


def code_actions(path: str, wanted: types.Range, result: LintResult, index: Indexer, uri: Uris,
                 version: int | None) -> list[types.CodeAction]:
    """Quick fixes for the findings under ``wanted``: each ``--fix`` fix, and an ignore comment."""
    own = index(path)
    actions: list[types.CodeAction] = []
    for finding in result.by_path.get(path, ()):
        diag = diagnostic(finding, result, index, uri)
        if not _overlaps(diag.range, wanted):
            continue
        if finding.fix is not None:
            target = result.fs_path(finding.fix.path)
            edit = types.TextEdit(lsp_range(index(target), finding.fix.span), finding.fix.replacement)
            actions.append(types.CodeAction(
                title=f"ecrlint: {finding.fix.description}",
                kind=types.CodeActionKind.QuickFix,
                diagnostics=[diag],
                edit=_edit(uri(target), [edit], version if target == path else None),
                is_preferred=True,
            ))
        ignore = _ignore_edit(own, finding) if own is not None else None
        if ignore is not None:
            actions.append(types.CodeAction(
                title=f"ecrlint: ignore {finding.rule} on this line",
                kind=types.CodeActionKind.QuickFix,
                diagnostics=[diag],
                edit=_edit(uri(path), [ignore], version),
            ))
    return actions


def _edit(uri: str, edits: list[types.TextEdit], version: int | None) -> types.WorkspaceEdit:
    if version is None:
        return types.WorkspaceEdit(changes={uri: edits})
    document = types.OptionalVersionedTextDocumentIdentifier(uri=uri, version=version)
    return types.WorkspaceEdit(document_changes=[types.TextDocumentEdit(document, list(edits))])


def _ignore_edit(index: LineIndex, finding: Finding) -> types.TextEdit | None:
    """``# ecrlint: ignore[ID]``: at the end of the finding's line, or alone on the line above when
    that line already has a comment (a second '#' would be part of the first comment's text).

    JSON has no comments (its findings are ignored in config: per-file-ignores), and ECR001 cannot
    be suppressed in source.
    """
    from ..parsing import _SUPPRESS, _is_comment

    if finding.rule == PARSE_ERROR or finding.path.endswith(".json"):
        return None
    start, text = index.parser_line_text(finding.span.line)
    existing = _SUPPRESS.search(text)
    if existing and _is_comment(text, existing.start()) and existing.group(1) == "ignore" \
            and existing.group(2) is not None and not text.lstrip().startswith("#"):
        # "# ecrlint: ignore[ECR101]" already trails the line: add this ID to it.
        at = start + existing.end() - 1  # before the closing bracket
        pos = types.Position(*index.position(at))
        return types.TextEdit(types.Range(pos, pos), f",{finding.rule}")
    if "#" not in text:
        pos = types.Position(*index.position(start + len(text)))
        return types.TextEdit(types.Range(pos, pos), f"  # ecrlint: ignore[{finding.rule}]")
    indent = text[: len(text) - len(text.lstrip(" \t"))]
    pos = types.Position(*index.position(start))
    newline = "\r\n" if index.text[start + len(text): start + len(text) + 2] == "\r\n" else "\n"
    return types.TextEdit(types.Range(pos, pos), f"{indent}# ecrlint: ignore[{finding.rule}]{newline}")


# --- hover ---------------------------------------------------------------------------------------


def image_at(result: LintResult, path: str, line: int, column: int) -> ImageUse | None:
    """The image whose scalar (or, from a chart, one of whose values lines) is at a parser position."""
    at = (line, column)
    for image in result.workspace.images:
        for loc in (image.loc, *image.part_locs.values()):
            span = loc.span
            if (span.line, span.column) <= at <= (span.end_line, span.end_column) and result.fs_path(loc.path) == path:
                return image
    return None


def hover_text(image: ImageUse, result: LintResult, links: object) -> str:
    from ..analysis.images import EcrHost, InvalidReference, classify_host, parse_reference

    shown = image.value if not image.not_a_string else image.not_a_string
    lines = [f"**ecrlint** image `{shown}`", ""]
    container = f"container `{image.container}`" if image.container else ""
    where = [f"in {image.logical}" if image.logical else "", image.origin or container]  # a chart's origin names it
    if any(where):
        lines += [", ".join(w for w in where if w), ""]
    if image.not_a_string:
        lines.append("not a string: no image is pulled")
        return "\n".join(lines)
    try:
        ref = parse_reference(image.value, symbolic=image.symbolic)
    except InvalidReference as exc:
        lines.append(f"not a valid image reference: {exc}")
        return "\n".join(lines)
    unknown = "(set at deploy time)"
    lines += [
        "| | |", "|---|---|",
        f"| registry | `{ref.normalized_domain}`{' (none written: Docker Hub)' if ref.host_missing else ''} |"
        if "domain" not in ref.unknown else f"| registry | {unknown} |",
        f"| repository | `{ref.normalized_path}` |",
        f"| tag | `{ref.tag}` |" if ref.tag is not None else
        ("| tag | `latest` (none written) |" if ref.tag_missing else f"| tag | {unknown} |"),
        f"| digest | `{ref.digest}` |" if ref.digest else "| digest | none: the tag can move |",
        "",
        f"pulls `{ref.resolved}`",
    ]
    host = classify_host(ref.normalized_domain, symbolic=image.symbolic) if "domain" not in ref.unknown else None
    if isinstance(host, EcrHost):
        what = "ECR Public" if host.public else f"Amazon ECR, account {host.account}, region {host.region}"
        lines.append(f"\nregistry: {what}")
    lines.append("")
    lines.extend(_pullers(image, links))
    return "\n".join(lines)


def _pullers(image: ImageUse, links: object) -> list[str]:
    from ..analysis.links import Links

    if image.workload is None or not isinstance(links, Links):
        return ["pulled by: not a Kubernetes workload (no node or Fargate role is linked)"]
    link = links.of(image.workload)
    if link is None or link.cluster is None:
        return [f"pulled by: unknown: {link.why if link else 'no cluster in this workspace'}"]
    if not link.pullers:
        return [f"runs on cluster {link.cluster.label}, which has no node group or Fargate profile here"]
    out = [f"runs on cluster {link.cluster.label}; pulled by:"]
    out += [f"- the {p.role_phrase()}, via the {p.where()}" for p in link.pullers]
    return out


def hover(result: LintResult, path: str, index: LineIndex, position: types.Position,
          links: Callable[[], object]) -> types.Hover | None:
    offset = index.lsp_offset(position.line, position.character)
    line = index.parser_line(offset)
    column = offset - index.offset(line, 1) + 1
    image = image_at(result, os.path.normpath(path), line, column)
    if image is None:
        return None
    return types.Hover(contents=types.MarkupContent(kind=types.MarkupKind.Markdown,
                                                    value=hover_text(image, result, links())),
                       range=lsp_range(index, image.loc.span) if result.fs_path(image.loc.path) == path else None)
