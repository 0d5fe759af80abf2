"""Reproducible renders with Helm's own engine: calls of clock, random and key functions rewritten.

helm-python-sdk cannot replace a template function (its C ABI takes a chart, values and release
options, nothing else), and the values come from Go's crypto/rand and the vDSO clock, which nothing
outside the Go runtime can intercept. So a chart that calls one of these functions is rendered from
a copy (a .tgz in memory: nothing is written to disk) in which each call is rewritten, in the
template text, into deterministic Sprig functions that give a fixed value (``fixed_now()`` for the
time, as in the built-in engine; "xxxx" for random strings, placeholder PEM blocks for keys):

    randAlphaNum 16 | b64enc       ->  include `__ecrlint_nd_letters` 16 | b64enc
    $ca := genCA "x-ca" 3650       ->  $ca := dict `Cert` (include ...) `Key` (include ...) "x-ca" 3650
    now | date "2006"              ->  (toDate `...` `2000-01-01T00:00:00Z`) | list "2006" | include `__ecrlint_nd_date`

Everything else is Helm's: the rest of each template, values coalescing, subcharts, `tpl`. This is
more faithful than rendering such charts with the built-in engine, and they are common (webhook
certificates from `genCA` in aws-load-balancer-controller, `now` in argo-cd, passwords from
`randAlphaNum`). The render child runs with TZ=UTC, which fixes `toDate` and the "Local" zone.

What is rewritten: function identifiers in template actions (``{{ ... }}``) - not string
literals, comments, fields (``.now``) or variables (``$now``) - in every text file of the chart and
its subcharts (``.tgz`` ones repacked), which covers templates, values strings given to ``tpl``
and files read with ``.Files.Get``; and strings of the user's values. Replacements use raw
(backquoted) strings and no newline, so they stay valid inside any YAML scalar of values.yaml.
Not covered: a template that builds a function name at render time
(``tpl (printf "{{ %s 5 }}" "randAlphaNum")``) or hides the call in a string literal it passes to
``tpl``; such a chart still renders, its output just varies.
"""

from __future__ import annotations

import io
import os
import re
import tarfile
from typing import Any

from . import loader, nondeterministic
from .values import value_strings

HELPERS_FILE = "templates/_ecrlint_nondeterministic.tpl"
_P = "__ecrlint_nd_"  # prefix of the helper templates (one namespace for the whole chart tree)

# The fixed values (the built-in engine's placeholders for certificates, keys and hashes).
# The fixed values are the built-in engine's (nondeterministic.py), so both engines render alike.
FIXED_UUID = nondeterministic.FIXED_UUID
FIXED_CERT = nondeterministic.FIXED_CERT
FIXED_KEY = nondeterministic.FIXED_KEY
FIXED_BCRYPT = nondeterministic.FIXED_BCRYPT
_TIME_FORMAT = "2006-01-02T15:04:05Z07:00"

# How each function is replaced:
#   "expr":   a complete operand, wherever the name stands;
#   "prefix": a function with leading fixed arguments (the template's own, piped ones included,
#             follow it; parenthesized where the name stands as an argument);
#   "call":   `list ARGS | include HELPER`: the helper gets the arguments as a list (the date
#             functions, which fall back to the clock for an argument that is not a time).
_CERT = f"dict `Cert` (include `{_P}cert` nil) `Key` (include `{_P}key` nil)"  # args: unused entries
_STATIC: dict[str, tuple[str, str]] = {
    "uuidv4": ("expr", f"(`{FIXED_UUID}`)"),
    "randAlpha": ("prefix", f"include `{_P}letters`"),
    "randAlphaNum": ("prefix", f"include `{_P}letters`"),
    "randAscii": ("prefix", f"include `{_P}letters`"),
    "randNumeric": ("prefix", f"include `{_P}digits`"),
    "randBytes": ("prefix", f"include `{_P}bytes`"),
    "randInt": ("prefix", "min"),  # randInt MIN MAX is in [MIN, MAX): MIN
    "shuffle": ("prefix", "toString"),  # the string unshuffled
    "genPrivateKey": ("prefix", f"include `{_P}key`"),
    "genCA": ("prefix", _CERT),
    "genCAWithKey": ("prefix", _CERT),
    "genSelfSignedCert": ("prefix", _CERT),
    "genSelfSignedCertWithKey": ("prefix", _CERT),
    "genSignedCert": ("prefix", _CERT),
    "genSignedCertWithKey": ("prefix", _CERT),
    "htpasswd": ("prefix", f"printf `%v:{FIXED_BCRYPT}%.0v`"),  # user:hash; the password printed as ""
    "bcrypt": ("prefix", f"printf `{FIXED_BCRYPT}%.0v`"),
    "encryptAES": ("prefix", "printf `%.0v%.0v`"),  # "", as the built-in engine renders it
    "date": ("call", f"{_P}date"),
    "dateInZone": ("call", f"{_P}dateInZone"),
    "date_in_zone": ("call", f"{_P}dateInZone"),
    "htmlDate": ("call", f"{_P}htmlDate"),
    "htmlDateInZone": ("call", f"{_P}htmlDateInZone"),
    "ago": ("call", f"{_P}ago"),
    "durationRound": ("call", f"{_P}durationRound"),
}
# Of nondeterministic.NONDETERMINISTIC_FUNCTIONS, what needs no rewrite in the SDK's child:
# toDate/mustToDate parse the string they are given (TZ=UTC fixes the zone); env and expandenv
# do not exist in Helm; getHostByName answers "" and lookup nothing offline.
FIXED_BY_THE_CHILD = frozenset({"toDate", "mustToDate", "env", "expandenv", "getHostByName", "lookup"})
REWRITTEN = frozenset({"now", *_STATIC})

# sprig's dateInZone takes these; anything else (a string, a YAML number) means time.Now().
_DATE_TYPES = ("time.Time", "*time.Time", "int64", "int", "int32")


def _now() -> str:
    """`now` as a Go expression of type time.Time."""
    return f"(toDate `{_TIME_FORMAT}` `{nondeterministic.fixed_now_text()}`)"


def _go_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def helpers() -> str:
    """The helper templates, added to the rendered copy of the chart."""
    now = _now()

    def date_call(name: str, count: int, at: int, call: str, types: tuple[str, ...] = _DATE_TYPES) -> str:
        check = " ".join(f'(typeIs "{t}" $d)' for t in types)
        return (
            f'{{{{- define "{_P}{name}" -}}}}'
            f'{{{{- if ne (len .) {count} }}}}{{{{ fail (printf "wrong number of args for {name}: want {count} got %d" (len .)) }}}}{{{{ end -}}}}'
            f"{{{{- $d := index . {at} }}}}{{{{ if not (or {check}) }}}}{{{{ $d = {now} }}}}{{{{ end -}}}}"
            f"{{{{- {call} -}}}}"
            "{{- end -}}\n"
        )

    def fixed(name: str, body: str) -> str:
        return f'{{{{- define "{_P}{name}" -}}}}{body}{{{{- end -}}}}\n'

    return "".join([
        "{{- /* Added by ecrlint: fixed values for functions whose result changes on every render. */ -}}\n",
        fixed("letters", '{{ if gt (int .) 0 }}{{ repeat (int .) "x" }}{{ end }}'),
        fixed("digits", '{{ if gt (int .) 0 }}{{ repeat (int .) "0" }}{{ end }}'),
        fixed("bytes", '{{ if gt (int .) 0 }}{{ repeat (int .) "\\x00" | b64enc }}{{ end }}'),
        fixed("cert", f"{{{{ {_go_string(FIXED_CERT)} }}}}"),
        fixed("key", f"{{{{ {_go_string(FIXED_KEY)} }}}}"),
        date_call("date", 2, 1, "date (index . 0) $d"),
        date_call("dateInZone", 3, 1, "dateInZone (index . 0) $d (index . 2)"),
        date_call("htmlDate", 1, 0, "htmlDate $d"),
        date_call("htmlDateInZone", 2, 0, "htmlDateInZone $d (index . 1)"),
        # ago: time.Since(t).Round(time.Second); t from a time, or a Unix time in seconds.
        date_call("ago", 1, 0, (
            f'$t := $d }}}}{{{{ if not (typeIs "time.Time" $d) }}}}'
            f'{{{{ $t = toDate `{_TIME_FORMAT}` (dateInZone `{_TIME_FORMAT}` $d "UTC") }}}}{{{{ end }}}}'
            f"{{{{ (({now}.Sub $t).Round 1000000000).String"
        ), ("time.Time", "int64", "int")),
        # durationRound of a time is the time since it; of anything else, the clock plays no part.
        fixed("durationRound", (
            '{{- $d := index . 0 }}{{ if typeIs "time.Time" $d }}'
            f"{{{{ durationRound ({now}.Sub $d).String }}}}{{{{ else }}}}{{{{ durationRound $d }}}}{{{{ end -}}}}"
        )),
    ])


# --- the rewrite -----------------------------------------------------------------------------------

_NAMES = tuple(sorted(REWRITTEN))
_ANY_NAME = re.compile("|".join(_NAMES))  # for an action's few characters (over a file: `in` is faster)
# An action's text up to its "}}": strings, runes, raw strings and comments may hold "}}".
_ACTION_BODY = re.compile(
    r"""(?:[^}"'`/]+|\}(?!\})|/(?!\*)|"(?:[^"\\\n]|\\.)*"?|'(?:[^'\\\n]|\\.)*'?|`[^`]*`?|/\*.*?(?:\*/|\Z))*""",
    re.DOTALL,
)
_HEAD_AFTER = {("p", "("), ("p", "|"), ("p", ":="), ("p", "="),
               ("w", "if"), ("w", "with"), ("w", "range"), ("w", "else")}


def _string_end(text: str, i: int) -> int:
    """The end of the string literal, rune or comment at ``i`` (unterminated: the end of the text)."""
    c = text[i]
    if c == "`":
        k = text.find("`", i + 1)
        return len(text) if k < 0 else k + 1
    if text.startswith("/*", i):
        k = text.find("*/", i + 2)
        return len(text) if k < 0 else k + 2
    k = i + 1  # "..." or '...': escapes, and it ends at its quote or the line
    while k < len(text) and text[k] not in (c, "\n"):
        k += 2 if text[k] == "\\" else 1
    return min(k + 1, len(text))


def _tokens(body: str) -> list[tuple[str, str]]:
    """An action's tokens: (kind, text), kind one of s(tring/comment) w(ord) p(unctuation) o(ther) space."""
    out: list[tuple[str, str]] = []
    i, n = 0, len(body)
    while i < n:
        c = body[i]
        if c in "\"'`" or body.startswith("/*", i):
            k = _string_end(body, i)
            out.append(("s", body[i:k]))
        elif c.isspace():
            k = i + 1
            while k < n and body[k].isspace():
                k += 1
            out.append((" ", body[i:k]))
        elif body.startswith(":=", i):
            k = i + 2
            out.append(("p", ":="))
        elif c in "()|=,":
            k = i + 1
            out.append(("p", c))
        elif c in ".$" or c.isalnum() or c == "_":
            # a field (.x), a variable ($x), a number (1e-5, 0x1F) or a word
            k = i + 1
            while k < n and (body[k].isalnum() or body[k] == "_" or (c.isdigit() and (
                    body[k] == "." or (body[k] in "+-" and body[k - 1] in "eEpP")))):
                k += 1
            kind = "w" if (c.isalpha() or c == "_") else "o"
            out.append((kind, body[i:k]))
        else:
            k = i + 1
            out.append(("o", c))
        i = k
    return out


def _rewrite_action(body: str, now: str, found: set[str]) -> str:
    tokens = _tokens(body)
    pieces = [text for _kind, text in tokens]
    after: dict[int, str] = {}  # text inserted after the token at this index
    previous: tuple[str, str] | None = None
    for index, (kind, text) in enumerate(tokens):
        if kind == " " or (kind == "s" and text.startswith("/*")):
            continue
        if kind == "w" and text in REWRITTEN:
            found.add(text)
            head = previous is None or previous in _HEAD_AFTER
            end = _command_end(tokens, index) if head else index
            how, what = ("expr", now) if text == "now" else _STATIC[text]
            if how == "expr":
                pieces[index] = what
            elif how == "prefix":
                pieces[index] = what if head else f"({what})"
            elif head:  # call: `list ARGS | include HELPER`
                pieces[index] = "list"
                after[end] = after.get(end, "") + f" | include `{what}`"
            else:
                pieces[index] = f"(list | include `{what}`)"
        previous = (kind, text)
    return "".join(piece + after.get(i, "") for i, piece in enumerate(pieces))


def _command_end(tokens: list[tuple[str, str]], start: int) -> int:
    """Index of the last significant token of the command starting at ``start``."""
    depth = 0
    last = start
    for index in range(start + 1, len(tokens)):
        kind, text = tokens[index]
        if kind == "p" and text == "(":
            depth += 1
        elif kind == "p" and text == ")":
            if depth == 0:
                break
            depth -= 1
        elif kind == "p" and text == "|" and depth == 0:
            break
        if kind != " " and not (kind == "s" and text.startswith("/*")):
            last = index
    return last


def rewrite(text: str) -> tuple[str, set[str]]:
    """``text`` with every call of a nondeterministic function replaced, and the names replaced."""
    # substring tests first: far faster than any regex over a large template ("update" passes too)
    if "{{" not in text or not any(name in text for name in _NAMES):
        return text, set()
    now = _now()
    out: list[str] = []
    found: set[str] = set()
    i, n = 0, len(text)
    while i < n:
        start = text.find("{{", i)
        if start < 0:
            out.append(text[i:])
            break
        out.append(text[i : start + 2])
        body_match = _ACTION_BODY.match(text, start + 2)
        j = body_match.end() if body_match else start + 2  # it always matches, if only ""
        body = text[start + 2 : j]
        i = j
        if not _ANY_NAME.search(body):
            out.append(body)
            continue
        # trim markers: "{{- " and " -}}" (a hyphen next to the braces, then a space)
        lead = "-" if len(body) > 1 and body[0] == "-" and body[1].isspace() else ""
        trail = "-" if len(body) > 1 and body[-1] == "-" and body[-2].isspace() else ""
        core = body[len(lead) : len(body) - len(trail)]
        out.append(lead + _rewrite_action(core, now, found) + trail)
    return "".join(out), found


def rewrite_values(values: Any) -> tuple[Any, set[str]]:
    """The user's values with every string rewritten (they may reach ``tpl``)."""
    found: set[str] = set()

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            return {k: walk(v) for k, v in node.items()}
        if isinstance(node, list):
            return [walk(v) for v in node]
        if isinstance(node, str):
            text, names = rewrite(node)
            found.update(names)
            return text
        return node

    return walk(values), found


def calls(chart: loader.Chart, user: dict[str, Any]) -> set[str]:
    """The functions to fix that a chart tree (or the user's values) calls in template actions."""
    found: set[str] = set()
    texts: list[str] = list(value_strings(user))
    for sub in loader.walk(chart):
        texts.extend(sub.templates.values())
        texts.extend(value_strings(sub.values))
        for data in sub.files.values():
            if b"{{" in data:
                texts.append(data.decode("utf-8", "replace"))
    for text in texts:
        found |= rewrite(text)[1]
    return found


# --- the copy ----------------------------------------------------------------------------------------


def archive(chart_dir: str, max_bytes: int) -> bytes:
    """The chart (a directory or a .tgz) rewritten, as a .tgz in memory for Helm's archive loader.

    Nothing is written to disk. Helm caps files at 5 MiB whether it loads a directory or an
    archive, and .helmignore'd files are left out here as Helm's directory loader leaves them out.
    Raises loader.ChartLoadError or OSError (the caller falls back to the built-in engine).
    """
    budget = loader._Budget(max_bytes)
    if os.path.isfile(chart_dir):
        with open(chart_dir, "rb") as handle:
            data = handle.read(max_bytes + 1)
        _root, files = loader.read_archive(data, budget, os.path.basename(chart_dir))
    else:
        files = loader.read_directory(chart_dir, budget)
    files = {rel: _rewrite_file(rel, data, budget, 0) for rel, data in files.items()}
    name = HELPERS_FILE
    while name in files:  # never overwrite a file of the chart
        name = name.replace(".tpl", "_.tpl")
    files[name] = helpers().encode("utf-8")
    return _pack("chart", files)


def _pack(root: str, files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for rel, content in sorted(files.items()):
            info = tarfile.TarInfo(f"{root}/{rel}")
            info.size = len(content)
            info.mode = 0o644
            tar.addfile(info, io.BytesIO(content))
    return buffer.getvalue()


def _rewrite_file(rel: str, data: bytes, budget: loader._Budget, depth: int) -> bytes:
    if rel.startswith("charts/") and rel.endswith((".tgz", ".tar.gz")) and depth < loader.MAX_NESTING:
        return _repack(data, budget, rel, depth + 1)
    if b"{{" not in data:
        return data
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return data  # not text: Helm would not treat it as a template either
    new, found = rewrite(text)
    return new.encode("utf-8") if found else data


def _repack(data: bytes, budget: loader._Budget, name: str, depth: int) -> bytes:
    """A subchart archive with its files rewritten (read in memory: nothing is extracted)."""
    try:
        root, files = loader.read_archive(data, budget, name)
    except loader.ChartLoadError:
        return data  # Helm reports it as it would have
    changed = {rel: _rewrite_file(rel, content, budget, depth) for rel, content in files.items()}
    if all(changed[rel] is files[rel] for rel in files):
        return data
    return _pack(root, changed)
