"""Terraform configurations: each directory of ``.tf`` files read as one module, offline, into facts.

A directory holding ``.tf`` (or ``.tf.json``) files is one Terraform module (its files share variables, locals and
resources), so it is read as one unit: every ``.tf`` file of the directory and its ``*.tfvars``
files (``terraform.tfvars``, ``*.auto.tfvars`` and any other, in name order: later files win).
Facts carry the position of the ``.tf`` line a user edits. Nothing is run or downloaded: no
``terraform``, no providers, no registry modules; what cannot be known offline stays unknown
(a ``var`` without a default, a data source read from the cloud, a module's outputs).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from ..model import Document, Finding, ParsedFile, Severity, Span
from ..parsing import PARSE_ERROR, PARSE_ERROR_NAME, ParseProblem, decode, scan_suppressions
from ..workspace import Workspace
from . import ExtractContext, UnitSource
from .discovery import display_path

if TYPE_CHECKING:
    from ..engine.options import RunOptions

SUFFIX = ".tf"
TFVARS = ".tfvars"
# HCL and JSON syntax (https://developer.hashicorp.com/terraform/language/files: ".tf" and ".tf.json")
SUFFIXES = (SUFFIX, TFVARS, SUFFIX + ".json", TFVARS + ".json")
MAX_FILES = 500  # .tf files read from one directory
# The HCL parser (lark, pure Python) reads ~0.5 MB/s: the largest .tf file of 1,364 real ones is
# 59 KB, so a file over 1 MiB or a module over 8 MiB is refused rather than parsed for minutes.
MAX_TF_BYTES = 1024 * 1024
MAX_MODULE_BYTES = 8 * 1024 * 1024


class TerraformSource(UnitSource):
    """A directory of ``.tf`` files. Discovery hands every such directory over (and still walks its
    subdirectories: each is a module of its own); a ``.tf`` file named alone brings its directory."""

    name = "terraform"
    marker = "*.tf"  # any file ending in .tf (see discovery.Layout.unit_at)
    extra_markers = ("*.tf.json",)  # a module written in JSON syntax only
    nested = True  # units of this kind do not hide the directories below them

    def preload(self) -> None:
        from . import terraform_facts  # noqa: F401
        from .terraform_hcl import hcl_parser

        hcl_parser()

    def read(self, path: str, display: str, ctx: ExtractContext, options: RunOptions) -> ParsedFile:
        from . import terraform_hcl

        parsed = ParsedFile(display, reader=self.name)
        max_bytes = min(ctx.config.max_file_size, MAX_TF_BYTES)
        budget = MAX_MODULE_BYTES
        try:
            names = sorted(n for n in os.listdir(path) if n.endswith(SUFFIXES) and not n.startswith("."))
        except OSError as exc:
            parsed.errors.append(_error(display, f"cannot read directory: {exc.strerror}"))
            return parsed
        index = 0
        for name in names[:MAX_FILES]:
            fs_path = os.path.join(path, name)
            file_display = display_path(fs_path, options.cwd)
            if os.path.islink(fs_path) and not (_within(fs_path, path) or _within(fs_path, options.cwd)):
                # a module may link shared files from elsewhere in the repository (variables-common.tf);
                # never a link out of the tree being linted (as discovery, without a finding)
                continue
            if not os.path.isfile(fs_path):
                continue
            companion = ParsedFile(file_display)
            try:
                with open(fs_path, "rb") as handle:
                    data = handle.read(max_bytes + 1)
                if len(data) > max_bytes:
                    raise ParseProblem(f"file is larger than the {max_bytes}-byte limit for Terraform files")
                budget -= len(data)
                if budget < 0:
                    raise ParseProblem(f"the module's .tf files pass {MAX_MODULE_BYTES} bytes; this one is not read")
                text = decode(data)
                scan_suppressions(text, companion)
                if name.endswith(".json"):  # Terraform's JSON syntax, with the JSON parser's positions
                    from . import terraform_json

                    body = terraform_json.parse(text, file_display, tfvars=name.endswith(TFVARS + ".json"))
                else:
                    body = terraform_hcl.parse(text)
            except ParseProblem as problem:
                parsed.errors.append(_error(file_display, problem.message, problem.line, problem.column))
                continue
            except OSError as exc:
                parsed.errors.append(_error(file_display, f"cannot read file: {exc.strerror}"))
                continue
            parsed.companions.append(companion)
            kind = "terraform-vars" if name.endswith((TFVARS, TFVARS + ".json")) else "terraform"
            parsed.documents.append(Document(file_display, index, body, kind=kind))
            index += 1
        # Where file() may read (policies kept beside the module): the tree being linted, else the module.
        cwd = os.path.abspath(options.cwd)
        directory = os.path.abspath(path)
        tree = cwd if _within(directory, cwd) or directory == cwd else directory
        engine = options.helm_engine or ctx.config.helm_engine
        where = {"directory": directory, "tree": tree, "cwd": cwd, "helm_engine": engine,
                 "max_bytes": ctx.config.max_file_size}
        parsed.documents.append(Document(display, index, where, kind="terraform-where"))
        if len(names) > MAX_FILES:
            parsed.skipped_reason = f"only the first {MAX_FILES} Terraform files of the directory were read"
        return parsed

    def extract(self, parsed: ParsedFile, ws: Workspace, ctx: ExtractContext) -> None:
        from . import terraform_facts

        where = next((d.root for d in parsed.documents if d.kind == "terraform-where"), None)
        notes = terraform_facts.extract(parsed.documents, ws, where, ctx, parsed.errors, parsed.companions)
        parsed.kinds.add(self.name)
        if notes:  # shown with --verbose, as a chart's notes are
            parsed.skipped_reason = "; ".join(notes)


def _within(path: str, directory: str) -> bool:
    real, root = os.path.realpath(path), os.path.realpath(directory)
    return real.startswith(root.rstrip(os.sep) + os.sep)


def _error(path: str, message: str, line: int = 1, column: int = 1) -> Finding:
    return Finding(PARSE_ERROR, PARSE_ERROR_NAME, Severity.ERROR, path, Span(line, column, line, column + 1), message)

