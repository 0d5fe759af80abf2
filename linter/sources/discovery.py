"""Which files and charts a run reads: paths walked, excludes applied, chart directories as one unit."""

from __future__ import annotations

import errno
import os
import stat
from dataclasses import dataclass
from typing import Iterator

from ..config import glob_match

# Folders of version control and of tools: never a project's own files. Other hidden folders are read
# (eks-workshop keeps its manifests in `.workshop/`, GitHub in `.github/`).
SKIP_DIRS = frozenset([
    ".git", ".hg", ".svn", ".bzr", "_darcs", ".jj", ".sl",  # version control
    ".venv", "venv", ".tox", ".nox", "__pycache__", ".mypy_cache", ".pytest_cache", ".ruff_cache", ".eggs",
    ".hypothesis", ".direnv", "node_modules", ".yarn", ".pnpm-store", ".npm", ".gradle", ".m2", ".cache",
    ".terraform", ".terragrunt-cache", ".serverless", ".aws-sam", ".idea", ".vscode",
])
GITIGNORE = ".gitignore"
OWN_CONFIG_FILES = frozenset([".ecrlint.yaml", ".ecrlint.yml"])  # ecrlint's config is read as config, never linted
MAX_GITIGNORE_BYTES = 1 << 20  # a .gitignore is a few hundred bytes; a bigger one is read up to this


@dataclass(frozen=True)
class Input:
    """One thing to read: a file, a unit directory (a chart), or standard input."""

    path: str  # filesystem path
    display: str  # as shown in findings: relative to the working directory when inside it
    kind: str  # "file" | "stdin" | "missing" | the name of a UnitSource ("chart")


@dataclass(frozen=True)
class Layout:
    """What discovery looks for, from the registered sources: file suffixes and unit markers."""

    suffixes: tuple[str, ...]
    units: tuple[tuple[str, str], ...]  # (marker file, unit source name)
    # Units marked by any file with a suffix ("*.tf"), which do not hide the directories below
    # them (a Terraform module's subdirectories are modules of their own): (suffix, source name).
    nested: tuple[tuple[str, str], ...] = ()

    @classmethod
    def registered(cls) -> "Layout":
        from . import registered

        sources = registered()
        return cls(
            sources.suffixes,
            tuple((u.marker, u.name) for u in sources.units if not getattr(u, "nested", False)),
            tuple((marker.lstrip("*"), u.name) for u in sources.units if getattr(u, "nested", False)
                  for marker in (u.marker, *getattr(u, "extra_markers", ()))),
        )

    def nested_unit(self, filenames: list[str]) -> str | None:
        """The nested unit source a directory with these files is, if any (``*.tf`` files: terraform)."""
        return next((name for suffix, name in self.nested
                     if any(f.endswith(suffix) and not f.startswith(".") for f in filenames)), None)

    def nested_file(self, path: str) -> str | None:
        """The nested unit source a file named on its own belongs to (its directory is the unit)."""
        return next((name for suffix, name in self.nested
                     if path.endswith((suffix, suffix + "vars", suffix.replace(".tf", ".tfvars", 1)))), None)

    def unit_at(self, directory: str) -> str | None:
        """The unit source whose marker this directory holds, if any."""
        return next((name for marker, name in self.units if os.path.isfile(os.path.join(directory, marker))), None)


def display_path(path: str, cwd: str) -> str:
    absolute = os.path.abspath(path)
    try:
        rel = os.path.relpath(absolute, cwd)
    except ValueError:  # another drive on Windows
        return path.replace(os.sep, "/")
    if rel == ".." or rel.startswith(".." + os.sep):
        # The working directory may have been reached through a link (macOS /tmp, a symlinked
        # checkout): ``abspath`` resolves against the real directory, ``cwd`` may name the link.
        # Inside the tree once both are resolved, the path is still shown relative to it.
        real_rel = os.path.relpath(os.path.join(os.path.realpath(os.path.dirname(absolute)), os.path.basename(absolute)),
                                   os.path.realpath(cwd))
        if real_rel != ".." and not real_rel.startswith(".." + os.sep):
            return real_rel.replace(os.sep, "/")
        return absolute.replace(os.sep, "/")
    return rel.replace(os.sep, "/")


def unit_root(path: str, stop: str, layout: Layout) -> tuple[str, str] | None:
    """The nearest unit directory at or above ``path`` (not above ``stop``), and its source's name."""
    directory = os.path.dirname(os.path.abspath(path)) if not os.path.isdir(path) else os.path.abspath(path)
    stop = os.path.abspath(stop)
    while True:
        kind = layout.unit_at(directory)
        if kind is not None:
            # A subchart inside charts/ belongs to its parent chart: keep climbing while we are in one.
            parent = os.path.dirname(directory)
            if os.path.basename(parent) == "charts" and layout.unit_at(os.path.dirname(parent)) == kind:
                directory = os.path.dirname(parent)
                continue
            return directory, kind
        if directory == stop or os.path.dirname(directory) == directory or not directory.startswith(stop):
            return None
        directory = os.path.dirname(directory)


class _Excluder:
    """Config ``exclude`` globs, relative to the config file's directory whatever the working directory."""

    def __init__(self, exclude: tuple[str, ...], cwd: str, root: str | None) -> None:
        self.exclude = exclude
        self.cwd = os.path.realpath(cwd)
        self.root = os.path.realpath(root) if root is not None else None

    def __call__(self, display: str) -> bool:
        if not self.exclude:
            return False
        rel = display
        if self.root is not None and self.root != self.cwd:
            rel = os.path.relpath(os.path.join(self.cwd, display), self.root).replace(os.sep, "/")
        return any(glob_match(g, rel) for g in self.exclude)


def discover(paths: list[str], exclude: tuple[str, ...], cwd: str, notes: list[str],
             layout: Layout | None = None, exclude_root: str | None = None) -> list[Input]:
    """Expand command-line paths into inputs, in a stable order, each at most once.

    ``exclude`` globs are relative to ``exclude_root`` (the config's directory; default ``cwd``).
    Directories are walked with ``.gitignore`` honoured inside a git repository; a path named on the
    command line is read even when ignored (a pre-commit hook names only tracked files)."""
    layout = layout or Layout.registered()
    excluded = _Excluder(exclude, cwd, exclude_root)
    out: dict[str, Input] = {}
    for arg in paths:
        if arg == "-":
            out["-"] = Input("-", "-", "stdin")
            continue
        display = display_path(arg, cwd)
        if excluded(display):
            notes.append(f"{display}: excluded by config")
            continue
        try:
            st = os.stat(arg)
        except OSError as exc:
            # Only a path that is not there is "missing"; a symlink loop, a permission problem or a
            # name too long goes to the reader, whose ECR001 then names the real reason.
            kind = "missing" if exc.errno in (errno.ENOENT, errno.ENOTDIR) else "file"
            out.setdefault(display, Input(arg, display, kind))
            notes.append(f"{display}: {exc.strerror}")
            continue
        if _escapes_tree(arg, cwd):
            # never follow a symlink out of the tree, even one named on the command line
            notes.append(f"{display}: symlink out of the tree not followed")
            continue
        if stat.S_ISDIR(st.st_mode):
            _walk(arg, cwd, excluded, out, notes, layout)
            continue
        stop = cwd if os.path.abspath(arg).startswith(os.path.abspath(cwd)) else os.path.dirname(os.path.abspath(arg))
        unit = unit_root(arg, stop, layout)
        if unit is not None:
            unit_display = display_path(unit[0], cwd)
            out.setdefault(unit_display, Input(unit[0], unit_display, unit[1]))
            continue
        nested = layout.nested_file(arg)
        if nested is not None:  # a .tf file named alone: its directory is the module it belongs to
            directory = os.path.dirname(arg) or "."
            unit_display = display_path(directory, cwd)
            out.setdefault(unit_display, Input(directory, unit_display, nested))
            continue
        out.setdefault(display, Input(arg, display, "file"))
    return list(out.values())


def _within(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def _escapes_tree(arg: str, cwd: str) -> bool:
    """Does a command-line path resolve, through a symlink, outside the tree it was named in?

    The tree is the working directory for paths inside it; for a symlink named elsewhere, its own
    directory. A plain path outside the working directory is the user's explicit choice.
    """
    absolute = os.path.abspath(arg)
    if _within(absolute, os.path.abspath(cwd)):
        root = os.path.realpath(cwd)
    elif os.path.islink(absolute):
        root = os.path.realpath(os.path.dirname(absolute))
    else:
        return False
    return not _within(os.path.realpath(absolute), root)


def _walk(top: str, cwd: str, excluded: _Excluder, out: dict[str, Input], notes: list[str],
          layout: Layout) -> None:
    top_real = os.path.realpath(top)
    unit = layout.unit_at(top)
    if unit is not None:
        display = display_path(top, cwd)
        out.setdefault(display, Input(top, display, unit))
        return
    ignores = GitIgnores.for_walk(top)
    for dirpath, dirnames, filenames in _walk_tree(top, notes):
        keep = []
        for name in sorted(dirnames):
            full = os.path.join(dirpath, name)
            display = display_path(full, cwd)
            if name in SKIP_DIRS or excluded(display) or ignores.ignored(full, is_dir=True):
                continue
            if os.path.islink(full):
                notes.append(f"{display}: symlinked directory not followed")
                continue
            unit = layout.unit_at(full)
            if unit is not None:
                out.setdefault(display, Input(full, display, unit))
                continue
            keep.append(name)
        dirnames[:] = keep
        nested = layout.nested_unit(filenames)
        if nested is not None:
            display = display_path(dirpath, cwd)
            out.setdefault(display, Input(dirpath, display, nested))
        for name in sorted(filenames):
            if not name.endswith(layout.suffixes) or name in OWN_CONFIG_FILES:
                continue
            if nested is not None and layout.nested_file(name) is not None:
                continue  # a .tf.json file: read with its unit, not as a JSON document of its own
            full = os.path.join(dirpath, name)
            display = display_path(full, cwd)
            if excluded(display) or ignores.ignored(full, is_dir=False):
                continue
            if os.path.islink(full):
                target = os.path.realpath(full)
                if not (target == top_real or target.startswith(top_real + os.sep)):
                    notes.append(f"{display}: symlink out of the tree not followed")
                    continue
                if not os.path.exists(target):
                    notes.append(f"{display}: broken or looping symlink skipped")
                    continue
            out.setdefault(display, Input(full, display, "file"))


class GitIgnores:
    """The ``.gitignore`` files of a git repository, as git reads them: each file's patterns relative to
    its own directory, the deepest file with a matching pattern decides, and nothing inside an ignored
    directory comes back (the walk does not enter it). Outside a repository (no ``.git`` at or above
    the walk's top) nothing is ignored, as with ripgrep and ruff. pathspec is imported only when a
    ``.gitignore`` exists."""

    def __init__(self, repo_root: str | None) -> None:
        self.repo_root = repo_root
        self._specs: dict[str, object | None] = {}  # directory -> its .gitignore's spec, or None

    @classmethod
    def for_walk(cls, top: str) -> "GitIgnores":
        directory = os.path.abspath(top)
        while True:
            if os.path.exists(os.path.join(directory, ".git")):
                return cls(directory)
            parent = os.path.dirname(directory)
            if parent == directory:
                return cls(None)
            directory = parent

    def _spec(self, directory: str) -> object | None:
        if directory in self._specs:
            return self._specs[directory]
        spec = None
        lines: list[str] = []
        sources = [os.path.join(directory, GITIGNORE)]
        if directory == self.repo_root:
            sources.insert(0, os.path.join(directory, ".git", "info", "exclude"))
        for source in sources:
            lines.extend(_read_small(source, MAX_GITIGNORE_BYTES).splitlines())
        if any(line.strip() and not line.startswith("#") for line in lines):
            from pathspec import GitIgnoreSpec

            try:
                spec = GitIgnoreSpec.from_lines(lines)
            except Exception:  # a pattern git would skip: ignore the file rather than stop the run
                spec = None
        self._specs[directory] = spec
        return spec

    def ignored(self, path: str, is_dir: bool) -> bool:
        if self.repo_root is None:
            return False
        path = os.path.abspath(path)
        directory = os.path.dirname(path)
        while True:  # from the path's own directory up to the repository root
            spec = self._spec(directory)
            if spec is not None:
                rel = os.path.relpath(path, directory).replace(os.sep, "/") + ("/" if is_dir else "")
                decision = spec.check_file(rel).include  # type: ignore[attr-defined]
                if decision is not None:
                    return bool(decision)
            if directory == self.repo_root or not directory.startswith(self.repo_root):
                return False
            directory = os.path.dirname(directory)


def _read_small(path: str, limit: int) -> str:
    """A small text file a repository controls (a .gitignore): a regular file only, never blocking
    on a FIFO or a device it may be linked to, and at most ``limit`` bytes; "" when unreadable."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError:
        return ""
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return ""
        return os.read(fd, limit).decode("utf-8", "replace")
    except OSError:
        return ""
    finally:
        os.close(fd)


def _walk_tree(top: str, notes: list[str]) -> Iterator[tuple[str, list[str], list[str]]]:
    """``os.walk(top)`` top-down without following links, on an explicit stack.

    Python 3.11's ``os.walk`` recurses once per directory level: a committed tree 1,500 levels deep
    ends it in RecursionError. The caller prunes ``dirnames`` in place, as with ``os.walk``.
    """
    stack = [top]
    while stack:
        directory = stack.pop()
        dirnames: list[str] = []
        filenames: list[str] = []
        try:
            with os.scandir(directory) as entries:
                for entry in entries:
                    try:
                        is_dir = entry.is_dir(follow_symlinks=False) or (entry.is_symlink() and entry.is_dir())
                    except OSError:
                        is_dir = False
                    (dirnames if is_dir else filenames).append(entry.name)
        except OSError as exc:
            notes.append(f"{exc.filename}: {exc.strerror}")
            continue
        yield directory, dirnames, filenames
        stack.extend(os.path.join(directory, name) for name in reversed(dirnames))
