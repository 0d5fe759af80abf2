"""The only ways ecrlint writes files: atomically, never over an input, never through a stale read."""

from __future__ import annotations

import os
import stat
import tempfile
from typing import Callable

from ..config import ConfigError


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


def _in_tree_parts(path: str, cwd: str) -> list[str]:
    """The paths of ``path``'s components that lie inside the working tree, shortest first.

    Those are what a scanned repository controls: a committed ``reports -> /etc`` directory link or an
    ``ecrlint.sarif -> ../victim`` file link. Components above the working tree are the user's own.
    """
    absolute = os.path.normpath(os.path.join(cwd, path))
    root = os.path.normpath(cwd)
    if not (absolute + os.sep).startswith(root.rstrip(os.sep) + os.sep) or absolute == root:
        return [absolute]
    parts = []
    current = absolute
    while current != root and current.startswith(root.rstrip(os.sep) + os.sep):
        parts.append(current)
        current = os.path.dirname(current)
    return parts[::-1]


def check_output_path(output: str, cwd: str) -> str:
    """Where ``--output`` may be written, or a ConfigError saying why not; returns the absolute path.

    Never through a symbolic link (the file itself or a directory inside the working tree), never
    over a directory, a device, a FIFO or a read-only file, and never into a directory that is missing.
    """
    target = os.path.normpath(os.path.join(cwd, output))
    for part in _in_tree_parts(output, cwd):
        try:
            st = os.lstat(part)
        except FileNotFoundError:
            if part == target:
                break
            raise ConfigError(f"--output {output}: directory {os.path.dirname(target)} does not exist") from None
        except OSError as exc:
            raise ConfigError(f"--output {output}: {exc.strerror}") from None
        if stat.S_ISLNK(st.st_mode):
            what = "is a symbolic link" if part == target else f"goes through the symbolic link {part}"
            raise ConfigError(f"--output {output} {what}; ecrlint does not write through links (remove it or choose another path)")
        if part != target and not stat.S_ISDIR(st.st_mode):
            raise ConfigError(f"--output {output}: {part} is not a directory")
    directory = os.path.dirname(target)
    if not os.path.isdir(directory):
        raise ConfigError(f"--output {output}: directory {directory} does not exist")
    try:
        st = os.lstat(target)
    except FileNotFoundError:
        return target
    except OSError as exc:
        raise ConfigError(f"--output {output}: {exc.strerror}") from None
    if stat.S_ISLNK(st.st_mode):
        raise ConfigError(f"--output {output} is a symbolic link; ecrlint does not write through links (remove it or choose another path)")
    if stat.S_ISDIR(st.st_mode):
        raise ConfigError(f"--output {output} is a directory; name a file")
    if not stat.S_ISREG(st.st_mode):
        raise ConfigError(f"--output {output} is not a regular file")
    if not st.st_mode & 0o222:  # checked on the mode: root may write anything, but a 0444 file says "keep"
        raise ConfigError(f"--output {output} is read-only; ecrlint will not replace it")
    return target


def write_output(output: str, cwd: str, data: str) -> None:
    """Write the report to ``--output``: checked as above, then a temporary file renamed over it.

    ``os.replace`` replaces the directory entry itself, so even a link created after the check is
    replaced, not followed.
    """
    target = check_output_path(output, cwd)
    directory = os.path.dirname(target)
    try:
        mode = os.lstat(target).st_mode & 0o7777
    except FileNotFoundError:
        mode = _new_file_mode()
    try:
        _write_and_rename(directory, target, data.encode("utf-8"), mode)
    except OSError as exc:
        raise ConfigError(f"--output {output}: cannot write in {directory}: {exc.strerror}") from None


def _new_file_mode() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def _write_and_rename(directory: str, target: str, payload: bytes, mode: int,
                      before_rename: Callable[[str], None] | None = None) -> None:
    """A temporary file in ``directory`` with ``payload`` and ``mode``, renamed over ``target``; on
    any failure (``before_rename`` may raise) the temporary is removed and nothing else changes."""
    fd, tmp = tempfile.mkstemp(prefix=".ecrlint-", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())  # the rename must never publish a file whose bytes are not on disk
        os.chmod(tmp, mode)
        if before_rename is not None:
            before_rename(tmp)
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


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
            mode = _new_file_mode()
    payload = data.encode("utf-8") if isinstance(data, str) else data

    def keep_owner_and_check(tmp: str) -> None:
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

    _write_and_rename(directory, path, payload, mode, keep_owner_and_check)
