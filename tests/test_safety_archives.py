"""Hostile chart archives (safe on untrusted pull requests): bounded memory, a clean ECR401, the run goes on.

A pull request controls every byte of a vendored ``charts/*.tgz``. Python's tarfile reads a PAX
extended header or a GNU long name whole at whatever size its header declares, so a 2 MB archive
declaring 2 GiB took 2-5 GB and then hung in tarfile's header regexes. The loader now parses the
tar stream itself (linter/helm/tarstream.py) and pays for every byte before it is decompressed.

Each hostile archive here is first shown to be hostile: plain tarfile, in a child limited to
``TARFILE_MEMORY`` of address space, dies with MemoryError on it. Then ecrlint runs over all of them
in one child limited to ``CLI_MEMORY``: exit 1, the exact ECR401 for each, and every other file's
findings. No timing assertions; ``timeout`` only turns a hang into a failure.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
from collections.abc import Iterable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ecrlint.helm import loader
from ecrlint.helm.tarstream import MAX_HEADER_BYTES, MAX_SPARSE_ENTRIES, TarReader
from helm_archives import build_archive

KIB = 1 << 10
MIB = 1 << 20
GIB = 1 << 30
MAX_BYTES = 10 * MIB  # ecrlint's default max-file-size
TOTAL = MAX_BYTES * loader.TOTAL_FACTOR
HUGE = 2 * GIB  # what the hostile headers declare
TARFILE_MEMORY = 500 * MIB  # plenty for python + tarfile on any honest archive
CLI_MEMORY = 1 * GIB  # an ecrlint run over every hostile chart below, in one process tree
HANG_GUARD = 600

_WITH_LIMIT = """
import os, resource, sys
limit = int(sys.argv[1])
resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
os.execv(sys.argv[2], sys.argv[2:])
"""


def limited(limit: int, *argv: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """``argv`` in a child whose address space is capped at ``limit`` bytes (a launcher, not preexec_fn)."""
    return subprocess.run(
        [sys.executable, "-c", _WITH_LIMIT, str(limit), *argv], check=False, cwd=cwd, capture_output=True, text=True,
        timeout=HANG_GUARD, env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
    )


# --- raw tar pieces --------------------------------------------------------------------------------


def header(name: str, size: int, kind: bytes = b"0", *, link: str = "", fields: dict[int, bytes] | None = None) -> bytes:
    """One ustar header block declaring any ``size`` (GNU base-256 past the octal range), checksum fixed."""
    buf = bytearray(512)
    buf[0:100] = name.encode()[:100].ljust(100, b"\0")
    buf[100:124] = b"0000644\0" b"0000000\0" b"0000000\0"
    buf[124:136] = b"%011o\0" % size if size < 8**11 else b"\x80" + size.to_bytes(11, "big")
    buf[136:148] = b"00000000000\0"
    buf[156:157] = kind
    buf[157:257] = link.encode()[:100].ljust(100, b"\0")
    buf[257:265] = b"ustar\x0000"
    for offset, value in (fields or {}).items():
        buf[offset:offset + len(value)] = value
    buf[148:156] = b" " * 8
    buf[148:156] = b"%06o\0 " % sum(buf)
    return bytes(buf)


def padded(data: bytes) -> bytes:
    return data + b"\0" * (-len(data) % 512)


def member(name: str, data: bytes, kind: bytes = b"0") -> bytes:
    return header(name, len(data), kind) + padded(data)


def pax(records: dict[str, str]) -> bytes:
    out = b""
    for key, value in records.items():
        body = f" {key}={value}\n".encode()
        length = len(body) + 1
        while len(str(length)) + len(body) != length:
            length += 1
        out += str(length).encode() + body
    return out


END = b"\0" * 1024
CHART = "apiVersion: v2\nname: {name}\nversion: 1.0.0\n"
POD = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\nspec:\n  containers:\n    - name: app\n      image: nginx:1.25\n"


def chart_members(name: str) -> bytes:
    return member(f"{name}/Chart.yaml", CHART.format(name=name).encode()) + member(
        f"{name}/templates/pod.yaml", POD.format(name=name).encode()
    )


def write_gzip(path: Path, parts: Iterable[bytes | tuple[bytes, int]]) -> Path:
    """A multi-member gzip file, written as it goes: bytes are one member, (chunk, n) one member n times.

    Repeating one compressed member is how a ~1 MB file inflates to gigabytes without the test
    compressing gigabytes (gzip readers, tarfile's and ours, read concatenated members as one stream).
    """
    with open(path, "wb") as out:
        for part in parts:
            if isinstance(part, tuple):
                chunk, times = part
                compressed = gzip.compress(chunk, compresslevel=9, mtime=0)
                out.writelines(compressed for _ in range(times))
            else:
                out.write(gzip.compress(part, mtime=0))
    return path


ZEROS = b"\0" * (16 * MIB)
DIGITS = b"0" * (16 * MIB)  # a PAX "record length" that never ends: what made tarfile's regexes quadratic


def huge_header(path: Path, kind: bytes, body: int = 4 * KIB) -> Path:
    """An extension header declaring 2 GiB, then ``body`` bytes of it (the rest is missing)."""
    name = {b"x": "././@PaxHeader", b"g": "././@PaxGlobal", b"L": "././@LongLink", b"K": "././@LongLink"}[kind]
    if body < len(DIGITS):
        return write_gzip(path, [header(name, HUGE, kind) + b"0" * body])
    return write_gzip(path, [header(name, HUGE, kind), (DIGITS, body // len(DIGITS))])


HOSTILE_HEADERS = {
    # name: (typeflag, bytes of the declared 2 GiB actually present, what the ECR401 calls it)
    "pax": (b"x", 4 * KIB, "PAX extended header"),
    "pax-global": (b"g", 4 * KIB, "PAX global header"),
    "gnu-long-name": (b"L", 4 * KIB, "GNU long name"),
    "gnu-long-link": (b"K", 4 * KIB, "GNU long link name"),
    # The archive: the whole 2 GiB PAX payload present, 2 MB once compressed.
    "pax-2gib-payload": (b"x", HUGE, "PAX extended header"),
}


def refused_header(display: str, label: str) -> str:
    return (
        f"{display}: the {label} at byte 0 declares {HUGE} bytes, more than the {MAX_HEADER_BYTES}-byte limit "
        "(Helm's limit for one tar header)"
    )


# --- the archives are hostile: plain tarfile runs out of memory on them ----------------------------


@pytest.mark.parametrize("kind", sorted(HOSTILE_HEADERS))
def test_plain_tarfile_runs_out_of_memory_on_the_hostile_headers(tmp_path, kind):
    # What the loader did before: it is why the CLI test below would fail on the old code.
    flag, body, _label = HOSTILE_HEADERS[kind]
    path = huge_header(tmp_path / "evil.tgz", flag, body)
    assert path.stat().st_size < 3 * MIB
    script = "import sys, tarfile\nwith tarfile.open(sys.argv[1]) as t:\n    t.getmembers()\n"
    proc = limited(TARFILE_MEMORY, sys.executable, "-c", script, str(path), cwd=tmp_path)
    assert proc.returncode != 0 and "MemoryError" in proc.stderr, proc.stderr[-2000:]


# --- every hostile archive in one ecrlint run, under a memory limit --------------------------------


def _chart_dir(root: Path, name: str, archive: Path | None = None) -> Path:
    chart = root / name
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text(CHART.format(name=name))
    (chart / "templates" / "pod.yaml").write_text(POD.format(name=name))
    if archive is not None:
        (chart / "charts").mkdir()
        shutil.move(archive, chart / "charts" / "evil-1.0.0.tgz")
    return chart


def _hostile_repo(root: Path) -> dict[str, tuple[str, str]]:
    """Charts vendoring hostile archives; returns chart -> (ECR401 path, message after the rule's prefix)."""
    expected: dict[str, tuple[str, str]] = {}
    scratch = root.parent / "scratch"
    scratch.mkdir()

    def subchart(name: str, reason: str) -> None:
        path = f"{name}/charts/evil-1.0.0.tgz"
        expected[name] = (path, f"subchart 'evil-1.0.0.tgz' cannot be loaded: {path}{reason}")

    def whole(name: str, reason: str) -> None:
        expected[name] = (f"{name}/Chart.yaml", f"the chart cannot be loaded: {reason}")

    for name, (flag, body, label) in HOSTILE_HEADERS.items():
        _chart_dir(root, name, huge_header(scratch / f"{name}.tgz", flag, body))
        subchart(name, refused_header("", label))

    # gzip bomb: 1 GiB of zeros (~1 MB compressed) in an entry the loader skips (outside the chart
    # directory). Skipped bytes are paid before they are inflated: the total is gone at once.
    bomb = [chart_members("bomb") + header("bomb/../zeros.bin", GIB), (ZEROS, GIB // len(ZEROS)), END]
    _chart_dir(root, "gzip-bomb", write_gzip(scratch / "bomb.tgz", bomb))
    whole("gzip-bomb", f"the chart is larger than {TOTAL} bytes in total (gzip-bomb/charts/evil-1.0.0.tgz "
                       "decompresses past it)")

    # Many files that are each allowed (1 MiB of zeros): the chart's total stops them at 100.
    files = [chart_members("files")]
    for i in range(200):
        files += [header(f"files/files/{i}.bin", MIB), (b"\0" * MIB, 1)]
    _chart_dir(root, "many-big-files", write_gzip(scratch / "files.tgz", files + [END]))
    whole("many-big-files", f"the chart is larger than {TOTAL} bytes in total")

    # Many tiny entries: 30,000 directories (no files, no bytes to speak of) hit the entry cap.
    dirs = [chart_members("dirs") + b"".join(header(f"dirs/d{i}/", 0, b"5") for i in range(30_000)) + END]
    _chart_dir(root, "many-entries", write_gzip(scratch / "dirs.tgz", dirs))
    subchart("many-entries", f": more than {loader.MAX_ENTRIES} tar headers")

    # A sparse file that expands to 2 GiB from a few bytes (old GNU format, one 4-byte chunk).
    sparse = header("sparse/files/huge.bin", 512, b"S", fields={
        386: b"%011o\0" % 0, 398: b"%011o\0" % 4, 483: b"%011o\0" % HUGE,
    })
    _chart_dir(root, "sparse", write_gzip(scratch / "sparse.tgz", [chart_members("sparse") + sparse + padded(b"data") + END]))
    subchart("sparse", f":files/huge.bin is {HUGE} bytes, larger than the {MAX_BYTES}-byte limit (max-file-size)")

    # An archive in an archive: the inner one is the 2 GiB PAX header.
    inner = huge_header(scratch / "inner.tgz", b"x").read_bytes()
    outer = chart_members("outer") + member("outer/charts/inner-1.0.0.tgz", inner) + END
    _chart_dir(root, "nested", write_gzip(scratch / "outer.tgz", [outer]))
    path = "nested/charts/evil-1.0.0.tgz/outer/charts/inner-1.0.0.tgz"
    # the finding sits on the archive an editor can open, the path inside it in the message
    expected["nested"] = ("nested/charts/evil-1.0.0.tgz", "subchart 'inner-1.0.0.tgz' cannot be loaded: "
                          + refused_header(path, "PAX extended header")
                          + " (at outer/charts/inner-1.0.0.tgz:1:1 inside the archive)")

    # Not hostile: 1 GiB of zeros after the end-of-archive marker is never inflated.
    trailing = [chart_members("tools") + END, (ZEROS, GIB // len(ZEROS))]
    _chart_dir(root, "trailing-zeros", write_gzip(scratch / "trailing.tgz", trailing))

    (root / "zz-sentinel.yaml").write_text(POD.format(name="sentinel"))
    return expected


@pytest.mark.slow
def test_hostile_archives_in_one_run_within_a_memory_limit(tmp_path):
    root = tmp_path / "repo"
    root.mkdir()
    expected = _hostile_repo(root)
    proc = limited(CLI_MEMORY, sys.executable, "-m", "ecrlint", "check", "--helm-engine", "builtin",
                   "--format", "json", ".", cwd=root)
    assert proc.returncode == 1, proc.stderr[-3000:]
    assert "Traceback" not in proc.stderr and "MemoryError" not in proc.stderr
    findings = json.loads(proc.stdout)["findings"]
    errors: dict[str, list[dict]] = {}
    for f in findings:
        if f["rule"] == "ECR401":
            errors.setdefault(f["path"].split("/", 1)[0], []).append(f)
    for chart, (path, message) in expected.items():
        got = errors.pop(chart, [])
        assert len(got) == 1, (chart, [g for g in findings if g["path"].startswith(chart)])
        assert (got[0]["path"], got[0]["line"], got[0]["column"]) == (path, 1, 1)
        assert got[0]["message"] == f'chart "{chart}" cannot be rendered offline: {message}'
    assert not errors, errors  # trailing-zeros (and nothing else) loads cleanly
    found = {(f["path"], f["rule"], f["line"], f["column"]) for f in findings}
    assert ("zz-sentinel.yaml", "ECR101", 8, 14) in found
    # A refused subchart leaves its parent rendered; a chart over its total is not rendered at all.
    rendered = {p.split("/", 1)[0] for p, rule, _l, _c in found
                if rule == "ECR101" and (p.endswith("/pod.yaml") or p.endswith(".tgz"))}
    assert rendered == set(HOSTILE_HEADERS) | {"many-entries", "sparse", "nested", "trailing-zeros"}
    # trailing-zeros' subchart did load: its pod is a finding on the archive (an editor can open
    # it), the template inside named in the message
    inside = [f for f in findings if f["path"] == "trailing-zeros/charts/evil-1.0.0.tgz" and f["rule"] == "ECR101"]
    assert inside and "tools/templates/pod.yaml" in inside[0]["message"]


def test_a_chart_archive_loaded_directly_within_a_memory_limit(tmp_path):
    # load()/load_chart() take a .tgz path too (the CLI hands them chart directories).
    huge_header(tmp_path / "evil.tgz", b"x")
    script = (
        "import json, sys\nfrom ecrlint.helm import load_chart\n"
        "parsed = load_chart(sys.argv[1], 'evil.tgz', engine='builtin')\n"
        "print(json.dumps([[e.loc.path, e.message] for e in parsed.chart.render_errors]))\n"
    )
    proc = limited(CLI_MEMORY, sys.executable, "-c", script, "evil.tgz", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert json.loads(proc.stdout) == [["evil.tgz/Chart.yaml", "the chart cannot be loaded: " + refused_header(
        "evil.tgz", "PAX extended header")]]


# --- the loader's limits, one at a time (small declared sizes: safe in-process) --------------------


def _read(data: bytes, max_bytes: int = MAX_BYTES) -> tuple[str, dict[str, bytes]]:
    return loader.read_archive(data, loader._Budget(max_bytes), "t.tgz")


def _gz(raw: bytes) -> bytes:
    return gzip.compress(raw, mtime=0)


@pytest.mark.parametrize("kind", [b"x", b"g", b"L", b"K"])
def test_an_extension_header_over_the_limit_is_refused_before_it_is_read(kind):
    budget = loader._Budget(4000)
    data = _gz(header("././@Ext", 5000, kind) + b"9" * 5120 + chart_members("t") + END)
    label = {b"x": "PAX extended header", b"g": "PAX global header", b"L": "GNU long name", b"K": "GNU long link name"}
    with pytest.raises(loader.ChartLoadError) as raised:
        loader.read_archive(data, budget, "t.tgz")
    assert str(raised.value) == (
        f"t.tgz: the {label[kind]} at byte 0 declares 5000 bytes, more than the 4000-byte limit (max-file-size)"
    )
    assert budget.total == 4000 * loader.TOTAL_FACTOR - 512  # only the header block was paid for (and read)


def test_extension_headers_are_paid_from_the_total():
    # Within the size limits but past what is left of the chart's total: refused before reading.
    budget = loader._Budget(MIB)
    budget.total = 2000
    data = _gz(header("././@PaxHeader", 100_000, b"x") + padded(b"9" * 100_000) + chart_members("t") + END)
    with pytest.raises(loader.ChartLoadError, match=r"^the chart is larger than 10485760 bytes in total \(t.tgz "):
        loader.read_archive(data, budget, "t.tgz")


def test_a_long_name_within_the_limits_is_read_like_tarfile_reads_it():
    name = "t/templates/" + "n" * 300 + ".yaml"
    for fmt in (tarfile.PAX_FORMAT, tarfile.GNU_FORMAT):
        raw = io.BytesIO()
        with tarfile.open(fileobj=raw, mode="w", format=fmt) as tar:
            for path, text in (("t/Chart.yaml", "name: t\n"), (name, "a: 1\n")):
                info = tarfile.TarInfo(path)
                info.size = len(text)
                tar.addfile(info, io.BytesIO(text.encode()))
        assert _read(_gz(raw.getvalue())) == _tarfile_read(_gz(raw.getvalue()))


def test_many_members_each_header_counts():
    # Every header is paid for from the chart's total, files or not.
    raw = chart_members("t") + b"".join(header(f"t/d{i}/", 0, b"5") for i in range(100)) + END
    budget = loader._Budget(MIB)
    loader.read_archive(_gz(raw), budget, "t.tgz")
    assert MIB * loader.TOTAL_FACTOR - budget.total == len(raw) - len(END) + 512  # headers, data, padding, end block
    many = _gz(b"".join(header(f"t/d{i}/", 0, b"5") for i in range(loader.MAX_ENTRIES + 1)) + END)
    with pytest.raises(loader.ChartLoadError, match=f"^t.tgz: more than {loader.MAX_ENTRIES} tar headers$"):
        _read(many)
    files = _gz(b"".join(member(f"t/f{i}", b"x") for i in range(loader.MAX_FILES + 1)) + END)
    with pytest.raises(loader.ChartLoadError, match=f"^the chart has more than {loader.MAX_FILES} files$"):
        _read(files)


def test_sparse_maps_are_capped():
    # Old GNU format: extension blocks of 21 entries each, 500 of them.
    ext = b""
    for block in range(500):
        entries = b"".join(b"%011o\0%011o\0" % (block * 1000 + i * 10 + 1, 1) for i in range(21))
        ext += entries.ljust(504, b"\0") + (b"\1" if block < 499 else b"\0") + b"\0" * 7
    gnu = header("t/f", 0, b"S", fields={482: b"\1", 483: b"%011o\0" % 10})
    with pytest.raises(loader.ChartLoadError, match=f"a sparse map of more than {MAX_SPARSE_ENTRIES} entries"):
        _read(_gz(chart_members("t") + gnu + ext + END))
    # PAX 1.0: the map's entry count, at the start of the data, is checked before entries are read.
    records = pax({"GNU.sparse.major": "1", "GNU.sparse.minor": "0", "GNU.sparse.name": "t/f",
                   "GNU.sparse.realsize": "10"})
    one = header("././@PaxHeader", len(records), b"x") + padded(records) + header("t/GNUSparseFile.0/f", 512)
    with pytest.raises(loader.ChartLoadError, match=f"a sparse map of more than {MAX_SPARSE_ENTRIES} entries"):
        _read(_gz(chart_members("t") + one + padded(b"1000000000\n") + END))
    # PAX 0.1: a map of 20,001 numbers.
    records = pax({"GNU.sparse.size": "10", "GNU.sparse.map": ",".join(["0"] * (2 * MAX_SPARSE_ENTRIES + 1))})
    zero_one = header("././@PaxHeader", len(records), b"x") + padded(records) + header("t/f", 0)
    with pytest.raises(loader.ChartLoadError, match=f"a sparse map of more than {MAX_SPARSE_ENTRIES} entries"):
        _read(_gz(chart_members("t") + zero_one + END))


def test_a_sparse_map_outside_its_file_is_refused():
    # tarfile would loop for ever on overlapping chunks, or read the next header as content.
    for chunks in ([(0, 4), (2, 4)], [(0, 4), (8, 100)]):
        records = pax({"GNU.sparse.size": "20", "GNU.sparse.map": ",".join(f"{o},{n}" for o, n in chunks)})
        data = chart_members("t") + header("././@PaxHeader", len(records), b"x") + padded(records)
        data += header("t/f", 8) + padded(b"abcdefgh") + END
        with pytest.raises(loader.ChartLoadError, match=r"^t.tgz is not a readable chart archive \(t/f: invalid sparse map\)$"):
            _read(_gz(data))


def _gnu_tar() -> bool:
    tar = shutil.which("tar")
    return tar is not None and b"GNU tar" in subprocess.run([tar, "--version"], check=False, capture_output=True).stdout


@pytest.mark.skipif(not _gnu_tar(), reason="needs GNU tar to write sparse archives")
@pytest.mark.parametrize("args", [["--format=gnu"], ["--format=posix", "--sparse-version=0.0"],
                                  ["--format=posix", "--sparse-version=0.1"], ["--format=posix", "--sparse-version=1.0"]])
def test_real_sparse_archives_read_like_tarfile_reads_them(tmp_path, args):
    chart = tmp_path / "c"
    (chart / "files").mkdir(parents=True)
    (chart / "Chart.yaml").write_text(CHART.format(name="c"))
    with open(chart / "files" / "holes.bin", "wb") as handle:
        for i in range(40):  # 40 chunks: the old GNU format needs extension blocks
            handle.seek(i * 20_000)
            handle.write(b"chunk %d" % i)
        handle.truncate(900_000)
    with open(chart / "files" / "empty.bin", "wb") as handle:
        handle.truncate(50_000)
    subprocess.run(["tar", *args, "--sparse", "-czf", "c.tgz", "c"], cwd=tmp_path, check=True)
    data = (tmp_path / "c.tgz").read_bytes()
    root, files = _read(data)
    assert (root, files) == _tarfile_read(data)
    assert files["files/holes.bin"][20_000:20_007] == b"chunk 1" and len(files["files/empty.bin"]) == 50_000


def test_truncated_and_corrupt_streams_are_clean_errors():
    good = build_archive({"t/Chart.yaml": "name: t\n", "t/templates/a.yaml": "a: 1\n" * 500})
    for data, reason in (
        (good[: len(good) // 2], "corrupt compressed data: Compressed file ended before the end-of-stream marker was reached"),
        (good[:10] + bytes(b ^ 0x55 for b in good[10:]), "corrupt compressed data: "),
        (_gz(header("t/a", 5000) + b"x" * 100), "unexpected end of data"),
        (_gz(header("././@PaxHeader", 20, b"x") + padded(b"30 path=t/x\n")), "invalid header"),
        (b"", "empty header"),
    ):
        with pytest.raises(loader.ChartLoadError, match=r"^t.tgz is not a readable chart archive \(") as raised:
            _read(data)
        assert reason in str(raised.value)


# --- honest archives read exactly as before --------------------------------------------------------


def _tarfile_read(data: bytes, max_bytes: int = MAX_BYTES) -> tuple[str, dict[str, bytes]]:
    """The loader before tarstream (tarfile, "r:*"), for honest archives: the reference."""
    files: dict[str, bytes] = {}
    root = ""
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:*") as archive:
        for entry in archive:
            if not entry.isreg():
                continue
            parts = [p for p in entry.name.replace("\\", "/").split("/") if p not in ("", ".")]
            if len(parts) < 2 or ".." in parts or entry.name.startswith("/"):
                continue
            root = root or parts[0]
            handle = archive.extractfile(entry)
            assert handle is not None
            files["/".join(parts[1:])] = handle.read(max_bytes + 1)
    return root, files


def _honest(fmt: int, mode: str) -> bytes:
    raw = io.BytesIO()
    # A PAX archive opens with a global header, as git archive writes one.
    global_header = {"comment": "0123456789abcdef"} if fmt == tarfile.PAX_FORMAT else None
    with tarfile.open(fileobj=raw, mode=mode, format=fmt, pax_headers=global_header) as tar:

        def add(name: str, data: bytes = b"", kind: bytes = tarfile.REGTYPE, link: str = "") -> None:
            info = tarfile.TarInfo(name)
            info.type, info.linkname, info.mtime = kind, link, 1_700_000_000
            info.size = len(data) if kind == tarfile.REGTYPE else 0
            tar.addfile(info, io.BytesIO(data) if kind == tarfile.REGTYPE else None)

        add("web", kind=tarfile.DIRTYPE)
        add("web/Chart.yaml", CHART.format(name="web").encode())
        add("web/templates/pod.yaml", POD.format(name="web").encode())
        add("web/files/empty.txt")
        add("web/files/exact.bin", b"\1" * 1024)
        add("web/files/big.bin", bytes(range(256)) * 4000)
        add("web/link.yaml", kind=tarfile.SYMTYPE, link="/etc/passwd")
        add("web/hard.yaml", kind=tarfile.LNKTYPE, link="web/Chart.yaml")
        add("../escape.yaml", b"a: 1\n")
        add("README.md", b"top level\n")
        if fmt != tarfile.USTAR_FORMAT:
            add("web/templates/" + "long-name-" * 20 + ".yaml", b"a: 1\n")
            add("web/files/ünïcødé-" + "x" * 100 + ".txt", "é".encode())
            add("web/l2", kind=tarfile.SYMTYPE, link="t" * 200)
        else:
            add("web/templates/" + "split-by-prefix/" * 8 + "a.yaml", b"a: 1\n")
    return raw.getvalue()


@pytest.mark.parametrize("mode", ["w:gz", "w:bz2", "w:xz", "w"])
@pytest.mark.parametrize("fmt", [tarfile.PAX_FORMAT, tarfile.GNU_FORMAT, tarfile.USTAR_FORMAT], ids=["pax", "gnu", "ustar"])
def test_honest_archives_read_exactly_as_tarfile_reads_them(fmt, mode):
    data = _honest(fmt, mode)
    assert _read(data) == _tarfile_read(data)
    assert "files/big.bin" in _read(data)[1]


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.integers(min_value=0, max_value=4095), st.integers(min_value=0, max_value=255)),
                min_size=1, max_size=6))
def test_mutated_archives_load_or_fail_cleanly(flips):
    # Bytes flipped in the tar stream (headers first): a ChartLoadError or what tarfile reads, never a crash.
    raw = bytearray(gzip.decompress(_honest(tarfile.PAX_FORMAT, "w:gz")))
    for pos, value in flips:
        raw[pos] = value
    for start in range(0, len(raw), 512):  # keep checksums valid, so the parser goes past them
        block = raw[start:start + 512]
        if len(block) == 512 and block.count(0) != 512 and block[257:262] == b"ustar":
            block[148:156] = b" " * 8
            raw[start + 148:start + 156] = b"%06o\0 " % sum(block)
    data = bytes(raw)
    try:
        root, files = _read(data)
    except loader.ChartLoadError:
        return
    try:
        reference = _tarfile_read(data)
    except (tarfile.TarError, OSError, EOFError, ValueError):
        return
    # What is read is what tarfile reads. It can be less: PAX records are framed strictly (as tarfile
    # does since CPython 3.11.10), and a bad header after the first ends the archive, as in tarfile.
    assert root == reference[0]
    assert files.items() <= reference[1].items()


def test_the_reader_holds_one_member_at_a_time():
    # No member list grows with the archive: the reader keeps only the current member.
    data = _gz(chart_members("t") + b"".join(header(f"t/d{i}/", 0, b"5") for i in range(50)) + END)
    reader = TarReader(data, lambda size: None, max_bytes=MIB, max_entries=1000)
    names = [m.name for m in reader]
    reader.close()
    assert len(names) == 52 and not [k for k, v in vars(reader).items() if isinstance(v, list)]
