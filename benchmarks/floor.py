"""The parse floor: a bare libyaml ``compose_all`` over the same files, in one process."""

# The floor is what any YAML linter must pay at least: start Python, import PyYAML, read every
# YAML/JSON file and build libyaml's node graph (with marks), nothing else. ecrlint's budget is
# 2.5x this on the corpus. Files are walked like a linter walks a tree (hidden directories,
# .git and node_modules skipped below each root); a file that is not valid YAML (a Helm template)
# costs what libyaml spends before it gives up, as it would for a linter.

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Iterator

import yaml

SUFFIXES = (".yaml", ".yml", ".json")
SKIP_DIRS = frozenset({".git", "node_modules"})

try:
    from yaml import CSafeLoader as Loader
    LIBYAML = True
except ImportError:  # the floor is meaningless without libyaml, but still runs
    from yaml import SafeLoader as Loader  # type: ignore[assignment]
    LIBYAML = False


def walk(paths: list[str]) -> Iterator[str]:
    """Yield YAML/JSON files under ``paths`` in a stable order."""
    for root in paths:
        if os.path.isfile(root):
            yield root
            continue
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith(".") and d not in SKIP_DIRS)
            for name in sorted(filenames):
                if name.endswith(SUFFIXES) and not name.startswith("."):
                    yield os.path.join(dirpath, name)


def main(argv: list[str]) -> int:
    start = time.perf_counter()
    files = documents = errors = size = 0
    for path in walk(argv):
        with open(path, "rb") as fh:
            data = fh.read()
        files += 1
        size += len(data)
        try:
            for _node in yaml.compose_all(data, Loader=Loader):
                documents += 1
        except yaml.YAMLError:
            errors += 1
    elapsed = time.perf_counter() - start
    summary = {"files": files, "bytes": size, "documents": documents, "errors": errors,
               "parse_seconds": round(elapsed, 4), "libyaml": LIBYAML}
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
