"""Regenerate docs/rules.md from the rules' docstrings: ``python scripts/gen_docs.py``."""

from __future__ import annotations

from pathlib import Path

from ecrlint.docs import render_rules_markdown
from ecrlint.registry import load_registry

if __name__ == "__main__":
    target = Path(__file__).resolve().parent.parent / "docs" / "rules.md"
    target.parent.mkdir(exist_ok=True)
    target.write_text(render_rules_markdown(load_registry(plugins=False)))
    print(f"wrote {target}")
