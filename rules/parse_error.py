"""ECR001: files that cannot be read or parsed (findings come from the parser)."""

from __future__ import annotations

from typing import Iterable

from ecrlint.model import Finding, Severity
from ecrlint.registry import Context, Rule
from ecrlint.workspace import Workspace


class ParseError(Rule):
    """A file that cannot be read or parsed.

    ## What it does
    Reports a file ecrlint could not read or parse, at the position of the problem: YAML or JSON
    syntax errors, invalid UTF-8, binary content, files over the size limit (`max-file-size`,
    10 MB by default), YAML alias bombs, nesting deeper than 512 levels, unreadable paths.
    Unsafe YAML tags such as `!!python/object` are never constructed; they are reported as a
    warning and read as plain values.

    ## Why
    A file that cannot be parsed cannot be checked: every other rule is silent about it, and
    `kubectl`, CloudFormation or eksctl will reject it at deploy time anyway.

    ## Example
    ```yaml
    containers:
      - name: app
        image: nginx:1.25
       ports: []   # bad indentation
    ```

    ## Fix
    Fix the syntax at the reported line and column; save the file as UTF-8.

    ## Options
    `max-file-size` (bytes, default 10485760). ECR001 cannot be suppressed in source.
    """

    id = "ECR001"
    name = "parse-error"
    severity = Severity.ERROR

    def check(self, ws: Workspace, ctx: Context) -> Iterable[Finding]:
        return ()  # the parser emits these findings directly, with the exact position
