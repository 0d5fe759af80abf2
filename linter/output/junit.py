"""JUnit XML: one test case per finding (a failure), or one passing case for a clean run.

What CI systems read as a test report (GitLab ``artifacts:reports:junit``, Jenkins, Azure DevOps), in the
shape cfn-lint and ESLint write: ``<testsuites><testsuite name="ecrlint">``, each case named
``RULE path:line:col`` with ``classname`` the file, its failure carrying the message and the rule's name.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from xml.sax.saxutils import quoteattr

from ..escape import visible
from ..model import Severity

if TYPE_CHECKING:
    from ..engine.options import RunResult


def _text(value: str) -> str:
    # XML 1.0 cannot hold most control characters even escaped: file-controlled text is made visible.
    return visible(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _attr(value: str) -> str:
    return quoteattr(visible(value))


def format_junit(result: RunResult) -> str:
    failing = [f for f in result.findings if f.severity >= result.fail_on]
    cases = []
    for f in result.findings:
        where = f"{f.path}:{f.span.line}:{f.span.column}"
        kind = "failure" if f.severity >= result.fail_on else "skipped"
        body = f"{where}: {f.rule} {f.severity.label} {f.message} ({f.name})"
        if kind == "failure":
            detail = f"<failure message={_attr(f.message)} type={_attr(f.rule)}>{_text(body)}</failure>"
        else:  # below --fail-on: reported, not failing
            detail = f"<skipped message={_attr(f'{f.severity.label}: {f.message}')}/>"
        cases.append(f'    <testcase name={_attr(f"{f.rule} {where}")} classname={_attr(f.path)}>{detail}</testcase>\n')
    if not cases:
        cases.append('    <testcase name="ecrlint check" classname="ecrlint"/>\n')
    skipped = len(result.findings) - len(failing)
    errors = sum(1 for f in failing if f.severity is Severity.ERROR)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<testsuites name="ecrlint" tests="{max(len(result.findings), 1)}" failures="{len(failing)}">\n'
        f'  <testsuite name="ecrlint" tests="{max(len(result.findings), 1)}" failures="{len(failing)}" '
        f'errors="0" skipped="{skipped}">\n'
        f'    <properties><property name="files" value="{result.files}"/>'
        f'<property name="error-findings" value="{errors}"/></properties>\n'
        + "".join(cases)
        + "  </testsuite>\n</testsuites>\n"
    )
