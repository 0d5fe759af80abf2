"""Type-check the ecrlint package with mypy: ``python scripts/typecheck.py [mypy options]``.

The package's directory is ``linter/`` but its import name is ``ecrlint`` (and ``ecrlint.rules``
lives in ``rules/``); mypy cannot follow the editable install's import hook. This script builds a
shadow tree in a temporary directory -- ``ecrlint/`` whose entries are symlinks to each entry of
``linter/``, plus ``ecrlint/rules`` -> ``rules/`` -- runs ``python -m mypy -p ecrlint`` there with
the repository's ``pyproject.toml``, and prints mypy's report with the paths mapped back to the
repository (``linter/...``, ``rules/...``). Nothing is written into the repository; mypy's cache
lives in the temporary directory unless ``MYPY_CACHE_DIR`` says otherwise. The exit code is mypy's.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PACKAGE_DIRS = {"ecrlint/rules": "rules", "ecrlint": "linter"}  # longest prefix first
SKIP = {"__pycache__", "rules"}


def build_shadow(root: Path) -> None:
    package = root / "ecrlint"
    package.mkdir()
    for entry in sorted((REPO / "linter").iterdir()):
        if entry.name in SKIP:
            continue
        (package / entry.name).symlink_to(entry, target_is_directory=entry.is_dir())
    (package / "rules").symlink_to(REPO / "rules", target_is_directory=True)


_PATH = re.compile(r"(?<![\w./-])(ecrlint(?:/rules)?)/")


def to_repo_path(line: str, root: Path | None = None) -> str:
    """``ecrlint/rules/x.py:3: ...`` -> ``rules/x.py:3: ...``; ``ecrlint/cli.py`` -> ``linter/cli.py``.

    Absolute paths into the shadow tree under ``root`` (``--show-absolute-path``) become absolute
    paths into the repository.
    """
    if root is not None:
        for shadow, real in PACKAGE_DIRS.items():
            line = line.replace(f"{root}/{shadow}/", f"{REPO}/{real}/")
    return _PATH.sub(lambda m: PACKAGE_DIRS[m.group(1)] + "/", line)


def main(argv: list[str]) -> int:
    with tempfile.TemporaryDirectory(prefix="ecrlint-typecheck-") as tmp:
        root = Path(tmp)
        build_shadow(root)
        env = dict(os.environ)
        env.setdefault("MYPY_CACHE_DIR", str(root / ".mypy_cache"))
        command = [
            sys.executable, "-m", "mypy",
            "--config-file", str(REPO / "pyproject.toml"),
            "-p", "ecrlint",
            *argv,
        ]
        proc = subprocess.run(command, cwd=root, env=env, capture_output=True, text=True)
        for stream, text in ((sys.stdout, proc.stdout), (sys.stderr, proc.stderr)):
            for line in text.splitlines(keepends=True):
                stream.write(to_repo_path(line, root))
        return proc.returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
