"""gotpl speed-ups: the fast lexer, the compiled-program cache and the link memo change no result."""

from __future__ import annotations

import random
import textwrap
from pathlib import Path

import pytest

from ecrlint.helm import builtin, gotpl_speed, load_chart
from helpers import FIXTURES

builtin.speed_up_gotpl()

from gotpl.environment import Environment  # noqa: E402 - after the patches, as the engine runs
from gotpl.errors import TemplateSyntaxError  # noqa: E402
from gotpl.parse import parser  # noqa: E402

REPO = Path(__file__).resolve().parent.parent


def _tokens(lex, source: str, **kwargs):
    try:
        return [(t.kind, t.value, t.start, t.end, t.line) for t in lex(source, **kwargs)]
    except TemplateSyntaxError as exc:
        return ("error", str(exc), exc.position, exc.line, exc.column)


def _assert_same_tokens(sources) -> int:
    assert gotpl_speed.ORIGINAL_LEX is not None and parser.lex is not gotpl_speed.ORIGINAL_LEX
    checked = 0
    for source in sources:
        for kwargs in ({}, {"functions": {"break", "continue"}}):
            assert _tokens(parser.lex, source, **kwargs) == _tokens(gotpl_speed.ORIGINAL_LEX, source, **kwargs), source
            checked += 1
    return checked


TRICKY = [
    "",
    "plain text\nno actions\n",
    "{{ .Values.a }}",
    "a {{- .x -}} b\n  {{- .y }}\t\n{{ .z -}}  \n c",
    "{{-\t.x\t-}}",
    "{{/* c */}}x{{- /* c */ -}}\n y{{/* unclosed",
    "{{/* c */ x}}",
    "{{ .x-}}",
    "{{ 3 -}}{{ -3 }}{{ +.5 }}{{ .5 }}{{ 1e3 }}{{ 0x1F }}{{ 0b101 }}{{ 0o17 }}{{ 1_000 }}{{ 2i }}{{ 1+2i }}",
    "{{ 1.2.3 }}",
    "{{ 09 }}",
    '{{ "a\\"b" }}{{ \'c\' }}{{ `raw\n}}` }}{{ "}}" }}',
    '{{ "unterminated }}',
    '{{ "ends with backslash\\',
    "{{ 'x }}",
    "{{ `x }}",
    '{{ "line\nbreak" }}',
    "{{ $x := 1 }}{{ $x = 2 }}{{ $ }}{{ $_a1 }}",
    "{{ (.a) | f (g .b) }}",
    "{{ ) }}",
    "{{ ( }}",
    "{{ (.a }}",
    "{{ .a",
    "{{ if true }}{{ else if false }}{{ end }}{{ nil }}{{ break }}{{ continue }}",
    "{{ define \"x\" }}{{ template \"x\" . }}{{ block \"y\" . }}{{ end }}{{ end }}",
    "{{ with .a }}{{ range $i, $v := . }}{{ end }}{{ end }}",
    "{{ a:b }}{{ a : = b }}{{ # }}{{ , }}{{ ; }}{{ @ }}{{ ~ }}{{ } }}",
    "{{ \x0b }}",
    "{{ \x00 }}",
    "{{ \x7f }}",
    "{{ é }}",
    "tail {{",
    "{{}}",
    "{{-}}",
    "{{- }}",
    "{{ -}}",
    "{{\r\n.x\r\n}}",
    "}} {{ .a }} }}",
]


def test_fast_lexer_matches_gotpl_on_tricky_sources():
    assert _assert_same_tokens(TRICKY) == 2 * len(TRICKY)


def _fixture_templates() -> list[str]:
    paths = [p for root in (FIXTURES, REPO / "examples") for p in root.rglob("templates/*") if p.is_file()]
    return [p.read_text(encoding="utf-8") for p in sorted(paths)]


def test_fast_lexer_matches_gotpl_on_fixture_templates():
    sources = _fixture_templates()
    assert len(sources) > 20
    assert _assert_same_tokens(sources) == 2 * len(sources)


PIECES = [
    "{{", "}}", "{{-", "-}}", " ", "\n", "\t", "\r", "-", "+", ".", "$", "x", "_a1", '"', "'", "`", "\\", "(", ")",
    ":=", "=", "|", ":", "/*", "*/", "0", "1.5", "0x1F", "1e3", "2i", "1+2i", "true", "false", "nil", "if", "end",
    "else", "range", "define", "break", "continue", "template", "block", "with", "}", "{", "\x0b", "\x00", "\x7f",
    "é", "#", ",", "..", "0b", "_",
]


def _random_sources(seed: int, count: int, *, pieces_every: int, max_slice: int, max_inserts: int) -> list[str]:
    """Strings of template pieces, and slices of the fixture templates with pieces inserted."""
    rng = random.Random(seed)
    templates = _fixture_templates()
    sources = []
    for i in range(count):
        if i % pieces_every == 0:
            sources.append("".join(rng.choice(PIECES) for _ in range(rng.randint(0, 25))))
            continue
        base = rng.choice(templates)
        start = rng.randrange(len(base))
        chars = list(base[start : start + rng.randint(0, max_slice)])
        for _ in range(rng.randint(0, max_inserts)):
            chars.insert(rng.randrange(len(chars) + 1), rng.choice(PIECES))
        sources.append("".join(chars))
    return sources


def test_fast_lexer_matches_gotpl_on_random_sources():
    sources = _random_sources(20240611, 3000, pieces_every=3, max_slice=300, max_inserts=4)
    assert _assert_same_tokens(sources) == 2 * 3000  # each source with and without break/continue


def test_fast_lexer_matches_gotpl_on_the_corpus(shared_corpus):
    sources = [p.read_text(encoding="utf-8") for p in sorted(shared_corpus.rglob("templates/*")) if p.is_file()]
    assert sources
    assert _assert_same_tokens(sources) == 2 * len(sources)


# --- the one-pass parser ---------------------------------------------------------------------------

from gotpl.parse import nodes  # noqa: E402

from ecrlint.helm.gotpl_parse import Unsupported, make_parser  # noqa: E402

FAST_PARSE = make_parser(nodes)

PARSER_TRICKY = TRICKY + [
    '{{- range $key, $value := .Values.env }}\n- name: {{ $key }}\n  value: {{ $value | quote }}\n{{- end }}',
    "{{ if .a }}A{{ else if .b }}B{{ else if .c }}C{{ else }}D{{ end }}",
    "{{ with .a }}A{{ else with .b }}B{{ else }}C{{ end }}",
    "{{ range .a }}A{{ else }}none{{ end }}",
    "{{ range .a }}{{ else if .b }}{{ end }}",
    "{{ if .a }}{{ else with .b }}{{ end }}",
    "{{ if .a }}{{ else }}{{ else }}{{ end }}",
    "{{ define \"a\" }}x{{ end }}{{ define \"b\" }}{{ if .x }}{{ template \"a\" . }}{{ end }}{{ end }}",
    "{{ define \"a\" }}x{{ end }}{{ define \"a\" }}y{{ end }}",
    "{{ define \"a\" }}{{ end }}{{ define \"a\" }}y{{ end }}",
    "{{ if .x }}{{ define \"a\" }}{{ end }}{{ end }}",
    "{{ template \"a\" }}{{ template \"a\" .x }}{{ template `a` (dict \"k\" .v) }}{{ template \"a\".}}",
    "{{ template .x }}",
    "{{ $x := 1 }}{{ $x = 2 }}{{ $a, $b := 1 }}{{ $a, 1 }}{{ $a, }}{{ $a $b }}",
    "{{ $x.y.z }}{{ $.Values.a }}{{ (.a).b.c }}{{ (f .x).y }}{{ .a.b | f | g 1 2 }}",
    "{{ .a | }}{{ .a || .b }}{{ | .a }}{{ .a | 1 }}{{ .a | nil }}{{ .a | \"s\" }}{{ .a | . }}{{ .a | (f) }}",
    "{{ f (g (h (i .x))) }}{{ () }}{{ (.a }}{{ .a) }}{{ ( .a ) }}",
    "{{ 1 }}{{ -1 }}{{ 1.5 }}{{ 0 }}{{ 007 }}{{ 1e9 }}{{ 0x10 }}{{ 1_0 }}{{ -.5 }}",
    "{{ 18446744073709551616 }}",
    "{{ 18446744073709551615 }}{{ -9223372036854775808 }}{{ 123456789012345678 }}",
    "{{ 1" + "0" * 400 + ".0 }}",
    '{{ "a\\nb\\tc\\"d\\\\e" }}{{ "\\x41\\u00e9\\101" }}{{ "\\q" }}{{ `a\rb` }}',
    "{{ nil }}{{ true }}{{ false }}{{ if }}{{ end }}{{ else }}{{ f if }}",
    "{{ break }}{{ range .x }}{{ break }}{{ continue }}{{ end }}{{ block \"b\" . }}x{{ end }}",
    "{{ .x }}{{- /* c */ -}}{{ .y }}{{/* c */}}{{- .z -}}",
    "{{ if .a }}" * 70 + "{{ end }}" * 70,
    "(" * 5 + "{{ " + "(" * 70 + ".a" + ")" * 70 + " }}",
    "{{ .a }}{{ .b",
    "{{ if .a }}unclosed",
    "{{ end }}",
    "{{ .a .b }}{{ .a.b }}{{ . .a }}{{ ..a }}{{ .a. }}{{ $x. }}",
    "{{ f \"a\"\"b\" }}{{ f .a\"b\" }}",
]


def _gotpl_tree(source: str):
    """gotpl's own tree (its lexer and parser, no semantic checks), or its syntax error."""
    try:
        tokens = tuple(gotpl_speed.ORIGINAL_LEX(source))
        return parser._Parser(source, tokens, "t", parser.DEFAULT_LIMITS).parse_document()
    except TemplateSyntaxError as exc:
        return ("error", str(exc))


def _assert_same_trees(sources) -> tuple[int, int]:
    """Every tree the fast parser builds is gotpl's; returns (built, gave up)."""
    built = gave_up = 0
    for source in sources:
        try:
            tree = FAST_PARSE(source, "t")
        except Unsupported:
            gave_up += 1
            continue
        assert tree == _gotpl_tree(source), source
        built += 1
    return built, gave_up


def test_fast_parser_builds_gotpl_trees_on_tricky_sources():
    built, gave_up = _assert_same_trees(PARSER_TRICKY)
    assert built >= 15 and gave_up >= 30  # both paths exercised: errors and rare forms go to gotpl


def test_fast_parser_gives_up_on_every_syntax_error():
    errors = [source for source in PARSER_TRICKY if isinstance(_gotpl_tree(source), tuple)]
    assert len(errors) >= 30  # syntax errors gotpl reports: enough of them to mean something
    for source in errors:
        with pytest.raises(Unsupported):
            FAST_PARSE(source, "t")


def test_fast_parser_builds_gotpl_trees_on_fixture_templates():
    built, gave_up = _assert_same_trees(_fixture_templates())
    assert built > 20 and gave_up <= built // 10


def test_fast_parser_builds_gotpl_trees_on_random_sources():
    sources = _random_sources(20261126, 4000, pieces_every=4, max_slice=400, max_inserts=3)
    built, _gave_up = _assert_same_trees(sources)
    assert built > 500


def test_fast_parser_builds_gotpl_trees_on_the_corpus(shared_corpus):
    sources = [p.read_text(encoding="utf-8") for p in sorted(shared_corpus.rglob("templates/*")) if p.is_file()]
    built, gave_up = _assert_same_trees(sources)
    ascii_sources = sum(s.isascii() for s in sources)
    assert built == ascii_sources and gave_up == len(sources) - ascii_sources  # only non-ASCII text goes to gotpl


def test_installed_parser_reports_errors_exactly_as_gotpl():
    from gotpl.exts.helm import HelmExtension

    functions = Environment(extensions=(HelmExtension(),)).from_sources({"x": "x"}).template.functions
    assert gotpl_speed.GOTPL_PARSE is not None and gotpl_speed.ORIGINAL_PARSE is not gotpl_speed.GOTPL_PARSE
    for source in PARSER_TRICKY + ["{{ $x }}", "{{ undefinedFunction 1 }}", "{{ include \"a\" . | nindent 2 }}"]:
        outcomes = []
        for parse in (gotpl_speed.ORIGINAL_PARSE, gotpl_speed.GOTPL_PARSE):
            try:
                outcomes.append(parse(source, name="t", functions=functions))
            except TemplateSyntaxError as exc:
                outcomes.append(("error", str(exc), exc.position, exc.line, exc.column))
        assert outcomes[0] == outcomes[1], source


# --- the compiled-program cache ------------------------------------------------------------------


@pytest.fixture
def cold():
    gotpl_speed.clear_cache()
    yield
    gotpl_speed.clear_cache()


def test_a_cached_program_is_what_compiling_under_the_new_name_gives(cold):
    source = '{{ define "lib.a" }}a{{ end }}{{ define "lib.b" }}{{ template "lib.a" . }}{{ end }}x: {{ .x }}\n'
    first = Environment().from_sources({"one/templates/_lib.tpl": source, "one/templates/x.yaml": "{{ .x }}"})
    second = Environment().from_sources({"two/templates/_lib.tpl": source, "two/templates/x.yaml": "{{ .x }}"})
    assert gotpl_speed.cache_info()["hits"] >= 2  # the second association parsed nothing
    functions = second.template.functions
    for name, template in (("one/templates/_lib.tpl", first), ("two/templates/_lib.tpl", second)):
        fresh = gotpl_speed.ORIGINAL_COMPILE(gotpl_speed.ORIGINAL_PARSE(source, name=name, functions=functions), source=source)
        cached = template.template._namespace[name]
        assert cached == fresh
        assert cached.source_name == fresh.source_name == name
        assert [d.source_name for d in cached.definitions] == [name, name]
        assert [d.name for d in cached.definitions] == ["lib.a", "lib.b"]
    assert second.render_template("two/templates/x.yaml", {"x": 1}) == "1"


def _write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    return root


COMMON = {
    "charts/common/Chart.yaml": "apiVersion: v2\nname: common\nversion: 1.0.0\ntype: library\n",
    "charts/common/templates/_names.tpl": """\
        {{- define "common.name" -}}from-common{{- end -}}
        {{- define "common.image" -}}{{ .Values.image.repository }}:{{ .Values.image.tag }}{{- end -}}
        """,
}


def _app(root: Path, name: str, override: bool) -> Path:
    files = dict(COMMON)
    files["Chart.yaml"] = f"apiVersion: v2\nname: {name}\nversion: 1.0.0\ndependencies:\n  - name: common\n    version: 1.0.0\n"
    files["values.yaml"] = "image:\n  repository: 123456789012.dkr.ecr.us-east-1.amazonaws.com/app\n  tag: '1.0'\n"
    files["templates/deployment.yaml"] = """\
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: {{ include "common.name" . }}
        spec:
          template:
            spec:
              containers:
                - name: app
                  image: {{ include "common.image" . }}
        """
    if override:  # a parent's define overrides the library's, whatever was parsed before
        files["templates/_helpers.tpl"] = '{{- define "common.name" -}}from-' + name + "{{- end -}}\n"
    return _write(root / name, files)


def _names(parsed) -> list[str]:
    return [doc.root["metadata"]["name"] for doc in parsed.documents]


def test_charts_sharing_a_library_keep_their_own_overrides(tmp_path, cold):
    plain = _app(tmp_path, "plain", override=False)
    custom = _app(tmp_path, "custom", override=True)
    runs = [(chart, load_chart(str(chart), chart.name, engine="builtin")) for chart in (custom, plain, custom, plain)]
    assert gotpl_speed.cache_info()["hits"] > 0
    assert [_names(parsed) for _chart, parsed in runs] == [["from-custom"], ["from-common"]] * 2
    for _chart, parsed in runs:
        (doc,) = parsed.documents
        assert doc.root["spec"]["template"]["spec"]["containers"][0]["image"].endswith("/app:1.0")
        assert doc.trace  # traced back to values.yaml through the cached library
        assert not parsed.chart.render_errors


def _without_speedups(monkeypatch) -> None:
    import gotpl.runtime.linked as linked
    import gotpl.template as template

    monkeypatch.setattr(parser, "lex", gotpl_speed.ORIGINAL_LEX)
    monkeypatch.setattr(template, "parse_template", gotpl_speed.ORIGINAL_PARSE)
    monkeypatch.setattr(template, "compile_template", gotpl_speed.ORIGINAL_COMPILE)
    monkeypatch.setattr(linked, "link_program", gotpl_speed.ORIGINAL_LINK)


def test_syntax_errors_are_not_cached_and_read_the_same(tmp_path, monkeypatch, cold):
    chart = _write(tmp_path / "bad", {
        "Chart.yaml": "apiVersion: v2\nname: bad\nversion: 1.0.0\n",
        "templates/ok.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ok}\n",
        "templates/broken.yaml": "a: {{ .Values.x \nb: {{ end }}\n",
        "templates/unclosed.yaml": 'c: {{ "text }}\n',
    })
    first = load_chart(str(chart), "bad", engine="builtin")
    second = load_chart(str(chart), "bad", engine="builtin")
    assert gotpl_speed.cache_info()["programs"] == 1  # ok.yaml only
    _without_speedups(monkeypatch)
    plain = load_chart(str(chart), "bad", engine="builtin")
    assert first.chart.render_errors == second.chart.render_errors == plain.chart.render_errors
    assert sorted((e.template, e.kind) for e in plain.chart.render_errors) == [
        ("templates/broken.yaml", "syntax"), ("templates/unclosed.yaml", "syntax")
    ]
    assert [d.root["metadata"]["name"] for d in second.documents] == ["ok"]


def test_the_function_names_are_part_of_the_key(cold):
    Environment(functions={"shout": lambda: "A"}).from_string("{{ shout }}", name="t")
    with pytest.raises(TemplateSyntaxError, match="shout"):
        Environment().from_string("{{ shout }}", name="t")


def test_the_cache_is_bounded(monkeypatch, cold):
    monkeypatch.setattr(gotpl_speed, "MAX_PROGRAMS", 3)
    env = Environment()
    for i in range(10):
        env.from_string(f"{{{{ .x }}}} {i}", name=f"t{i}")
    assert gotpl_speed.cache_info()["programs"] == 3
    monkeypatch.setattr(gotpl_speed, "MAX_PROGRAMS", 1000)
    monkeypatch.setattr(gotpl_speed, "MAX_PROGRAM_CHARS", 100)
    for i in range(10):
        env.from_string("x" * 40 + str(i), name=f"u{i}")
    info = gotpl_speed.cache_info()
    assert info["chars"] <= 100 and info["programs"] == 2
    # evicted programs compile again, to the same result
    assert env.from_string(f"{{{{ .x }}}} {0}", name="t0").render({"x": 5}) == "5 0"


# --- linking `tpl` sources -----------------------------------------------------------------------


def test_tpl_renders_the_same_with_and_without_the_speedups(monkeypatch, cold):
    chart = FIXTURES / "helm" / "tpl"
    fast = load_chart(str(chart), "tpl", engine="builtin")
    assert len(gotpl_speed._linked) <= gotpl_speed.MAX_LINK_REGISTRIES
    _without_speedups(monkeypatch)
    plain = load_chart(str(chart), "tpl", engine="builtin")
    assert [(d.path, d.root, d.trace) for d in fast.documents] == [(d.path, d.root, d.trace) for d in plain.documents]
    assert fast.documents and fast.chart.render_errors == plain.chart.render_errors
