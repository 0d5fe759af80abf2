"""The language server's machinery in process: positions, per-folder state, rule reuse, scheduling.

The end-to-end tests over stdio are tests/test_lsp.py (slow); these need neither pygls nor a
server process, except the conversion tests, which need lsprotocol.
"""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

import pytest

from ecrlint.engine import Cancelled, RunOptions, run
from ecrlint.lsp.positions import LineIndex
from ecrlint.lsp.state import FolderState, config_problem
from ecrlint.model import Finding, Span

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = REPO / "examples"
FIXTURES = REPO / "tests" / "fixtures"


# --- positions -------------------------------------------------------------------------------------


def test_utf16_counts_astral_characters_twice():
    text = 'a: {x: "😀", image: nginx}\n'
    index = LineIndex(text)
    column = text.index("nginx") + 1  # 1-based code points, as the parser counts
    assert index.range(Span(1, column, 1, column + 5)) == ((0, column), (0, column + 5))
    assert LineIndex(text, "utf-32").range(Span(1, column, 1, column + 5)) == ((0, column - 1), (0, column + 4))
    # UTF-8: "😀" is four bytes
    assert LineIndex(text, "utf-8").range(Span(1, column, 1, column + 5)) == ((0, column + 2), (0, column + 7))
    assert index.lsp_offset(0, column) == column - 1  # and back


def test_parser_line_breaks_that_lsp_does_not_count():
    # libyaml breaks lines at NEL and LS too; LSP only at CR, LF and CRLF
    text = "a: 1\r\nb: x\x85y\nc: 3\rd: 4\n"
    index = LineIndex(text)
    assert index.range(Span(3, 1, 3, 2)) == ((1, 5), (1, 6))  # parser line 3 is "y" after NEL on LSP line 1
    assert index.range(Span(4, 1, 4, 2)) == ((2, 0), (2, 1))
    assert index.range(Span(5, 1, 5, 2)) == ((3, 0), (3, 1))
    assert index.parser_line(index.lsp_offset(3, 0)) == 5


def test_empty_and_out_of_range_spans_are_clamped():
    index = LineIndex("key: value\n")
    assert index.range(Span(1, 6, 1, 6)) == ((0, 5), (0, 6))  # an empty span covers one character
    assert index.range(Span(1, 11, 1, 11)) == ((0, 10), (0, 10))  # at the end of the line: nothing to cover
    assert index.range(Span(9, 1, 9, 5)) == ((1, 0), (1, 0))  # past the end: the end of the text


# --- the folder state against `ecrlint check` ------------------------------------------------------


def _key(findings: list[Finding]) -> list[tuple]:
    return sorted((f.rule, f.path, f.span, f.message, f.related, f.fix) for f in findings)


def _loaded(root: Path) -> FolderState:
    state = FolderState(str(root))
    for chart in state.reload():
        state.put_chart(chart.display, state.render_chart(chart))
    return state


def _checked(root: Path) -> list[tuple]:
    return _key(run(RunOptions(paths=[str(root)], cwd=str(root), jobs=1)).findings)


@pytest.fixture
def two_copies(tmp_path: Path) -> tuple[Path, Path]:
    """The example repository twice: one the server reads (edits stay in buffers), one edited on disk."""
    live, disk = tmp_path / "live", tmp_path / "disk"
    shutil.copytree(EXAMPLES, live)
    shutil.copytree(EXAMPLES, disk)
    return live, disk


def test_first_lint_equals_check():
    state = _loaded(EXAMPLES)
    assert _key(state.lint({}).findings) == _checked(EXAMPLES)
    assert _key(state.lint({}).findings) == _checked(EXAMPLES)  # and again, from the cached facts


@pytest.mark.parametrize("folder", sorted(p.name for p in (FIXTURES / "crossfile").iterdir() if p.is_dir()))
def test_crossfile_fixtures_equal_check(folder: str):
    root = FIXTURES / "crossfile" / folder
    assert _key(_loaded(root).lint({}).findings) == _checked(root)


EDITS = [
    # (file, old, new): each applied to the buffers of one copy and to the files of the other
    ("k8s/web.yaml", "image: nginx:latest", "image: public.ecr.aws/nginx/nginx:1.27"),
    ("cluster.yaml", "- namespace: batch", "- namespace: jobs"),  # the agent is no longer on Fargate
    ("iam/node-extra-policy.json", "GetDownloadUrlForLayers", "GetDownloadUrlForLayer"),
    ("cluster.yaml", "name: services", "name: workers"),
    ("k8s/report-job.yaml", "namespace: batch", "namespace: shop"),
    ("k8s/web.yaml", "replicas: 3", "replicas: [3"),  # no longer YAML: ECR001, and its facts are gone
]


def test_edits_in_buffers_equal_check_of_the_edited_files(two_copies: tuple[Path, Path]):
    live, disk = two_copies
    state = _loaded(live)
    state.lint({})
    texts: dict[str, str] = {}
    originals = {name: (live / name).read_text() for name, _old, _new in EDITS}
    for name, old, new in EDITS:
        path = disk / name
        text = path.read_text()
        assert old in text
        path.write_text(text.replace(old, new))
        texts[str(live / name)] = text.replace(old, new)
        result = state.lint(dict(texts))
        assert _key(result.findings) == _checked(disk), name
        assert (live / name).read_text() == originals[name]  # the server never writes
    # closing every buffer without saving: the files on disk count again
    assert _key(state.lint({}).findings) == _checked(live)


def test_a_manifest_edit_reuses_the_iam_rules(two_copies: tuple[Path, Path]):
    live, _disk = two_copies
    state = _loaded(live)
    state.lint({})
    web = live / "k8s" / "web.yaml"
    state.lint({str(web): web.read_text().replace("nginx:latest", "nginx:1.27")})
    assert state.rules.ran  # the image rules ran again ...
    assert "ECR101" in state.rules.ran
    assert not {"ECR201", "ECR202", "ECR204"} & set(state.rules.ran)  # ... the node-role rules did not
    cluster = live / "cluster.yaml"
    state.lint({str(cluster): cluster.read_text().replace("name: services", "name: workers")})
    assert "ECR202" in state.rules.ran  # an eksctl edit changes node groups: they run


def test_a_cancelled_lint_leaves_nothing_stale(two_copies: tuple[Path, Path]):
    live, disk = two_copies
    state = _loaded(live)
    state.lint({})
    cluster = live / "cluster.yaml"
    edited = cluster.read_text().replace("- namespace: batch", "- namespace: jobs")
    calls = 0

    def stop() -> bool:
        nonlocal calls
        calls += 1
        return calls > 3  # a few rules ran, then a newer edit came

    with pytest.raises(Cancelled):
        state.lint({str(cluster): edited}, stop)
    (disk / "cluster.yaml").write_text(edited)
    assert _key(state.lint({str(cluster): edited}).findings) == _checked(disk)


def test_a_new_unsaved_file_is_linted(two_copies: tuple[Path, Path]):
    live, _disk = two_copies
    new = live / "k8s" / "new.yaml"  # not on disk: an editor's untitled buffer saved nowhere yet
    text = "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: shop}\nspec:\n  containers: [{name: a, image: busybox}]\n"
    result = _loaded(live).lint({str(new): text})
    assert sorted((f.rule, f.span.line, f.span.column) for f in result.by_path[str(new)]) == [
        ("ECR101", 5, 33), ("ECR102", 5, 33)]


def test_a_crashing_reader_is_an_ecr001_on_its_file(two_copies: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch):
    live, _disk = two_copies
    import ecrlint.lsp.state as state_module

    real = state_module.read_one

    def read_one(source, ctx, options, data=None):  # type: ignore[no-untyped-def]
        if source.display == "k8s/web.yaml":
            raise RuntimeError("boom")
        return real(source, ctx, options, data)

    monkeypatch.setattr(state_module, "read_one", read_one)
    result = _loaded(live).lint({})
    web = [f for f in result.findings if f.path == "k8s/web.yaml"]
    assert [(f.rule, f.span.line, f.span.column) for f in web] == [("ECR001", 1, 1)]
    assert "RuntimeError: boom" in web[0].message
    assert any(f.path == "cluster.yaml" for f in result.findings)  # the others are linted as ever


def test_a_crashing_extractor_is_an_ecr001_on_its_file(two_copies: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch):
    live, _disk = two_copies
    from ecrlint.sources.eksctl import EksctlSource

    def extract(self, doc, ws, ctx):  # type: ignore[no-untyped-def]
        raise KeyError("metadata")

    monkeypatch.setattr(EksctlSource, "extract", extract)
    result = _loaded(live).lint({})
    cluster = [(f.rule, f.span.line) for f in result.findings if f.path == "cluster.yaml"]
    assert cluster == [("ECR001", 1)]


# --- config -------------------------------------------------------------------------------------------


def test_a_bad_config_is_a_problem_and_the_last_good_one_stays(two_copies: tuple[Path, Path]):
    live, _disk = two_copies
    config = live / ".ecrlint.yaml"
    state = _loaded(live)
    assert state.problem is None
    assert any(f.rule == "ECR201" for f in state.lint({}).findings)  # node-role-policies applies
    config.write_text("node-role-policies: [iam/node-*.json]\nignore: [ECR201]\n")
    state.reload()
    assert not any(f.rule == "ECR201" for f in state.lint({}).findings)
    config.write_text("node-role-policies: [iam/node-*.json]\nignore: [ECR201]\nnot-a-key: 1\n")
    state.reload()
    assert state.problem is not None
    assert state.problem.path == str(config)
    assert state.problem.message == "unknown config key 'not-a-key'"
    assert not any(f.rule == "ECR201" for f in state.lint({}).findings)  # the last good config


def test_config_problem_positions():
    yaml_error = config_problem("/r/.ecrlint.yaml", "/r", "/r/.ecrlint.yaml:3:7: invalid YAML: mapping values are not allowed here")
    assert (yaml_error.line, yaml_error.column, yaml_error.message) == (2, 6, "invalid YAML: mapping values are not allowed here")
    toml = config_problem("/r/pyproject.toml", "/r", "/r/pyproject.toml: invalid TOML: Expected '=' (at line 4, column 9)")
    assert (toml.line, toml.column) == (3, 8)
    unknown = config_problem("/r/.ecrlint.yaml", "/r", "/r/.ecrlint.yaml: select: unknown rule ID 'ECR999'")
    assert (unknown.line, unknown.column, unknown.message) == (0, 0, "select: unknown rule ID 'ECR999'")


# --- the lint thread -----------------------------------------------------------------------------------


def test_scheduler_lints_again_after_a_cancel():
    pytest.importorskip("pygls")
    from ecrlint.lsp.server import Scheduler

    seen: list[str] = []
    done = threading.Event()

    def lint(root: str, stop) -> None:  # type: ignore[no-untyped-def]
        seen.append(root)
        if len(seen) == 1:
            raise Cancelled()  # superseded: the scheduler must lint the folder again
        done.set()

    scheduler = Scheduler(lint)
    scheduler.start()
    try:
        scheduler.touch("/a")
        assert done.wait(30)
    finally:
        scheduler.stop()
    assert seen == ["/a", "/a"]


def test_code_action_ignore_comment_placement():
    pytest.importorskip("lsprotocol")
    from ecrlint.lsp.convert import _ignore_edit
    from ecrlint.model import Severity

    def finding(line: int, path: str = "a.yaml") -> Finding:
        return Finding("ECR103", "image-tag-latest", Severity.WARNING, path, Span(line, 12, line, 24), "m")

    text = ("spec:\n"
            "  image: nginx:latest\n"
            "  other: nginx:latest  # why we run latest\n"
            "  third: nginx:latest  # ecrlint: ignore[ECR101]\n")
    index = LineIndex(text)
    trailing = _ignore_edit(index, finding(2))
    assert trailing is not None
    assert (trailing.range.start.line, trailing.range.start.character, trailing.new_text) == (
        1, 21, "  # ecrlint: ignore[ECR103]")
    above = _ignore_edit(index, finding(3))  # a comment already: alone on the line above, indented
    assert above is not None
    assert (above.range.start.line, above.range.start.character, above.new_text) == (
        2, 0, "  # ecrlint: ignore[ECR103]\n")
    added = _ignore_edit(index, finding(4))  # an ignore comment already: the ID joins it
    assert added is not None
    assert (added.range.start.line, added.range.start.character, added.new_text) == (
        3, text.splitlines()[3].index("]"), ",ECR103")
    assert _ignore_edit(index, finding(2, "a.json")) is None  # JSON has no comments


@pytest.mark.slow
def test_corpus_edits_equal_check(shared_corpus: Path, tmp_path: Path):
    """The whole shared corpus: the first lint, then an eksctl and a manifest edit, as `ecrlint check` sees them."""
    live, disk = tmp_path / "live", tmp_path / "disk"
    shutil.copytree(shared_corpus, live)
    shutil.copytree(shared_corpus, disk)
    state = _loaded(live)
    assert _key(state.lint({}).findings) == _checked(disk)
    texts: dict[str, str] = {}
    eksctl = next(p for p in sorted((live / "eksctl").glob("*.yaml")) if "\nmanagedNodeGroups:" in p.read_text())
    for name, old, new in [("kubernetes/aws-lbc__echoserver-deployment.yaml", "echoserver:2.5", "echoserver:latest"),
                           (str(eksctl.relative_to(live)), "\nmetadata:\n  name: ", "\nmetadata:\n  name: renamed-")]:
        text = (disk / name).read_text()
        assert old in text
        text = text.replace(old, new, 1)
        (disk / name).write_text(text)
        texts[str(live / name)] = text
        assert _key(state.lint(dict(texts)).findings) == _checked(disk), name


def test_a_chart_template_opened_outside_every_folder_is_not_read_as_yaml(tmp_path: Path):
    shutil.copytree(EXAMPLES / "charts", tmp_path / "charts")
    template = tmp_path / "charts" / "api" / "templates" / "deployment.yaml"
    loose = FolderState(str(template.parent), scan=False)
    loose.reload()
    result = loose.lint({str(template): template.read_text()})
    assert result.findings == []  # not an ECR001 for "{{ .Release.Name }}"


def _python(code: str) -> str:
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=120)
    return done.stdout + done.stderr


def test_check_never_imports_the_language_server():
    out = _python("import sys\nfrom ecrlint.cli import main\nmain(['check', 'examples'])\n"
                  "print('LOADED', sorted(m for m in sys.modules if m.split('.')[0] in ('pygls', 'lsprotocol', 'cattrs') "
                  "or m.startswith('ecrlint.lsp')))")
    assert "LOADED []" in out


def test_lsp_without_pygls_is_one_line_and_exit_2():
    out = _python("import sys\nsys.modules['pygls'] = None\nfrom ecrlint.cli import main\nprint('EXIT', main(['lsp']))")
    assert "ecrlint: the language server needs pygls 2 and lsprotocol" in out
    assert "pip install 'ecrlint[lsp]'" in out
    assert "EXIT 2" in out
    assert "Traceback" not in out


def test_scheduler_compacts_the_heap_when_idle_after_work(monkeypatch: pytest.MonkeyPatch):
    pytest.importorskip("pygls")
    import ecrlint.lsp.server as server

    monkeypatch.setattr(server, "IDLE_COLLECT", 0.01)
    compacted = threading.Event()
    linted: list[str] = []
    scheduler = server.Scheduler(lambda root, stop: linted.append(root), on_idle=compacted.set)
    scheduler.start()
    try:
        scheduler.touch("/a")
        assert compacted.wait(30)
    finally:
        scheduler.stop()
    assert linted == ["/a"]


def test_a_crashing_rule_leaves_the_other_rules_findings(two_copies: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch):
    live, _disk = two_copies
    from ecrlint.registry import load_registry

    rule = load_registry().get("ECR103")
    assert rule is not None

    def check(self, ws, ctx):  # type: ignore[no-untyped-def]
        raise ValueError("bad day")

    monkeypatch.setattr(rule, "check", check)
    result = _loaded(live).lint({})
    assert result.rule_failures == ("rule ECR103 failed: ValueError: bad day",)
    rules = {f.rule for f in result.findings}
    assert "ECR103" not in rules and {"ECR101", "ECR105", "ECR305"} <= rules


def test_hover_on_a_chart_values_line_names_the_rendered_image():
    pytest.importorskip("lsprotocol")
    from lsprotocol import types

    from ecrlint.analysis.links import build_links
    from ecrlint.lsp.convert import hover

    state = _loaded(EXAMPLES)
    result = state.lint({})
    values = EXAMPLES / "charts" / "api" / "values.yaml"
    index = LineIndex(values.read_text())
    shown = hover(result, str(values), index, types.Position(1, 20), lambda: build_links(result.workspace, result.config))
    assert shown is not None and isinstance(shown.contents, types.MarkupContent)
    text = shown.contents.value
    # values.yaml: repository ...shop/api, tag "" -> the chart's appVersion
    assert "| registry | `111122223333.dkr.ecr.eu-west-1.amazonaws.com` |" in text
    assert "| repository | `shop/api` |" in text
    assert "in Deployment/shop/release-name-api, rendered in templates/deployment.yaml, container api" in text
    assert "Amazon ECR, account 111122223333, region eu-west-1" in text
    assert 'runs on cluster "shop"; pulled by:' in text
