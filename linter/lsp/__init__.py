"""``ecrlint lsp``: findings in the editor as you type, across the files of each workspace folder.

Needs the ``lsp`` extra (pygls, lsprotocol): ``pip install 'ecrlint[lsp]'``. Nothing here is
imported by ``ecrlint check``.
"""

from __future__ import annotations

import sys


def main() -> int:
    """Serve the Language Server Protocol over stdin/stdout until the client says exit."""
    try:
        from .server import serve
    except ImportError as exc:
        missing = getattr(exc, "name", None) or str(exc)
        print(f"ecrlint: the language server needs pygls 2 and lsprotocol ({missing} is missing): "
              "pip install 'ecrlint[lsp]'", file=sys.stderr)
        return 2
    return serve()
