"""The Helm engine's parts: safe chart loading, values semantics, versions, engines, tracing."""

from __future__ import annotations

import importlib.util
import json
import os
import stat
import sys
import tarfile
import textwrap
from pathlib import Path

import pytest

from ecrlint.helm import ENGINE_BINARY, ENGINE_BUILTIN, load_chart
from ecrlint.helm import loader, semver
from ecrlint.helm.external import parse_helm_error, split_sources
from ecrlint.helm.trace import Sentinels, parts_direct, split_image
from ecrlint.helm.values import build_tree, import_values, merge_maps, path_value, prune_disabled, render_values
from ecrlint.parsing import parse_text
from helm_archives import build_archive

MB = 1024 * 1024


def _chart(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    return root


def _load(root: Path) -> loader.Chart:
    return loader.load(str(root), root.name, 10 * MB)


# --- archives and directories are read safely -----------------------------------------------------


def _member(name: str, kind: bytes = tarfile.REGTYPE, size: int = 0, link: str = "") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.size = size
    info.linkname = link
    return info


def test_archive_members_stay_inside_the_chart(tmp_path):
    data = build_archive(
        {"tools/Chart.yaml": "apiVersion: v2\nname: tools\nversion: 1.0.0\n", "tools/templates/a.yaml": "a: 1\n"},
        extra=[
            _member("../../evil.yaml", size=3),
            _member("/etc/passwd", size=3),
            _member("tools/link.yaml", tarfile.SYMTYPE, link="/etc/passwd"),
            _member("tools/hard.yaml", tarfile.LNKTYPE, link="tools/Chart.yaml"),
            _member("tools/../../escape.yaml", size=3),
        ],
    )
    root, files = loader.read_archive(data, loader._Budget(MB), "tools.tgz")
    assert root == "tools"
    assert sorted(files) == ["Chart.yaml", "templates/a.yaml"]
    assert not list(tmp_path.iterdir())  # nothing written anywhere


def test_archive_size_caps(tmp_path):
    big = build_archive({"t/Chart.yaml": "name: t\n", "t/files/big.bin": "x" * 5000})
    with pytest.raises(loader.ChartLoadError, match="limit"):
        loader.read_archive(big, loader._Budget(4000), "t.tgz")
    many = build_archive({f"t/files/{i}.txt": "x" for i in range(60)} | {"t/Chart.yaml": "name: t\n"})
    budget = loader._Budget(MB)
    budget.files = 10
    with pytest.raises(loader.ChartLoadError, match="files"):
        loader.read_archive(many, budget, "t.tgz")
    with pytest.raises(loader.ChartLoadError, match="not a readable chart archive"):
        loader.read_archive(b"not a tarball", loader._Budget(MB), "t.tgz")


def test_a_broken_subchart_archive_is_a_finding_not_a_crash(tmp_path):
    chart = _chart(tmp_path / "web", {
        "Chart.yaml": "apiVersion: v2\nname: web\nversion: 1.0.0\n",
        "templates/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n",
    })
    (chart / "charts").mkdir()
    (chart / "charts" / "broken-1.0.0.tgz").write_bytes(b"\x1f\x8b garbage")
    parsed = load_chart(str(chart), "web", engine="builtin")
    assert [e.kind for e in parsed.chart.render_errors] == ["chart"]
    assert "broken-1.0.0.tgz" in parsed.chart.render_errors[0].message
    assert [d.root["kind"] for d in parsed.documents] == ["ConfigMap"]


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="no symlinks")
def test_directory_symlinks_never_leave_the_chart(tmp_path):
    secret = tmp_path / "secret.yaml"
    secret.write_text("apiVersion: v1\nkind: Secret\nmetadata:\n  name: leaked\n")
    chart = _chart(tmp_path / "web", {
        "Chart.yaml": "apiVersion: v2\nname: web\nversion: 1.0.0\n",
        "templates/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n",
    })
    os.symlink(secret, chart / "templates" / "leak.yaml")
    os.symlink(chart / "templates", chart / "templates" / "loop")  # a loop
    os.symlink(chart / "templates" / "cm.yaml", chart / "templates" / "inside.yaml")
    loaded = _load(chart)
    assert sorted(loaded.templates) == ["templates/cm.yaml", "templates/inside.yaml"]
    parsed = load_chart(str(chart), "web")
    assert parsed.chart.engine == ENGINE_BUILTIN  # external engines would follow the links themselves
    assert "leaked" not in str([d.root for d in parsed.documents])


def test_helmignore(tmp_path):
    chart = _chart(tmp_path / "web", {
        "Chart.yaml": "apiVersion: v2\nname: web\nversion: 1.0.0\n",
        ".helmignore": "# comment\n*.bak\nscratch/\n",
        "templates/cm.yaml": "a: 1\n",
        "templates/old.yaml.bak": "a: 2\n",
        "scratch/notes.txt": "x\n",
        "files/keep.txt": "y\n",
    })
    loaded = _load(chart)
    assert list(loaded.templates) == ["templates/cm.yaml"]
    assert list(loaded.files) == ["files/keep.txt"]


def test_file_size_limit(tmp_path):
    chart = _chart(tmp_path / "web", {"Chart.yaml": "name: web\nversion: 1.0.0\n", "files/big.txt": "x" * 5000})
    parsed = load_chart(str(chart), "web", max_bytes=4000)
    assert parsed.chart.render_errors and "limit" in parsed.chart.render_errors[0].message


# --- values: Helm's coalescing, globals, dependencies ---------------------------------------------


def _tree(tmp_path: Path, files: dict[str, str]):
    return build_tree(_load(_chart(tmp_path / "top", files)))


TOP = {
    "Chart.yaml": """\
        apiVersion: v2
        name: top
        version: 1.0.0
        dependencies:
          - {name: sub, version: 1.x.x, condition: sub.enabled}
          - {name: sub, alias: other, version: 1.x.x, tags: [extra]}
          - {name: lib, version: 0.1.0, import-values: [defaults, {child: settings, parent: imported}]}
        """,
    "values.yaml": """\
        global: {registry: top.example.com}
        sub: {enabled: true, image: {tag: "2.0"}, gone: null}
        keep: {a: 1, b: 2}
        imported: {mine: true}
        """,
    "charts/sub/Chart.yaml": "apiVersion: v2\nname: sub\nversion: 1.4.0\n",
    "charts/sub/values.yaml": """\
        global: {registry: sub.example.com, own: yes}
        image: {repository: sub, tag: "1.0"}
        gone: default
        """,
    "charts/lib/Chart.yaml": "apiVersion: v2\nname: lib\nversion: 0.1.0\ntype: library\n",
    "charts/lib/values.yaml": """\
        exports:
          defaults: {timeout: 30}
        settings: {mode: fast, mine: false}
        """,
}


def test_coalesce_and_globals(tmp_path):
    root = _tree(tmp_path, TOP)
    prune_disabled(root, {})
    import_values(root)
    values = render_values(root, {"keep": {"b": None, "c": 3}})
    assert values["keep"] == {"a": 1, "c": 3}  # a user null deletes the default
    assert values["sub"]["image"] == {"repository": "sub", "tag": "2.0"}
    assert values["sub"]["gone"] == "default"  # Helm v4: a parent's values.yaml null does not delete it
    user_null = render_values(root, {"sub": {"gone": None, "image": {"tag": None}}})
    assert "gone" not in user_null["sub"] and user_null["sub"]["image"] == {"repository": "sub"}  # a user null does
    assert values["sub"]["global"] == {"registry": "top.example.com", "own": True}  # parent global wins
    assert values["timeout"] == 30  # import-values: exports.defaults into the parent's top level
    assert values["imported"] == {"mine": True, "mode": "fast"}  # child/parent pair; the parent's own value wins


def test_conditions_tags_and_aliases(tmp_path):
    root = _tree(tmp_path, TOP)
    assert sorted(c.name for c in root.children) == ["lib", "other", "sub"]
    assert {c.full_path for c in root.children} >= {"top/charts/sub", "top/charts/other"}
    disabled = prune_disabled(root, {"sub": {"enabled": False}, "tags": {"extra": False}})
    assert sorted(disabled) == ["other", "sub"]
    assert [c.name for c in root.children] == ["lib"]
    root = _tree(tmp_path, TOP)
    assert prune_disabled(root, {"tags": {"extra": True}}) == []


def test_merge_maps_and_path_value():
    assert merge_maps({"a": {"b": 1, "c": 2}, "x": 1}, {"a": {"b": 3}, "x": {"y": 1}}) == {"a": {"b": 3, "c": 2}, "x": {"y": 1}}
    assert path_value({"a": {"b": True}}, "a.b") == (True, True)
    assert path_value({"a": {"b": {"c": 1}}}, "a.b") == (False, None)  # a table is not a condition
    assert path_value({}, "a.b") == (False, None)


def test_semver_like_masterminds():
    cases = [
        ("2.x.x", "2.31.10", True), ("2.x.x", "3.0.0", False), ("~1.2.3", "1.2.9", True), ("~1.2.3", "1.3.0", False),
        ("^1.2", "1.9.0", True), ("^0.2.3", "0.2.9", True), ("^0.2.3", "0.3.0", False), (">=1.0.0 <2.0.0", "1.5.0", True),
        (">=1.0.0, <2.0.0", "2.0.0", False), ("1.2", "1.2.7", True), ("*", "5.0.0", True), ("1.0 - 2.0", "1.5.0", True),
        ("<1 || >=3", "3.1.0", True), ("<1 || >=3", "2.1.0", False), ("", "1.0.0", False), ("1.2.3", "1.2.3-rc1", False),
    ]
    for constraint, version, expected in cases:
        assert semver.satisfies(constraint, version) is expected, (constraint, version)
    assert all(semver.is_exact(v) for v in ("1.2.3", "v1.2.3", "1.2.3-rc.1+build.5"))
    assert not any(semver.is_exact(v) for v in ("1.2", "2.x.x", "^1.2.3", ">=1.0.0", "latest", ""))


# --- tracing ------------------------------------------------------------------------------------


def test_split_image():
    ref = "123456789012.dkr.ecr.us-east-1.amazonaws.com/team/app:1.2@sha256:" + "a" * 64
    parts = {k: ref[a:b] for k, (a, b) in split_image(ref).items()}
    assert parts == {"registry": "123456789012.dkr.ecr.us-east-1.amazonaws.com", "repository": "team/app",
                     "tag": "1.2", "digest": "sha256:" + "a" * 64}
    assert {k: "localhost:5000/x"[a:b] for k, (a, b) in split_image("localhost:5000/x").items()} == {
        "registry": "localhost:5000", "repository": "x"}
    assert set(split_image("nginx")) == {"repository"}


def _sentinels(text: str, file: str = "values.yaml", **kw) -> tuple[Sentinels, dict]:
    (root, _), = parse_text(file, textwrap.dedent(text))[0]
    s = Sentinels()
    return s, s.substitute(root, file, **kw)


def test_direct_match_needs_one_effective_explanation():
    s, _ = _sentinels("""\
        image: {registry: docker.io, repository: bitnami/nginx, tag: "1.25"}
        other: {registry: docker.io, repository: bitnami/redis, tag: "7"}
        """)
    by_part = parts_direct("docker.io/bitnami/nginx:1.25", s, set())
    assert {k: v.path for k, v in by_part.items()} == {
        "registry": "image.registry", "repository": "image.repository", "tag": "image.tag"}
    assert parts_direct("docker.io/bitnami/nginx:9.9", s, set()) is None  # the tag came from elsewhere
    assert parts_direct("docker.io/bitnami/nginx:9.9", s, {"9.9"}) is None  # tag is set, so not appVersion
    # An overriding file shadows the default: the sentinel render decides.
    s2, _ = _sentinels("image: {repository: bitnami/nginx, tag: latest}\n")
    s2.substitute(parse_text("prod.yaml", "image:\n  tag: latest\n")[0][0][0], "prod.yaml", rank=-1)
    assert parts_direct("bitnami/nginx:latest", s2, set()) is None


def test_sentinels_keep_branch_values():
    _s, copy = _sentinels("""\
        service: {type: ClusterIP, port: 80}
        image: {repository: web, pullPolicy: IfNotPresent, tag: 8}
        url: https://example.com/x
        enabled: true
        """)
    assert copy["service"] == {"type": "ClusterIP", "port": 80}
    assert copy["enabled"] is True
    assert copy["image"]["repository"].startswith("ecrl") and copy["image"]["tag"].startswith("ecrl")
    assert copy["url"].startswith("ecrl")  # image-like: it holds '/' and ':'


# --- engines --------------------------------------------------------------------------------------


def test_gotpl_lexer_speedup_gives_identical_tokens(monkeypatch):
    from gotpl.parse import lexer

    from ecrlint.helm import builtin, gotpl_speed

    sources = [
        'a: {{ .Values.x | quote }}\n{{- if .Values.y }}\nb: {{ include "t" . }}\n{{- end }}\n',
        '{{/* comment\nover lines */}}\nimage: "{{ .Values.r }}/{{ .Values.p }}:{{ .Values.t | default "1" }}"\n',
        'x: {{ printf "%s-%d" "a" 3 }}\n\n\n{{ range $i, $v := .L }}{{ $i }}={{ $v }}\n{{ end }}',
        "héllo: {{ .Values.ü }}\nwörld\n",  # non-ASCII keeps gotpl's own table
    ]
    builtin.speed_up_gotpl()
    assert gotpl_speed.ORIGINAL_SOURCE_MAP_BUILD is not None

    def tokens(source):
        return [(t.kind, t.value, t.start, t.end, t.line) for t in lexer.lex(source)]

    ours = [tokens(s) for s in sources]
    original = gotpl_speed.ORIGINAL_SOURCE_MAP_BUILD
    monkeypatch.setattr(lexer._SourceMap, "build", classmethod(lambda cls, source: original(source)))
    assert ours == [tokens(s) for s in sources]


def test_to_yaml_has_no_document_end_marker(tmp_path):
    chart = _chart(tmp_path / "y", {
        "Chart.yaml": "apiVersion: v2\nname: y\nversion: 1.0.0\n",
        "values.yaml": "s: abc\nnum: 3\nm: {b: [1, x], a: \"true\"}\n",  # not `n:` (a boolean key to Helm)
        "templates/cm.yaml": """\
            apiVersion: v1
            kind: ConfigMap
            metadata: {name: y}
            data:
              s: {{ toYaml .Values.s | quote }}
              n: {{ toYaml .Values.num | quote }}
              m: |
                {{- toYaml .Values.m | nindent 4 }}
            """,
    })
    (doc,) = load_chart(str(chart), "y", engine="builtin").documents
    assert doc.root["data"] == {"s": "abc", "n": "3", "m": 'a: "true"\nb:\n- 1\n- x\n'}


def test_parse_helm_errors():
    assert parse_helm_error(
        "execution error at (web/templates/deployment.yaml:67:28): Chart cannot be installed without a valid clusterName!"
    ) == ("web/templates/deployment.yaml", 67, 29, "Chart cannot be installed without a valid clusterName!")
    assert parse_helm_error('parse error at (web/templates/a.yaml:2): function "b" not defined') == (
        "web/templates/a.yaml", 2, 1, 'function "b" not defined')
    assert parse_helm_error(
        'Error: template: web/templates/x.yaml:3:5: executing "web/templates/x.yaml" at <fail "no">: error calling fail: no'
    ) == ("web/templates/x.yaml", 3, 6, "no")
    assert split_sources("---\n# Source: web/templates/a.yaml\na: 1\n---\n# Source: web/templates/b.yaml\nb: 2\n") == {
        "web/templates/a.yaml": "a: 1\n", "web/templates/b.yaml": "b: 2\n"}


@pytest.mark.skipif(sys.platform == "win32", reason="a shell script stands in for helm")
def test_binary_engine_runs_helm_template(tmp_path, monkeypatch):
    chart = _chart(tmp_path / "web", {
        "Chart.yaml": "apiVersion: v2\nname: web\nversion: 1.0.0\n",
        "templates/pod.yaml": "apiVersion: v1\nkind: Pod\n",
    })
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    helm = bin_dir / "helm"
    helm.write_text(
        "#!/bin/sh\n"
        'echo "$@" > "$(dirname "$0")/args"\n'
        "printf -- '---\\n# Source: web/templates/pod.yaml\\napiVersion: v1\\nkind: Pod\\nmetadata:\\n  name: from-helm\\n"
        "spec:\\n  containers:\\n    - name: c\\n      image: nginx:1.25\\n'\n"
    )
    helm.chmod(helm.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}")
    parsed = load_chart(str(chart), "web", engine="binary")
    assert parsed.chart.engine == ENGINE_BINARY
    (doc,) = parsed.documents
    assert doc.root["metadata"]["name"] == "from-helm" and doc.path == "web/templates/pod.yaml"
    assert (bin_dir / "args").read_text().split()[:3] == ["template", "release-name", str(chart)]
    helm.write_text("#!/bin/sh\necho 'Error: execution error at (web/templates/pod.yaml:2:6): boom' >&2\nexit 1\n")
    failed = load_chart(str(chart), "web", engine="binary")
    assert failed.chart.engine == ENGINE_BUILTIN  # the built-in engine rendered it after Helm stopped
    assert [(e.loc.path, e.loc.span.line) for e in failed.chart.render_errors] == [("web/templates/pod.yaml", 2)]


def test_binary_engine_missing_falls_back(tmp_path, monkeypatch):
    chart = _chart(tmp_path / "web", {"Chart.yaml": "apiVersion: v2\nname: web\nversion: 1.0.0\n"})
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    parsed = load_chart(str(chart), "web", engine="binary")
    assert parsed.chart.engine == ENGINE_BUILTIN
    assert any("no `helm` binary" in n for n in parsed.chart.notes)


@pytest.mark.skipif(importlib.util.find_spec("helm_python") is None, reason="helm-python-sdk not installed")
@pytest.mark.parametrize("user", [
    "",
    "sub: {image: {tag: null}}\nkeep: {b: null}\n",
    "sub: {gone: x}\n",
    "other: {gone: null}\nglobal: {registry: null}\n",
    "sub: {enabled: false}\ntags: {extra: false}\n",
    "nested: {k: null}\ntop_null: 3\n",
])
def test_values_are_what_helm_renders(tmp_path, user):
    """.Values of the top chart and of each subchart, built-in engine against Helm v4 itself."""
    files = dict(TOP)
    files["values.yaml"] = textwrap.dedent(TOP["values.yaml"]) + "top_null: null\nnested: {n: null, k: 1}\nlst: [null, 1]\n"
    dump = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: %s}\ndata:\n  values: {{ toJson .Values | quote }}\n"
    files["templates/values.yaml"] = dump % "top"
    files["charts/sub/templates/values.yaml"] = dump % "{{ .Chart.Name }}"
    chart = _chart(tmp_path / "top", files)
    values = tmp_path / "user.yaml"
    values.write_text(user)
    seen = {}
    for engine in ("builtin", "sdk"):
        parsed = load_chart(str(chart), "top", engine=engine, values_files=[str(values)])
        seen[engine] = {d.root["metadata"]["name"]: json.loads(d.root["data"]["values"]) for d in parsed.documents}
    assert seen["builtin"] == seen["sdk"]


@pytest.mark.skipif(importlib.util.find_spec("helm_python") is None or not hasattr(os, "fork"), reason="needs the SDK and fork")
def test_a_forked_worker_never_calls_an_inherited_go_runtime(tmp_path):
    """After the SDK ran for this process, a fork() child renders with it too instead of hanging.

    Each chart renders in a child process of its own (external.render_sdk): ecrlint's processes
    never load Go's runtime, which does not survive fork(), so there is none to inherit.
    """
    chart = _chart(tmp_path / "web", {
        "Chart.yaml": "apiVersion: v2\nname: web\nversion: 1.0.0\n",
        "templates/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n",
    })
    had_sdk = "helm_python" in sys.modules  # another test of this session may have imported it
    assert load_chart(str(chart), "web", engine="sdk").chart.engine == "helm-python-sdk"
    assert had_sdk or "helm_python" not in sys.modules
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: must not call into the inherited Go runtime
        try:
            engine = load_chart(str(chart), "web", engine="sdk").chart.engine
            os.write(write, engine.encode())
        finally:
            os._exit(0)
    os.close(write)
    import select

    ready, _, _ = select.select([read], [], [], 60)
    assert ready, "the forked child hung"
    assert os.read(read, 100).decode() == "helm-python-sdk"
    os.waitpid(pid, 0)
