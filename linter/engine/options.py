"""What a run is asked to do (RunOptions) and what it found (RunResult)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from ..config import Config
from ..model import Finding, Severity
from ..registry import Registry
from ..workspace import Workspace


class InternalError(Exception):
    """A bug or an environment failure: exit 2 with a one-line message."""


class UnsupportedEnvironment(InternalError):
    """ecrlint cannot run as installed (a dependency outside the versions it was checked with).

    Exit 2 with the message as it is (it says what to install), without "internal error:". Its only
    argument is the message, so that it crosses the process pool intact.
    """


@dataclass
class RunOptions:
    paths: list[str] = field(default_factory=lambda: ["."])
    config: str | None = None
    select: str | None = None
    ignore: str | None = None
    stdin_filename: str | None = None
    fail_on: str | None = None
    jobs: int | None = None
    helm_values: list[str] = field(default_factory=list)
    helm_engine: str | None = None
    verbose: bool = False
    cwd: str = "."
    stdin: bytes | None = None  # what "-" reads (tests); default: sys.stdin
    progress: Callable[[str], None] | None = None  # told each phase of the run ("reading 12 files")


@dataclass
class RunResult:
    findings: list[Finding]
    suppressed: list[Finding]
    files: int
    notes: list[str]
    registry: Registry
    config: Config
    workspace: Workspace
    fail_on: Severity
    digests: dict[str, str] = field(default_factory=dict)  # display path -> sha256 of what was read
    baselined: int = 0  # findings left out because the --baseline file lists them

    @property
    def failed(self) -> bool:
        return any(f.severity >= self.fail_on for f in self.findings)
