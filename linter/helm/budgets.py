"""What one template, one chart and one run may cost the built-in engine: sizes and work, not only steps.

gotpl's ExecutionBudget counts steps per template render: loop iterations, function calls, template
depth. One step can still cost without bound - ``indent 500000000 "x"``, ``printf "%0500000000d" 1``,
``toJson`` of a list that holds itself 2^40 times, ``fromYaml`` of a billion laughs, a string doubled
forty times - and a chart may have a thousand templates, a run a thousand charts. This module adds,
on top of gotpl's per-template steps (kept as they are):

- per value: no template function returns a string longer than MAX_VALUE_CHARS or a list or map
  with more than MAX_ITEMS entries. Where the size follows from the arguments (repeat, indent,
  printf widths, replace, wrap, split, serialising a structure) it is checked *before* the call,
  so the allocation never happens; every result is checked after the call too;
- per chart: the *work* of all its renders (Engine.render passes) - each step, each character a
  function reads or writes, weighted by what the function costs per character - is at most
  MAX_CHART_WORK; the memory its functions allocate at most MAX_CHART_MEMORY; what its templates
  write at most MAX_CHART_OUTPUT_CHARS. A spent chart fails its remaining templates at once;
- per run: the work of every chart rendered in this *process* is at most MAX_RUN_WORK. A run with
  ``--jobs N`` has up to N such budgets (one per worker), and which charts share a worker depends
  on scheduling: a run that exhausts it is hostile, and its later charts fail with ECR401. A
  process that lints several times (a test, a server) calls reset_run() to start a new run.

What a template does without a function call is counted too (see install): every VM instruction,
and every character written, nested `include`/`tpl` output included. Parsing a chart's templates
happens before any of this and is bounded on its own (builtin.MAX_CHART_COMPILE_CHARS).

Work units are calibrated so that one unit is about a nanosecond of CPU on a 2020s x86 core (the
weights below were measured with benchmarks of each function on 200,000-character inputs), so
MAX_CHART_WORK is "about three seconds". Nothing here reads a clock: the same chart always stops at
the same place, on any machine, so findings stay deterministic.

Every limit is reported as an ECR401 render error whose message starts "exceeded the render budget".
"""

from __future__ import annotations

import functools
import re
import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from .gotpl_api import BudgetExceededError, ExecutionBudget, ExecutionBudgetState, FunctionResult

# --- limits --------------------------------------------------------------------------------------

# One string a function returns. Kubernetes stores an object in etcd only up to 1.5 MiB (a
# ConfigMap's data up to 1 MiB), so no value that ends up in a manifest comes near this; 10 M also
# was the cap of `repeat` and the random strings before, and a file (max-file-size 10 MiB) fits.
MAX_VALUE_CHARS = 10_000_000
# One list or map a function returns: ten times `until`'s cap, and more lines than any chart file
# under max-file-size has (`.Files.Lines`, `splitList "\n"`); about 60 MB of small strings.
MAX_ITEMS = 1_000_000
# printf widths and precisions: Go's fmt itself refuses larger ones (tooLarge: %!(BADWIDTH)).
MAX_FORMAT_WIDTH = 1_000_000

# Work of one chart, all passes: ~3 s. The costliest of 49 real charts measured (the 39 of
# ../shared/charts and the corpus's 10: loki-distributed, kube-prometheus-stack) use 3.5% of it.
MAX_CHART_WORK = 3_000_000_000
# Bytes a chart's functions allocate (strings by their real size, containers by their slots): an
# upper bound of what they can hold at once, so a chart stays well under 300 MB of extra memory.
# Real charts allocate under 0.25 MB.
MAX_CHART_MEMORY = 64 * 1024 * 1024
# Characters all templates of a chart write, nested `include`/`tpl` captures included: the
# per-template cap (builtin.MAX_OUTPUT_CHARS) for the whole chart. The largest real chart writes
# 1.8 MB (argo-cd, CRDs); the output is parsed like a file of that size.
MAX_CHART_OUTPUT_CHARS = 20_000_000
# Work of all charts rendered by one process (a worker of `--jobs`): forty hostile charts' worth,
# about two minutes. The 49 real charts together use 0.5% of it: thousands of real charts fit.
MAX_RUN_WORK = 40 * MAX_CHART_WORK

# --- weights (work units, ~ns) -------------------------------------------------------------------

STEP_WORK = 4_000  # one loop iteration or function call of gotpl's VM, with its arguments: ~4 us
INSTRUCTION_WORK = 1_500  # one VM instruction or pipeline that is neither (an if, an assignment, a lookup)
_INSTRUCTION_BATCH = 64  # instructions counted before they are charged (one call instead of 64)
NODE_WORK = 500  # one node of a structure walked, then compared or copied in Python
FORMAT_NODE_WORK = 2_500  # one node walked, then formatted with %v by gotpl (print, join, printf)
JSON_NODE_WORK = 1_500  # one node walked, then serialised by toJson
YAML_NODE_WORK = 12_000  # one node through PyYAML's representer and libyaml's emitter (toYaml)
PURE_YAML_NODE_WORK = 30_000  # one node through PyYAML's pure-Python emitter (toYamlPretty)
ITEM_MEMORY = 64  # a new small object in a container (a str header, a dict entry): bytes
REGEX_WORK = 400  # gotpl's regular expressions: a Python NFA, per input character per instruction
TPL_WORK = 2_500  # compiling a `tpl` string with actions, per character
DERIVE_WORK = 150_000_000  # derivePassword runs scrypt (N=32768): ~0.15 s and 32 MB a call

# Calls that cost more than a step whatever their input: time zones, semver parsing, PyYAML setup.
CALL_WORK: dict[str, int] = {
    **dict.fromkeys(("date", "dateInZone", "date_in_zone", "htmlDate", "htmlDateInZone", "toDate", "mustToDate",
                     "dateModify", "date_modify", "mustDateModify", "must_date_modify", "unixEpoch", "duration",
                     "durationRound"), 50_000),
    **dict.fromkeys(("semver", "semverCompare", "toYamlPretty"), 30_000),
    **dict.fromkeys(("toYaml", "mustToYaml", "fromYaml", "fromYamlArray", "toToml", "mustToToml", "fromToml",
                     "urlParse", "urlJoin"), 10_000),
}
# Functions that loop over characters in Python (measured ns per input character).
CHAR_WEIGHTS: dict[str, int] = {
    "upper": 250, "lower": 250, "title": 200, "untitle": 100, "swapcase": 150, "camelcase": 500,
    "snakecase": 2_000, "kebabcase": 2_500, "initials": 150, "nospace": 150, "shuffle": 350,
    "quote": 400, "b32enc": 60, "b32dec": 60, "js": 80, "html": 40, "urlquery": 40, "wrap": 60,
    "wrapWith": 60, "abbrev": 2, "abbrevboth": 2, "regexQuoteMeta": 150, "fromYaml": 600,
    "fromYamlArray": 600, "fromJson": 20, "fromJsonArray": 20, "mustFromJson": 20, "fromToml": 1_000,
    "semver": 100, "semverCompare": 100, "urlParse": 50, "toDate": 100, "mustToDate": 100,
}


# --- ledgers -------------------------------------------------------------------------------------


class RenderBudgetExceeded(BudgetExceededError):
    """A chart asked for more than the built-in engine renders (an ECR401, never a crash)."""

    def __init__(self, what: str) -> None:
        super().__init__(f"exceeded the render budget: {what}")


@dataclass
class RunLedger:
    """Work of every chart rendered by this process (see MAX_RUN_WORK)."""

    work: int = 0


RUN = RunLedger()


def reset_run() -> None:
    """Start a new run budget in this process (tests and the fuzz harness, between cases)."""
    RUN.work = 0


class Ledger:
    """What one chart has spent so far, across all its templates and render passes."""

    __slots__ = ("memory", "output", "pending", "work")

    def __init__(self) -> None:
        self.work = 0
        self.memory = 0
        self.output = 0
        self.pending = 0  # instructions executed and not yet charged

    def charge(self, work: int, memory: int = 0) -> None:
        self.work += work
        self.memory += memory
        RUN.work += work
        if self.work > MAX_CHART_WORK or self.memory > MAX_CHART_MEMORY or RUN.work > MAX_RUN_WORK:
            raise self.exceeded()

    def exceeded(self) -> RenderBudgetExceeded:
        return RenderBudgetExceeded(self.spent_reason() or "the chart's render budget is spent")

    def spent_reason(self) -> str | None:
        """Why this chart may not render any more, or None while it may."""
        if RUN.work > MAX_RUN_WORK:
            return f"the charts of this run (per process) have used all {MAX_RUN_WORK} units of render work"
        if self.work > MAX_CHART_WORK:
            return f"the chart has used all {MAX_CHART_WORK} units of render work (loops, function calls, text)"
        if self.memory > MAX_CHART_MEMORY:
            return f"the chart's template functions have allocated more than {MAX_CHART_MEMORY} bytes"
        if self.output > MAX_CHART_OUTPUT_CHARS:
            return f"the chart's templates have written more than {MAX_CHART_OUTPUT_CHARS} characters"
        return None


_active: Ledger | None = None


@contextmanager
def charging(ledger: Ledger) -> Iterator[None]:
    """Template functions called inside charge ``ledger`` (rendering is single-threaded)."""
    global _active
    previous, _active = _active, ledger
    try:
        yield
    finally:
        _active = previous


def _ledger() -> Ledger:
    # Functions only run inside Engine.render; a direct call (a test) gets a throwaway ledger,
    # so the per-value limits still hold.
    return _active if _active is not None else Ledger()


class TemplateBudget(ExecutionBudgetState):
    """gotpl's per-template counters, which also charge every step and output character to the chart."""

    __slots__ = ("ledger",)

    def __init__(self, limits: ExecutionBudget, ledger: Ledger) -> None:
        ExecutionBudgetState.__init__(self, limits)
        self.ledger = ledger

    def consume_iteration(self) -> None:
        ExecutionBudgetState.consume_iteration(self)
        ledger = self.ledger  # Ledger.charge(STEP_WORK), inlined: every iteration and call
        ledger.work += STEP_WORK
        RUN.work += STEP_WORK
        if ledger.work > MAX_CHART_WORK or RUN.work > MAX_RUN_WORK:
            raise ledger.exceeded()

    def consume_function_call(self) -> None:
        ExecutionBudgetState.consume_function_call(self)
        ledger = self.ledger  # Ledger.charge(STEP_WORK), inlined: every iteration and call
        ledger.work += STEP_WORK
        RUN.work += STEP_WORK
        if ledger.work > MAX_CHART_WORK or RUN.work > MAX_RUN_WORK:
            raise ledger.exceeded()

    def consume_output(self, amount: int) -> None:
        ExecutionBudgetState.consume_output(self, amount)
        ledger = self.ledger  # Ledger.charge, inlined: called for every piece of text written
        ledger.output += amount
        ledger.work += amount
        RUN.work += amount
        if ledger.output > MAX_CHART_OUTPUT_CHARS or ledger.work > MAX_CHART_WORK or RUN.work > MAX_RUN_WORK:
            raise ledger.exceeded()


# --- sizes ---------------------------------------------------------------------------------------

_SCALARS = (int, float, bool, type(None))


def _too_big(name: str, what: str) -> RenderBudgetExceeded:
    return RenderBudgetExceeded(f"{name} would build {what}")


def _check_chars(name: str, chars: int) -> None:
    if chars > MAX_VALUE_CHARS:
        raise _too_big(name, f"a string of about {chars} characters (the limit is {MAX_VALUE_CHARS})")


def _check_items(name: str, items: int) -> None:
    if items > MAX_ITEMS:
        raise _too_big(name, f"a list or map of {items} items (the limit is {MAX_ITEMS})")


@dataclass(frozen=True)
class Measure:
    """A structure as printing or serialising it expands it (shared parts once per reference)."""

    nodes: int
    chars: int
    depth: int

    @property
    def units(self) -> int:
        return self.chars + 16 * self.nodes


def measure(value: Any, name: str, limit: int = MAX_VALUE_CHARS) -> Measure:
    """Walk ``value`` level by level (shared and cyclic parts as often as they are reached) up to ``limit`` units.

    Raises RenderBudgetExceeded beyond it: printing a list that holds itself 2^40 times would
    expand it that often, and so would every serialiser. Checked after each level, which at
    most doubles what the previous one held, so the walk never holds more than twice the limit.
    """
    kind = type(value)
    if kind is str:
        return Measure(1, len(value), 1)
    if kind is int or kind is float or kind is bool or value is None:
        return Measure(1, 24, 1)
    nodes = chars = depth = 0
    level: list[Any] = [value]
    while level:
        depth += 1
        nodes += len(level)
        below: list[Any] = []
        extend = below.extend
        for item in level:
            kind = type(item)
            if kind is str:
                chars += len(item)
            elif kind is bytes or kind is bytearray:
                # %v prints bytes as "[104 105]", number by number in Python: a node per 16 bytes
                chars += 4 * len(item)
                nodes += len(item) // 16
            elif kind is dict or isinstance(item, Mapping):
                for key in item:
                    chars += len(key) if type(key) is str else 24
                extend(item.values())
            elif kind is list or kind is tuple or isinstance(item, (list, tuple, set, frozenset)):
                extend(item)
            elif isinstance(item, _SCALARS):
                chars += 24 + (item.bit_length() // 3 if isinstance(item, int) else 0)
            else:
                # ecrlint's own objects (Capabilities, a certificate, a date): their fields, or a token size
                fields = getattr(item, "__dict__", None)
                if isinstance(fields, dict):
                    extend(fields.values())
                chars += 64
        if chars + 16 * nodes > limit or 16 * len(below) > 2 * limit:
            raise _too_big(name, f"more than {limit} characters out of a structure (shared or cyclic parts expand)")
        level = below
    return Measure(nodes, chars, depth)


# Work below this is charged together with the result, after the call (one charge per call).
_DEFERRED_WORK = 100_000


def _is_argument(value: Any, args: tuple[Any, ...]) -> bool:
    # `default`, `set`, `first`... hand back an object the chart already holds: nothing new
    for arg in args:
        if arg is value:
            return True
    return False


def _shallow(args: tuple[Any, ...]) -> int:
    total = 0
    for arg in args:
        kind = type(arg)
        if kind is str or kind is bytes or kind is list or kind is dict or kind is tuple:
            total += len(arg)
        else:
            total += 1
    return total


def _memory(value: Any) -> int:
    return sys.getsizeof(value) if type(value) in (str, bytes, list, dict, tuple) else 0


def _result_size(name: str, value: Any) -> None:
    kind = type(value)
    if kind is str or kind is bytes or kind is bytearray:
        _check_chars(name, len(value))
    elif kind is list or kind is dict or kind is tuple or isinstance(value, (Mapping, list, tuple, set)):
        _check_items(name, len(value))


# --- cost models ---------------------------------------------------------------------------------

# What a call may not do, known from its arguments before it runs: (work, characters or items it
# would build). Raise RenderBudgetExceeded for a size beyond the per-value limits.
Estimate = Callable[[str, tuple[Any, ...]], int]


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _repeat(name: str, args: tuple[Any, ...]) -> int:
    count, text = (args + (None, None))[:2]
    if isinstance(count, (int, float)) and not isinstance(count, bool) and isinstance(text, str):
        size = int(max(count, 0)) * len(text) if count < 1e18 else MAX_VALUE_CHARS + 1
        _check_chars(name, size)
        return size
    return 0


def _indent(name: str, args: tuple[Any, ...]) -> int:
    spaces, value = (args + (None, None))[:2]
    if _int(spaces) is not None and isinstance(value, str):
        size = len(value) + max(spaces, 0) * (value.count("\n") + 1) + 1
        _check_chars(name, size)
        return size
    return 0


def _replace(name: str, args: tuple[Any, ...]) -> int:
    old, new, value = (args + (None, None, None))[:3]
    if isinstance(old, str) and isinstance(new, str) and isinstance(value, str):
        count = len(value) + 1 if not old else value.count(old)
        size = len(value) + count * max(len(new) - len(old), 0)
        _check_chars(name, size)
        return size
    return 0


def _wrap(name: str, args: tuple[Any, ...]) -> int:
    if name == "wrapWith":
        width, separator, value = (args + (None, None, None))[:3]
    else:
        width, value = (args + (None, None))[:2]
        separator = "\n"
    if _int(width) is not None and isinstance(value, str) and isinstance(separator, str):
        segments = len(value) * 4 // max(width, 1) + 1  # bytes of UTF-8, at most 4 per character
        size = len(value) + segments * max(len(separator), 1)
        _check_chars(name, size)
        return size + segments * 50  # the loop runs once per segment in Python
    return 0


def _encode(name: str, args: tuple[Any, ...]) -> int:
    value = args[0] if args else None
    if isinstance(value, str):
        size = len(value) if value.isascii() else 4 * len(value)
        size = (size + 2) // 3 * 4 if name == "b64enc" else (size + 4) // 5 * 8
        _check_chars(name, size)
        return size
    return 0


def _split(name: str, args: tuple[Any, ...]) -> int:
    if name == "splitn":
        separator, count, value = (args + (None, None, None))[:3]
    else:
        separator, value = (args + (None, None))[:2]
        count = -1
    if isinstance(separator, str) and isinstance(value, str):
        items = len(value) if not separator else value.count(separator) + 1
        if _int(count) is not None and count > 0:
            items = min(items, count)
        _check_items(name, items)
        return items * ITEM_MEMORY // 8
    return 0


def _regex(name: str, args: tuple[Any, ...]) -> int:
    """The NFA's cost: every input character against every instruction of the pattern."""
    pattern = args[0] if args else None
    value = args[1] if len(args) > 1 else None
    if not isinstance(pattern, str) or not isinstance(value, str):
        return 0
    instructions = _regex_size(pattern)
    work = (len(value) + 1) * instructions * REGEX_WORK + len(pattern) * TPL_WORK
    if name in ("regexReplaceAll", "mustRegexReplaceAll", "regexReplaceAllLiteral", "mustRegexReplaceAllLiteral"):
        replacement = args[2] if len(args) > 2 else ""
        if isinstance(replacement, str):
            # every empty match gets the replacement, and each ${1} a group of the input
            size = len(value) + (len(value) + 1) * len(replacement) + replacement.count("$") * len(value)
            _check_chars(name, size)
            work += size
    elif name in ("regexFindAll", "mustRegexFindAll", "regexSplit", "mustRegexSplit"):
        count = _int(args[2]) if len(args) > 2 else None
        items = len(value) + 1 if count is None or count < 0 else min(count, len(value) + 1)
        _check_items(name, items)
    return work


def _regex_size(pattern: str) -> int:
    from .gotpl_api import goregexp

    try:
        compiled = goregexp._compile(pattern)  # cached by gotpl: the call itself reuses it
    except Exception:  # noqa: BLE001 - an invalid pattern: the function reports it
        return 1
    instructions = getattr(compiled, "_instructions", None)
    if instructions is None:
        return 1  # a single atom, matched by Python's re in C
    return max(len(instructions), 1)


def _tpl(name: str, args: tuple[Any, ...]) -> int:
    source = next((arg for arg in args if isinstance(arg, str)), None)  # after the render context
    if source is not None:
        return len(source) * (TPL_WORK if "{{" in source else 10)
    return 0


def _serialise(node_work: int, char_work: int) -> Estimate:
    """toYaml/toJson/...: at least every character and node of the structure, indented by its depth.

    A lower bound is enough before the call: escapes (at most six characters for one) can only
    make the result larger, and the result itself is checked after the call. The work is the
    serialiser's per node and per character (toYamlPretty's pure-Python emitter reads every
    character in Python).
    """

    def estimate(name: str, args: tuple[Any, ...]) -> int:
        work = 0
        for arg in args:
            if type(arg) is str:
                size = len(arg) + 2
                work += node_work + len(arg) * char_work
            else:
                m = measure(arg, name)
                size = m.chars + m.nodes * (4 + 2 * m.depth)
                work += m.nodes * node_work + m.chars * char_work
            _check_chars(name, size)
            work += size
        return work

    return estimate


def _formatting(factor: int, ascii_factor: int | None = None) -> Estimate:
    """print/cat/join/quote/...: every argument formatted with %v (a structure in full).

    ``factor``: what one character can become (html/js escapes, %q's \\U0010ffff, urlquery's
    %XX per UTF-8 byte); ``ascii_factor`` the same for an ASCII string (%q: \\x7f).
    """
    ascii_factor = factor if ascii_factor is None else ascii_factor

    def estimate(name: str, args: tuple[Any, ...]) -> int:
        size = work = read = 0
        for arg in args:
            if type(arg) is str:
                size += len(arg) * (ascii_factor if arg.isascii() else factor) + 3
                read += len(arg)
            else:
                m = measure(arg, name)
                size += m.chars * factor + m.nodes * 16
                read += m.chars
                work += m.nodes * FORMAT_NODE_WORK
                if name == "join" and isinstance(args[0], str) and isinstance(arg, (list, tuple)):
                    size += len(args[0]) * len(arg)
        _check_chars(name, size)
        return work + size + read * CHAR_WEIGHTS.get(name, 1)

    return estimate


def _deep(name: str, args: tuple[Any, ...]) -> int:
    """Functions that walk (copy, compare, merge) whole structures."""
    work = 0
    for arg in args:
        if type(arg) is not str and not isinstance(arg, _SCALARS):
            m = measure(arg, name)
            work += m.nodes * NODE_WORK + m.chars
    if name in ("uniq", "mustUniq") and args and isinstance(args[0], (list, tuple)):
        work *= max(len(args[0]), 1)  # every item against the distinct ones before it
    elif name in ("without", "mustWithout", "has", "mustHas"):
        work *= max(len(args), 1)
    return work


def _dict_keys(name: str, args: tuple[Any, ...]) -> int:
    # `dict` formats its keys with %v; the values are only referenced
    return sum(measure(key, name).units for key in args[::2] if type(key) is not str)


def _concat(name: str, args: tuple[Any, ...]) -> int:
    items = sum(len(arg) for arg in args if isinstance(arg, (list, tuple)))
    _check_items(name, items)
    return items


def _chunk(name: str, args: tuple[Any, ...]) -> int:
    size, value = (args + (None, None))[:2]
    if _int(size) is not None and size > 0 and isinstance(value, (list, tuple)):
        return len(value) + len(value) // size * ITEM_MEMORY
    return 0


def _random(name: str, args: tuple[Any, ...]) -> int:
    count = args[0] if args else None
    if isinstance(count, (int, float)) and not isinstance(count, bool):
        size = int(max(count, 0)) if count < 1e18 else MAX_VALUE_CHARS + 1
        if name == "randBytes":
            size = (size + 2) // 3 * 4
        _check_chars(name, size)
        return size
    return 0


def _derive(name: str, args: tuple[Any, ...]) -> int:
    return DERIVE_WORK


_PRINTF_SIZED = re.compile(r"%[-+# 0]*[0-9*\[.]")  # a width, precision or argument index
_PRINTF_VERB = re.compile(r"%[-+# 0]*.", re.S)
_PLAIN = (str, int, float, bool, type(None))


def _string_factor(verbs: set[str] | str, value: str) -> int:
    """What one character of ``value`` can become under these verbs: %x/%X (hex of up to 4 bytes,
    3 per byte with the space flag), %q ("\\U0010ffff", "\\x7f" in ASCII), anything else 1."""
    ascii = value.isascii()
    if "x" in verbs or "X" in verbs:
        return 3 if ascii else 12
    if "q" in verbs:
        return 4 if ascii else 10
    return 1


def _printf(name: str, args: tuple[Any, ...]) -> int:
    if not args or not isinstance(args[0], str):
        return 0
    fmt = args[0]
    if not _PRINTF_SIZED.search(fmt) and all(isinstance(arg, _PLAIN) for arg in args):
        # No widths or indexes: each argument is formatted once by one verb; the usual
        # `printf "%s-%s"` case, sized without reading the format directive by directive.
        verbs = {fmt[m.end() - 1 : m.end()] for m in _PRINTF_VERB.finditer(fmt)}
        size = len(fmt) + 32 * fmt.count("%")
        for arg in args[1:]:
            if type(arg) is str:
                size += len(arg) * _string_factor(verbs, arg) + 32
            else:
                size += 1_100 + (arg.bit_length() if type(arg) is int else 0)  # a float's digits at most
        _check_chars(name, size)
        return size
    size, work = printf_size(fmt, args[1:])
    _check_chars(name, size)
    return size + work


# The cost model of each function: how its arguments are charged, and what it may not build.
CONSTANT = "constant"  # arguments are only referenced (include's data, default's value)
SHALLOW = "shallow"  # each string argument read once, each list or map argument once per entry


@dataclass(frozen=True)
class Model:
    scan: str = SHALLOW
    estimate: Estimate | None = None
    new_items: bool = False  # the result is a container of new objects (split, deepCopy, fromYaml)
    mutates: bool = False  # the result is the first argument, grown (set, merge)


_CONSTANT_NAMES = (
    "default", "empty", "coalesce", "ternary", "required", "fail", "first", "last", "mustFirst", "mustLast",
    "get", "hasKey", "dig", "kindIs", "kindOf", "typeIs", "typeIsLike", "typeOf", "include", "list", "tuple",
    "pluck", "lookup", "getHostByName", "all", "any", "unset",
)
MODELS: dict[str, Model] = {name: Model(CONSTANT) for name in _CONSTANT_NAMES}
MODELS.update({
    "set": Model(CONSTANT, mutates=True),
    "dict": Model(CONSTANT, _dict_keys),
    "merge": Model(SHALLOW, _deep, mutates=True), "mustMerge": Model(SHALLOW, _deep, mutates=True),
    "mergeOverwrite": Model(SHALLOW, _deep, mutates=True), "mustMergeOverwrite": Model(SHALLOW, _deep, mutates=True),
    "repeat": Model(SHALLOW, _repeat), "indent": Model(SHALLOW, _indent), "nindent": Model(SHALLOW, _indent),
    "replace": Model(SHALLOW, _replace), "wrap": Model(SHALLOW, _wrap), "wrapWith": Model(SHALLOW, _wrap),
    "b64enc": Model(SHALLOW, _encode), "b32enc": Model(SHALLOW, _encode),
    "split": Model(SHALLOW, _split, new_items=True), "splitList": Model(SHALLOW, _split, new_items=True),
    "splitn": Model(SHALLOW, _split, new_items=True),
    "tpl": Model(CONSTANT, _tpl),
    "printf": Model(CONSTANT, _printf),
    "derivePassword": Model(SHALLOW, _derive),
    "concat": Model(SHALLOW, _concat), "chunk": Model(SHALLOW, _chunk, new_items=True),
    "deepCopy": Model(CONSTANT, _deep, new_items=True), "mustDeepCopy": Model(CONSTANT, _deep, new_items=True),
    "deepEqual": Model(CONSTANT, _deep), "eq": Model(CONSTANT, _deep), "ne": Model(CONSTANT, _deep),
    "uniq": Model(CONSTANT, _deep), "mustUniq": Model(CONSTANT, _deep),
    "has": Model(CONSTANT, _deep), "mustHas": Model(CONSTANT, _deep),
    "without": Model(CONSTANT, _deep), "mustWithout": Model(CONSTANT, _deep),
    "toDecimal": Model(CONSTANT, _formatting(1)),
    "until": Model(SHALLOW, new_items=True), "untilStep": Model(SHALLOW, new_items=True),
    "seq": Model(SHALLOW, new_items=True), "toStrings": Model(CONSTANT, _formatting(1), new_items=True),
    "sortAlpha": Model(CONSTANT, _formatting(1), new_items=True),
    "keys": Model(SHALLOW, new_items=False), "values": Model(SHALLOW),
    "fromYaml": Model(SHALLOW, new_items=True), "fromYamlArray": Model(SHALLOW, new_items=True),
    "fromJson": Model(SHALLOW, new_items=True), "fromJsonArray": Model(SHALLOW, new_items=True),
    "mustFromJson": Model(SHALLOW, new_items=True), "fromToml": Model(SHALLOW, new_items=True),
    "urlParse": Model(SHALLOW, new_items=True),
})
for _name in ("randAlpha", "randAlphaNum", "randAscii", "randNumeric", "randBytes"):
    MODELS[_name] = Model(SHALLOW, _random)
for _name in ("print", "println", "cat", "squote", "toString", "join", "html", "js"):
    MODELS[_name] = Model(CONSTANT, _formatting({"html": 6, "js": 6}.get(_name, 1)))  # "&#34;", "\u003C"
MODELS["urlquery"] = Model(CONSTANT, _formatting(12, 3))  # %XX for each UTF-8 byte
MODELS["quote"] = Model(CONSTANT, _formatting(10, 4))  # %q: "\U0010ffff" for one character, "\x7f" in ASCII
for _name in ("toJson", "mustToJson", "toRawJson", "mustToRawJson", "toPrettyJson", "mustToPrettyJson"):
    MODELS[_name] = Model(CONSTANT, _serialise(JSON_NODE_WORK, 5))
for _name in ("toYaml", "mustToYaml"):
    MODELS[_name] = Model(CONSTANT, _serialise(YAML_NODE_WORK, 10))  # libyaml's emitter
for _name in ("toYamlPretty", "toToml", "mustToToml"):
    MODELS[_name] = Model(CONSTANT, _serialise(PURE_YAML_NODE_WORK, 1_200))  # PyYAML's, tomli-w: Python
for _name in ("regexMatch", "mustRegexMatch", "regexFind", "mustRegexFind", "regexFindAll", "mustRegexFindAll",
              "regexReplaceAll", "mustRegexReplaceAll", "regexReplaceAllLiteral", "mustRegexReplaceAllLiteral",
              "regexSplit", "mustRegexSplit"):
    MODELS[_name] = Model(CONSTANT, _regex, new_items=_name.endswith(("FindAll", "Split")))
del _name


def budgeted(  # noqa: C901 - its `call` is the hot path of every template function, inlined on purpose
    name: str, function: Callable[..., Any], model: Model | None = None
) -> Callable[..., Any]:
    """``function`` charging the active chart and refusing results beyond the per-value limits.

    functools.wraps keeps the signature gotpl inspects (arity and argument types), so every
    message a chart already gets stays the same.
    """
    model = model or MODELS.get(name, Model())
    weight = CHAR_WEIGHTS.get(name, 1)
    base = CALL_WORK.get(name, 0)
    scan_args = model.scan == SHALLOW
    estimate = model.estimate
    new_items, mutates = model.new_items, model.mutates

    @functools.wraps(function)
    def call(*args: Any) -> Any:
        # The hot path of every template function: helpers and Ledger.charge are inlined.
        ledger = _active if _active is not None else Ledger()
        work = base
        if scan_args:
            for arg in args:
                kind = type(arg)
                if kind is str or kind is bytes or kind is list or kind is dict or kind is tuple:
                    work += len(arg) * weight
                else:
                    work += weight
        else:
            work += len(args)
        if estimate is not None:
            work += estimate(name, args)
        if work > _DEFERRED_WORK:
            ledger.charge(work)  # refused before it runs when it alone would pass the budget
            work = 0
        before = len(args[0]) if mutates and args and isinstance(args[0], (dict, list)) else 0
        result = function(*args)
        value: Any = result.value if type(result) is FunctionResult else result
        kind = type(value)
        memory = 0
        if kind is str or kind is bytes:
            size = len(value)
            if size > MAX_VALUE_CHARS:
                _check_chars(name, size)
            for arg in args:
                if arg is value:
                    break
            else:
                work += size
                memory = sys.getsizeof(value)
        elif kind is list or kind is dict or kind is tuple or isinstance(value, (Mapping, list)):
            items = len(value)
            if items > MAX_ITEMS:
                _check_items(name, items)
            if mutates and args and value is args[0]:
                grown = max(items - before, 0)
                work += grown
                memory = grown * ITEM_MEMORY
            elif not _is_argument(value, args):
                work += items
                memory = _memory(value) + (items * ITEM_MEMORY if new_items else 0)
        ledger.work += work
        ledger.memory += memory
        RUN.work += work
        if ledger.work > MAX_CHART_WORK or ledger.memory > MAX_CHART_MEMORY or RUN.work > MAX_RUN_WORK:
            raise ledger.exceeded()
        return result

    return call


# Constant-time functions that only hand back (part of) what they were given: gotpl's step
# budget counts each call, and there is nothing else to count. Left unwrapped because they are a
# fifth of all calls a real chart makes (`default`, `hasKey`, `dig`).
UNCOUNTED = frozenset({
    "default", "empty", "coalesce", "ternary", "first", "last", "mustFirst", "mustLast", "get", "hasKey", "dig",
    "kindIs", "kindOf", "typeIs", "typeIsLike", "typeOf", "all", "any", "unset", "lookup", "getHostByName",
})


def budgeted_map(functions: Mapping[str, Callable[..., Any]]) -> dict[str, Callable[..., Any]]:
    """Every function of ``functions`` budgeted; `include`/`tpl` (render-context functions) too."""
    from .gotpl_api import ContextFunction

    out: dict[str, Callable[..., Any]] = {}
    for name, function in functions.items():
        if name in UNCOUNTED:
            out[name] = function
        elif isinstance(function, ContextFunction):
            out[name] = ContextFunction(
                sync=budgeted(name, function.sync) if function.sync is not None else None,
                async_=function.async_,
                capabilities=function.capabilities,
            )
        else:
            out[name] = budgeted(name, function)
    return out


def charge(work: int, memory: int = 0) -> None:
    """Charge the chart being rendered (for ecrlint's own objects templates call, like .Files)."""
    _ledger().charge(work, memory)


def check_size(name: str, chars: int) -> None:
    """RenderBudgetExceeded when a string of ``chars`` characters would pass the per-value limit."""
    _check_chars(name, chars)


def check_value(name: str, value: Any) -> Any:
    """``value`` when it is within the per-value limits; RenderBudgetExceeded otherwise."""
    _result_size(name, value)
    return value


# --- printf --------------------------------------------------------------------------------------

_FLAGS = "+-# 0"


class _FormatReader:
    """Go's fmt reading the flags, argument indexes, width and precision of each verb of one format."""

    def __init__(self, fmt: str, values: tuple[Any, ...]) -> None:
        self.fmt = fmt
        self.n = len(fmt)
        self.values = values
        self.argument = 0  # the argument the next `*` or verb takes

    def spec(self, i: int) -> tuple[int, int | None, int | None]:
        """From just after a `%`: where its verb is, its width and its precision (None: not given)."""
        fmt, n = self.fmt, self.n
        while i < n and fmt[i] in _FLAGS:
            i += 1
        i, width = self.bound(self.index(i))
        precision: int | None = None
        if i < n and fmt[i] == ".":
            i, precision = self.bound(self.index(i + 1))
            precision = precision or 0
        return self.index(i), width, precision

    def index(self, i: int) -> int:
        """Past an explicit argument index `[n]` at ``i`` (the next `*` or verb then takes argument n)."""
        fmt, n = self.fmt, self.n
        if i < n and fmt[i] == "[":
            close = fmt.find("]", i + 1)
            if close < 0:
                return n
            text = fmt[i + 1 : close]
            if text.isdigit() and len(text) < 8:
                self.argument = int(text) - 1
            return close + 1
        return i

    def bound(self, i: int) -> tuple[int, int | None]:
        """A width or precision at ``i``: `*` (the next argument, when an integer) or digits; None for neither."""
        if i < self.n and self.fmt[i] == "*":
            index = self.argument
            self.argument += 1
            value = self.values[index] if 0 <= index < len(self.values) else None
            return i + 1, abs(value) if isinstance(value, int) and not isinstance(value, bool) else 0
        return self.number(i)

    def number(self, i: int) -> tuple[int, int | None]:
        fmt, n = self.fmt, self.n
        start = i
        while i < n and fmt[i].isdigit():
            i += 1
        if i == start:
            return i, None
        digits = fmt[start:i].lstrip("0")
        if len(digits) > 8:
            raise RenderBudgetExceeded(
                f"printf: a width or precision of {len(digits)} digits (the limit is {MAX_FORMAT_WIDTH})"
            )
        return i, int(digits or "0")


def printf_size(fmt: str, values: tuple[Any, ...]) -> tuple[int, int]:
    """An upper bound of len(sprintf(fmt, *values)) as Go's fmt (and gotpl) read the format, and the walking work.

    Raises RenderBudgetExceeded for a width or precision above MAX_FORMAT_WIDTH (Go's fmt prints
    %!(BADWIDTH) there) and for a structure argument that would expand beyond the value limit.
    """
    n = len(fmt)
    position = size = work = 0
    measured: dict[int, Measure] = {}
    used: set[int] = set()
    reader = _FormatReader(fmt, values)

    def weight_of(index: int) -> Measure:
        if index not in measured:
            measured[index] = measure(values[index], "printf")
        return measured[index]

    while position < n:
        percent = fmt.find("%", position)
        if percent < 0:
            size += n - position
            break
        size += percent - position
        if fmt.startswith("%", percent + 1):
            size += 1
            position = percent + 2
            continue
        i, width, precision = reader.spec(percent + 1)
        for bound in (width, precision):
            if bound is not None and bound > MAX_FORMAT_WIDTH:
                raise RenderBudgetExceeded(f"printf: a width or precision of {bound} (the limit is {MAX_FORMAT_WIDTH})")
        if i >= n:
            size += 10  # %!(NOVERB)
            break
        verb = fmt[i]
        position = i + 1
        formatted = 32  # the error forms: %!d(string=...) around the value, %!d(MISSING)
        argument = reader.argument
        if 0 <= argument < len(values):
            formatted += _formatted_size(verb, precision, width or 0, weight_of(argument), values[argument])
            used.add(argument)
        reader.argument = argument + 1
        size += max(width or 0, formatted)
    for index in range(len(values)):
        if index not in used:  # %!(EXTRA type=value, ...) for arguments no verb used
            size += weight_of(index).units + 32
        work += weight_of(index).nodes * FORMAT_NODE_WORK
    return size, work


def _formatted_size(verb: str, precision: int | None, width: int, m: Measure, value: Any) -> int:
    if isinstance(value, float) or (isinstance(value, int) and verb in "eEfFgGbxXoOU"):
        return (precision or 0) + 1_100 + (value.bit_length() if isinstance(value, int) else 0)
    chars = m.chars
    if precision is not None and isinstance(value, str):
        chars = min(chars, precision)
    factor = _string_factor(verb, value) if isinstance(value, str) else 10 if verb == "q" else 12 if verb in "xX" else 1
    # a verb applies to every element of a list or map, width included
    return chars * factor + m.nodes * (16 + width)


# --- gotpl hooks ---------------------------------------------------------------------------------

_installed = False


def install() -> None:
    """Hook gotpl's VM where it does work that no budget counts (idempotent).

    - Only loop iterations and function calls are gotpl's steps: a loop whose body is a thousand
      `if`s or assignments, or a `template` call of a long definition, runs a thousand uncounted
      instructions per step. The VM records the source position of every instruction (and every
      pipeline) it executes for its error messages; that record now also counts them.
    - gotpl renders `include`, `tpl` and (as ecrlint calls it) each template into a buffer whose
      characters its output budget does not count: a loop inside an `include` could fill memory
      before the include returns. Every render now counts what it writes.
    - Writing `{{ $x }}` formats a structure without a function call: measured first.

    gotpl_api has checked that these internals are there, as in the gotpl versions they were checked on.
    """
    global _installed
    if _installed:
        return
    from .gotpl_api import sync_vm
    from .gotpl_api import template as template_module

    original_render = template_module.render_program
    original_format = sync_vm.format_value
    location: Any = sync_vm._ExecutionLocation
    slot = vars(location)["position"]

    @functools.wraps(original_render)
    def render_program(*args: Any, **kwargs: Any) -> Any:
        if kwargs.get("_budget_state") is not None:
            kwargs["_account_output"] = True
        return original_render(*args, **kwargs)

    @functools.wraps(original_format)
    def format_value(value: Any, format_mode: Any = "go") -> str:
        if type(value) is not str and not isinstance(value, _SCALARS):
            m = measure(value, "a template action")
            _ledger().charge(m.nodes * FORMAT_NODE_WORK + m.chars)
        return original_format(value, format_mode)

    get_position, set_position = slot.__get__, slot.__set__

    def position(self: Any) -> int:
        return get_position(self, location)

    def count_position(self: Any, value: int) -> None:
        set_position(self, value)
        ledger = _active
        if ledger is not None:
            ledger.pending += 1
            if ledger.pending >= _INSTRUCTION_BATCH:
                ledger.pending = 0
                ledger.charge(_INSTRUCTION_BATCH * INSTRUCTION_WORK)

    counting = type(location.__name__, (location,), {"__slots__": (), "position": property(position, count_position)})
    vm: Any = sync_vm
    template_module.render_program = render_program
    vm.format_value = format_value
    vm._ExecutionLocation = counting
    _installed = True
