"""Charts of the scanned tree rendered again with a release's values (a kustomization's
``helmCharts``, a Flux HelmRelease, an Argo CD Application): what that release deploys."""

from __future__ import annotations

import os
import posixpath
from typing import Any, Sequence

from ..workspace import ImageUse, Workspace

MAX_RENDERS = 64  # releases rendered in one run (each renders a whole chart): the callers count


def render_scanned_chart(
    ws: Workspace, directory: str, values_files: Sequence[str], values_docs: Sequence[tuple[str, Any]],
) -> tuple[list[ImageUse] | None, str | None]:
    """The images the chart at ``directory`` (a display path, among the scanned charts) deploys with
    these values (values files as display paths, inside the scanned tree; parsed values as
    (display path, YMap)), each traced to the values line behind it; or (None, why not)."""
    from .. import helm
    from . import kubernetes

    wanted = posixpath.normpath(directory)
    facts = next((c for c in ws.charts if posixpath.normpath(c.display) == wanted), None)
    if facts is None:
        return None, f"chart {directory!r} is not among the scanned charts; its images are not checked"
    root = _root_of(facts.dir, facts.display)
    files: list[Any] = []
    for display in values_files:
        shown = posixpath.normpath(display)
        fs_path = os.path.normpath(os.path.join(root, shown)) if root is not None else None
        if fs_path is None or root is None or shown.startswith(("../", "/")) or shown == ".." \
                or not _within(fs_path, root) or not os.path.isfile(fs_path):
            return None, f"values file {display!r} is not in the scanned tree; chart {directory!r} is not rendered with it"
        files.append((fs_path, display))
    from ..helm.facts import InlineValues
    from ..model import YMap

    inline = [InlineValues(display, doc) for display, doc in values_docs if isinstance(doc, YMap)]
    parsed = helm.load_chart(facts.dir, facts.display, values_files=[*files, *inline])
    if parsed.chart is not None and parsed.chart.render_errors:
        return None, f"chart {directory!r} cannot be rendered with these values: {parsed.chart.render_errors[0].message}"
    scratch = Workspace()
    for doc in parsed.documents:
        kubernetes.extract(doc, scratch)
    return scratch.images, None


def _root_of(fs_dir: str, display: str) -> str | None:
    """The directory display paths are relative to, from one chart's (directory, display) pair."""
    fs = fs_dir.replace(os.sep, "/").rstrip("/")
    shown = posixpath.normpath(display)
    if shown == ".":
        return fs
    if shown.startswith("../") or not fs.endswith("/" + shown):
        return None
    return fs[: -len(shown) - 1] or "/"


def _within(path: str, root: str) -> bool:
    """``path`` (symbolic links resolved) is inside ``root``: values are read from the scanned tree only."""
    real, top = os.path.realpath(path), os.path.realpath(root)
    return real == top or real.startswith(top.rstrip(os.sep) + os.sep)
