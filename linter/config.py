"""Configuration: discovery, validation against the shipped JSON schema, rule selection."""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from .model import Severity

CONFIG_FILES = (".ecrlint.yaml", ".ecrlint.yml", "pyproject.toml")
DEFAULT_SELECT = ("",)  # every registered rule, third-party packs included


class ConfigError(Exception):
    """Bad configuration or usage: exit code 2 with this one-line message."""


@dataclass
class Config:
    path: str | None = None
    select: tuple[str, ...] = DEFAULT_SELECT
    ignore: tuple[str, ...] = ()
    per_file_ignores: dict[str, tuple[str, ...]] = field(default_factory=dict)
    exclude: tuple[str, ...] = ()
    severity: dict[str, Severity] = field(default_factory=dict)
    fail_on: Severity = Severity.ERROR
    max_file_size: int = 10 * 1024 * 1024
    helm_values: tuple[str, ...] = ()
    helm_engine: str = "auto"
    root: str = "."  # the directory config paths and globs are relative to
    options: dict[str, Any] = field(default_factory=dict)  # every key as written, for rules
    cwd: str | None = None  # the run's working directory, which displayed paths are relative to

    def relative(self, path: str) -> str:
        """A displayed path (relative to the working directory) as config globs see it: relative to
        the config file's directory, wherever ecrlint runs. Both sides resolved, so a working
        directory reached through a link still compares equal."""
        if self.cwd is None:
            return path
        return os.path.relpath(os.path.join(os.path.realpath(self.cwd), path),
                               os.path.realpath(self.root)).replace(os.sep, "/")

    def path_matches(self, globs: Any, path: str) -> bool:
        """Does a displayed path match any of these config globs (relative to the config file)?"""
        rel = self.relative(path)
        return any(glob_match(g, rel) for g in (globs or ()))


@lru_cache(maxsize=512)
def _glob_regex(pattern: str) -> Any:
    """gitignore-like globs: ``**`` crosses directories, ``*`` does not; a bare name matches anywhere.

    Compiled with RE2, whose matching time is linear in the path whatever the pattern: globs come
    from config files, which a pull request can change, and a backtracking engine takes exponential
    time on ``*a*a*a*a*b`` against a long name.
    """
    import re2

    out = []
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif c == "*":
            out.append("[^/]*")
            i += 1
        elif c == "?":
            out.append("[^/]")
            i += 1
        else:
            # Letters, digits and "/" stand for themselves; anything else as an RE2 code point escape.
            out.append(c if c == "/" or (c.isascii() and c.isalnum()) else f"\\x{{{ord(c):x}}}")
            i += 1
    body = "".join(out)
    if "/" not in pattern.rstrip("/"):
        body = "(?:.*/)?" + body
    body = body.rstrip("/")  # "vendor/" means the directory and what is in it
    options = re2.Options()
    options.dot_nl = True  # a path is one line whatever it holds
    return re2.compile(body + "(?:/.*)?\\z", options)


def glob_match(pattern: str, path: str) -> bool:
    path = path.replace(os.sep, "/")
    while path.startswith("./"):
        path = path[2:]
    pattern = pattern[2:] if pattern.startswith("./") else pattern
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:  # an undecodable file name: its bad bytes match wildcards only
        path = re.sub("[\ud800-\udfff]", "\ufffd", path)
    return _glob_regex(pattern).match(path) is not None


# --- schema validation -------------------------------------------------------------------------


@lru_cache(maxsize=1)
def schema() -> dict[str, Any]:
    return json.loads(resources.files("ecrlint").joinpath("data/config-schema.json").read_text())


def validate(data: Any, sch: dict[str, Any] | None = None, where: str = "") -> None:
    """Validate against the shipped schema's subset of JSON Schema (type, enum, pattern, properties,
    additionalProperties, required, items, minimum). jsonschema would cost ~80 ms of start-up on
    every run; tests check that this agrees with jsonschema on the shipped schema."""
    sch = schema() if sch is None else sch
    label = where or "config"
    if "enum" in sch and data not in sch["enum"]:
        raise ConfigError(f"{label}: {data!r} is not one of {', '.join(map(str, sch['enum']))}")
    expected = sch.get("type")
    checks = {
        "object": lambda v: isinstance(v, dict),
        "array": lambda v: isinstance(v, list),
        "string": lambda v: isinstance(v, str),
        "boolean": lambda v: isinstance(v, bool),
        "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    }
    if expected and not checks[expected](data):
        raise ConfigError(f"{label}: expected {'an' if expected[0] in 'aeiou' else 'a'} {expected}, got {data!r}")
    if isinstance(data, str) and "pattern" in sch and not re.search(sch["pattern"], data):
        raise ConfigError(f"{label}: {data!r} is not valid here")
    if isinstance(data, int) and "minimum" in sch and data < sch["minimum"]:
        raise ConfigError(f"{label}: must be at least {sch['minimum']}")
    if isinstance(data, int) and "maximum" in sch and data > sch["maximum"]:
        raise ConfigError(f"{label}: must be at most {sch['maximum']}")
    if isinstance(data, dict):
        props = sch.get("properties", {})
        for key in sch.get("required", ()):
            if key not in data:
                raise ConfigError(f"{label}: missing required key '{key}'")
        for key, value in data.items():
            sub = f"{where}.{key}" if where else str(key)
            if key in props:
                validate(value, props[key], sub)
            elif sch.get("additionalProperties") is False:
                import difflib

                close = difflib.get_close_matches(str(key), list(props), n=1)
                hint = f" (did you mean '{close[0]}'?)" if close else ""
                raise ConfigError(f"unknown config key '{sub}'{hint}")
            elif isinstance(sch.get("additionalProperties"), dict):
                validate(value, sch["additionalProperties"], sub)
    if isinstance(data, list) and "items" in sch:
        for i, item in enumerate(data):
            validate(item, sch["items"], f"{label}[{i}]")


# --- loading -----------------------------------------------------------------------------------


def find_config(start: str = ".") -> Path | None:
    here = Path(start).resolve()
    for directory in (here, *here.parents):
        for name in CONFIG_FILES:
            candidate = directory / name
            if candidate.is_file():
                if name == "pyproject.toml" and "[tool.ecrlint" not in candidate.read_text(errors="replace"):
                    continue
                return candidate
    return None


def read_config_file(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read config {path}: {exc}") from None
    if path.name == "pyproject.toml" or path.suffix == ".toml":
        import tomllib

        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: invalid TOML: {exc}") from None
        section = data.get("tool", {}).get("ecrlint", {})
        return section if isinstance(section, dict) else {}
    import yaml

    try:
        data = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)) or {}
    except yaml.YAMLError as exc:
        # One line: the file, the position and the problem, as a finding would say it.
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark is not None else str(path)
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError(f"{where}: invalid YAML: {problem}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: the config must be a mapping")
    return data


def _check_ids(ids: Any, known: set[str], key: str, prefixes: bool = True,
               names: dict[str, str] | None = None) -> tuple[str, ...]:
    """Rule IDs, ID prefixes (``ECR2``) or rule names (``image-tag-latest``) as the IDs they mean."""
    out = []
    for rule_id in ids:
        token = rule_id.strip()
        if names and token.lower() in names:
            out.append(names[token.lower()])
            continue
        rid = token.upper()
        ok = any(k.startswith(rid) for k in known) if prefixes else rid in known
        if not ok:
            import difflib

            close = difflib.get_close_matches(token, [*sorted(known), *sorted(names or {})], n=1)
            hint = f" (did you mean {close[0]}?)" if close else ""
            raise ConfigError(f"{key}: unknown rule ID '{rule_id}'{hint}")
        out.append(rid)
    return tuple(out)


def load_config(path: str | None, known_ids: set[str], cwd: str = ".", names: dict[str, str] | None = None,
                search_from: str | None = None) -> Config:
    """Read ``path`` (or the nearest config upward from ``search_from``, by default ``cwd``: the
    directory of the paths being checked), validate it, and build a Config."""
    cfg_path = Path(path) if path else find_config(search_from or cwd)
    if path and not Path(path).is_file():
        raise ConfigError(f"config file not found: {path}")
    data = read_config_file(cfg_path) if cfg_path else {}
    if data:
        try:
            validate(data)  # loads the schema: skip it when there is no config to check
        except ConfigError as exc:
            raise ConfigError(f"{cfg_path}: {exc}") from None
    config = Config(path=str(cfg_path) if cfg_path else None, options=dict(data), cwd=os.path.abspath(cwd))
    config.root = str(cfg_path.parent) if cfg_path else os.path.abspath(cwd)
    if "select" in data:
        config.select = _check_ids(data["select"], known_ids, "select", names=names)
    if "ignore" in data:
        config.ignore = _check_ids(data["ignore"], known_ids, "ignore", names=names)
    for glob, ids in data.get("per-file-ignores", {}).items():
        config.per_file_ignores[glob] = _check_ids(ids, known_ids, f"per-file-ignores.{glob}", names=names)
    config.exclude = tuple(data.get("exclude", ()))
    for rule_id, level in data.get("severity", {}).items():
        (resolved,) = _check_ids([rule_id], known_ids, "severity", prefixes=False, names=names)
        config.severity[resolved] = Severity.parse(level)
    if "fail-on" in data:
        config.fail_on = Severity.parse(data["fail-on"])
    if "max-file-size" in data:
        config.max_file_size = data["max-file-size"]
    helm = data.get("helm", {})
    config.helm_values = tuple(_inside_tree(v, config.root, str(cfg_path), "helm.values") for v in helm.get("values", ()))
    config.helm_engine = helm.get("engine", "auto")
    return config


def _inside_tree(path: str, root: str, config_path: str, key: str) -> str:
    """A file a config names, relative to the config's directory, and never outside that tree.

    A scanned repository may carry its own config: ``helm: {values: [~/.kube/config]}`` plus a
    template that prints a value into an image would copy a host file into findings (PR annotations,
    SARIF). Paths given on the command line (``--helm-values``) are the user's own and not limited.
    """
    joined = os.path.normpath(os.path.join(root, os.path.expanduser(path) if path.startswith("~") else path))
    real_root = os.path.realpath(root)
    real = os.path.realpath(joined)
    if real != real_root and not real.startswith(real_root.rstrip(os.sep) + os.sep):
        raise ConfigError(
            f"{config_path}: {key} names {path!r}, which is outside the config's directory {root}; "
            "a config may only name files in its own tree (pass it with --helm-values instead)"
        )
    return joined


def parse_id_list(text: str | None, known_ids: set[str], flag: str,
                  names: dict[str, str] | None = None) -> tuple[str, ...] | None:
    if text is None:
        return None
    return _check_ids([p for p in text.split(",") if p.strip()], known_ids, flag, names=names)


def is_enabled(rule_id: str, default_on: bool, select: tuple[str, ...], ignore: tuple[str, ...]) -> bool:
    """flake8/ruff semantics: the longest matching prefix wins; ties go to ignore. Rules that are off
    by default are enabled only by their full ID in ``select``."""
    best_select = max((len(p) for p in select if rule_id.startswith(p)), default=-1)
    best_ignore = max((len(p) for p in ignore if rule_id.startswith(p)), default=-1)
    if best_select < 0 or best_ignore >= best_select:
        return False
    return default_on or rule_id in select


def ignored_for_path(rule_id: str, path: str, per_file: dict[str, tuple[str, ...]]) -> bool:
    for glob, ids in per_file.items():
        if glob_match(glob, path) and any(rule_id.startswith(i) for i in ids):
            return True
    return False
