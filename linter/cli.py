"""Command line: argument parsing and printing only; the engine does the work.

Every command is parsed with argparse, one help style and one error style (a single line, with
"did you mean" from difflib): ``check`` sits in every pre-commit run and on-save lint, so nothing
heavier than argparse loads before the engine.
"""

from __future__ import annotations

import argparse
import difflib
import gc
import os
import re
import sys
from typing import TYPE_CHECKING, NoReturn, Sequence

from . import __version__

if TYPE_CHECKING:
    from .engine import RunResult

EXIT_OK, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2
FORMATS = ("text", "json", "sarif", "github", "gitlab", "junit")  # output.FORMATS, without importing it
DESCRIPTION = "Will this EKS cluster be able to pull and run these container images? An offline linter."


class _Parser(argparse.ArgumentParser):
    """argparse with one-line usage errors: ``ecrlint check: unknown option --formt (did you mean --format?)``."""

    def error(self, message: str) -> NoReturn:
        from .escape import visible

        self.exit(EXIT_ERROR, f"{self.prog}: {visible(self._suggest(message))} (see {self.prog} --help)\n")

    def _suggest(self, message: str) -> str:
        unknown = re.match(r"unrecognized arguments: (.*)", message)
        if unknown:
            words = unknown.group(1).split()
            options = [o for action in self._actions for o in action.option_strings]
            parts = []
            for word in words:
                flag = word.split("=", 1)[0]
                close = difflib.get_close_matches(flag, options, n=1) if flag.startswith("-") else []
                hint = f" (did you mean {close[0]}?)" if close else ""
                parts.append(f"{'unknown option' if flag.startswith('-') else 'unexpected argument'} {word}{hint}")
            return "; ".join(parts)
        choice = re.match(r"argument (.+?): invalid choice: '(.*)' \(choose from (.*)\)$", message)
        if choice:
            choices = re.findall(r"'([^']*)'", choice.group(3))
            close = difflib.get_close_matches(choice.group(2), choices, n=1)
            hint = f"did you mean {close[0]}? " if close else ""
            if choice.group(1) == "COMMAND":
                return f"unknown command '{choice.group(2)}' ({hint}one of {', '.join(choices)})"
            return f"{choice.group(1)}: unknown value '{choice.group(2)}' ({hint}one of {', '.join(choices)})"
        return message


def _version_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--version", "-V", action="version", version=f"ecrlint {__version__}", help="show the version and exit")


def _check_parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="ecrlint check",
        description="Lint IAM policies, CloudFormation, eksctl, Kubernetes manifests and Helm charts for ECR pulls on EKS.",
    )
    p.add_argument("paths", nargs="*", default=["."], metavar="PATH", help="files or directories ('-' reads stdin); default: .")
    p.add_argument("--format", choices=FORMATS, default="text",
                   help="output format: text, json, sarif, github (annotations), gitlab (Code Quality), junit (default: text)")
    p.add_argument("--output", metavar="FILE", help="write the report to FILE instead of stdout")
    p.add_argument("--select", metavar="IDS", help="comma-separated rule IDs or prefixes to enable (replaces config)")
    p.add_argument("--ignore", metavar="IDS", help="comma-separated rule IDs or prefixes to disable (adds to config)")
    p.add_argument("--config", metavar="FILE",
                   help="config file (default: the nearest .ecrlint.yaml or pyproject.toml above the paths checked)")
    p.add_argument("--stdin-filename", metavar="PATH", help="the path of the file read from stdin, for kind detection, config and output")
    p.add_argument("--fail-on", choices=("error", "warning", "note"), help="lowest severity that exits 1 (default: error)")
    p.add_argument("--exit-zero", action="store_true", help="exit 0 even when there are findings")
    p.add_argument("--jobs", "-j", type=int, metavar="N",
                   help="processes reading files, this one included (default: all cores for large inputs)")
    p.add_argument("--helm-values", action="append", default=[], metavar="FILE", help="extra Helm values file (repeatable)")
    p.add_argument("--helm-engine", choices=("auto", "sdk", "binary", "builtin"), help="Helm renderer (default: auto)")
    p.add_argument("--fix", action="store_true", help="apply unambiguous fixes in place")
    p.add_argument("--show-source", action="store_true", help="text format: show each finding's source line with carets")
    p.add_argument("--statistics", action="store_true", help="print a count per rule instead of the findings (text or json)")
    p.add_argument("--baseline", metavar="FILE", help="leave out the findings FILE lists (see --write-baseline): fail only on new ones")
    p.add_argument("--write-baseline", metavar="FILE", help="record every current finding in FILE and exit 0")
    p.add_argument("--no-color", action="store_true", help="no colours (also: NO_COLOR)")
    talk = p.add_mutually_exclusive_group()
    talk.add_argument("--quiet", "-q", action="store_true", help="print the findings only: no summary, no progress")
    talk.add_argument("--verbose", "-v", action="store_true", help="notes on skipped files and unjudged roles; tracebacks")
    _version_option(p)
    return p


def _fail(message: str) -> int:
    _stderr(message)
    return EXIT_ERROR


def _stderr(message: str) -> None:
    """One ``ecrlint: ...`` line on stderr; file-controlled text in it is shown with controls escaped."""
    from .escape import visible

    if _Progress.active is not None:  # the progress line is cleared first, never this message
        _Progress.active.stop()
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
    parser = _check_parser()
    args = parser.parse_args(list(argv))
    if args.jobs is not None and args.jobs < 1:
        return _fail("--jobs must be at least 1")
    if args.statistics and args.format not in ("text", "json"):
        parser.error(f"--statistics prints text or json, not --format {args.format}")
    if args.show_source and args.format != "text":
        parser.error(f"--show-source shows code frames in text output, not --format {args.format}")
    progress = _Progress.start(quiet=args.quiet)
    try:
        return _check_run(args, progress)
    finally:
        progress.stop()


def _check_run(args: argparse.Namespace, progress: "_Progress") -> int:
    from .config import ConfigError
    from .engine import InternalError, RunOptions, UnsupportedEnvironment, run

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
        progress=progress.phase,
    )
    try:
        protected = [*args.paths, *args.helm_values] + ([args.config] if args.config else [])
        for written in (args.output, args.write_baseline):
            if written:
                from .engine.safe_write import check_output_path, refuse_input_overwrite

                refuse_input_overwrite(written, protected, os.getcwd())
                check_output_path(written, os.getcwd())  # before the run: a bad path fails fast
        if args.baseline:
            from .engine.baseline import read_baseline

            read_baseline(args.baseline)  # a missing or broken baseline fails before the run
        result = run(options)
        if args.output and result.config.path:
            refuse_input_overwrite(args.output, [result.config.path, *result.config.helm_values], os.getcwd())
        if args.fix:
            from .engine.fixes import StaleFile, apply_fixes

            try:
                applied = apply_fixes(result.findings, result.digests)
            except StaleFile as exc:
                return _fail(str(exc))
            if applied:
                progress.stop()
                print(f"ecrlint: fixed {applied} finding{'s' if applied != 1 else ''}; re-run to see what is left", file=sys.stderr)
                result = run(options)
        if args.write_baseline:
            return _write_baseline(result, args, progress)
        if args.baseline:
            from .engine.baseline import apply_baseline

            result = apply_baseline(result, args.baseline, os.getcwd())
        progress.stop()
        _write_report(_render(result, args), args)
    except (ConfigError, UnsupportedEnvironment) as exc:
        return _fail(str(exc))
    except InternalError as exc:
        return _fail(f"internal error: {exc}")
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # never a traceback without --verbose
        if args.verbose:
            progress.stop()
            raise
        return _fail(f"internal error: {type(exc).__name__}: {exc} (re-run with --verbose for details)")
    return _finish(result, args)


def _write_baseline(result: RunResult, args: argparse.Namespace, progress: "_Progress") -> int:
    from .engine.baseline import baseline_text
    from .engine.safe_write import write_output

    write_output(args.write_baseline, os.getcwd(), baseline_text(result, os.getcwd()))
    progress.stop()
    if not args.quiet:
        n = len(result.findings)
        _stderr(f"wrote {n} finding{'s' if n != 1 else ''} to the baseline {args.write_baseline}; "
                f"check with --baseline {args.write_baseline} to fail only on new ones")
    return EXIT_OK


def _finish(result: RunResult, args: argparse.Namespace) -> int:
    """The --verbose notes and the one-line summary on stderr; the exit code."""
    from .output.text import summary

    if args.verbose:
        for note in result.notes:
            _stderr(f"note: {note}")
    if not args.quiet:
        print(summary(result), file=sys.stderr)
    if args.exit_zero:
        return EXIT_OK
    return EXIT_FINDINGS if result.failed else EXIT_OK


def _render(result: RunResult, args: argparse.Namespace) -> str:
    from .output import formatter

    if args.statistics:
        from .output.text import format_statistics, statistics

        if args.format == "json":
            from .escape import dump_json

            rows = [{"rule": r, "name": n, "severity": sev, "count": c} for r, n, sev, c in statistics(result)]
            return dump_json({"version": 1, "statistics": rows})
        return format_statistics(result)
    if args.format == "text":
        color = (
            not args.no_color
            and not args.output
            and "NO_COLOR" not in os.environ
            and sys.stdout.isatty()
        )
        if args.show_source:
            from .sources.discovery import display_path

            stdin = frozenset([display_path(args.stdin_filename, os.getcwd())] if args.stdin_filename else [])
            return formatter("text")(result, color=color, show_source=True, skip_source=stdin)
        return formatter("text")(result, color=color)
    if args.format in ("json", "sarif", "gitlab"):  # paths from the repository root, fingerprints
        return formatter(args.format)(result, cwd=os.getcwd())
    return formatter(args.format)(result)


def _write_report(report: str, args: argparse.Namespace) -> None:
    if args.output:
        from .engine.safe_write import write_output

        write_output(args.output, os.getcwd(), report)
    else:
        _write_stdout(report)


def _write_stdout(text: str) -> None:
    try:
        sys.stdout.write(text)
        sys.stdout.flush()
    except BrokenPipeError:  # `ecrlint check | head` must not print a traceback
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())


class _Progress:
    """"ecrlint: reading 7930 files (3 s)" on stderr, rewritten in place, once a run has taken more than
    ~2 s, only when stderr is a terminal (never in CI logs or pre-commit output) and not --quiet.
    ``ECRLINT_PROGRESS_AFTER`` (seconds) changes the delay."""

    active: "_Progress | None" = None  # the one a running check shows, for _stderr

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.current = "starting"
        self.shown = False
        self._done: object = None
        self._thread: object = None

    @classmethod
    def start(cls, quiet: bool) -> "_Progress":
        enabled = not quiet and sys.stderr.isatty() and os.environ.get("TERM") != "dumb"
        progress = cls(enabled)
        if enabled:
            import threading
            import time

            try:
                delay = float(os.environ.get("ECRLINT_PROGRESS_AFTER", "2"))
            except ValueError:
                delay = 2.0
            done = threading.Event()
            began = time.monotonic()

            def show() -> None:
                if done.wait(delay):
                    return
                while not done.is_set():
                    progress.shown = True
                    sys.stderr.write(f"\r\033[Kecrlint: {progress.current} ({time.monotonic() - began:.0f} s)")
                    sys.stderr.flush()
                    done.wait(0.5)

            thread = threading.Thread(target=show, name="ecrlint-progress", daemon=True)
            progress._done, progress._thread = done, thread
            cls.active = progress
            thread.start()
        return progress

    def phase(self, text: str) -> None:
        self.current = text

    def stop(self) -> None:
        if self._done is None:
            return
        self._done.set()  # type: ignore[attr-defined]
        self._thread.join()  # type: ignore[attr-defined]
        self._done = None
        _Progress.active = None
        if self.shown:
            sys.stderr.write("\r\033[K")  # the line is cleared: the report and summary follow
            sys.stderr.flush()


def _top_parser() -> tuple[_Parser, dict[str, _Parser]]:
    top = _Parser(prog="ecrlint", description=DESCRIPTION)
    _version_option(top)
    sub = top.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.add_parser("check", help="lint files and directories (ecrlint check --help for its options)", add_help=False)
    rules = sub.add_parser("rules", help="list every rule", description="List every rule: ID, name, default severity, on or off by default.")
    rules.add_argument("--format", choices=("text", "json"), default="text", help="output format (default: text)")
    explain = sub.add_parser("explain", help="print a rule's documentation", description="Print a rule's full documentation.")
    explain.add_argument("rule", metavar="RULE", help="a rule ID, e.g. ECR201")
    links = sub.add_parser("links", help="print how files were linked",
                           description="Print how files were linked: clusters, node groups, roles, Fargate profiles, workloads.")
    links.add_argument("paths", nargs="*", default=["."], metavar="PATH", help="files or directories; default: .")
    links.add_argument("--format", choices=("text", "json"), default="text", help="output format (default: text)")
    links.add_argument("--config", metavar="FILE", help="config file (default: nearest .ecrlint.yaml or pyproject.toml)")
    completion = sub.add_parser("completion", help="print a shell completion script",
                                description="Print a completion script for bash, zsh or fish. bash: "
                                            "eval \"$(ecrlint completion bash)\" in ~/.bashrc; zsh: "
                                            "ecrlint completion zsh > \"${fpath[1]}/_ecrlint\"; fish: "
                                            "ecrlint completion fish > ~/.config/fish/completions/ecrlint.fish")
    completion.add_argument("shell", choices=("bash", "zsh", "fish"), metavar="SHELL", help="bash, zsh or fish")
    lsp = sub.add_parser("lsp", help="run the language server over stdio (needs ecrlint[lsp])",
                         description="Run the Language Server Protocol server over stdin/stdout, for editors "
                                     "(see README: Editors). Needs the lsp extra: pip install 'ecrlint[lsp]'.")
    lsp.add_argument("--stdio", action="store_true", help="talk over stdin/stdout (the default, and the only transport)")
    return top, {"rules": rules, "explain": explain, "links": links, "completion": completion, "lsp": lsp}


def main(argv: Sequence[str] | None = None) -> int:
    exiting = argv is None  # the console script: the process ends when this returns
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "check":  # the hot path: no other parser is even built
        return check_main(argv[1:], exiting=exiting)
    parser, commands_parsers = _top_parser()
    if not argv:
        parser.print_help()
        return EXIT_ERROR
    try:
        args, extra = parser.parse_known_args(argv)
        if extra:  # reported by the command's own parser, against its own options
            commands_parsers[args.command].error(f"unrecognized arguments: {' '.join(extra)}")
    except SystemExit as exc:  # --help, --version, or a usage error already printed
        return exc.code if isinstance(exc.code, int) else EXIT_OK
    if args.command == "lsp":
        from .lsp import main as lsp_main  # pygls loads only here: never for check

        return lsp_main()
    from . import commands

    handler = {"rules": commands.rules, "explain": commands.explain, "links": commands.links,
               "completion": commands.completion}[args.command]
    return int(handler(args))
