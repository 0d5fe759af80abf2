"""Regenerate ecrlint's bundled AWS data (linter/data/) from a shared/data checkout.

Usage: python scripts/update_data.py [PATH_TO_SHARED_DATA]   (default: ../shared/data)

The package never reads shared/ at run time; this script copies and normalises what it needs:
regions, ECR host forms, ECR IAM actions, the AWS managed policies nodes and Fargate use, and
eksctl's ClusterConfig schema. Re-run it when shared/data is refreshed and commit the result.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEST = ROOT / "linter" / "data"
TEXT_FILES = ["aws-regions.txt", "ecr-actions.txt", "ecr-registry-hosts.txt"]


def main(argv: list[str]) -> int:
    source = Path(argv[1]) if len(argv) > 1 else ROOT.parent / "shared" / "data"
    if not (source / "aws-regions.txt").is_file():
        print(f"no shared data at {source}", file=sys.stderr)
        return 2
    DEST.mkdir(parents=True, exist_ok=True)
    for name in TEXT_FILES:
        shutil.copyfile(source / name, DEST / name)
    # eksctl's schema is minified: it is read at run time only when an eksctl file is validated.
    schema = json.loads((source / "eksctl-schema.json").read_text())
    (DEST / "eksctl-schema.json").write_text(json.dumps(schema, separators=(",", ":"), sort_keys=True))
    policies = {}
    for path in sorted((source / "managed-policies").glob("*.json")):
        doc = json.loads(path.read_text())
        policies[doc["PolicyName"]] = {
            "Arn": doc["Arn"],
            "Path": doc.get("Path", "/"),
            "VersionId": doc.get("VersionId"),
            "Source": doc.get("Source"),
            "Document": doc["Document"],
        }
    (DEST / "managed-policies.json").write_text(json.dumps(policies, indent=1, sort_keys=True) + "\n")
    print(f"wrote {len(TEXT_FILES) + 2} files to {DEST.relative_to(ROOT)} ({len(policies)} managed policies)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
