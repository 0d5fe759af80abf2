"""The position-carrying parser: spans, CloudFormation tags, JSON, encodings, caps, suppression comments."""

from __future__ import annotations

import pytest

from ecrlint.model import Span, YMap, YSeq
from ecrlint.parsing import MAX_ALIAS_EXPANSION, decode, parse_file, parse_text, ParseProblem
from helpers import assert_fixture


def _one(text: str, path: str = "t.yaml"):
    docs, errors = parse_text(path, text, is_json=path.endswith(".json"))
    assert errors == []
    assert len(docs) == 1
    return docs[0][0]


def test_spans_are_one_based_and_cover_keys_and_values():
    root = _one("a:\n  b: hello\n  c: [1, 2]\n")
    assert isinstance(root, YMap)
    inner = root["a"]
    assert inner.key_span("b") == Span(2, 3, 2, 4)
    assert inner.value_span("b") == Span(2, 6, 2, 11)
    assert isinstance(inner["c"], YSeq)
    assert inner["c"].spans == [Span(3, 7, 3, 8), Span(3, 10, 3, 11)]


def test_quoted_value_span_includes_quotes():
    root = _one('image: "nginx:1.25"\n')
    assert root.value_span("image") == Span(1, 8, 1, 20)
    assert root["image"] == "nginx:1.25"


def test_yaml_11_scalars_resolve_like_pyyaml():
    root = _one("a: 1\nb: 1.5\nc: true\nd: yes\ne: ~\nf: '1'\ng: 0x1f\nh: 1_000\n")
    assert root == {"a": 1, "b": 1.5, "c": True, "d": True, "e": None, "f": "1", "g": "0x1f", "h": 1000}


@pytest.mark.parametrize(
    "text, expected",
    [
        ("x: !Ref Foo", {"Ref": "Foo"}),
        ("x: !Condition IsProd", {"Condition": "IsProd"}),
        ("x: !GetAtt Role.Arn", {"Fn::GetAtt": ["Role", "Arn"]}),
        ("x: !GetAtt [Role, Arn]", {"Fn::GetAtt": ["Role", "Arn"]}),
        ("x: !Sub '${AWS::AccountId}.dkr'", {"Fn::Sub": "${AWS::AccountId}.dkr"}),
        ("x: !Join ['', [a, b]]", {"Fn::Join": ["", ["a", "b"]]}),
        ("x: !If [C, a, b]", {"Fn::If": ["C", "a", "b"]}),
        ("x: !GetStackOutput {a: b}", {"Fn::GetStackOutput": {"a": "b"}}),
    ],
)
def test_cloudformation_short_tags(text, expected):
    assert _one(text)["x"] == expected


def test_multi_document_and_list_positions():
    docs, errors = parse_text("t.yaml", "a: 1\n---\nb: 2\n---\n")
    assert errors == []
    roots = [d[0] for d in docs]
    assert roots[:2] == [{"a": 1}, {"b": 2}]
    assert roots[1].key_span("b").line == 3


def test_anchors_are_shared_not_copied_and_merge_keys_apply():
    root = _one("base: &b {x: 1, y: 2}\nother:\n  <<: *b\n  y: 3\nsame: *b\n")
    assert root["other"] == {"x": 1, "y": 3}
    assert root["same"] is root["base"]


def test_alias_bomb_is_refused_with_position():
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, 10):
        refs = ",".join([f"*a{i-1}"] * 9)
        lines.append(f"a{i}: &a{i} [{refs}]")
    docs, errors = parse_text("bomb.yaml", "\n".join(lines) + "\n")
    assert docs == []
    assert len(errors) == 1 and errors[0].rule == "ECR001"
    assert str(MAX_ALIAS_EXPANSION) in errors[0].message
    assert errors[0].span.line > 1


def test_deep_nesting_is_a_finding_not_a_crash():
    docs, errors = parse_text("deep.yaml", "[" * 5000 + "]" * 5000)
    assert docs == [] and errors[0].rule == "ECR001"
    docs, errors = parse_text("deep.json", "[" * 5000 + "]" * 5000, is_json=True)
    assert docs == [] and errors[0].rule == "ECR001"


def test_json_positions_and_strictness():
    root = _one('{\n  "Version": "2012-10-17",\n  "Statement": []\n}\n', "p.json")
    assert root.key_span("Statement") == Span(3, 3, 3, 14)
    _, errors = parse_text("p.json", '{"a": 1,}', is_json=True)
    assert errors[0].message.startswith("invalid JSON")
    assert (errors[0].span.line, errors[0].span.column) == (1, 9)


def test_unsafe_python_tags_are_never_constructed():
    docs, errors = parse_text("evil.yaml", "x: !!python/object/apply:os.system ['echo pwned']\n")
    assert [e.rule for e in errors] == ["ECR001"]
    assert "unsafe tag" in errors[0].message
    assert docs[0][0]["x"] == ["echo pwned"]


@pytest.mark.parametrize(
    "data, text",
    [
        (b"\xef\xbb\xbfa: 1\n", "a: 1\n"),
        ("a: 1\n".encode("utf-16"), "a: 1\n"),
        (b"a: 1\r\nb: 2\r\n", "a: 1\r\nb: 2\r\n"),
    ],
)
def test_decode_handles_bom_and_crlf(data, text):
    assert decode(data) == text


def test_decode_rejects_binary_and_bad_utf8_with_position():
    with pytest.raises(ParseProblem, match="binary"):
        decode(b"\x00\x01\x02")
    with pytest.raises(ParseProblem) as info:
        decode(b"a: 1\nb: \xff\n")
    assert (info.value.line, info.value.column) == (2, 4)


def test_crlf_positions(tmp_path):
    f = tmp_path / "crlf.yaml"
    f.write_bytes(b"a: 1\r\nimage: x\r\n")
    parsed = parse_file(str(f), "crlf.yaml")
    assert parsed.documents[0].root.value_span("image") == Span(2, 8, 2, 9)


def test_suppression_comments(tmp_path):
    f = tmp_path / "s.yaml"
    f.write_text("# ecrlint: ignore-file[ECR101]\na: 1\n# ecrlint: ignore[ECR103]\nb: x  # ecrlint: ignore\nc: '# ecrlint: ignore'\n")
    parsed = parse_file(str(f), "s.yaml")
    assert parsed.file_ignored == frozenset({"ECR101"})
    assert parsed.lines_ignored == {4: None}  # line 3's comment covers line 4; line 4 covers all


@pytest.mark.parametrize("name", ["bad-indent.yaml", "bad-quote.yaml", "trailing-comma.json", "pass-multi-doc.yaml"])
def test_parse_fixtures(name):
    assert_fixture(f"parse/{name}")


def test_literal_block_scalars_carry_their_indentation():
    """A ``|`` block's span knows its content indentation (explicit indicator or not), equals the
    plain span of the same region, and survives pickling (the process pool); folded blocks and
    quoted strings keep plain spans (their lines do not map one to one)."""
    import pickle

    from ecrlint.model import BlockSpan, Span
    from ecrlint.parsing import parse_text

    text = "a: |-\n    x: 1\n\n    y: 2\nb: |2\n     one\n    two\nc: >\n  folded\nd: \"q\"\n"
    ((root, _),), problems = parse_text("f.yaml", text)
    assert not problems
    a, b = root.value_span("a"), root.value_span("b")
    assert isinstance(a, BlockSpan) and a.indent == 4 and a.inner(3, 1) == (4, 5)
    assert isinstance(b, BlockSpan) and b.indent == 2 and root["b"] == "   one\n  two\n"
    assert a == Span(*a) and pickle.loads(pickle.dumps(a)).indent == 4
    assert not isinstance(root.value_span("c"), BlockSpan) and not isinstance(root.value_span("d"), BlockSpan)
