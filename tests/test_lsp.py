"""`ecrlint lsp` end to end: a real LSP client (pytest-lsp) drives the server over stdio.

Each test starts a server process (a few seconds): all are marked slow; tests/test_lsp_state.py
covers the same machinery in process, in the fast suite.
"""

from __future__ import annotations

import asyncio
import shutil
import sys
from pathlib import Path
from typing import Callable, Sequence

import pytest

pytest.importorskip("pygls")
pytest_lsp = pytest.importorskip("pytest_lsp")

from lsprotocol import types  # noqa: E402
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities  # noqa: E402

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
WAIT = 60.0  # seconds: a bound against a hung server, not a speed requirement


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    shutil.copytree(EXAMPLES, root)
    return root


SERVER = ClientServerConfig(server_command=[sys.executable, "-m", "ecrlint", "lsp", "--stdio"])


@pytest_lsp.fixture(config=SERVER)
async def client(lsp_client: LanguageClient, ws: Path):
    registered: list[types.Registration] = []
    lsp_client.registered = registered  # type: ignore[attr-defined]

    @lsp_client.feature(types.CLIENT_REGISTER_CAPABILITY)
    def register(params: types.RegistrationParams) -> None:  # the file watchers the server asks for
        registered.extend(params.registrations)

    params = types.InitializeParams(
        capabilities=client_capabilities("visual-studio-code"),
        root_uri=ws.as_uri(),
        workspace_folders=[types.WorkspaceFolder(uri=ws.as_uri(), name="ws")],
    )
    await lsp_client.initialize_session(params)
    yield
    await lsp_client.shutdown_session()


async def until(client: LanguageClient, uri: str, check: Callable[[Sequence[types.Diagnostic]], bool]) -> list[types.Diagnostic]:
    """The diagnostics published for ``uri`` once ``check`` accepts them (fails after WAIT seconds)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + WAIT
    while loop.time() < deadline:
        if uri in client.diagnostics and check(client.diagnostics[uri]):
            return list(client.diagnostics[uri])
        await asyncio.sleep(0.02)
    pytest.fail(f"no diagnostics as expected for {uri}: last {client.diagnostics.get(uri)}")


def codes(diagnostics: Sequence[types.Diagnostic]) -> list[tuple[str, int, int, int, int]]:
    return sorted((str(d.code), d.range.start.line, d.range.start.character, d.range.end.line, d.range.end.character)
                  for d in diagnostics)


def open_doc(client: LanguageClient, path: Path, text: str | None = None, version: int = 1) -> str:
    uri = path.as_uri()
    client.text_document_did_open(types.DidOpenTextDocumentParams(types.TextDocumentItem(
        uri=uri, language_id="yaml", version=version, text=path.read_text() if text is None else text)))
    return uri


def replace_all(client: LanguageClient, uri: str, text: str, version: int) -> None:
    client.text_document_did_change(types.DidChangeTextDocumentParams(
        types.VersionedTextDocumentIdentifier(uri=uri, version=version),
        [types.TextDocumentContentChangePartial(
            range=types.Range(types.Position(0, 0), types.Position(10_000, 0)), text=text)]))


@pytest.mark.asyncio
@pytest.mark.slow
async def test_open_publishes_exact_diagnostics(client: LanguageClient, ws: Path):
    uri = open_doc(client, ws / "k8s" / "web.yaml")
    found = await until(client, uri, lambda d: len(d) == 3)
    # ecrlint check: web.yaml:18:18 ECR101, ECR103; 21:18 ECR105 (1-based) -> 0-based LSP positions
    assert codes(found) == [("ECR101", 17, 17, 17, 29), ("ECR103", 17, 17, 17, 29), ("ECR105", 20, 17, 20, 80)]
    first = next(d for d in found if d.code == "ECR101")
    assert first.source == "ecrlint"
    assert first.severity == types.DiagnosticSeverity.Error
    assert first.code_description is not None and first.code_description.href.endswith("#ecr101-image-not-fully-qualified")
    assert next(d for d in found if d.code == "ECR103").severity == types.DiagnosticSeverity.Warning


@pytest.mark.asyncio
@pytest.mark.slow
async def test_change_lints_the_unsaved_buffer(client: LanguageClient, ws: Path):
    path = ws / "k8s" / "web.yaml"
    uri = open_doc(client, path)
    await until(client, uri, lambda d: len(d) == 3)
    fixed = path.read_text().replace("image: nginx:latest", "image: public.ecr.aws/nginx/nginx:1.27.2")
    replace_all(client, uri, fixed, 2)
    found = await until(client, uri, lambda d: len(d) == 1)
    assert codes(found) == [("ECR105", 20, 17, 20, 80)]
    assert "nginx:latest" in path.read_text()  # nothing was written: the buffer is what was linted
    # an incremental edit: break the host of the migrate image again on line 21 (0-based 20)
    line = fixed.splitlines()[20]
    start = line.index("eu-west1")
    client.text_document_did_change(types.DidChangeTextDocumentParams(
        types.VersionedTextDocumentIdentifier(uri=uri, version=3),
        [types.TextDocumentContentChangePartial(
            range=types.Range(types.Position(20, start), types.Position(20, start + len("eu-west1"))), text="eu-west-1")]))
    await until(client, uri, lambda d: len(d) == 0)


@pytest.mark.asyncio
@pytest.mark.slow
async def test_cross_file_change_republishes_the_other_file(client: LanguageClient, ws: Path):
    agent = ws / "k8s" / "log-agent.yaml"
    cluster = ws / "cluster.yaml"
    agent_uri = agent.as_uri()
    # not even open: workspace files are linted from disk and published too
    found = await until(client, agent_uri, lambda d: any(x.code == "ECR305" for x in d))
    ecr305 = next(d for d in found if d.code == "ECR305")
    assert (ecr305.range.start.line, ecr305.range.start.character) == (14, 6)
    assert ecr305.related_information is not None
    related = ecr305.related_information[0]
    assert related.location.uri == cluster.as_uri()
    assert (related.location.range.start.line, related.location.range.start.character) == (20, 8)
    assert related.message == 'selector of Fargate profile "batch"'
    # editing the eksctl cluster (unsaved) moves the Fargate profile off the agent's namespace
    cluster_uri = open_doc(client, cluster)
    replace_all(client, cluster_uri, cluster.read_text().replace("- namespace: batch", "- namespace: jobs"), 2)
    await until(client, agent_uri, lambda d: not any(x.code == "ECR305" for x in d))
    # closing the cluster without saving: the file on disk counts again
    client.text_document_did_close(types.DidCloseTextDocumentParams(types.TextDocumentIdentifier(uri=cluster_uri)))
    await until(client, agent_uri, lambda d: any(x.code == "ECR305" for x in d))


@pytest.mark.asyncio
@pytest.mark.slow
async def test_save_renders_a_chart_again(client: LanguageClient, ws: Path):
    values = ws / "charts" / "api" / "values.yaml"
    uri = open_doc(client, values)
    await until(client, uri, lambda d: len(d) == 0)  # the chart is clean as shipped
    # turn the debug container on: its "busybox" image has no registry and no tag
    values.write_text(values.read_text().replace("enabled: false", "enabled: true"))
    replace_all(client, uri, values.read_text(), 2)
    client.text_document_did_save(types.DidSaveTextDocumentParams(types.TextDocumentIdentifier(uri=uri)))
    found = await until(client, uri, lambda d: len(d) > 0)
    assert {str(d.code) for d in found} >= {"ECR101", "ECR102"}
    assert all(d.range.start.line == 5 for d in found)  # values.yaml:6, "  image: busybox"


def watched(client: LanguageClient, path: Path, kind: types.FileChangeType = types.FileChangeType.Changed) -> None:
    client.workspace_did_change_watched_files(types.DidChangeWatchedFilesParams(
        [types.FileEvent(uri=path.as_uri(), type=kind)]))


@pytest.mark.asyncio
@pytest.mark.slow
async def test_config_reload_and_bad_config(client: LanguageClient, ws: Path):
    web = ws / "k8s" / "web.yaml"
    await until(client, web.as_uri(), lambda d: len(d) == 3)
    # the server asked to be told of file changes (it asks right after "initialized")
    assert [r.method for r in client.registered] == [types.WORKSPACE_DID_CHANGE_WATCHED_FILES]  # type: ignore[attr-defined]
    config = ws / ".ecrlint.yaml"
    config.write_text("ignore: [ECR103]\n")
    watched(client, config, types.FileChangeType.Created)
    await until(client, web.as_uri(), lambda d: sorted(str(x.code) for x in d) == ["ECR101", "ECR105"])
    # a bad config: one diagnostic on it, the last good config still applies, the server lives on
    config.write_text("ignore: [ECR103]\nseverity:\n  ECR999: error\n")
    watched(client, config)
    found = await until(client, config.as_uri(), lambda d: len(d) == 1)
    assert "unknown rule ID 'ECR999'" in found[0].message
    assert found[0].severity == types.DiagnosticSeverity.Error
    uri = open_doc(client, web)
    replace_all(client, uri, web.read_text().replace("image: nginx:latest", "image: nginx:1.27"), 2)
    await until(client, uri, lambda d: sorted(str(x.code) for x in d) == ["ECR101", "ECR105"])
    # YAML that does not parse: the position is the parser's (line 2, column 1)
    config.write_text("ignore: [ECR103\nfoo: : :\n")
    watched(client, config)
    found = await until(client, config.as_uri(), lambda d: len(d) == 1 and "invalid YAML" in d[0].message)
    assert found[0].range.start.line == 1
    # fixed: the config's diagnostic goes away and its settings apply
    config.write_text("ignore: [ECR101, ECR103]\n")
    watched(client, config)
    await until(client, config.as_uri(), lambda d: len(d) == 0)
    await until(client, uri, lambda d: sorted(str(x.code) for x in d) == ["ECR105"])


@pytest.mark.asyncio
@pytest.mark.slow
async def test_code_actions_fix_and_ignore(client: LanguageClient, ws: Path):
    policy = ws / "iam" / "node-extra-policy.json"
    uri = open_doc(client, policy)
    found = await until(client, uri, lambda d: len(d) == 2)
    # examples/.ecrlint.yaml names iam/node-*.json as node-role policies: ECR201 too
    assert codes(found) == [("ECR201", 2, 2, 2, 13), ("ECR204", 8, 8, 8, 37)]
    ecr204 = next(d for d in found if d.code == "ECR204")
    actions = await client.text_document_code_action_async(types.CodeActionParams(
        text_document=types.TextDocumentIdentifier(uri=uri), range=ecr204.range,
        context=types.CodeActionContext(diagnostics=[ecr204])))
    assert actions is not None
    titles = [a.title for a in actions if isinstance(a, types.CodeAction)]
    assert titles == ['ecrlint: use "ecr:GetDownloadUrlForLayer"']  # JSON has no comment to ignore it with
    fix = actions[0]
    assert isinstance(fix, types.CodeAction) and fix.edit is not None and fix.edit.document_changes
    change = fix.edit.document_changes[0]
    assert isinstance(change, types.TextDocumentEdit)
    assert change.text_document.version == 1
    edit = change.edits[0]
    assert (edit.range.start.line, edit.range.start.character, edit.range.end.character) == (8, 9, 36)
    assert edit.new_text == "ecr:GetDownloadUrlForLayer"

    web = ws / "k8s" / "web.yaml"
    web_uri = open_doc(client, web)
    found = await until(client, web_uri, lambda d: len(d) == 3)
    ecr103 = next(d for d in found if d.code == "ECR103")
    actions = await client.text_document_code_action_async(types.CodeActionParams(
        text_document=types.TextDocumentIdentifier(uri=web_uri), range=ecr103.range,
        context=types.CodeActionContext(diagnostics=[ecr103])))
    assert actions is not None
    ignore = next(a for a in actions if isinstance(a, types.CodeAction) and a.title == "ecrlint: ignore ECR103 on this line")
    assert ignore.edit is not None and ignore.edit.document_changes
    edit = ignore.edit.document_changes[0].edits[0]  # type: ignore[union-attr]
    line = web.read_text().splitlines()[17]
    assert (edit.range.start.line, edit.range.start.character) == (17, len(line))
    assert edit.new_text == "  # ecrlint: ignore[ECR103]"
    # applied by the editor: the finding is suppressed, the others stay
    lines = web.read_text().splitlines(keepends=True)
    lines[17] = line + edit.new_text + "\n"
    replace_all(client, web_uri, "".join(lines), 2)
    await until(client, web_uri, lambda d: sorted(str(x.code) for x in d) == ["ECR101", "ECR105"])


@pytest.mark.asyncio
@pytest.mark.slow
async def test_hover_on_an_image(client: LanguageClient, ws: Path):
    web = ws / "k8s" / "web.yaml"
    uri = open_doc(client, web)
    await until(client, uri, lambda d: len(d) == 3)
    hover = await client.text_document_hover_async(types.HoverParams(
        text_document=types.TextDocumentIdentifier(uri=uri), position=types.Position(17, 22)))
    assert hover is not None and isinstance(hover.contents, types.MarkupContent)
    text = hover.contents.value
    assert "| registry | `docker.io` (none written: Docker Hub) |" in text
    assert "| repository | `library/nginx` |" in text
    assert "in Deployment/shop/web, container `proxy`" in text
    assert "| tag | `latest` |" in text
    assert "pulls `docker.io/library/nginx:latest`" in text
    assert 'runs on cluster "shop"; pulled by:' in text
    assert ('- the node role "eksctl-shop-nodegroup-services-NodeInstanceRole" (cluster.yaml:13), '
            'via the node group "services" (cluster.yaml:13)') in text
    hover = await client.text_document_hover_async(types.HoverParams(
        text_document=types.TextDocumentIdentifier(uri=uri), position=types.Position(15, 20)))
    assert hover is not None and "Amazon ECR, account 111122223333, region eu-west-1" in str(hover.contents)
    nothing = await client.text_document_hover_async(types.HoverParams(
        text_document=types.TextDocumentIdentifier(uri=uri), position=types.Position(0, 0)))
    assert nothing is None


@pytest.mark.asyncio
@pytest.mark.slow
async def test_positions_are_utf16_code_units(client: LanguageClient, ws: Path):
    path = ws / "k8s" / "emoji.yaml"
    # "😀" is one code point (ecrlint's column) but two UTF-16 code units (the LSP's character)
    text = ("apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: shop}\nspec:\n"
            "  containers: [{name: \"😀\", image: nginx:1.27}]\n")
    uri = open_doc(client, path, text)
    found = await until(client, uri, lambda d: len(d) == 1)
    line = text.splitlines()[4]
    column = line.index("nginx")  # code points before the image
    assert codes(found) == [("ECR101", 4, column + 1, 4, column + 1 + len("nginx:1.27"))]


@pytest.mark.asyncio
@pytest.mark.slow
async def test_shutdown_and_exit(ws: Path):
    lsp = await SERVER.start()
    assert isinstance(lsp, LanguageClient)
    try:
        await lsp.initialize_session(types.InitializeParams(
            capabilities=client_capabilities("neovim"), root_uri=ws.as_uri()))  # no workspace folders: the root
        uri = open_doc(lsp, ws / "k8s" / "web.yaml")
        await until(lsp, uri, lambda d: len(d) == 3)
        await lsp.shutdown_session()
        assert lsp._server is not None and lsp._server.returncode == 0
    finally:
        await lsp.stop()


@pytest.mark.asyncio
@pytest.mark.slow
async def test_utf8_positions_when_the_client_prefers_them(ws: Path):
    lsp = await SERVER.start()
    assert isinstance(lsp, LanguageClient)
    try:
        capabilities = client_capabilities("visual-studio-code")
        capabilities.general = types.GeneralClientCapabilities(position_encodings=[types.PositionEncodingKind.Utf8])
        result = await lsp.initialize_session(types.InitializeParams(capabilities=capabilities, root_uri=ws.as_uri()))
        assert result.capabilities.position_encoding == types.PositionEncodingKind.Utf8
        text = ("apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: shop}\nspec:\n"
                "  containers: [{name: \"é😀\", image: nginx:1.27}]\n")
        uri = open_doc(lsp, ws / "k8s" / "accents.yaml", text)
        found = await until(lsp, uri, lambda d: len(d) == 1)
        line = text.splitlines()[4]
        start = len(line[: line.index("nginx")].encode("utf-8"))  # bytes: "é" is 2, "😀" is 4
        assert codes(found) == [("ECR101", 4, start, 4, start + len("nginx:1.27"))]
        await lsp.shutdown_session()
    finally:
        await lsp.stop()
