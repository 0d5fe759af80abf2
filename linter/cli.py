"""Command line: argument parsing and printing only; the engine does the work.

``ecrlint check`` is parsed with argparse so a pre-commit or on-save run never imports typer
(~70 ms); ``rules``, ``explain``, ``links`` and the top-level help go through typer.
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
from typing import Sequence

from . import __version__

EXIT_OK, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2


def _check_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="ecrlint check",
        description="Lint IAM policies, CloudFormation, eksctl, Kubernetes manifests and Helm charts for ECR pulls on EKS.",
    )
    p.add_argument("paths", nargs="*", default=["."], metavar="PATH", help="files or directories ('-' reads stdin); default: .")
    p.add_argument("--format", choices=("text", "json", "sarif", "github"), default="text", help="output format (default: text)")
    p.add_argument("--output", metavar="FILE", help="write the report to FILE instead of stdout")
    p.add_argument("--select", metavar="IDS", help="comma-separated rule IDs or prefixes to enable (replaces config)")
    p.add_argument("--ignore", metavar="IDS", help="comma-separated rule IDs or prefixes to disable (adds to config)")
    p.add_argument("--config", metavar="FILE", help="config file (default: nearest .ecrlint.yaml or pyproject.toml)")
    p.add_argument("--stdin-filename", metavar="PATH", help="the path of the file read from stdin, for kind detection, config and output")
    p.add_argument("--fail-on", choices=("error", "warning", "note"), help="lowest severity that exits 1 (default: error)")
    p.add_argument("--exit-zero", action="store_true", help="exit 0 even when there are findings")
    p.add_argument("--jobs", "-j", type=int, metavar="N",
                   help="processes reading files, this one included (default: all cores for large inputs)")
    p.add_argument("--helm-values", action="append", default=[], metavar="FILE", help="extra Helm values file (repeatable)")
    p.add_argument("--helm-engine", choices=("auto", "sdk", "binary", "builtin"), help="Helm renderer (default: auto)")
    p.add_argument("--fix", action="store_true", help="apply unambiguous fixes in place")
    p.add_argument("--no-color", action="store_true", help="no colours (also: NO_COLOR)")
    p.add_argument("--verbose", "-v", action="store_true", help="notes on skipped files and unjudged roles; tracebacks")
    p.add_argument("--version", action="version", version=f"ecrlint {__version__}")
    return p


def _fail(message: str) -> int:
    _stderr(message)
    return EXIT_ERROR


def _stderr(message: str) -> None:
    """One ``ecrlint: ...`` line on stderr; file-controlled text in it is shown with controls escaped."""
    from .escape import visible

    print(f"ecrlint: {visible(message)}", file=sys.stderr)


def check_main(argv: Sequence[str], *, exiting: bool = False) -> int:
    # Most of what a check allocates lives until it ends: no automatic garbage collection through
    # the report either (engine.run collects the young generations itself); a full collection
    # of the run's heap here would cost ~80 ms on the shared corpus. ``exiting``: the process ends
    # next, so the heap is frozen instead, which keeps it out of the interpreter's final collection.
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _check(argv)
    finally:
        if exiting:
            gc.freeze()
        elif enabled:
            gc.enable()


def _check(argv: Sequence[str]) -> int:
    args = _check_parser().parse_args(list(argv))
    if args.jobs is not None and args.jobs < 1:
        return _fail("--jobs must be at least 1")
    from .config import ConfigError
    from .engine import InternalError, RunOptions, run

    options = RunOptions(
        paths=args.paths,
        config=args.config,
        select=args.select,
        ignore=args.ignore,
        stdin_filename=args.stdin_filename,
        fail_on=args.fail_on,
        jobs=args.jobs,
        helm_values=args.helm_values,
        helm_engine=args.helm_engine,
        verbose=args.verbose,
        cwd=os.getcwd(),
    )
    try:
        if args.output:
            from .safe_write import check_output_path, refuse_input_overwrite

            protected = [*args.paths, *args.helm_values] + ([args.config] if args.config else [])
            refuse_input_overwrite(args.output, protected, os.getcwd())
            check_output_path(args.output, os.getcwd())  # before the run: a bad --output fails fast
        result = run(options)
        if args.output and result.config.path:
            refuse_input_overwrite(args.output, [result.config.path, *result.config.helm_values], os.getcwd())
        if args.fix:
            from .fixes import StaleFile, apply_fixes

            try:
                applied = apply_fixes(result.findings, result.digests)
            except StaleFile as exc:
                return _fail(str(exc))
            if applied:
                print(f"ecrlint: fixed {applied} finding{'s' if applied != 1 else ''}; re-run to see what is left", file=sys.stderr)
                result = run(options)
        report = _render(result, args)
        if args.output:
            from .safe_write import write_output

            write_output(args.output, os.getcwd(), report)
        else:
            _write_stdout(report)
    except ConfigError as exc:
        return _fail(str(exc))
    except InternalError as exc:
        return _fail(f"internal error: {exc}")
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # never a traceback without --verbose
        if args.verbose:
            raise
        return _fail(f"internal error: {type(exc).__name__}: {exc} (re-run with --verbose for details)")
    from .output.text import summary

    if args.verbose:
        for note in result.notes:
            _stderr(f"note: {note}")
    print(summary(result), file=sys.stderr)
    if args.exit_zero:
        return EXIT_OK
    return EXIT_FINDINGS if result.failed else EXIT_OK


def _render(result, args) -> str:
    from .output import formatter

    if args.format == "text":
        color = (
            not args.no_color
            and not args.output
            and "NO_COLOR" not in os.environ
            and sys.stdout.isatty()
        )
        return formatter("text")(result, color=color)
    if args.format == "sarif":
        return formatter("sarif")(result, cwd=os.getcwd())
    return formatter(args.format)(result)


def _write_stdout(text: str) -> None:
    try:
        sys.stdout.write(text)
        sys.stdout.flush()
    except BrokenPipeError:  # `ecrlint check | head` must not print a traceback
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())


def main(argv: Sequence[str] | None = None) -> int:
    exiting = argv is None  # the console script: the process ends when this returns
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "check":
        return check_main(argv[1:], exiting=exiting)
    if argv in (["--version"], ["-V"]):
        print(f"ecrlint {__version__}")
        return EXIT_OK
    from .commands import app

    try:
        app(args=argv, prog_name="ecrlint", standalone_mode=True)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else EXIT_ERROR)
    return EXIT_OK
