"""Properties of the loaders (issue 8.1): any bytes give documents or ECR001, never an exception.

Also: data written as YAML or JSON reads back equal, and spans slice out the text they came from.
"""

from __future__ import annotations

import json
import math
import re

import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import fuzzing
from ecrlint.model import Finding, YMap, YSeq
from ecrlint.parsing import line_starts, parse_file, parse_text

# --- arbitrary input never escapes the loader ---------------------------------------------------

_yamlish = st.lists(
    st.sampled_from([
        "a", "key", ": ", "- ", "\n", "  ", "\t", "{", "}", "[", "]", ",", "&x ", "*x", "<<: ", "!Ref ", "!GetAtt ",
        "!!python/object:os.system ", "!!binary ", "!!int ", "? ", "|", ">-", "'", '"', "#", "---\n", "...\n",
        "%YAML 1.1\n", "%TAG !e! tag:e.com:\n", "!e!x ", "\r\n", "\r", "\u0085", "\u2028", "\x00", "\x07", "\ufeff",
        "\\", "${AWS::Region}", "{{ .Values.x }}", "1e999", ".nan", "0x1f", "~", "null", "yes", "é", "😀",
    ]),
    max_size=40,
).map("".join)


def _well_formed(findings: list[Finding], path: str) -> None:
    for f in findings:
        assert f.rule == "ECR001" and f.path == path
        assert f.span.line >= 1 and f.span.column >= 1
        assert isinstance(f.message, str) and f.message and "\n" not in f.message


@given(st.binary(max_size=400))
@example(b"\xff\xfe\x00")
@example(b"\xef\xbb\xbf\xef\xbb\xbf")
@example(b"\x00\x00\xfe\xff")
@example(b"\xff\xfe\x00\x00a\x00\x00\x00")
@example(b"\xfe\xff\x00")
def test_any_bytes_give_documents_or_ecr001(data):
    for name in ("f.yaml", "f.json"):
        parsed = parse_file("unused", name, data=data)
        _well_formed(parsed.errors, name)


@given(st.one_of(st.text(max_size=300), _yamlish))
@example("a: *undefined")
@example("&a [*a]")
@example("<<: [1, 2]")
@example("? [a, b]\n: c")
@example("{[1]: 2}")
@example("!Ref")
@example("- !GetAtt\n")
@example("!GetAtt a.b: x\n")  # a tagged key: once a TypeError (unhashable YMap) out of the parser
@example("a: 1\nb: \x07\n")
def test_any_text_gives_documents_or_ecr001(text):
    for is_json in (False, True):
        docs, findings = parse_text("t", text, is_json=is_json)
        _well_formed(findings, "t")


# --- written data reads back equal --------------------------------------------------------------

class _Oracle(yaml.SafeLoader):
    """PyYAML's reading, plus the one deliberate difference: "1e5" is a number (JSON, and go-yaml,
    the reader behind kubectl and Helm), where YAML 1.1 keeps it a string."""


_Oracle.add_implicit_resolver("tag:yaml.org,2002:float", re.compile(r"^[-+]?[0-9]+[eE][-+]?[0-9]+$"),
                              list("-+0123456789"))


def oracle(text: str):
    return yaml.load(text, Loader=_Oracle)  # noqa: S506 - a SafeLoader subclass


_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False),
    st.text(st.characters(blacklist_categories=("Cs",)), max_size=20),
)
_keys = st.text(st.characters(blacklist_categories=("Cs",)), min_size=0, max_size=12)
_data = st.recursive(_scalars, lambda kids: st.lists(kids, max_size=4) | st.dictionaries(_keys, kids, max_size=4),
                     max_leaves=25)
# JSON has no Infinity (Python's json writes it anyway; ecrlint reads such a token as a string)
_json_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False, allow_infinity=False),
    st.text(st.characters(blacklist_categories=("Cs",)), max_size=20),
)
_json_data = st.recursive(_json_scalars,
                          lambda kids: st.lists(kids, max_size=4) | st.dictionaries(_keys, kids, max_size=4),
                          max_leaves=25)


def plain(node):
    """YMap/YSeq trees as plain dicts and lists."""
    if isinstance(node, YMap):
        return {k: plain(v) for k, v in node.items()}
    if isinstance(node, YSeq):
        return [plain(v) for v in node]
    return node


def _same(a, b) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return a == b or (math.isinf(a) and a == b)
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(map(_same, a, b))
    return type(a) is type(b) and a == b


@given(_data, st.sampled_from([None, True, False]), st.booleans())
@example({"<<": None}, None, False)  # a quoted '<<' is an ordinary key, not a merge
@example([float("inf"), float("-inf"), "0E0", "1e+21"], None, False)
@settings(suppress_health_check=[HealthCheck.too_slow])
def test_yaml_written_by_pyyaml_reads_back_as_pyyaml_reads_it(data, flow, unicode):
    # PyYAML's reading is the oracle, not ``data``: its emitter writes a few characters (NEL inside
    # quotes) that YAML itself folds, so the text does not always mean what was dumped.
    text = yaml.safe_dump(data, default_flow_style=flow, allow_unicode=unicode)
    docs, findings = parse_text("t.yaml", text)
    assert findings == []
    assert _same(plain(docs[0][0]), oracle(text)), text


@given(_json_data, st.sampled_from([None, 0, 1, 2, "\t"]), st.booleans())
@example(["\x85", "a\u2028b", {"<<": {"x": 1}}, 1e21], None, False)  # YAML-only line breaks, merge keys
@settings(suppress_health_check=[HealthCheck.too_slow])
def test_json_reads_back_equal(data, indent, ascii_only):
    text = json.dumps(data, indent=indent, ensure_ascii=ascii_only)
    docs, findings = parse_text("t.json", text, is_json=True)
    assert findings == []
    assert _same(plain(docs[0][0]), data), text


# --- spans point at the text they came from -----------------------------------------------------

def _slice(text: str, starts: list[int], span) -> str:
    return text[starts[span.line - 1] + span.column - 1: starts[span.end_line - 1] + span.end_column - 1]


def _check_spans(node, text: str, starts: list[int], decode) -> None:
    stack = [node]
    while stack:
        cur = stack.pop()
        if isinstance(cur, YMap):
            for key, value in cur.items():
                key_span, value_span = cur.spans[key]
                assert decode(_slice(text, starts, key_span)) == key
                if not isinstance(value, (YMap, YSeq)):
                    assert _same(decode(_slice(text, starts, value_span)), value)
                stack.append(value)
        elif isinstance(cur, YSeq):
            for value, span in zip(cur, cur.spans):
                if not isinstance(value, (YMap, YSeq)):
                    assert _same(decode(_slice(text, starts, span)), value)
                stack.append(value)


@given(_json_data, st.sampled_from([None, 1, 2]), st.sampled_from(["\n", "\r\n"]))
@settings(suppress_health_check=[HealthCheck.too_slow])
def test_json_spans_slice_out_the_written_values(data, indent, newline):
    text = json.dumps(data, indent=indent, ensure_ascii=False).replace("\n", newline)
    docs, _ = parse_text("t.json", text, is_json=True)
    _check_spans(docs[0][0], text, line_starts(text), json.loads)


@given(_data, st.sampled_from([None, False]))
@settings(suppress_health_check=[HealthCheck.too_slow])
def test_yaml_spans_slice_out_the_written_values(data, flow):
    text = yaml.safe_dump(data, default_flow_style=flow, allow_unicode=True, width=10**6)
    docs, _ = parse_text("t.yaml", text)
    _check_spans(docs[0][0], text, line_starts(text), oracle)


# --- mutated real documents never escape the loader ----------------------------------------------

_SEEDS = fuzzing.seed_files()


@given(st.integers(0, 2**32))
@settings(suppress_health_check=[HealthCheck.too_slow])
def test_mutated_real_documents_give_documents_or_ecr001(seed):
    name, data = fuzzing.make_case(seed, _SEEDS)
    parsed = parse_file("unused", name, data=data)
    _well_formed(parsed.errors, name)
    for doc in parsed.documents:
        assert doc.path == name
