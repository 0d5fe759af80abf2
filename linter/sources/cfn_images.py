"""Image strings in CloudFormation: ECS task definitions, Lambda and SAM functions, Batch job definitions."""

from __future__ import annotations

from typing import Any, Iterator

from .cfn_intrinsics import Template, is_symbolic, resolve_values
from ..model import Document, Loc, YMap, YSeq
from ..workspace import ImageUse, Workspace


def _image_fields(rtype: str, props: YMap) -> Iterator[tuple[YMap, str, str, str | None]]:
    """(container, key, JSON pointer below Properties, container name) for each image field of a resource."""
    if rtype == "AWS::ECS::TaskDefinition":
        defs = props.get("ContainerDefinitions")
        if isinstance(defs, YSeq):
            for i, item in enumerate(defs):
                if isinstance(item, YMap) and "Image" in item:
                    name = item.get("Name") if isinstance(item.get("Name"), str) else None
                    yield item, "Image", f"/ContainerDefinitions/{i}/Image", name
    elif rtype == "AWS::Lambda::Function":
        code = props.get("Code")
        if isinstance(code, YMap) and "ImageUri" in code:
            yield code, "ImageUri", "/Code/ImageUri", None
    elif rtype == "AWS::Serverless::Function":
        if "ImageUri" in props:
            yield props, "ImageUri", "/ImageUri", None
    elif rtype == "AWS::Batch::JobDefinition":
        yield from _batch_image_fields(props)


def _batch_image_fields(props: YMap) -> Iterator[tuple[YMap, str, str, str | None]]:
    """A Batch job definition's images: its container, each node range's, each EKS pod container's."""
    cp = props.get("ContainerProperties")
    if isinstance(cp, YMap) and "Image" in cp:
        yield cp, "Image", "/ContainerProperties/Image", None
    nodes = props.get("NodeProperties")
    ranges = nodes.get("NodeRangeProperties") if isinstance(nodes, YMap) else None
    if isinstance(ranges, YSeq):
        for i, item in enumerate(ranges):
            c = item.get("Container") if isinstance(item, YMap) else None
            if isinstance(c, YMap) and "Image" in c:
                yield c, "Image", f"/NodeProperties/NodeRangeProperties/{i}/Container/Image", None
    eks = props.get("EksProperties")
    pod = eks.get("PodProperties") if isinstance(eks, YMap) else None
    containers = pod.get("Containers") if isinstance(pod, YMap) else None
    if isinstance(containers, YSeq):
        for i, item in enumerate(containers):
            if isinstance(item, YMap) and "Image" in item:
                name = item.get("Name") if isinstance(item.get("Name"), str) else None
                yield item, "Image", f"/EksProperties/PodProperties/Containers/{i}/Image", name


def extract(doc: Document, ws: Workspace, template: Template | None = None) -> None:
    root = doc.root
    resources = root.get("Resources") if isinstance(root, YMap) else None
    if not isinstance(resources, YMap):
        return
    template = template or Template(root)
    for logical, resource in resources.items():
        if not isinstance(resource, YMap):
            continue
        rtype = resource.get("Type")
        props = resource.get("Properties")
        if not isinstance(rtype, str) or not isinstance(props, YMap):
            continue
        for holder, key, pointer, cname in _image_fields(rtype, props):
            raw: Any = holder[key]
            loc = Loc(doc.path, holder.value_span(key))
            # Fn::If gives every branch; an unknowable value (ImportValue, ...) gives none: never guessed.
            for text in dict.fromkeys(resolve_values(raw, template)):
                ws.images.append(
                    ImageUse(
                        value=text,
                        loc=loc,
                        source="cloudformation",
                        field=f"/Resources/{logical}/Properties{pointer}",
                        container=cname,
                        logical=str(logical),
                        symbolic=not isinstance(raw, str) and is_symbolic(text),
                    )
                )
