"""The only ways ecrlint writes files: atomically, never over an input, never through a stale read."""

from __future__ import annotations

import os
import tempfile

from .config import ConfigError


class ChangedOnDisk(Exception):
    """The file changed after it was read: writing now would clobber someone else's edit."""


def refuse_input_overwrite(output: str, inputs: list[str], cwd: str) -> None:
    """``--output`` must not name a file that is being linted (or sit inside a linted directory as YAML/JSON)."""
    target = os.path.realpath(os.path.join(cwd, output))
    for path in inputs:
        if path == "-":
            continue
        real = os.path.realpath(os.path.join(cwd, path))
        if target == real:
            raise ConfigError(f"--output {output} would overwrite an input file; choose another path")
        if os.path.isdir(real) and target.startswith(real + os.sep) and os.path.exists(target) \
                and target.endswith((".yaml", ".yml", ".json", ".template")):
            raise ConfigError(f"--output {output} would overwrite a file being linted; choose another path")


def _same_file(a: os.stat_result, b: os.stat_result) -> bool:
    return (a.st_ino, a.st_dev, a.st_size, a.st_mtime_ns) == (b.st_ino, b.st_dev, b.st_size, b.st_mtime_ns)


def write_atomic(path: str, data: str | bytes, mode: int | None = None,
                 unchanged_since: os.stat_result | None = None) -> None:
    """Write via a temporary file in the same directory and rename: readers never see half a file.

    A symlink is written through (its target is replaced, the link stays a link). The file keeps its
    mode and, where permitted, its owner. ``unchanged_since``: the ``stat`` taken when the content was
    read; if the file no longer matches it just before the rename, nothing is written (ChangedOnDisk).
    """
    path = os.path.realpath(path)
    directory = os.path.dirname(path) or "."
    try:
        current: os.stat_result | None = os.stat(path)
    except FileNotFoundError:
        current = None
    if mode is None:
        if current is not None:
            mode = current.st_mode & 0o7777
        else:
            umask = os.umask(0)
            os.umask(umask)
            mode = 0o666 & ~umask
    payload = data.encode("utf-8") if isinstance(data, str) else data
    fd, tmp = tempfile.mkstemp(prefix=".ecrlint-", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())  # the rename must never publish a file whose bytes are not on disk
        os.chmod(tmp, mode)
        if current is not None and (current.st_uid, current.st_gid) != (os.getuid(), os.getgid()):
            try:
                os.chown(tmp, current.st_uid, current.st_gid)
            except PermissionError:  # only root can give a file away; the mode is kept regardless
                pass
        if unchanged_since is not None:
            try:
                now = os.stat(path)
            except FileNotFoundError:
                raise ChangedOnDisk(f"{path} was removed since it was read") from None
            if not _same_file(now, unchanged_since):
                raise ChangedOnDisk(f"{path} changed since it was read")
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
