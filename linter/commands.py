"""The typer app for everything but the hot ``check`` path: ``rules``, ``explain``, ``links``."""

from __future__ import annotations

import json
import os
import sys
from typing import List, Optional

import typer

from . import __version__

app = typer.Typer(
    name="ecrlint",
    help="Will this EKS cluster be able to pull and run these container images? An offline linter.",
    no_args_is_help=True,
    add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"ecrlint {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", "-V", callback=_version, is_eager=True, help="Show the version."),
) -> None:
    """Will this EKS cluster be able to pull and run these container images?"""


@app.command(
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True, "help_option_names": []},
    add_help_option=False,
)
def check(ctx: typer.Context) -> None:
    """Lint files and directories (see `ecrlint check --help` for every option)."""
    from .cli import check_main

    raise typer.Exit(check_main(ctx.args))


@app.command("rules")
def rules_cmd(
    format: str = typer.Option("text", "--format", help="text or json"),
) -> None:
    """List every rule: ID, name, default severity, enabled by default."""
    from .registry import load_registry

    registry = load_registry()
    if format == "json":
        data = [
            {
                "id": r.id,
                "name": r.name,
                "severity": r.severity.label,
                "enabled": bool(r.enabled_by_default),
                "summary": r.summary(),
                "options": [o.key for o in r.options],
            }
            for r in registry
        ]
        typer.echo(json.dumps(data, indent=2))
        return
    if format != "text":
        typer.echo(f"ecrlint: unknown format {format!r} (use text or json)", err=True)
        raise typer.Exit(2)
    for r in registry:
        state = "on" if r.enabled_by_default else "off"
        typer.echo(f"{r.id}  {r.name:<40} {r.severity.label:<8} {state:<4} {r.summary()}")


@app.command()
def explain(rule_id: str = typer.Argument(..., metavar="ID", help="a rule ID, e.g. ECR201")) -> None:
    """Print a rule's full documentation."""
    from .registry import load_registry

    rule = load_registry().get(rule_id.upper())
    if rule is None:
        typer.echo(f"ecrlint: unknown rule ID '{rule_id}' (see `ecrlint rules`)", err=True)
        raise typer.Exit(2)
    typer.echo(f"# {rule.id} {rule.name} ({rule.severity.label}{'' if rule.enabled_by_default else ', off by default'})\n")
    typer.echo(rule.doc())


@app.command()
def links(
    paths: Optional[List[str]] = typer.Argument(None, metavar="[PATH]...", help="files or directories; default: ."),
    format: str = typer.Option("text", "--format", help="text or json"),
    config: Optional[str] = typer.Option(None, "--config", help="config file"),
) -> None:
    """Print how files were linked: clusters, node groups, roles, Fargate profiles, workloads."""
    from .config import ConfigError
    from .engine import RunOptions, run

    try:
        from . import links as links_mod
    except ImportError:
        typer.echo("ecrlint: links are not available in this build", err=True)
        raise typer.Exit(2)
    try:
        result = run(RunOptions(paths=paths or ["."], config=config, cwd=os.getcwd(), select="ECR001"))
    except ConfigError as exc:
        from .escape import visible

        typer.echo(f"ecrlint: {visible(str(exc))}", err=True)
        raise typer.Exit(2)
    built = links_mod.build_links(result.workspace, result.config)
    text = links_mod.format_json(built) if format == "json" else links_mod.format_text(built)
    sys.stdout.write(text if text.endswith("\n") else text + "\n")
