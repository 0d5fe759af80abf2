"""Safe writes (issue 8.4): atomic --fix, --output never over an input, nothing else written.

--fix keeps comments, encoding, line ends, mode and owner, and refuses a file that changed since it
was read. No built-in rule offers a fix yet, so a test-only rule (TST901) stands in: it offers to qualify the
image ``nginx:1.25``. The CLI is driven in process through ``ecrlint.cli.main`` with the registry
swapped for one that includes it.
"""

from __future__ import annotations

import codecs
import hashlib
import io
import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from ecrlint import cli, engine, registry
from ecrlint.engine.fixes import StaleFile, apply_fixes
from ecrlint.model import Finding, Fix, Severity, Span
from ecrlint.parsing import parse_file
from ecrlint.registry import Registry, Rule, load_registry
from ecrlint.engine.safe_write import write_atomic

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).parent / "fixtures"
QUALIFIED = "docker.io/library/nginx:1.25"

POD = """# web pod: keep this comment
apiVersion: v1
kind: Pod
metadata:
  name: web   # trailing comment
spec:
  containers:
    - name: app
      image: nginx:1.25  # pinned by the platform team
"""
FIXED = POD.replace("image: nginx:1.25", f"image: {QUALIFIED}")


class FixImage(Rule):
    """Test-only: offers to qualify ``nginx:1.25``.

    ## What it does
    Offers a text fix for the image ``nginx:1.25``.

    ## Why
    No built-in rule offers a fix yet; --fix still needs testing.

    ## Example
    ``image: nginx:1.25``

    ## Fix
    ``image: docker.io/library/nginx:1.25``

    ## Options
    None.
    """

    id = "TST901"
    name = "test-fix-image"
    severity = Severity.ERROR

    def check(self, ws, ctx):
        for use in ws.images:
            if use.value == "nginx:1.25":
                yield self.finding(use.loc, 'image "nginx:1.25" can be qualified',
                                   fix=Fix("qualify", use.loc.path, use.loc.span, QUALIFIED))


@pytest.fixture
def fix_rule(monkeypatch):
    builtin = load_registry(plugins=False)
    monkeypatch.setattr(registry, "_REGISTRY", Registry([*builtin, FixImage]))


@pytest.fixture
def repo(tmp_path, monkeypatch):
    root = tmp_path / "repo"
    root.mkdir()
    monkeypatch.chdir(root)
    return root


def check(*args: str) -> int:
    return cli.main(["check", "--no-color", *args])


def _finding_with_fix(path: Path, display: str) -> Finding:
    """What TST901 reports, with the span the parser gives the image scalar."""
    parsed = parse_file(str(path), display)
    container = parsed.documents[0].root["spec"]["containers"][0]
    span = container.value_span("image")
    return Finding("TST901", "test-fix-image", Severity.ERROR, display, span, "m",
                   fix=Fix("qualify", str(path), span, QUALIFIED))


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _leftovers(directory: Path) -> list[str]:
    return [p.name for p in directory.iterdir() if p.name.startswith(".ecrlint-")]


# --- apply_fixes --------------------------------------------------------------------------------

@pytest.mark.parametrize("mode", [0o644, 0o600, 0o755, 0o664])
def test_fix_keeps_comments_and_mode_and_replaces_atomically(tmp_path, mode):
    f = tmp_path / "pod.yaml"
    f.write_text(POD)
    f.chmod(mode)
    inode = f.stat().st_ino
    finding = _finding_with_fix(f, "pod.yaml")
    assert apply_fixes([finding], {str(f): _digest(f)}) == 1
    assert f.read_text() == FIXED  # only the span changed: every comment and byte around it kept
    assert stat.S_IMODE(f.stat().st_mode) == mode
    assert f.stat().st_ino != inode  # a new file renamed into place, not rewritten in place
    assert _leftovers(tmp_path) == []


@pytest.mark.skipif(os.geteuid() != 0, reason="only root can create a file owned by someone else")
def test_fix_keeps_the_owner(tmp_path):
    f = tmp_path / "pod.yaml"
    f.write_text(POD)
    os.chown(f, 1234, 2345)
    apply_fixes([_finding_with_fix(f, "pod.yaml")], {str(f): _digest(f)})
    assert (f.stat().st_uid, f.stat().st_gid) == (1234, 2345)


def test_a_failed_rename_leaves_the_file_and_no_temporary(tmp_path, monkeypatch):
    f = tmp_path / "pod.yaml"
    f.write_text(POD)
    finding = _finding_with_fix(f, "pod.yaml")

    def broken_replace(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError):
        apply_fixes([finding], {str(f): _digest(f)})
    assert f.read_text() == POD
    assert _leftovers(tmp_path) == []


def test_fix_refuses_a_file_changed_since_the_run_read_it(tmp_path):
    f = tmp_path / "pod.yaml"
    f.write_text(POD)
    finding = _finding_with_fix(f, "pod.yaml")
    read_digest = _digest(f)
    edited = POD.replace("name: web", "name: web-2")
    f.write_text(edited)
    with pytest.raises(StaleFile, match="changed since it was read"):
        apply_fixes([finding], {str(f): read_digest})
    assert f.read_text() == edited


def test_fix_never_writes_a_file_the_run_did_not_read(tmp_path):
    f = tmp_path / "pod.yaml"
    f.write_text(POD)
    with pytest.raises(StaleFile, match="not read by this run"):
        apply_fixes([_finding_with_fix(f, "pod.yaml")], {})
    assert f.read_text() == POD


def test_fix_refuses_an_edit_made_while_it_was_fixing(tmp_path, monkeypatch):
    # the last window: after apply_fixes read the file, before its rename
    f = tmp_path / "pod.yaml"
    f.write_text(POD)
    finding = _finding_with_fix(f, "pod.yaml")
    edited = POD + "# added by an editor\n"
    import ecrlint.engine.fixes as fixes

    real_decode = fixes.decode

    def decode_then_edit(data):
        text = real_decode(data)
        f.write_text(edited)
        return text

    monkeypatch.setattr(fixes, "decode", decode_then_edit)
    with pytest.raises(StaleFile, match="changed since it was read"):
        apply_fixes([finding], {str(f): _digest(f)})
    assert f.read_text() == edited
    assert _leftovers(tmp_path) == []


def test_fix_writes_through_a_symlink_and_keeps_the_link(tmp_path):
    target = tmp_path / "real.yaml"
    target.write_text(POD)
    link = tmp_path / "pod.yaml"
    link.symlink_to("real.yaml")
    apply_fixes([_finding_with_fix(link, "pod.yaml")], {str(link): _digest(link)})
    assert link.is_symlink() and target.read_text() == FIXED


@pytest.mark.parametrize(
    "encode",
    [
        lambda t: t.encode("utf-8"),
        lambda t: codecs.BOM_UTF8 + t.encode("utf-8"),
        lambda t: codecs.BOM_UTF16_LE + t.encode("utf-16-le"),
        lambda t: codecs.BOM_UTF16_BE + t.encode("utf-16-be"),
        lambda t: t.replace("\n", "\r\n").encode("utf-8"),
        lambda t: t.replace("\n", "\r").encode("utf-8"),
        lambda t: t.replace("kind: Pod\n", "kind: Pod\u2028").encode("utf-8"),
        lambda t: t.replace("name: web", "name: caf\u00e9-\U0001f600").encode("utf-8"),
    ],
    ids=["utf8", "utf8-bom", "utf16le-bom", "utf16be-bom", "crlf", "cr-only", "line-separator", "non-ascii"],
)
def test_fix_keeps_encoding_byte_order_mark_and_line_ends(tmp_path, encode):
    f = tmp_path / "pod.yaml"
    f.write_bytes(encode(POD))
    apply_fixes([_finding_with_fix(f, "pod.yaml")], {str(f): _digest(f)})
    assert f.read_bytes() == encode(FIXED)


def test_a_fix_span_outside_the_file_is_ignored(tmp_path):
    f = tmp_path / "pod.yaml"
    f.write_text(POD)
    for span in (Span(99, 1, 99, 5), Span(2, 80, 2, 90), Span(3, 5, 2, 1)):
        bogus = Finding("TST901", "t", Severity.ERROR, "pod.yaml", span, "m", fix=Fix("x", str(f), span, "BOOM"))
        assert apply_fixes([bogus], {str(f): _digest(f)}) == 0
    assert f.read_text() == POD


def test_write_atomic_keeps_an_existing_files_mode_and_creates_new_ones_by_umask(tmp_path):
    existing = tmp_path / "report.txt"
    existing.write_text("old")
    existing.chmod(0o640)
    write_atomic(str(existing), "new")
    assert existing.read_text() == "new" and stat.S_IMODE(existing.stat().st_mode) == 0o640
    umask = os.umask(0o027)
    try:
        write_atomic(str(tmp_path / "fresh.txt"), "x")
    finally:
        os.umask(umask)
    assert stat.S_IMODE((tmp_path / "fresh.txt").stat().st_mode) == 0o640
    assert _leftovers(tmp_path) == []


# --- the CLI ------------------------------------------------------------------------------------

def test_cli_fix_applies_keeps_comments_and_mode(repo, fix_rule, capsys):
    pod = repo / "pod.yaml"
    pod.write_text(POD)
    pod.chmod(0o640)
    before = sorted(p.name for p in repo.iterdir())
    check("--fix", "--select", "ECR,TST901", "pod.yaml")
    assert pod.read_text() == FIXED
    assert stat.S_IMODE(pod.stat().st_mode) == 0o640
    assert sorted(p.name for p in repo.iterdir()) == before
    assert "TST901" not in capsys.readouterr().out  # the re-run after fixing is clean of it


def test_cli_fix_refuses_a_file_changed_after_the_run_read_it(repo, fix_rule, monkeypatch, capsys):
    pod = repo / "pod.yaml"
    pod.write_text(POD)
    edited = POD.replace("nginx:1.25", "nginx:1.27")  # a teammate's bump, saved while ecrlint ran
    real_run = engine.run
    calls = []

    def run_then_someone_edits(options):
        result = real_run(options)
        calls.append(1)
        if len(calls) == 1:
            pod.write_text(edited)
        return result

    monkeypatch.setattr(engine, "run", run_then_someone_edits)
    code = check("--fix", "--select", "ECR,TST901", "pod.yaml")
    assert pod.read_text() == edited, "the fix was applied over an edit made after the run read the file"
    assert code == 2
    assert "changed since it was read" in capsys.readouterr().err


def _write_monitor(monkeypatch) -> list[str]:
    """Record every write-intent call Python code makes (opens for writing, creations, renames, deletions)."""
    written: list[str] = []
    write_flags = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND
    real_open, real_os_open = io.open, os.open

    def tracked_open(file, mode="r", *args, **kwargs):
        if isinstance(file, (str, bytes, os.PathLike)) and any(c in mode for c in "wax+"):
            written.append(os.path.realpath(os.fsdecode(file)))
        return real_open(file, mode, *args, **kwargs)

    def tracked_os_open(path, flags, *args, **kwargs):
        if flags & write_flags:
            written.append(os.path.realpath(os.fsdecode(path)))
        return real_os_open(path, flags, *args, **kwargs)

    def tracked(name):
        real = getattr(os, name)

        def call(*args, **kwargs):
            written.append(os.path.realpath(os.fsdecode(args[-1] if name in ("replace", "rename", "link", "symlink")
                                                        else args[0])))
            return real(*args, **kwargs)

        return call

    monkeypatch.setattr("builtins.open", tracked_open)
    monkeypatch.setattr(io, "open", tracked_open)
    monkeypatch.setattr(os, "open", tracked_os_open)
    for name in ("mkdir", "makedirs", "rename", "replace", "remove", "unlink", "rmdir", "link", "symlink",
                 "truncate", "chmod", "chown", "utime", "mkfifo"):
        monkeypatch.setattr(os, name, tracked(name))
    return written


def test_cli_writes_nothing_but_the_output_file(repo, monkeypatch, capsys):
    shutil.copytree(FIXTURES, repo / "fixtures")
    (repo / "out").mkdir()
    check("--format", "json", "fixtures")  # warm up: lazy imports happen outside the recording
    capsys.readouterr()
    written = _write_monitor(monkeypatch)
    for fmt in ("text", "json", "sarif", "github"):
        check("--format", fmt, "--exit-zero", "fixtures")
        check("--format", fmt, "--exit-zero", "--output", f"out/report.{fmt}", "fixtures")
    monkeypatch.undo()
    out = os.path.realpath(repo / "out")
    stray = [p for p in written if os.path.dirname(p) != out]
    assert stray == []
    assert {os.path.basename(p) for p in written if not os.path.basename(p).startswith(".ecrlint-")} == \
        {f"report.{fmt}" for fmt in ("text", "json", "sarif", "github")}
    assert _leftovers(repo / "out") == []


def _snapshot(root: Path) -> dict[str, tuple[int, int, str]]:
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            p = Path(dirpath, name)
            st = p.lstat()
            digest = hashlib.sha256(p.read_bytes()).hexdigest() if stat.S_ISREG(st.st_mode) else ""
            out[str(p.relative_to(root))] = (st.st_mode, st.st_mtime_ns, digest)
    return out


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_whole_run_in_a_child_leaves_the_tree_home_and_tmp_untouched(tmp_path, jobs):
    tree = tmp_path / "tree"
    shutil.copytree(FIXTURES, tree / "fixtures")
    shutil.copytree(ROOT / "examples", tree / "examples")
    home, tmp, out = tmp_path / "home", tmp_path / "tmp", tmp_path / "out"
    for d in (home, tmp, out):
        d.mkdir()
    before = _snapshot(tree)
    env = {**os.environ, "HOME": str(home), "TMPDIR": str(tmp), "XDG_CACHE_HOME": str(home / ".cache"),
           "XDG_CONFIG_HOME": str(home / ".config"), "XDG_DATA_HOME": str(home / ".local"),
           "PYTHONDONTWRITEBYTECODE": "1"}
    for extra in ([], ["--output", str(out / "report.sarif"), "--format", "sarif"]):
        proc = subprocess.run([sys.executable, "-m", "ecrlint", "check", "--exit-zero", "--jobs", jobs, *extra,
                               "fixtures", "examples"], cwd=tree, env=env, capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, proc.stderr[-2000:]
    assert _snapshot(tree) == before
    assert list(home.iterdir()) == [] and list(tmp.iterdir()) == []
    assert [p.name for p in out.iterdir()] == ["report.sarif"]
    json.loads((out / "report.sarif").read_text())


# --- --output never overwrites an input --------------------------------------------------------

@pytest.mark.parametrize(
    "output, inputs",
    [
        ("pod.yaml", ["pod.yaml"]),
        ("./pod.yaml", ["pod.yaml"]),
        ("sub/../pod.yaml", ["pod.yaml"]),
        ("alias.yaml", ["pod.yaml"]),  # a symlink to the input
        ("pod.yaml", ["."]),  # a linted file inside a linted directory
        ("k8s/app.json", ["k8s"]),
    ],
)
def test_output_refuses_to_overwrite_an_input(repo, capsys, output, inputs):
    (repo / "pod.yaml").write_text(POD)
    (repo / "sub").mkdir()
    (repo / "alias.yaml").symlink_to("pod.yaml")
    (repo / "k8s").mkdir()
    (repo / "k8s" / "app.json").write_text('{"apiVersion": "v1", "kind": "ConfigMap"}')
    before = _snapshot(repo)
    assert check("--output", output, *inputs) == 2
    assert "would overwrite" in capsys.readouterr().err
    assert _snapshot(repo) == before


def test_output_to_a_new_file_is_written_atomically(repo, capsys):
    (repo / "pod.yaml").write_text(POD)
    report = repo / "report.json"
    report.write_text("stale")
    report.chmod(0o600)
    assert check("--format", "json", "--output", "report.json", "pod.yaml") == 1
    assert json.loads(report.read_text())["findings"][0]["rule"] == "ECR101"
    assert stat.S_IMODE(report.stat().st_mode) == 0o600
    assert capsys.readouterr().out == ""  # nothing else on stdout
    assert _leftovers(repo) == []


@pytest.mark.parametrize("option", ["--config", "--helm-values"])
def test_output_refuses_to_overwrite_a_config_or_values_file(repo, capsys, option):
    # Config and Helm values files are inputs too: a report written over them destroys them.
    (repo / "pod.yaml").write_text(POD)
    other = repo / "settings.yaml"
    other.write_text("select: [ECR]\n" if option == "--config" else "image: {tag: '1'}\n")
    before = _snapshot(repo)
    assert check(option, "settings.yaml", "--output", "settings.yaml", "pod.yaml") == 2
    assert "would overwrite" in capsys.readouterr().err
    assert _snapshot(repo) == before


# --- real fixes (ECR204's nearest action, ECR205's version) on odd encodings -------------------

_ENCODINGS = {
    "utf8": lambda t: t.encode("utf-8"),
    "crlf": lambda t: t.replace("\n", "\r\n").encode("utf-8"),
    "utf8-bom": lambda t: codecs.BOM_UTF8 + t.encode("utf-8"),
    "utf16-bom": lambda t: codecs.BOM_UTF16_LE + t.encode("utf-16-le"),
}


@pytest.mark.parametrize("encoding", list(_ENCODINGS))
@pytest.mark.parametrize("name, before, after", [
    ("node-fail-typo.json", "ecr:GetDownloadUrlForLayers", "ecr:GetDownloadUrlForLayer"),
    ("node-fail-bad-version.yaml", '"2012-10-18"', '"2012-10-17"'),
])
def test_real_fixes_keep_encoding_line_ends_and_comments(repo, capsys, encoding, name, before, after):
    source = FIXTURES / "iam" / "node-role-policies"
    shutil.copy(source / ".ecrlint.yaml", repo / ".ecrlint.yaml")
    text = (source / name).read_text()
    assert before in text
    encode = _ENCODINGS[encoding]
    (repo / name).write_bytes(encode(text))
    (repo / name).chmod(0o604)
    check("--fix", name)
    assert (repo / name).read_bytes() == encode(text.replace(before, after, 1))
    assert stat.S_IMODE((repo / name).stat().st_mode) == 0o604
    assert _leftovers(repo) == []
