"""YAML and JSON files: read with positions by ecrlint's parser, each document to the kind that claims it."""

from __future__ import annotations

from ..model import ParsedFile
from ..parsing import parse_file
from ..workspace import Workspace
from . import ExtractContext, FileSource, extract_documents


class YamlJsonFiles(FileSource):
    name = "documents"
    # `.template`: CloudFormation's own examples and the AWS Quick Starts name templates so.
    suffixes = (".yaml", ".yml", ".json", ".template")

    def read(self, path: str, display: str, max_bytes: int, data: bytes | None = None) -> ParsedFile:
        return parse_file(path, display, data=data, max_bytes=max_bytes)

    def extract(self, parsed: ParsedFile, ws: Workspace, ctx: ExtractContext) -> None:
        extract_documents(parsed.documents, parsed, ws, ctx)
