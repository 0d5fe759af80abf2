"""``python -m ecrlint``."""

import os
import sys

# `python -m` puts the working directory first on sys.path, and the working directory is usually the
# repository being scanned: a committed `yaml.py` would be imported in place of PyYAML, and a
# committed `*.egg-info/entry_points.txt` would register a rule pack, running its code. Nothing
# ecrlint needs lives there (Python 3.11's `-P` does the same; this covers runs without it).
if not sys.flags.safe_path and sys.path and sys.path[0] in ("", os.getcwd()):
    del sys.path[0]

from ecrlint.cli import main  # noqa: E402 - only after the path is safe

raise SystemExit(main())
