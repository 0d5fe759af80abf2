"""The only ways ecrlint writes files: atomically, never over an input, never through a stale read."""

from __future__ import annotations

import os
import tempfile

from .config import ConfigError


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


def write_atomic(path: str, text: str, mode: int | None = None) -> None:
    """Write via a temporary file in the same directory and rename: readers never see half a file."""
    directory = os.path.dirname(os.path.abspath(path)) or "."
    if mode is None:
        try:
            mode = os.stat(path).st_mode & 0o7777
        except FileNotFoundError:
            umask = os.umask(0)
            os.umask(umask)
            mode = 0o666 & ~umask
    fd, tmp = tempfile.mkstemp(prefix=".ecrlint-", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
