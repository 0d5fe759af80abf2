"""What a chart tells the rules besides its rendered manifests: dependencies and render errors."""

from __future__ import annotations

import posixpath
from dataclasses import dataclass, field

from ..model import Loc, YMap

# Engine names as they appear in ChartFacts.engine and --helm-engine.
ENGINE_SDK = "helm-python-sdk"
ENGINE_BINARY = "helm-binary"
ENGINE_BUILTIN = "builtin"


@dataclass(frozen=True)
class ChartDependency:
    """One ``dependencies:`` entry of Chart.yaml (or requirements.yaml of an apiVersion v1 chart)."""

    name: str
    loc: Loc  # the entry's ``name`` value (the entry itself when it has no name)
    version: str | None = None
    version_loc: Loc | None = None
    repository: str | None = None
    repository_loc: Loc | None = None
    alias: str | None = None
    condition: str | None = None
    tags: tuple[str, ...] = ()
    vendored: bool = True  # found in charts/ (as a directory or a .tgz archive)
    vendored_version: str | None = None  # the version of the chart found in charts/
    chart: str = ""  # the display path of the chart that declares it
    # Set when a Terraform helm_release installs the chart (its address, "helm_release.app"):
    # messages name it, and a version written but not known offline (a var) is not judged.
    declared_by: str = ""
    version_known: bool = True


@dataclass(frozen=True)
class InlineValues:
    """Values given in memory instead of a file (a Terraform ``helm_release``'s ``values``/``set``),
    with the positions of where they are written; ``text``: the text the spans index ("" if none)."""

    display: str
    doc: YMap
    text: str = ""


@dataclass(frozen=True)
class RenderError:
    """Why (part of) a chart could not be rendered: reported as ECR401 at ``loc``."""

    message: str
    loc: Loc  # the template line where rendering stopped, or the Chart.yaml entry
    template: str | None = None  # chart-relative template path ("templates/deployment.yaml")
    kind: str = "template"  # "required" | "fail" | "template" | "syntax" | "schema" | "missing-dependency" | "chart"


@dataclass(frozen=True)
class ValuesImage:
    """An image block of a values file, checked directly when its templates cannot be rendered."""

    value: str  # "registry/repository:tag" as the usual templates would build it
    loc: Loc
    path: str  # dotted values path of the block ("image", "metrics.image")


@dataclass
class ChartFacts:
    """Per-chart facts for ECR401-403; appended by the engine to ``Workspace.charts``."""

    name: str
    dir: str  # the chart directory on disk
    display: str  # the chart directory as the user sees it
    chart_yaml: str  # display path of Chart.yaml
    engine: str = ENGINE_BUILTIN  # which engine produced the rendered documents
    api_version: str | None = None
    chart_type: str = "application"
    dependencies: list[ChartDependency] = field(default_factory=list)  # of this chart and its subcharts
    render_errors: list[RenderError] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # --verbose notes (install-time inputs, fallbacks)
    templates_rendered: int = 0
    values_images: list[ValuesImage] = field(default_factory=list)  # only when templates failed

    @classmethod
    def for_dir(cls, chart_dir: str, display: str) -> "ChartFacts":
        """Facts before anything is loaded: named after the directory until Chart.yaml says otherwise."""
        return cls(
            name=posixpath.basename(display.rstrip("/")) or display,
            dir=chart_dir,
            display=display,
            chart_yaml=f"{display}/Chart.yaml",
        )


# A chart vendored as an archive is displayed as "<chart>/charts/<name>.tgz/<inner chart>/...".
_ARCHIVE_SUFFIXES = (".tgz", ".tar.gz")


def in_archive(path: str) -> tuple[str, str] | None:
    """``(archive, inner path)`` when ``path`` names a file inside a vendored subchart archive.

    The outermost archive: a finding there points at the file an editor can open, and names the
    inner file (with any archives inside it) in its message.
    """
    if ".tgz/" not in path and ".tar.gz/" not in path:
        return None
    parts = path.split("/")
    for index in range(1, len(parts) - 1):
        if parts[index - 1] == "charts" and parts[index].endswith(_ARCHIVE_SUFFIXES):
            return "/".join(parts[: index + 1]), "/".join(parts[index + 1 :])
    return None


def archive_message(message: str, inner: str, line: int, column: int) -> str:
    return f"{message} (at {inner}:{line}:{column} inside the archive)"
