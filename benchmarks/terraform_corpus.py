"""Read a tree of real Terraform and list every ECR001 on a .tf file (there should be none).

The shared corpus holds no Terraform; fetch real trees (terraform-aws-eks, eks-blueprints,
govuk-infrastructure, ...) next to the project and point this at them:

    .venv/bin/python benchmarks/terraform_corpus.py /tmp/tfcorpus
"""

from __future__ import annotations

import sys
import time

from ecrlint.engine import RunOptions, run


def main(root: str) -> int:
    start = time.perf_counter()
    result = run(RunOptions(paths=["."], cwd=root))
    errors = [f for f in result.findings if f.rule == "ECR001" and f.path.endswith(".tf")]
    for f in errors:
        print(f"{f.path}:{f.span.line}:{f.span.column}: {f.message}")
    tf = [f for f in result.findings if f.path.endswith(".tf")]
    print(f"{len(tf)} findings on .tf files, {len(errors)} ECR001, in {time.perf_counter() - start:.1f} s")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "."))
