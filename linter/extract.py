"""Per-file fact extraction: each parsed document, by kind, into a (partial) workspace."""

from __future__ import annotations

import importlib
from dataclasses import dataclass, replace
from typing import Any

from . import cfn_images, kinds, kubernetes
from .config import Config
from .model import ParsedFile, Span
from .workspace import ImageUse, Workspace

# kind -> module with ``extract(doc, ws, ctx)``; imported only when a file of that kind is seen,
# so linting a manifest never pays for the IAM or eksctl code.
_EXTRACTORS: dict[str, tuple[str, ...]] = {
    kinds.CLOUDFORMATION: ("cloudformation", "fargate"),
    kinds.EKSCTL: ("eksctl",),
    kinds.IAM_POLICY: ("policies",),
    kinds.IAM_AUTHORIZATION_DETAILS: ("policies",),
    kinds.EKS_FARGATE_PROFILE: ("fargate",),
}


@dataclass
class ExtractContext:
    config: Config

    def path_matches(self, globs: Any, path: str) -> bool:
        return self.config.path_matches(globs, path)


def _extractor(module: str) -> Any:
    try:
        mod = importlib.import_module(f"ecrlint.{module}")
    except ModuleNotFoundError as exc:
        if exc.name == f"ecrlint.{module}":
            return None
        raise
    return getattr(mod, "extract", None)


def preload_extractors(charts: bool = False) -> None:
    for modules in _EXTRACTORS.values():
        for module in modules:
            _extractor(module)
    if charts:
        from . import helm

        preload = getattr(helm, "preload", None)
        if preload is not None:
            preload()


def extract_file(parsed: ParsedFile, ctx: ExtractContext) -> Workspace:
    ws = Workspace()
    for doc in parsed.documents:
        kind = doc.kind if doc.kind != kinds.UNKNOWN else kinds.detect_kind(doc.root)
        if kind != doc.kind:
            doc = replace(doc, kind=kind)
        parsed.kinds.add(kind)
        if kind == kinds.KUBERNETES:
            kubernetes.extract(doc, ws)
            continue
        if kind == kinds.CLOUDFORMATION:
            cfn_images.extract(doc, ws)
            _cfn_metadata_suppressions(doc, ws)
        for module in _EXTRACTORS.get(kind, ()):
            fn = _extractor(module)
            if fn is not None:
                fn(doc, ws, ctx)
    if parsed.chart is not None:
        ws.charts.append(parsed.chart)
        # SPEC §6: a chart no engine can render still has its values.yaml images checked.
        for image in getattr(parsed.chart, "values_images", ()):
            ws.images.append(
                ImageUse(value=image.value, loc=image.loc, source="helm", field=image.path,
                         logical=None, origin=f"{image.path} in {image.loc.path}, not rendered")
            )
    return ws


def _cfn_metadata_suppressions(doc: Any, ws: Workspace) -> None:
    """``Metadata: {ecrlint: {ignore: [ECR201]}}`` on a resource covers the whole resource."""
    resources = doc.root.get("Resources")
    if not isinstance(resources, dict):
        return
    for logical, resource in resources.items():
        meta = resource.get("Metadata") if isinstance(resource, dict) else None
        ours = meta.get("ecrlint") if isinstance(meta, dict) else None
        if not isinstance(ours, dict) or "ignore" not in ours:
            continue
        ids = ours["ignore"]
        if isinstance(ids, str):
            ids = ids.split(",")
        rule_ids = frozenset(str(i).strip().upper() for i in ids or () if str(i).strip()) if isinstance(ids, list) else frozenset()
        key_span = resources.key_span(logical)
        end = getattr(resource, "span", key_span)
        region = Span(key_span.line, key_span.column, end.end_line, end.end_column)
        ws.suppression_regions.append((doc.path, region, rule_ids or None, "metadata"))
