"""Regenerate ecrlint's bundled AWS data (linter/data/) from a shared/data checkout.

Usage: python scripts/update_data.py [PATH_TO_SHARED_DATA]   (default: ../shared/data)

The package never reads shared/ at run time; this script copies and normalises what it needs:
regions, ECR host forms, ECR IAM actions, every AWS managed policy (compacted to what can matter
for an ECR pull) and eksctl's ClusterConfig schema. Re-run it when shared/data is refreshed and
commit the result.
"""

from __future__ import annotations

import json
import re
import shutil
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DEST = ROOT / "linter" / "data"
TEXT_FILES = ["aws-regions.txt", "ecr-actions.txt", "ecr-registry-hosts.txt"]


def ecr_action_names(path: Path) -> list[str]:
    """Every ecr / ecr-public action of ecr-actions.txt (first column of the non-comment lines)."""
    names = []
    for line in path.read_text(encoding="utf-8").splitlines():
        parts = line.split("\t")
        if not line.startswith("#") and len(parts) == 3:
            names.append(parts[0])
    return names


def _glob(pattern: str) -> re.Pattern[str]:
    # IAM action globs: case-insensitive, "*" any run, "?" one character
    body = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.compile(body, re.IGNORECASE | re.DOTALL)


def _listed(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [v for v in value if isinstance(v, str)]
    return []


def matters_for_ecr(stmt: Any, actions: list[str]) -> bool:
    """Can the statement change an ecr / ecr-public decision? Every Deny is kept; an Allow when its
    Action can match some ECR action, or its NotAction leaves some ECR action out of its list."""
    if not isinstance(stmt, dict):
        return True  # not a statement ecrlint can read: kept as written
    if stmt.get("Effect") != "Allow":
        return True
    if "NotAction" in stmt:
        excluded = [_glob(p) for p in _listed(stmt["NotAction"])]
        return any(not any(g.fullmatch(a) for g in excluded) for a in actions)
    if "Action" not in stmt:
        return True
    patterns = [_glob(p) for p in _listed(stmt["Action"])]
    return any(g.fullmatch(a) for g in patterns for a in actions)


def _trimmed(stmt: Any, actions: list[str]) -> Any:
    """An Allow's Action list cut to the patterns that can match some ECR action: the others can
    never take part in an ECR decision (AWS's read-only policies list hundreds of services)."""
    if not isinstance(stmt, dict) or stmt.get("Effect") != "Allow" or not isinstance(stmt.get("Action"), list):
        return stmt
    patterns = [p for p in _listed(stmt["Action"]) if any(_glob(p).fullmatch(a) for a in actions)]
    return {**stmt, "Action": patterns}


def compact_managed_policies(source: Path, actions: list[str]) -> dict[str, Any]:
    """``{source, policies: {PolicyName: {Path, VersionId, Document}}}``: every AWS managed policy,
    each with only the statements that matter for ECR (a policy with none keeps an empty list, so
    it is known and grants no pull) and, in an Allow, only the actions that can be ECR actions."""
    data = json.loads(source.read_text(encoding="utf-8"))
    policies: dict[str, Any] = {}
    for arn, entry in sorted(data["policies"].items()):
        name, path = entry["name"], entry.get("path", "/")
        if arn != f"arn:aws:iam::aws:policy{path}{name}" or name in policies:
            raise SystemExit(f"{source}: unexpected entry {arn}")
        document = entry["document"]
        raw = document.get("Statement", [])
        items = raw if isinstance(raw, list) else [raw]
        kept = [_trimmed(s, actions) for s in items if matters_for_ecr(s, actions)]
        policies[name] = {
            "Path": path,
            "VersionId": entry.get("version"),
            "Document": {"Version": document.get("Version"), "Statement": kept},
        }
    return {"source": data.get("source"), "count": len(policies), "policies": policies}


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
    # Minified too, one policy a line (readable diffs): read at run time only when a role names an
    # AWS managed policy.
    managed = compact_managed_policies(
        source / "aws-managed-policies.json", ecr_action_names(source / "ecr-actions.txt")
    )
    lines = [
        json.dumps(name) + ":" + json.dumps(entry, separators=(",", ":"), sort_keys=True)
        for name, entry in managed["policies"].items()
    ]
    header = json.dumps({"source": managed["source"], "count": managed["count"]}, separators=(",", ":"))
    text = header[:-1] + ',"policies":{\n' + ",\n".join(lines) + "\n}}\n"
    json.loads(text)  # the hand-joined form must stay valid JSON
    (DEST / "managed-policies.json").write_text(text)
    relevant = sum(1 for e in managed["policies"].values() if e["Document"]["Statement"])
    print(
        f"wrote {len(TEXT_FILES) + 2} files to {DEST.relative_to(ROOT)} "
        f"({managed['count']} AWS managed policies, {relevant} with statements that matter for ECR)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
