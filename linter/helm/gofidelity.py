"""Template functions as Go and Sprig compute them, where gotpl 0.1 does otherwise.

Each difference was found by benchmarks/helm_diff.py (the built-in engine against helm-python-sdk
on real charts) and is fixed here, in ecrlint's function layer, never in gotpl itself:

- ``index MAP "absent"`` gives gotpl's INVALID, which gotpl's VM also uses for "no piped value":
  ``index .m "absent" | toString`` lost its argument. Go returns the map's zero value (a nil
  interface), so ``index`` here returns None.
- ``hasKey``/``get``/``keys``/... on a nil map (a missing value passed through a function or a
  variable): Go hands the function a nil map (false, "", nothing); gotpl raised TypeError.
- The regex functions compile Go's RE2 syntax with google-re2 (``^[\\w-\\.]+$`` is valid RE2,
  invalid for Python's ``re``) and follow Go's regexp semantics for FindAll, ReplaceAll (``$1``,
  ``${name}``) and Split.
- ``semverCompare ">= 1.27.x"``: an operator with a wildcard, which Masterminds accepts.
- Numbers: Helm's values are float64 (YAML read through JSON): Go prints 1000000 as ``1e+06`` and
  `typeOf` says "float64"; values integers are floats here too (see ``go_numbers``).
- ``.Files.Get`` of a binary file keeps its bytes for ``b64enc``/``sha256sum`` (Go strings are bytes).
"""

from __future__ import annotations

import base64
import functools
import hashlib
import math
from decimal import Decimal
from typing import Any, Callable, Mapping



class BinaryText(str):
    """A file's text that is not valid UTF-8, with its bytes (Go keeps them in the string)."""

    raw: bytes

    def __new__(cls, raw: bytes) -> "BinaryText":
        out = super().__new__(cls, raw.decode("utf-8", "replace"))
        out.raw = raw
        return out


def text_of(data: bytes) -> str:
    """``.Files.Get``: the file as a string, its bytes kept when they are not UTF-8."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return BinaryText(data)


def _bytes_of(value: Any) -> bytes | None:
    if isinstance(value, BinaryText):
        return value.raw
    if isinstance(value, str):
        return value.encode("utf-8", "surrogatepass")
    return None


def go_numbers(value: Any) -> Any:
    """Values as Helm holds them: every number a float64 (YAML is read through JSON).

    So a values integer prints as Go prints a float64 (``1e+06`` from 1000000), `typeOf` is
    "float64", `printf "%d"` refuses it and `has 3` does not find it, as in Helm. Returns the
    same object when nothing changes.
    """
    if isinstance(value, dict):
        changed = None
        for key, item in value.items():
            new = go_numbers(item)
            if new is not item:
                if changed is None:
                    changed = dict(value)
                changed[key] = new
        return value if changed is None else changed
    if isinstance(value, list):
        items = [go_numbers(item) for item in value]
        return value if all(a is b for a, b in zip(items, value, strict=True)) else items
    if type(value) is int:
        try:
            return float(value)
        except OverflowError:
            return value
    return value


def go_float(value: float) -> str:
    """strconv.FormatFloat(value, 'g', -1, 64): what Go's %v and yaml.v2 print for a float64."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if value == 0:
        return "-0" if math.copysign(1.0, value) < 0 else "0"
    sign, digits, exponent = Decimal(repr(value)).normalize().as_tuple()
    text = "".join(map(str, digits))
    point = len(text) + int(exponent)  # digits before the decimal point
    exp = point - 1
    prefix = "-" if sign else ""
    if exp < -4 or exp >= 6:
        mantissa = text[0] + ("." + text[1:] if len(text) > 1 else "")
        return f"{prefix}{mantissa}e{'-' if exp < 0 else '+'}{abs(exp):02d}"
    if point <= 0:
        return f"{prefix}0.{'0' * -point}{text}"
    if point >= len(text):
        return prefix + text + "0" * (point - len(text))
    return f"{prefix}{text[:point]}.{text[point:]}"


def yaml_float(value: float) -> str:
    """A float64 as Helm's toYaml writes it: through JSON (integral values as integers), then yaml.v2."""
    if math.isfinite(value) and value.is_integer() and abs(value) < 1e21:
        return str(int(value))
    return go_float(value)


# --- regular expressions: Go's regexp (RE2) -------------------------------------------------------


@functools.lru_cache(maxsize=256)
def _re2(pattern: str) -> Any:
    import re2

    options = re2.Options()
    options.log_errors = False
    try:
        return re2.compile(pattern, options)
    except re2.error as exc:
        raise ValueError(f"error parsing regexp: {exc}") from None


def _matches(rx: Any, text: str, n: int) -> list[Any]:
    """Go's allMatches: successive non-overlapping matches, no empty match right after a match."""
    out: list[Any] = []
    if n < 0:
        n = len(text) + 1
    pos, prev_end = 0, -1
    while len(out) < n and pos <= len(text):
        m = rx.search(text, pos)
        if m is None:
            break
        accept = True
        if m.end() == pos:
            if m.start() == prev_end:
                accept = False
            pos += 1
        else:
            pos = m.end()
        prev_end = m.end()
        if accept:
            out.append(m)
    return out


def _expand(rx: Any, m: Any, template: str) -> str:
    """Go's Regexp.Expand: ``$1``, ``${1}``, ``$name``, ``${name}``, ``$$``."""
    out: list[str] = []
    names = rx.groupindex
    i = 0
    while True:
        dollar = template.find("$", i)
        if dollar < 0:
            out.append(template[i:])
            return "".join(out)
        out.append(template[i:dollar])
        rest = template[dollar + 1 :]
        if rest.startswith("$"):
            out.append("$")
            i = dollar + 2
            continue
        brace = rest.startswith("{")
        body = rest[1:] if brace else rest
        j = 0
        while j < len(body) and (body[j].isalnum() or body[j] == "_"):
            j += 1
        name = body[:j]
        if not name or (brace and (j >= len(body) or body[j] != "}")):
            out.append("$")  # malformed: the dollar as text
            i = dollar + 1
            continue
        i = dollar + 1 + j + (2 if brace else 0)
        number = int(name) if name.isdigit() and (name == "0" or not name.startswith("0")) and len(name) < 9 else -1
        group = number if number >= 0 else names.get(name, -1)
        if 0 <= group <= rx.groups and m.start(group) >= 0:
            out.append(m.group(group) or "")


def _regex_match(pattern: Any, text: Any) -> bool:
    return _re2(str(pattern)).search(_go_text(text)) is not None


def _regex_match_quiet(pattern: Any, text: Any) -> bool:
    try:
        return _regex_match(pattern, text)
    except ValueError:
        return False  # Sprig's regexMatch drops the compile error


def _regex_find(pattern: Any, text: Any) -> str:
    m = _re2(str(pattern)).search(_go_text(text))
    return "" if m is None else m.group(0)


def _regex_find_all(pattern: Any, text: Any, n: Any) -> list[str]:
    count = _int(n)
    if count == 0:
        return []
    return [m.group(0) for m in _matches(_re2(str(pattern)), _go_text(text), count)]


def _replace(pattern: Any, text: Any, repl: Any, literal: bool) -> str:
    """Go's Regexp.replaceAll: no replacement for an empty match right after a match."""
    rx = _re2(str(pattern))
    src, replacement = _go_text(text), _go_text(repl)
    out: list[str] = []
    last_end = search = 0
    while search <= len(src):
        m = rx.search(src, search)
        if m is None:
            break
        out.append(src[last_end : m.start()])
        if m.end() > last_end or m.start() == 0:
            out.append(replacement if literal else _expand(rx, m, replacement))
        last_end = m.end()
        search = search + 1 if search + 1 > m.end() else m.end()
    out.append(src[last_end:])
    return "".join(out)


def _regex_replace_all(pattern: Any, text: Any, repl: Any) -> str:
    return _replace(pattern, text, repl, False)


def _regex_replace_all_literal(pattern: Any, text: Any, repl: Any) -> str:
    return _replace(pattern, text, repl, True)


def _regex_split(pattern: Any, text: Any, n: Any) -> list[str]:
    """Go's Regexp.Split."""
    count = _int(n)
    rx = _re2(str(pattern))
    src = _go_text(text)
    if count == 0:
        return []
    if str(pattern) and not src:
        return [""]
    parts: list[str] = []
    begin = end = 0
    for m in _matches(rx, src, count):
        if count > 0 and len(parts) == count - 1:
            break
        end = m.start()
        if m.end() != 0:
            parts.append(src[begin:end])
        begin = m.end()
    if end != len(src):
        parts.append(src[begin:])
    return parts


def _quote_meta(text: Any) -> str:
    return "".join("\\" + c if c in _META else c for c in _go_text(text))


_META = frozenset("\\.+*?()|[]{}^$")


def regex_functions() -> dict[str, Callable[..., Any]]:
    """Sprig's regex functions (and their must* forms, which return the compile error)."""
    from .gotpl_api import FunctionResult

    def must(function: Callable[..., Any]) -> Callable[..., Any]:
        def call(*args: Any) -> Any:
            try:
                return function(*args)
            except ValueError as exc:
                return FunctionResult.failure(exc)

        return call

    return {
        "regexMatch": _regex_match_quiet, "mustRegexMatch": must(_regex_match),
        "regexFind": _regex_find, "mustRegexFind": must(_regex_find),
        "regexFindAll": _regex_find_all, "mustRegexFindAll": must(_regex_find_all),
        "regexReplaceAll": _regex_replace_all, "mustRegexReplaceAll": must(_regex_replace_all),
        "regexReplaceAllLiteral": _regex_replace_all_literal,
        "mustRegexReplaceAllLiteral": must(_regex_replace_all_literal),
        "regexSplit": _regex_split, "mustRegexSplit": must(_regex_split),
        "regexQuoteMeta": _quote_meta,
    }


def _go_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if value is None:
        return "<nil>"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return go_float(value)
    return str(value)


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError, OverflowError):
        return 0


# --- the rest --------------------------------------------------------------------------------------


def fixed_functions(base: Mapping[str, Callable[..., Any]]) -> dict[str, Callable[..., Any]]:
    """index, the map functions on nil, semverCompare with wildcard operators, bytes-keeping hashes."""
    from .gotpl_api import INVALID, UNTYPED_NIL, sync_vm

    nils = (None, INVALID, UNTYPED_NIL)
    go_index = sync_vm._builtin_functions("go")["index"]

    def index(value: Any, *keys: Any) -> Any:
        result = go_index(value, *keys)
        return None if result is INVALID else result

    def on_map(name: str, position: int = 0, last: bool = False) -> Callable[..., Any]:
        function = base[name]

        def call(*args: Any) -> Any:
            if args:
                at = len(args) - 1 if last else position
                if at < len(args) and args[at] in nils:
                    args = args[:at] + ({},) + args[at + 1 :]
            return function(*args)

        functools.update_wrapper(call, function)
        return call

    out: dict[str, Callable[..., Any]] = {"index": index, **_value_functions(base)}
    for name, position, last in (("hasKey", 0, False), ("get", 0, False), ("keys", 0, False),
                                 ("values", 0, False), ("pick", 0, False), ("omit", 0, False),
                                 ("dig", 0, True)):
        if name in base:
            out[name] = on_map(name, position, last)
    return out


def _value_functions(base: Mapping[str, Callable[..., Any]]) -> dict[str, Callable[..., Any]]:
    """semverCompare with wildcard operators, printf of nil, hashes of binary files' bytes."""
    from .gotpl_api import FunctionResult
    from .semver import satisfies

    semver_compare = base["semverCompare"]

    def semver_compare_wildcards(constraint: Any, version: Any) -> Any:
        result = semver_compare(constraint, version)
        error = getattr(result, "error", None)
        if error is not None and "improper constraint" in str(error) and isinstance(constraint, str):
            from . import semver

            if _constraint_parses(semver, constraint) and semver.parse_version(str(version)) is not None:
                return FunctionResult.success(satisfies(constraint, str(version)))
        return result

    b64enc = base["b64enc"]

    def b64enc_bytes(value: Any) -> Any:
        raw = _bytes_of(value) if isinstance(value, BinaryText) else None
        return base64.b64encode(raw).decode("ascii") if raw is not None else b64enc(value)

    sha256sum = base["sha256sum"]

    def sha256sum_bytes(value: Any) -> Any:
        if isinstance(value, BinaryText):
            return hashlib.sha256(value.raw).hexdigest()
        return sha256sum(value)

    printf = base["printf"]

    def printf_nil(*args: Any) -> Any:
        # gotpl writes a nil operand of a mismatched verb as "%!s(<nil>=<no value>)"; Go as "%!s(<nil>)"
        out = printf(*args)
        if isinstance(out, str) and "(<nil>=<no value>)" in out:
            return out.replace("(<nil>=<no value>)", "(<nil>)")
        return out

    return {"printf": printf_nil, "semverCompare": semver_compare_wildcards, "b64enc": b64enc_bytes,
            "sha256sum": sha256sum_bytes, "toToml": to_toml}


def _constraint_parses(semver: Any, constraint: str) -> bool:
    import re

    for alternative in constraint.split("||"):
        text = re.sub(r"\s+-\s+", " - ", re.sub(r"\s+", " ", alternative.strip()))
        if re.match(r"^(\S+) - (\S+)$", text):
            continue
        text = re.sub(r"(=|!=|>=|=>|<=|=<|>|<|~>|~|\^)\s+", r"\1", text)
        clauses = [c for c in re.split(r"[\s,]+", text) if c]
        if not clauses or not all(semver._PART.match(c) for c in clauses):
            return False
    return True


# --- yaml.v2's resolve(): which plain scalars read back as something other than a string ----------

_V2_SPECIAL = frozenset(
    "y Y yes Yes YES on On ON true True TRUE n N no No NO off Off OFF false False FALSE "
    "~ null Null NULL .nan .NaN .NAN .inf .Inf .INF +.inf +.Inf +.INF -.inf -.Inf -.INF <<".split()
)


@functools.lru_cache(maxsize=4096)
def go_plain_is_string(text: str) -> bool:
    """Whether yaml.v2 reads ``text`` written plain back as a string (else toYaml double-quotes it)."""
    import re

    if text == "" or text in _V2_SPECIAL:
        return False
    first = text[0]
    if first == ".":
        return not _go_parse_float(text)
    if first in "+-" or first.isdigit():
        if re.fullmatch(r"\d{4}-\d{1,2}-\d{1,2}(?:(?:[Tt]|[ \t]+)\d{1,2}:\d{2}:\d{2}(?:\.\d*)?"
                        r"(?:[ \t]*(?:Z|[-+]\d{1,2}(?::?\d{2})?))?)?", text):
            return False  # a timestamp
        plain = text.replace("_", "")
        if re.fullmatch(r"[-+]?(?:0[xX][0-9a-fA-F]+|0[oO]?[0-7]*|0[bB][01]+|[1-9][0-9]*|0)", plain):
            return False  # strconv.ParseInt(plain, 0, 64) (or ParseUint), octal with a leading 0
        if re.fullmatch(r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?", plain):
            return False
        if re.fullmatch(r"-?0b[01]+", plain):
            return False
    # isBase60Float: "1:20" and the like
    return not re.fullmatch(r"[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?", text)


def _go_parse_float(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return "_" not in text and text.strip() == text


# --- toToml: BurntSushi/toml's Encoder, as Helm's toToml writes (gotpl needs tomli_w for its own) ---

_BARE_KEY = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")
_TOML_ESCAPES = {"\\": "\\\\", '"': '\\"', "\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r"}


def to_toml(value: Any) -> str:
    """Helm's toToml: the encoder's text, or its error's text."""
    if isinstance(value, list):
        return _toml_element(value)
    if not isinstance(value, dict):
        return "toml: top-level values must be Go maps or structs"
    out: list[str] = []
    try:
        _toml_map(out, [], value)
    except (TypeError, ValueError) as exc:
        return str(exc)
    return "".join(out)


def _toml_string(text: str) -> str:
    return '"' + "".join(
        _TOML_ESCAPES.get(c) or (f"\\u{ord(c):04X}" if ord(c) < 0x20 or ord(c) == 0x7F else c) for c in text
    ) + '"'


def _toml_key(part: str) -> str:
    return part if part and all(c in _BARE_KEY for c in part) else _toml_string(part)


def _is_table(value: Any) -> bool:
    return isinstance(value, dict) or _is_table_array(value)


def _is_table_array(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, dict) for v in value)


def _newline(out: list[str]) -> None:
    if out:
        out.append("\n")


def _toml_map(out: list[str], key: list[str], table: dict[Any, Any]) -> None:
    direct = sorted((str(k) for k, v in table.items() if not _is_table(v)))
    sub = sorted((str(k) for k, v in table.items() if _is_table(v)))
    lookup = {str(k): v for k, v in table.items()}
    for name in direct + sub:
        item = lookup[name]
        if item is None:
            continue
        path = [*key, name]
        if isinstance(item, dict):
            if len(path) == 1:
                _newline(out)
            out.append(f"{'  ' * (len(path) - 1)}[{'.'.join(_toml_key(p) for p in path)}]")
            _newline(out)
            _toml_map(out, path, item)
        elif _is_table_array(item):
            for element in item:
                _newline(out)
                out.append(f"{'  ' * (len(path) - 1)}[[{'.'.join(_toml_key(p) for p in path)}]]")
                _newline(out)
                _toml_map(out, path, element)
        else:
            out.append(f"{'  ' * (len(path) - 1)}{_toml_key(name)} = {_toml_element(item)}")
            _newline(out)


def _toml_element(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        text = go_float(value)
        return text if "." in text or "e" in text else text + ".0"
    if isinstance(value, str):
        return _toml_string(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_element(v) for v in value if v is not None) + "]"
    if isinstance(value, dict):
        items = sorted((str(k), v) for k, v in value.items() if v is not None)
        return "{" + ", ".join(f"{_toml_key(k)} = {_toml_element(v)}" for k, v in items) + "}"
    raise TypeError(f"toml: unsupported type: {type(value).__name__}")
