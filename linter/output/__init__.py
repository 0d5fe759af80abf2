"""Output formatters: text, json, sarif, github, gitlab, junit; each turns a RunResult into one string."""

from __future__ import annotations

from typing import Callable

FORMATS = ("text", "json", "sarif", "github", "gitlab", "junit")


def formatter(name: str) -> Callable[..., str]:
    """The formatter called ``name``: a RunResult (and its own keyword options) to text."""
    fn: Callable[..., str]
    if name == "text":
        from .text import format_text as fn
    elif name == "json":
        from .json_format import format_json as fn
    elif name == "sarif":
        from .sarif import format_sarif as fn
    elif name == "github":
        from .github import format_github as fn
    elif name == "gitlab":
        from .gitlab import format_gitlab as fn
    elif name == "junit":
        from .junit import format_junit as fn
    else:
        raise ValueError(f"unknown format {name!r}")
    return fn
