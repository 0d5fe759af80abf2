"""Input kinds as plug-in sources: how a kind is recognised, read with positions, and turned into facts.

Three shapes of input, one protocol each:

- ``DocumentSource``: a kind of YAML or JSON document (Kubernetes objects, CloudFormation, eksctl,
  IAM policies, ...). ecrlint's own reader parses the file with positions; every document is given
  to the first kind (lowest ``priority``) whose ``detect`` claims it, then to its ``extract``.
- ``FileSource``: a file format of its own (``suffixes`` say which files discovery hands it), read
  and extracted by the source itself. YAML/JSON files are one (``documents``).
- ``UnitSource``: a directory read as one unit when it holds ``marker`` (a Helm chart and its
  ``Chart.yaml``).

Built-in kinds are listed in ``BUILTIN``; third-party packages add theirs through the entry-point
group ``ecrlint.sources`` (a ``Source`` subclass, or a module of them), as rule packs use
``ecrlint.rules``. Adding a kind is one module here and its tests.
"""

from __future__ import annotations

import importlib
import inspect
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import TYPE_CHECKING, Any, ClassVar, Iterable

from ..model import Document, ParsedFile
from ..workspace import Workspace

if TYPE_CHECKING:
    from ..config import Config
    from ..engine.options import RunOptions

ENTRY_POINT_GROUP = "ecrlint.sources"
UNKNOWN = "unknown"

# module:class, in no particular order: DocumentSource.priority decides detection.
BUILTIN = (
    "ecrlint.sources.documents:YamlJsonFiles",
    "ecrlint.sources.eksctl:EksctlSource",
    "ecrlint.sources.cloudformation:CloudFormationSource",
    "ecrlint.sources.iam_files:AuthorizationDetailsSource",
    "ecrlint.sources.iam_files:IamPolicySource",
    "ecrlint.sources.eks_api:EksFargateProfileSource",
    "ecrlint.sources.kubernetes:KubernetesSource",
    "ecrlint.sources.karpenter:NodeClassSource",
    "ecrlint.sources.kustomize:KustomizationSource",
    "ecrlint.sources.kustomize:JsonPatchSource",
    "ecrlint.sources.gitops:FluxSourceSource",
    "ecrlint.sources.chart:HelmChartSource",
    "ecrlint.sources.terraform:TerraformSource",
)


@dataclass
class ExtractContext:
    """What extraction may know besides the document: the run's config."""

    config: Config

    def path_matches(self, globs: Any, path: str) -> bool:
        return self.config.path_matches(globs, path)


class Source:
    """Base of every input kind: a unique ``name`` (shown in ``--verbose`` notes and facts)."""

    name: ClassVar[str]


class DocumentSource(Source):
    """A kind of YAML/JSON document. ``detect`` must be cheap and import nothing heavy: it runs on
    every document of every file; ``extract`` may import what it needs."""

    priority: ClassVar[int] = 100

    def detect(self, root: Any) -> bool:  # pragma: no cover - abstract
        raise NotImplementedError

    def extract(self, doc: Document, ws: Workspace, ctx: ExtractContext) -> None:  # pragma: no cover
        raise NotImplementedError


class FileSource(Source):
    """A file format: discovery hands every file whose name ends with one of ``suffixes`` to ``read``."""

    suffixes: ClassVar[tuple[str, ...]]

    def read(self, path: str, display: str, max_bytes: int, data: bytes | None = None) -> ParsedFile:  # pragma: no cover
        raise NotImplementedError

    def extract(self, parsed: ParsedFile, ws: Workspace, ctx: ExtractContext) -> None:  # pragma: no cover
        raise NotImplementedError


class UnitSource(Source):
    """A directory read as one unit: discovery stops at a directory holding ``marker``.

    A ``nested`` unit is marked by any file matching ``marker`` (``"*.tf"``) and does not stop
    discovery: its subdirectories are looked at too (a Terraform module's subdirectories are
    modules of their own)."""

    marker: ClassVar[str]
    nested: ClassVar[bool] = False

    def read(self, path: str, display: str, ctx: ExtractContext, options: RunOptions) -> ParsedFile:  # pragma: no cover
        raise NotImplementedError

    def extract(self, parsed: ParsedFile, ws: Workspace, ctx: ExtractContext) -> None:  # pragma: no cover
        raise NotImplementedError


@dataclass(frozen=True)
class Sources:
    """Every registered input kind, by shape."""

    documents: tuple[DocumentSource, ...] = ()
    files: tuple[FileSource, ...] = ()
    units: tuple[UnitSource, ...] = ()
    by_name: dict[str, Source] = field(default_factory=dict)

    @property
    def suffixes(self) -> tuple[str, ...]:
        return tuple(s for f in self.files for s in f.suffixes)

    @property
    def markers(self) -> tuple[str, ...]:
        return tuple(u.marker for u in self.units)

    def file_source(self, name: str) -> FileSource | None:
        """The reader for a file name (the first whose suffix fits), or None."""
        return next((f for f in self.files if name.endswith(f.suffixes)), None)

    def unit(self, name: str) -> UnitSource:
        source = self.by_name[name]
        assert isinstance(source, UnitSource)
        return source

    def detect(self, root: Any) -> DocumentSource | None:
        return next((d for d in self.documents if d.detect(root)), None)


def _classes(obj: Any) -> list[type[Source]]:
    if inspect.isclass(obj) and issubclass(obj, Source):
        return [obj]
    if inspect.ismodule(obj):
        return [c for _n, c in inspect.getmembers(obj, inspect.isclass)
                if issubclass(c, Source) and c.__module__ == obj.__name__ and "name" in c.__dict__]
    if isinstance(obj, (list, tuple)):
        return [c for c in obj if inspect.isclass(c) and issubclass(c, Source)]
    return []


def _entry_point_sources() -> list[type[Source]]:
    from ..registry import declares_entry_points

    if not declares_entry_points(ENTRY_POINT_GROUP):
        return []
    from importlib.metadata import entry_points

    found: list[type[Source]] = []
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        found.extend(_classes(ep.load()))
    return found


@lru_cache(maxsize=1)
def registered() -> Sources:
    """The built-in kinds and those of installed packages, once per process."""
    classes: list[type[Source]] = []
    for spec in BUILTIN:
        module, _, name = spec.partition(":")
        classes.append(getattr(importlib.import_module(module), name))
    classes.extend(_entry_point_sources())
    by_name: dict[str, Source] = {}
    for cls in classes:
        if cls.name in by_name:
            raise ValueError(f"two input kinds are named {cls.name!r}")
        by_name[cls.name] = cls()
    instances = list(by_name.values())
    return Sources(
        documents=tuple(sorted((s for s in instances if isinstance(s, DocumentSource)), key=lambda s: s.priority)),
        files=tuple(s for s in instances if isinstance(s, FileSource)),
        units=tuple(s for s in instances if isinstance(s, UnitSource)),
        by_name=by_name,
    )


def detect_kind(root: Any) -> str:
    """The name of the kind a parsed document belongs to, or ``unknown``."""
    source = registered().detect(root)
    return source.name if source is not None else UNKNOWN


def extract_file(parsed: ParsedFile, ctx: ExtractContext) -> Workspace:
    """The facts of one read file or unit, by the source that read it."""
    ws = Workspace()
    sources = registered()
    reader = sources.by_name.get(parsed.reader)
    if isinstance(reader, (FileSource, UnitSource)):
        reader.extract(parsed, ws, ctx)
    return ws


def extract_documents(documents: Iterable[Document], parsed: ParsedFile, ws: Workspace, ctx: ExtractContext) -> None:
    """Each document to the kind that claims it (a document that already knows its kind keeps it)."""
    sources = registered()
    for doc in documents:
        source = sources.by_name.get(doc.kind) if doc.kind != UNKNOWN else sources.detect(doc.root)
        kind = source.name if source is not None else UNKNOWN
        parsed.kinds.add(kind)
        if isinstance(source, DocumentSource):
            if doc.kind != kind:
                doc = replace(doc, kind=kind)
            source.extract(doc, ws, ctx)


def finish(ws: Workspace) -> None:
    """Once every file is merged: each kind that names facts of other files by name (a Karpenter node
    class's role) resolves them here, through its optional ``finish(ws)``."""
    for source in registered().by_name.values():
        hook = getattr(source, "finish", None)
        if hook is not None:
            hook(ws)


def preload(units: bool = False) -> None:
    """Import every kind's extraction code before a process pool forks, so workers share it."""
    for source in registered().by_name.values():
        warm = getattr(source, "preload", None)
        if warm is not None and (units or not isinstance(source, UnitSource)):
            warm()
