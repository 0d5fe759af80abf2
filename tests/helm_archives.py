"""Chart archives (.tgz) used by the Helm fixtures, built byte-for-byte reproducibly from source here."""

from __future__ import annotations

import gzip
import io
import tarfile
from pathlib import Path

FIXTURES = Path(__file__).parent / "fixtures" / "helm"

# tests/fixtures/helm/archive/charts/tools-0.2.0.tgz, as `helm package` lays it out: tools/...
TOOLS = {
    "tools/Chart.yaml": "apiVersion: v2\nname: tools\nversion: 0.2.0\nappVersion: \"0.2.0\"\n",
    "tools/values.yaml": "image:\n  repository: tools\n  tag: \"0.2.0\"\n",
    "tools/templates/job.yaml": (
        "apiVersion: batch/v1\n"
        "kind: Job\n"
        "metadata:\n"
        "  name: {{ .Release.Name }}-tools\n"
        "spec:\n"
        "  template:\n"
        "    spec:\n"
        "      restartPolicy: Never\n"
        "      containers:\n"
        "        - name: tools\n"
        "          image: \"{{ .Values.image.repository }}:{{ .Values.image.tag }}\"\n"
    ),
}
ARCHIVES = {FIXTURES / "archive" / "charts" / "tools-0.2.0.tgz": TOOLS}


def build_archive(files: dict[str, str | bytes], *, extra: list[tarfile.TarInfo] | None = None) -> bytes:
    """A gzip'd tar of ``files`` with fixed mtimes and owners (same bytes on every run)."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name in sorted(files):
            data = files[name].encode() if isinstance(files[name], str) else files[name]
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mtime = 0
            info.mode = 0o644
            tar.addfile(info, io.BytesIO(data))
        for info in extra or []:
            tar.addfile(info, io.BytesIO(b"x" * info.size) if info.isreg() else None)
    out = io.BytesIO()
    with gzip.GzipFile(fileobj=out, mode="wb", mtime=0) as gz:
        gz.write(raw.getvalue())
    return out.getvalue()


def write_archives() -> None:
    for path, files in ARCHIVES.items():
        path.write_bytes(build_archive(files))


if __name__ == "__main__":
    write_archives()
