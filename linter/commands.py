"""``rules``, ``explain`` and ``links``: each takes parsed arguments, prints, and returns an exit code."""

from __future__ import annotations

import argparse
import json
import os
import sys

from .escape import visible

EXIT_OK, EXIT_ERROR = 0, 2


def _error(message: str) -> int:
    print(f"ecrlint: {visible(message)}", file=sys.stderr)
    return EXIT_ERROR


def rules(args: argparse.Namespace) -> int:
    from .registry import load_registry

    registry = load_registry()
    if args.format == "json":
        from . import __version__

        data = [
            {
                "id": r.id,
                "name": r.name,
                "severity": r.severity.label,
                "enabled": bool(r.enabled_by_default),
                "summary": r.summary(),
                "options": [o.key for o in r.options],
                "help_uri": r.help_uri(),
            }
            for r in registry
        ]
        # Versioned like check's JSON; the schema: ecrlint/data/rules-schema.json, docs/schemas/.
        print(json.dumps({"version": 1, "tool": {"name": "ecrlint", "version": __version__}, "rules": data}, indent=2))
        return EXIT_OK
    for r in registry:
        state = "on" if r.enabled_by_default else "off"
        print(f"{r.id}  {r.name:<40} {r.severity.label:<8} {state:<4} {r.summary()}")
    return EXIT_OK


def explain(args: argparse.Namespace) -> int:
    from .registry import load_registry

    registry = load_registry()
    rule = registry.get(args.rule.upper()) or next((r for r in registry if r.name == args.rule.lower()), None)
    if rule is None:
        return _error(f"unknown rule ID '{args.rule}' (see `ecrlint rules`)")
    print(f"# {rule.id} {rule.name} ({rule.severity.label}{'' if rule.enabled_by_default else ', off by default'})\n")
    print(rule.doc())
    return EXIT_OK


def links(args: argparse.Namespace) -> int:
    from .analysis.links import build_links
    from .config import ConfigError
    from .engine import RunOptions, UnsupportedEnvironment, run
    from .output.links import format_json, format_text

    try:
        result = run(RunOptions(paths=args.paths, config=args.config, cwd=os.getcwd(), select="ECR001"))
    except (ConfigError, UnsupportedEnvironment) as exc:
        return _error(str(exc))
    built = build_links(result.workspace, result.config)
    text = format_json(built) if args.format == "json" else format_text(built)
    sys.stdout.write(text if text.endswith("\n") else text + "\n")
    return EXIT_OK


def completion(args: argparse.Namespace) -> int:
    from .completion import SCRIPTS

    sys.stdout.write(SCRIPTS[args.shell]())
    return EXIT_OK
