"""``docs/rules.md`` generated from the rules themselves (a test keeps the file current)."""

from __future__ import annotations

from .registry import Registry


def render_rules_markdown(registry: Registry) -> str:
    out = [
        "# ecrlint rules",
        "",
        "Generated from the rules' own documentation by `python scripts/gen_docs.py`; do not edit by hand.",
        "",
        "| ID | name | default severity | enabled by default | summary |",
        "|---|---|---|---|---|",
    ]
    for rule in registry:
        anchor = f"{rule.id.lower()}-{rule.name}"
        out.append(
            f"| [{rule.id}](#{anchor}) | `{rule.name}` | {rule.severity.label} | "
            f"{'yes' if rule.enabled_by_default else 'no'} | {rule.summary()} |"
        )
    for rule in registry:
        out += ["", f"## {rule.id} {rule.name}", "", f"*{rule.summary()}* Default severity: **{rule.severity.label}**"
                f"{'' if rule.enabled_by_default else ' (off by default)'}.", ""]
        for title, body in rule.sections().items():
            out += [f"### {title}", "", body, ""]
    return "\n".join(out).rstrip() + "\n"
