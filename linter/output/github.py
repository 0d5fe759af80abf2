"""GitHub Actions workflow commands: ``::error file=...,line=...,title=ECR101::message``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..escape import visible
from ..model import Severity

if TYPE_CHECKING:
    from ..engine.options import RunResult

_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.NOTE: "notice"}


def _data(text: str) -> str:
    # The runner's escapes for CR, LF and %; other control characters (ESC would colour or hide
    # log text) are made visible first, so a message can never end the command or start another.
    return visible(text).replace("%", "%25")


def _prop(text: str) -> str:
    return _data(text).replace(":", "%3A").replace(",", "%2C")


def format_github(result: RunResult) -> str:
    lines = []
    for f in result.findings:
        s = f.span
        props = (
            f"file={_prop(f.path)},line={s.line},col={s.column},endLine={s.end_line},endColumn={s.end_column},"
            f"title={_prop(f.rule)}"
        )
        lines.append(f"::{_LEVEL[f.severity]} {props}::{_data(f.message + ' (' + f.name + ')')}\n")
    return "".join(lines)
