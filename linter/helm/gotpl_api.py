"""The one module that imports gotpl: the installed version checked once, and every name the engine uses.

The built-in engine does not only call gotpl's public API: gotpl_speed replaces its lexer, parser,
program compilation and linker, and budgets hooks its VM, through private names of gotpl 0.1.
Another gotpl could keep the names and change what they do, and charts would then render wrongly
(false ECR401 findings) rather than fail. So importing this module checks the installed gotpl:
outside CHECKED, without one of the private names below, or not installed at all, it raises
UnsupportedEnvironment - the run stops with exit 2 and one line naming the installed version and
the supported range, before any chart is rendered. Pass the supported range to pip to fix it.

Importing gotpl costs about 0.09 s: every other module of linter/helm imports gotpl's names from
here, and only where a chart is rendered (budgets at its top, which only a rendering run
imports; the rest inside functions), so a run without charts never imports gotpl.
"""

from __future__ import annotations

import re
from typing import Any

from ..engine.options import UnsupportedEnvironment

CHECKED = ">=0.1,<0.2"  # the releases whose internals the patches were checked against
_LOWEST, _BELOW = (0, 1), (0, 2)  # CHECKED as (major, minor) bounds


def is_checked(version: str) -> bool:
    """Whether ``version`` (gotpl.__version__) is within CHECKED."""
    m = re.match(r"(\d+)\.(\d+)(?![\d])", version)
    return m is not None and _LOWEST <= (int(m[1]), int(m[2])) < _BELOW


def unsupported(installed: str | None, detail: str = "") -> UnsupportedEnvironment:
    """The error of an installed gotpl (None: none installed) that the built-in engine cannot use."""
    what = f"gotpl {installed} is installed{detail}" if installed is not None else "gotpl is not installed"
    return UnsupportedEnvironment(
        f"{what}; this ecrlint renders charts with gotpl {CHECKED} (pip install 'gotpl{CHECKED}')"
    )


try:
    import gotpl
except ImportError:
    raise unsupported(None) from None

VERSION = str(getattr(gotpl, "__version__", "(of unknown version)"))
if not is_checked(VERSION):
    raise unsupported(VERSION)

try:
    import gotpl.template as template
    from gotpl._compat.goregexp import go as goregexp
    from gotpl.environment import Environment
    from gotpl.errors import BudgetExceededError, TemplateError, TemplateSyntaxError
    from gotpl.exts.helm import HelmExtension
    from gotpl.funcs.helm import function_map
    from gotpl.parse import lexer, nodes, parser
    from gotpl.runtime import INVALID, UNTYPED_NIL, ExecutionBudget, FunctionResult, linked, sync_vm
    from gotpl.runtime.context import ContextFunction, RenderSession
    from gotpl.runtime.policy import ExecutionBudgetState
except ImportError as exc:
    missing = re.match(r"cannot import name '([^']+)' from '([^']+)'", str(exc))
    name = f"{missing[2]}.{missing[1]}" if missing else exc.name or str(exc)
    raise unsupported(VERSION, f" without {name}") from None

# The private names the patches read or replace (owner, attribute path); _problem checks two shapes too.
PRIVATE: tuple[tuple[Any, str], ...] = (
    (lexer, "lex"),
    (lexer, "Token"),
    (lexer, "TokenKind"),
    (lexer, "_KEYWORDS"),
    (lexer, "_NUMBER_PATTERN"),
    (lexer, "_COMPLEX_PATTERN"),
    (lexer, "_SourceMap.build"),
    (lexer, "_SourceMap.token"),
    (parser, "lex"),
    (parser, "DEFAULT_LIMITS.max_tokens"),
    (parser, "validate_template"),
    (template, "parse_template"),
    (template, "compile_template"),
    (template, "render_program"),
    (template, "Template._render_template_in_session"),
    (linked, "link_program"),
    (sync_vm, "format_value"),
    (sync_vm, "_builtin_functions"),
    (sync_vm, "_ExecutionLocation"),
    (goregexp, "_compile"),
    (RenderSession, "dynamic_cache"),
)


def _lacks(owner: Any, path: str) -> bool:
    for part in path.split("."):
        owner = getattr(owner, part, None)
        if owner is None:
            return True
    return False


def _problem() -> str | None:
    """What about the installed gotpl's internals the patches cannot rely on, if anything."""
    for owner, path in PRIVATE:
        if _lacks(owner, path):
            name = f"{owner.__module__}.{owner.__qualname__}" if isinstance(owner, type) else owner.__name__
            return f" without {name}.{path}"
    if parser.lex is not lexer.lex:
        return " whose parser does not lex with gotpl.parse.lexer.lex"
    # budgets counts VM instructions through the position slot of the VM's execution location
    slot = vars(sync_vm._ExecutionLocation).get("position")
    if slot is None or not hasattr(slot, "__set__"):
        return " whose gotpl.runtime.sync_vm._ExecutionLocation has no position slot"
    return None


_problem_found = _problem()
if _problem_found is not None:
    raise unsupported(VERSION, _problem_found)

__all__ = [
    "CHECKED",
    "INVALID",
    "VERSION",
    "BudgetExceededError",
    "ContextFunction",
    "Environment",
    "ExecutionBudget",
    "ExecutionBudgetState",
    "FunctionResult",
    "HelmExtension",
    "RenderSession",
    "TemplateError",
    "TemplateSyntaxError",
    "UNTYPED_NIL",
    "function_map",
    "goregexp",
    "is_checked",
    "lexer",
    "linked",
    "nodes",
    "parser",
    "sync_vm",
    "template",
    "unsupported",
]
