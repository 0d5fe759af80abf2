"""Helm charts: a directory holding ``Chart.yaml`` is rendered offline as one unit (see ``helm/``)."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from ..model import ParsedFile
from ..parsing import ParseProblem, decode, scan_suppressions
from ..workspace import ImageUse, Workspace
from . import ExtractContext, UnitSource, extract_documents
from .discovery import display_path

if TYPE_CHECKING:
    from ..engine.options import RunOptions


class HelmChartSource(UnitSource):
    name = "chart"
    marker = "Chart.yaml"

    def preload(self) -> None:
        from .. import helm

        helm.preload()

    def read(self, path: str, display: str, ctx: ExtractContext, options: RunOptions) -> ParsedFile:
        from .. import helm

        values = list(ctx.config.helm_values) + list(options.helm_values)
        engine = options.helm_engine or ctx.config.helm_engine
        parsed = helm.load_chart(path, display, values_files=values,
                                 engine=None if engine == "auto" else engine, max_bytes=ctx.config.max_file_size)
        parsed.reader = self.name
        # Image findings point into values files: their "# ecrlint: ignore" comments must count.
        chart_values = os.path.join(path, "values.yaml")
        for fs_path in [chart_values, *values]:
            if fs_path == chart_values and not _within_dir(chart_values, path):
                continue  # a values.yaml linked out of the chart is not read (the loader refuses it too)
            try:
                with open(fs_path, "rb") as handle:
                    text = decode(handle.read(ctx.config.max_file_size))
            except (OSError, ParseProblem):
                continue
            companion = ParsedFile(display_path(fs_path, options.cwd))
            scan_suppressions(text, companion)
            parsed.companions.append(companion)
        return parsed

    def extract(self, parsed: ParsedFile, ws: Workspace, ctx: ExtractContext) -> None:
        extract_documents(parsed.documents, parsed, ws, ctx)  # the rendered manifests
        if parsed.chart is None:
            return
        ws.charts.append(parsed.chart)
        # A chart no engine can render still has its values.yaml images checked.
        for image in parsed.chart.values_images:
            ws.images.append(
                ImageUse(value=image.value, loc=image.loc, source="helm", field=image.path,
                         logical=None, origin=f"{image.path} in {image.loc.path}, not rendered")
            )


def _within_dir(path: str, directory: str) -> bool:
    real, root = os.path.realpath(path), os.path.realpath(directory)
    return real.startswith(root.rstrip(os.sep) + os.sep)
