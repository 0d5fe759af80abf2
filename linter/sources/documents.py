"""YAML and JSON files: read with positions by ecrlint's parser, each document to the kind that claims it."""

from __future__ import annotations

import re

from ..model import ParsedFile
from ..parsing import parse_file
from ..workspace import Workspace
from . import ExtractContext, FileSource, extract_documents

SNIFF_CHARS = 1 << 20  # how much of a broken file's text says whose it is

# What the text of a file that did not parse says about it. A file is ours when its content names a
# kind ecrlint reads; any of these is enough (CloudFormation's resource types, eksctl's API group,
# Kubernetes' apiVersion with kind, an IAM policy's Statement with Effect, a Fargate profile or an
# account-authorization-details dump). A marker is a key at the start of a line or after `{`/`,`.
_KEY = r"""(?:^|[{{,])\s*["']?{}["']?\s*:"""
_CFN = re.compile(r"AWSTemplateFormatVersion|" + _KEY.format("Type") + r"""\s*["']?AWS::""", re.M)
_EKSCTL = re.compile(r"eksctl\.io/v")
_K8S_API = re.compile(_KEY.format("apiVersion"), re.M)
_K8S_KIND = re.compile(_KEY.format("kind"), re.M)
_IAM = re.compile(_KEY.format("Statement"), re.M)
_IAM_EFFECT = re.compile(_KEY.format("Effect") + r"""\s*["']?(?:Allow|Deny)""", re.M)
_OTHER_OURS = re.compile(r"""["']?(?:fargateProfileName|podExecutionRoleArn|RoleDetailList)["']?\s*:""")
# Text for another tool: MIME multi-part user data (whose nodeadm part has apiVersion and kind too),
# Go template actions (`{{ .Values.x }}`; not CloudFormation's `{{resolve:...}}`), envsubst variables.
_MIME = re.compile(r"\A\s*(?:MIME-Version\s*:|Content-Type\s*:\s*multipart/)", re.I)
_GO_TEMPLATE = re.compile(r"\{\{-?\s*(?!resolve:)[-.$/(\"'a-zA-Z]")
_ENVSUBST = re.compile(r"\$\{[A-Za-z_][A-Za-z0-9_]*\}")


def foreign_reason(text: str) -> str | None:
    """Why a file that did not parse cleanly is not ours to judge, or None when its text says it is."""
    text = text[:SNIFF_CHARS]
    if _MIME.match(text):
        return "MIME multi-part data (EC2 user data?)"
    if _CFN.search(text) or _EKSCTL.search(text):
        return None
    if _GO_TEMPLATE.search(text):
        return "a Go template for another tool (rendered before it is YAML)"
    if (_K8S_API.search(text) and _K8S_KIND.search(text)) or (_IAM.search(text) and _IAM_EFFECT.search(text)) \
            or _OTHER_OURS.search(text):
        return None
    if _ENVSUBST.search(text):
        return "a template for another tool (envsubst variables) that is not a kind ecrlint reads"
    return "not a kind of file ecrlint reads"


class YamlJsonFiles(FileSource):
    name = "documents"
    # `.template`: CloudFormation's own examples and the AWS Quick Starts name templates so.
    suffixes = (".yaml", ".yml", ".json", ".template")

    def read(self, path: str, display: str, max_bytes: int, data: bytes | None = None) -> ParsedFile:
        parsed = parse_file(path, display, data=data, max_bytes=max_bytes)
        if parsed.errors:
            # Whose is it? Only for a file read whole (a read failure or one over max-file-size stays
            # ECR001: what it holds is not known): the engine
            # turns the problems of a file that is neither ours nor parseable into a --verbose note.
            read_whole = parsed.digest is not None if data is None else len(data) <= max_bytes
            text = _text(path, data, max_bytes) if read_whole else None
            if text is not None:
                parsed.foreign = foreign_reason(text)
        return parsed

    def extract(self, parsed: ParsedFile, ws: Workspace, ctx: ExtractContext) -> None:
        extract_documents(parsed.documents, parsed, ws, ctx)


def _text(path: str, data: bytes | None, max_bytes: int) -> str | None:
    if data is None:
        import os
        import stat

        try:  # as parsing reads: never blocking on a FIFO, only a regular file
            fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
            try:
                data = os.read(fd, min(max_bytes, SNIFF_CHARS)) if stat.S_ISREG(os.fstat(fd).st_mode) else None
            finally:
                os.close(fd)
        except OSError:
            return None
        if data is None:
            return None
    return data[:SNIFF_CHARS].decode("utf-8", "replace")
