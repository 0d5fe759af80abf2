"""Shell completion scripts (``ecrlint completion bash|zsh|fish``), generated from the argparse parsers.

Static scripts: completing never starts Python. Commands, each command's options, the choices of
options that take one (``--format``), rule IDs and names for ``--select``/``--ignore``/``explain``, and
files for paths and FILE options.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass


@dataclass(frozen=True)
class Option:
    flags: tuple[str, ...]
    help: str
    takes: str | None  # None: a flag; "file"; "rule"; "choice"; "other"
    choices: tuple[str, ...] = ()


@dataclass(frozen=True)
class Command:
    name: str
    help: str
    options: tuple[Option, ...]
    positional: str | None  # "file", "rule", "choice" or None
    choices: tuple[str, ...] = ()


_RULE_OPTIONS = {"--select", "--ignore"}


def _option(action: argparse.Action) -> Option:
    flags = tuple(action.option_strings)
    help_text = (action.help or "").replace("%%", "%")
    if action.nargs == 0:
        return Option(flags, help_text, None)
    if action.choices:
        return Option(flags, help_text, "choice", tuple(str(c) for c in action.choices))
    if set(flags) & _RULE_OPTIONS:
        return Option(flags, help_text, "rule")
    if action.metavar in ("FILE", "PATH"):
        return Option(flags, help_text, "file")
    return Option(flags, help_text, "other")


def commands() -> list[Command]:
    from .cli import _check_parser, _top_parser

    top, parsers = _top_parser()
    sub = next(a for a in top._actions if isinstance(a, argparse._SubParsersAction))
    helps = {c.dest: c.help or "" for c in sub._choices_actions}
    out = []
    for name in sub.choices:
        parser = _check_parser() if name == "check" else parsers[name]
        options = tuple(_option(a) for a in parser._actions if a.option_strings)
        positional = next((a for a in parser._actions if not a.option_strings), None)
        kind: str | None = None
        choices: tuple[str, ...] = ()
        if positional is not None:
            if positional.choices:
                kind, choices = "choice", tuple(str(c) for c in positional.choices)
            else:
                kind = "rule" if positional.metavar == "RULE" else "file"
        out.append(Command(name, helps.get(name, ""), options, kind, choices))
    return out


def _rule_words() -> list[str]:
    from .registry import load_registry

    registry = load_registry()
    return [r.id for r in registry] + [r.name for r in registry]


def _q(text: str) -> str:
    return text.replace("'", "'\\''")


def bash() -> str:
    cmds = commands()
    rules = " ".join(_rule_words())
    lines = [
        "# bash completion for ecrlint: eval \"$(ecrlint completion bash)\" in ~/.bashrc",
        "_ecrlint() {",
        "    local cur prev cmd opts pre",
        f"    local rules='{rules}'",
        '    cur="${COMP_WORDS[COMP_CWORD]}"',
        '    prev="${COMP_WORDS[COMP_CWORD-1]}"',
        '    if [ "$COMP_CWORD" -eq 1 ]; then',
        f"        COMPREPLY=($(compgen -W '{' '.join(c.name for c in cmds)} --help --version' -- \"$cur\"))",
        "        return",
        "    fi",
        '    cmd="${COMP_WORDS[1]}"',
        '    case "$cmd:$prev" in',
    ]
    for c in cmds:
        for o in c.options:
            if o.takes is None:
                continue
            pattern = "|".join(f"{c.name}:{flag}" for flag in o.flags)
            if o.takes == "choice":
                lines.append(f"        {pattern}) COMPREPLY=($(compgen -W '{' '.join(o.choices)}' -- \"$cur\")); return;;")
            elif o.takes == "rule":
                lines.append(f"        {pattern}) pre=\"${{cur%\"${{cur##*,}}\"}}\"; "
                             "COMPREPLY=($(compgen -P \"$pre\" -W \"$rules\" -- \"${cur##*,}\")); return;;")
            elif o.takes == "file":
                lines.append(f"        {pattern}) COMPREPLY=($(compgen -f -- \"$cur\")); return;;")
            else:
                lines.append(f"        {pattern}) COMPREPLY=(); return;;")
    lines += ["    esac", '    case "$cmd" in']
    for c in cmds:
        flags = " ".join(f for o in c.options for f in o.flags)
        if c.positional == "choice":
            words = f"{' '.join(c.choices)} {flags}"
        elif c.positional == "rule":
            words = f"$rules {flags}"
        else:
            words = flags
        lines.append(f"        {c.name}) opts=\"{words}\";;")
    lines += [
        "        *) opts='';;",
        "    esac",
        '    if [[ "$cur" == -* ]] || [ "$cmd" = completion ] || [ "$cmd" = explain ] || [ "$cmd" = rules ]; then',
        "        COMPREPLY=($(compgen -W \"$opts\" -- \"$cur\"))",
        "    else",
        "        COMPREPLY=($(compgen -f -- \"$cur\"))",
        "    fi",
        "}",
        "complete -o filenames -o bashdefault -F _ecrlint ecrlint",
        "",
    ]
    return "\n".join(lines)


def _zsh_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("'", "'\\''").replace("[", "\\[").replace("]", "\\]").replace(":", "\\:")


def zsh() -> str:
    cmds = commands()
    rules = " ".join(_rule_words())
    lines = [
        "#compdef ecrlint",
        "# zsh completion for ecrlint: ecrlint completion zsh > \"${fpath[1]}/_ecrlint\" (then restart zsh)",
        "",
        "_ecrlint() {",
        "    local -a commands",
        "    commands=(",
    ]
    lines += [f"        '{c.name}:{_zsh_escape(c.help)}'" for c in cmds]
    lines += [
        "    )",
        "    if (( CURRENT == 2 )); then",
        "        _describe -t commands 'ecrlint command' commands",
        "        _arguments '--help[show help]' '--version[show the version]'",
        "        return",
        "    fi",
        "    local cmd=${words[2]}",
        "    shift words; (( CURRENT-- ))",
        "    case $cmd in",
    ]
    for c in cmds:
        specs = []
        for o in c.options:
            help_text = _zsh_escape(o.help)
            if len(o.flags) > 1:
                names = "{" + ",".join(o.flags) + "}"
                prefix = f"'({' '.join(o.flags)})'{names}"
            else:
                prefix = o.flags[0]
            if o.takes is None:
                action = ""
            elif o.takes == "choice":
                action = f":value:({' '.join(o.choices)})"
            elif o.takes == "rule":
                action = f":rules:_sequence compadd - {rules}"
            elif o.takes == "file":
                action = ":file:_files"
            else:
                action = ":value:"
            specs.append(f"{prefix}'[{help_text}]{action}'")
        if c.positional == "choice":
            specs.append(f"'1:shell:({' '.join(c.choices)})'")
        elif c.positional == "rule":
            specs.append(f"'1:rule:({rules})'")
        elif c.positional == "file":
            specs.append("'*:path:_files'")
        lines.append(f"        {c.name}) _arguments -s \\")
        lines += [f"            {spec} \\" for spec in specs]
        lines.append("            ;;")
    lines += ["    esac", "}", "", 'if [ "$funcstack[1]" = "_ecrlint" ]; then', '    _ecrlint "$@"', "else",
              "    compdef _ecrlint ecrlint", "fi", ""]
    return "\n".join(lines)


def _fish_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("'", "\\'")


def fish() -> str:
    cmds = commands()
    rules = " ".join(_rule_words())
    names = " ".join(c.name for c in cmds)
    lines = [
        "# fish completion for ecrlint: ecrlint completion fish > ~/.config/fish/completions/ecrlint.fish",
        "complete -c ecrlint -f",
        f"complete -c ecrlint -n 'not __fish_seen_subcommand_from {names}' -l help -d 'show help'",
        f"complete -c ecrlint -n 'not __fish_seen_subcommand_from {names}' -l version -s V -d 'show the version'",
    ]
    for c in cmds:
        lines.append(f"complete -c ecrlint -n 'not __fish_seen_subcommand_from {names}' -a {c.name} "
                     f"-d '{_fish_escape(c.help)}'")
    for c in cmds:
        when = f"-n '__fish_seen_subcommand_from {c.name}'"
        for o in c.options:
            names_ = " ".join(f"-l {f[2:]}" if f.startswith("--") else f"-s {f[1:]}" for f in o.flags)
            arg = ""
            if o.takes == "choice":
                arg = f" -x -a '{' '.join(o.choices)}'"
            elif o.takes == "rule":
                arg = f" -x -a '{rules}'"
            elif o.takes == "file":
                arg = " -r -F"
            elif o.takes == "other":
                arg = " -x"
            lines.append(f"complete -c ecrlint {when} {names_}{arg} -d '{_fish_escape(o.help)}'")
        if c.positional == "choice":
            lines.append(f"complete -c ecrlint {when} -a '{' '.join(c.choices)}'")
        elif c.positional == "rule":
            lines.append(f"complete -c ecrlint {when} -a '{rules}'")
        elif c.positional == "file":
            lines.append(f"complete -c ecrlint {when} -F")
    return "\n".join(lines) + "\n"


SCRIPTS = {"bash": bash, "zsh": zsh, "fish": fish}
