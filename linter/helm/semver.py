"""Semantic versions and constraints as Helm reads them (Masterminds/semver v3), for dependencies."""

from __future__ import annotations

import operator
import re
from typing import Any, Callable, NamedTuple

# An exact chart version: what `helm pull oci://... --version X` resolves to one tag without listing
# tags (helm pkg/registry GetTagMatchingVersionOrConstraint tries an exact tag match first).
EXACT = re.compile(
    r"^v?(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?"
    r"(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$"
)
_LOOSE = re.compile(r"^v?(\d+)(?:\.(\d+))?(?:\.(\d+))?(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$")
_PART = re.compile(r"^\s*(=|!=|>=|=>|<=|=<|>|<|~>|~|\^)?\s*v?([0-9xX*]+(?:\.[0-9xX*]+){0,2}(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?)\s*$")


class Version(NamedTuple):
    major: int
    minor: int
    patch: int
    pre: tuple = ()

    def key(self) -> tuple:
        # A pre-release sorts before its release; numeric identifiers sort before alphanumeric ones.
        if not self.pre:
            return (self.major, self.minor, self.patch, 1, ())
        ids = tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in self.pre)
        return (self.major, self.minor, self.patch, 0, ids)


def is_exact(text: str) -> bool:
    return bool(EXACT.match(text.strip()))


def parse_version(text: str) -> Version | None:
    m = _LOOSE.match(str(text).strip())
    if not m:
        return None
    pre = tuple(m.group(4).split(".")) if m.group(4) else ()
    return Version(int(m.group(1)), int(m.group(2) or 0), int(m.group(3) or 0), pre)


def _is_x(part: str | None) -> bool:
    return part is None or part in ("x", "X", "*")


# Operators on which a wildcard narrows the comparison to the parts before it: `>1.x` is above every
# 1.y.z, `!=1.2.x` outside 1.2. The others compare whole versions, a wildcard counting as 0.
_BY_PARTS: dict[str, Callable[[Any, Any], bool]] = {
    "": operator.eq, "=": operator.eq, "!=": operator.ne, ">": operator.gt, "<=": operator.le, "=<": operator.le,
}
_WHOLE: dict[str, Callable[[Any, Any], bool]] = {">=": operator.ge, "=>": operator.ge, "<": operator.lt}


def _check_one(op: str, spec: str, v: Version) -> bool:
    core, _, pre_text = spec.partition("-")
    core = core.split("+", 1)[0]
    parts: list[str | None] = list(core.split("."))
    parts += [None] * (3 - len(parts))
    pre = tuple(pre_text.split(".")) if pre_text else ()
    # Masterminds: a pre-release version only satisfies constraints that carry a pre-release.
    if v.pre and not pre:
        return False
    if _is_x(parts[0]):
        return op not in ("<", ">", "!=")
    major = int(parts[0])  # type: ignore[arg-type]
    minor_x, patch_x = _is_x(parts[1]), _is_x(parts[2])
    minor = 0 if minor_x else int(parts[1])  # type: ignore[arg-type]
    patch = 0 if patch_x else int(parts[2])  # type: ignore[arg-type]
    c = Version(major, minor, patch, pre).key()
    k = v.key()
    compare = _BY_PARTS.get(op)
    if compare is not None:
        if minor_x:
            return compare(v.major, major)
        if patch_x:
            return compare((v.major, v.minor), (major, minor))
        return compare(k, c)
    compare = _WHOLE.get(op)
    if compare is not None:
        return compare(k, c)
    if op not in ("~", "~>", "^") or k < c:
        return False
    if op == "^":
        if major > 0 or minor_x:
            return v.major == major
        if minor > 0 or patch_x:
            return (v.major, v.minor) == (0, minor)
        return (v.major, v.minor, v.patch) == (0, 0, patch)
    if minor_x:  # ~ and ~>
        return v.major == major
    return (v.major, v.minor) == (major, minor)


def satisfies(constraint: str, version: str) -> bool:
    """Whether ``version`` meets ``constraint`` (``||`` of comma/space-separated ANDs, hyphen ranges)."""
    v = parse_version(version)
    if v is None or not isinstance(constraint, str) or not constraint.strip():
        return False
    for alternative in constraint.split("||"):
        # Blank runs become one space first: `\s+-\s+` alone backtracks quadratically in a long
        # run of blanks (a Chart.yaml constraint is the chart author's text).
        text = re.sub(r"\s+-\s+", " - ", re.sub(r"\s+", " ", alternative.strip()))
        hyphen = re.match(r"^(\S+) - (\S+)$", text)
        if hyphen:
            clauses = [">=" + hyphen.group(1), "<=" + hyphen.group(2)]
        else:
            text = re.sub(r"(=|!=|>=|=>|<=|=<|>|<|~>|~|\^)\s+", r"\1", text)
            clauses = [c for c in re.split(r"[\s,]+", text) if c]
        ok = bool(clauses)
        for clause in clauses:
            m = _PART.match(clause)
            if not m or not _check_one(m.group(1) or "", m.group(2), v):
                ok = False
                break
        if ok:
            return True
    return False
