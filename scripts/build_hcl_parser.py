"""Write linter/data/hcl2-parser.bin: python-hcl2's LALR tables, prebuilt for the Terraform source.

Run after upgrading lark or python-hcl2 (the file is used only when the versions and the grammar
digest in its first line match the installed ones; otherwise ecrlint builds the tables in memory,
1-2 s per process, and never writes a cache file anywhere).

    .venv/bin/python scripts/build_hcl_parser.py
"""

from __future__ import annotations

import io
from pathlib import Path

from ecrlint.sources.terraform_hcl import PARSER_DATA, build_parser, parser_key

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    buffer = io.BytesIO()
    build_parser().save(buffer)
    target = ROOT / "linter" / PARSER_DATA
    target.write_bytes(parser_key().encode("utf-8") + b"\n" + buffer.getvalue())
    print(f"wrote {target.relative_to(ROOT)} ({target.stat().st_size:,} bytes) for {parser_key()}")


if __name__ == "__main__":
    main()
