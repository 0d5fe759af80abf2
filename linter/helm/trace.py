"""Which values.yaml line produced each part of a rendered image string, so image findings point at it.

The chart is rendered a second time with a sentinel (``ecrl<n>q``) in place of every image-like
string leaf of every values file. A sentinel found inside a rendered image string names the leaf
that produced that stretch of characters; aligning the sentinel image with the real one tells
which part (registry, repository, tag, digest) each leaf produced. What no leaf produced points
at the template line instead.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Iterator

from ..model import Loc, Span, YMap, YSeq

SENTINEL = re.compile(r"ecrl([0-9a-f]+)q", re.IGNORECASE)
PARTS = ("registry", "repository", "tag", "digest")
# Leaves under these keys (or any leaf whose value looks like an image) become sentinels; other
# strings keep their value so `eq .Values.service.type "NodePort"` branches render the same way.
_IMAGE_KEYS = re.compile(r"image|registry|repo|tag|digest|version|account|region|domain|host|prefix|suffix", re.I)
_IMAGE_LIKE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:/@+-]*$")
# The start of a template line that writes `image:`; where its value ends is found by
# _image_line (one regex for the whole line backtracked quadratically in a run of blanks).
_TEMPLATE_IMAGE_PREFIX = re.compile(r"""\s*(?:-\s+)?["']?image["']?\s*:\s*(?=\S)""")
_BLANKS = re.compile(r"\s+")
# `<[^<>]*>` and not `<[^>]*>`: the same strings contain a match (the last `<` before a `>`), but
# a run of `<` without `>` is scanned once, not once per `<`.
_PLACEHOLDER = re.compile(r"\$\{|\{\{|<[^<>]*>|REPLACE|CHANGE_?ME|TODO", re.I)
_ECR_HOST_OK = re.compile(
    r"^\d{12}\.dkr[.-]ecr(?:-fips)?\.[a-z]{2}(?:-[a-z]+)+-\d\.(?:amazonaws\.com(?:\.cn)?|on\.aws|amazonaws\.eu|"
    r"on\.amazonwebservices\.com\.cn|c2s\.ic\.gov|sc2s\.sgov\.gov|cloud\.adc-e\.uk|csp\.hci\.ic\.gov)$"
)


@dataclass(frozen=True)
class Leaf:
    """A values-file scalar that can show up in a rendered image."""

    loc: Loc
    path: str  # dotted path in its values file ("image.tag")
    original: str
    parent: Any  # the YMap holding it (for sibling keys such as an empty ``tag``)
    file: str
    full: str = ""  # path in the top chart's values ("worker.image.tag" for a subchart's "image.tag")
    rank: int = 0  # precedence: lower wins (user files < top values.yaml < subcharts by depth)


class Sentinels:
    """Sentinel strings handed out for values leaves, and the leaves behind them."""

    def __init__(self) -> None:
        self.leaves: list[Leaf] = []
        self.by_value: dict[str, list[Leaf]] = {}
        self.by_place: dict[tuple[int, str], Leaf] = {}  # (id(parent YMap), key) -> leaf
        self._winners: dict[str, Leaf] | None = None
        self._scope = ""
        self._rank = 0

    def substitute(self, node: Any, file: str, scope: str = "", rank: int = 0) -> Any:
        """A plain copy of a position-carrying values tree with image-like leaves replaced.

        ``scope`` is where the tree sits in the top chart's values ("worker." for a subchart),
        ``rank`` its precedence (lower overrides higher), so overridden leaves can be told apart.
        """
        self._scope, self._rank, self._winners = scope, rank, None
        return self._copy(node, file, "", False)

    def effective(self, leaf: Leaf) -> bool:
        """Whether no stronger values file sets the same path (the leaf's value is the one used)."""
        if self._winners is None:
            winners: dict[str, Leaf] = {}
            for candidate in self.leaves:
                best = winners.get(candidate.full)
                if best is None or candidate.rank < best.rank:
                    winners[candidate.full] = candidate
            self._winners = winners
        return self._winners.get(leaf.full) is leaf

    def _full(self, path: str) -> str:
        # Globals are one namespace shared down the tree (a parent's global wins).
        return path if path == "global" or path.startswith(("global.", "global[")) else self._scope + path

    def _copy(self, node: Any, file: str, path: str, imagey: bool) -> Any:
        if isinstance(node, YMap):
            out: dict[str, Any] = {}
            for key, value in node.items():
                name = key if isinstance(key, str) else str(key).lower() if isinstance(key, bool) else str(key)
                child_path = f"{path}.{name}" if path else name
                under_image = imagey or bool(_IMAGE_KEYS.search(name))
                if isinstance(value, (YMap, YSeq)):
                    out[name] = self._copy(value, file, child_path, under_image)
                elif self._wanted(name, value, under_image):
                    out[name] = self._register(node, key, value, file, child_path)
                else:
                    out[name] = value
            return out
        if isinstance(node, YSeq):
            items = []
            for i, value in enumerate(node):
                if isinstance(value, (YMap, YSeq)):
                    items.append(self._copy(value, file, f"{path}[{i}]", imagey))
                elif isinstance(value, str) and imagey and _IMAGE_LIKE.match(value):
                    item_path = f"{path}[{i}]"
                    leaf = Leaf(Loc(file, node.item_span(i)), item_path, value, None, file, self._full(item_path), self._rank)
                    self.leaves.append(leaf)
                    self.by_value.setdefault(value, []).append(leaf)
                    items.append(f"ecrl{len(self.leaves) - 1:x}q")
                else:
                    items.append(value)
            return items
        return node

    @staticmethod
    def _wanted(key: str, value: Any, imagey: bool) -> bool:
        if isinstance(value, bool) or value is None:
            return False
        if isinstance(value, (int, float)):
            return key.lower() in ("tag", "version") or key.lower().endswith(("tag", "version"))
        if not isinstance(value, str) or not value or not _IMAGE_LIKE.match(value):
            return False
        return imagey or any(c in value for c in "/:@")

    def _register(self, parent: YMap, key: Any, value: Any, file: str, path: str) -> str:
        leaf = Leaf(Loc(file, parent.value_span(key)), path, str(value), parent, file, self._full(path), self._rank)
        self.leaves.append(leaf)
        self.by_value.setdefault(leaf.original, []).append(leaf)
        self.by_place[(id(parent), str(key))] = leaf
        return f"ecrl{len(self.leaves) - 1:x}q"

    def leaf(self, token: str) -> Leaf | None:
        try:
            index = int(token, 16)
        except ValueError:
            return None
        return self.leaves[index] if 0 <= index < len(self.leaves) else None


# --- image strings -------------------------------------------------------------------------------


def split_image(ref: str) -> dict[str, tuple[int, int]]:
    """Character ranges of the parts of an image reference (docker's normalisation rules)."""
    parts: dict[str, tuple[int, int]] = {}
    name_end = len(ref)
    at = ref.find("@")
    if at >= 0:
        parts["digest"] = (at + 1, len(ref))
        name_end = at
    name = ref[:name_end]
    repo_end = name_end
    colon = name.rfind(":")
    if colon > name.rfind("/"):
        parts["tag"] = (colon + 1, name_end)
        repo_end = colon
    repo_start = 0
    slash = name.find("/")
    if slash > 0:
        first = name[:slash]
        if "." in first or ":" in first or first == "localhost" or first != first.lower():
            parts["registry"] = (0, slash)
            repo_start = slash + 1
    parts["repository"] = (repo_start, repo_end)
    return parts


def _align(real: str, sentinel: str, sentinels: Sentinels) -> list[tuple[int, int, Leaf]]:
    """Ranges of ``real`` produced by each leaf whose sentinel appears in ``sentinel``."""
    pieces: list[str | Leaf] = []
    cursor = 0
    for m in SENTINEL.finditer(sentinel):
        leaf = sentinels.leaf(m.group(1))
        if leaf is None:
            continue
        pieces.append(sentinel[cursor : m.start()])
        pieces.append(leaf)
        cursor = m.end()
    if not pieces:
        return []
    pieces.append(sentinel[cursor:])
    # 1. Substituting the original values gives the real string back: exact ranges.
    out: list[tuple[int, int, Leaf]] = []
    position = 0
    rebuilt = []
    for piece in pieces:
        if isinstance(piece, Leaf):
            out.append((position, position + len(piece.original), piece))
            position += len(piece.original)
            rebuilt.append(piece.original)
        else:
            position += len(piece)
            rebuilt.append(piece)
    if "".join(rebuilt) == real:
        return out
    # 2. The template transformed a value (lower, trimSuffix, ...): match literals around it.
    m = _match_around(pieces, real)
    if m:
        leaves = [p for p in pieces if isinstance(p, Leaf)]
        return [(m.start(i + 1), m.end(i + 1), leaf) for i, leaf in enumerate(leaves)]
    # 3. Where each original value occurs as is.
    found = []
    for piece in pieces:
        if isinstance(piece, Leaf) and piece.original and piece.original in real:
            start = real.find(piece.original)
            found.append((start, start + len(piece.original), piece))
    return found


# Docker caps a repository name at 255 characters, a tag at 128 and a digest is 71: longer "images"
# are not aligned by pattern (where each original value occurs is still found).
_MAX_ALIGNED = 4096


def _match_around(pieces: list[str | Leaf], real: str) -> Any:
    """``re.fullmatch`` of the literal pieces with ``(.*?)`` for each leaf, case-insensitively, on RE2.

    Python's backtracking takes time exponential in the number of leaves when the literals do not
    line up (a chart decides both the image and how many values it is built from); RE2 is linear
    in the image and reports the same groups (leftmost-first, as short as possible).
    """
    import re2

    if len(real) > _MAX_ALIGNED or sum(len(p) for p in pieces if not isinstance(p, Leaf)) > _MAX_ALIGNED:
        return None  # not an image reference anyone can pull; a megabyte pattern is not worth compiling

    def literal(text: str) -> str:
        return "".join(c if c.isascii() and c.isalnum() else f"\\x{{{ord(c):x}}}" for c in text)

    options = re2.Options()
    options.dot_nl = True
    options.case_sensitive = False
    options.log_errors = False
    pattern = "".join("(.*?)" if isinstance(piece, Leaf) else literal(piece) for piece in pieces)
    try:
        return re2.compile(pattern, options).fullmatch(real)
    except re2.error:  # a pattern beyond RE2's memory budget: no alignment, step 3 still runs
        return None


def _best(ranges: list[tuple[int, int, Leaf]], part: tuple[int, int]) -> Leaf | None:
    a, b = part
    if b <= a:
        return None
    best, best_overlap = None, 0
    for start, end, leaf in ranges:
        overlap = min(b, end) - max(a, start)
        if start <= a < end:
            overlap += b - a  # the leaf that starts the part wins
        if overlap > best_overlap:
            best, best_overlap = leaf, overlap
    return best


def _sibling(leaf: Leaf | None, key: str) -> tuple[Loc, str] | None:
    if leaf is None:
        return None
    parent = leaf.parent
    if not isinstance(parent, YMap) or key not in parent:
        return None
    span = parent.key_span(key) if parent[key] is None else parent.value_span(key)
    base = leaf.path.rsplit(".", 1)[0] if "." in leaf.path else ""
    return Loc(leaf.file, span), f"{base}.{key}" if base else key


def _primary(real: str, parts: dict[str, tuple[int, int]]) -> str:
    """The part the image rules will find wrong, so the finding lands on the line that produced it.

    Decided by the same analysis the image rules use (ecrlint.analysis.images.analyze): a placeholder in
    whichever part holds it; an invalid ECR host or a missing registry at the registry; a missing
    or ``latest`` tag at the tag; anything else at the repository (the line that names the image).
    """
    try:
        from ..analysis.images import analyze
    except ImportError:  # pragma: no cover - the image module ships with ecrlint
        return _primary_by_patterns(real, parts)
    a = analyze(real)
    if a.placeholder is not None:
        for name in PARTS:
            if name in parts and a.placeholder.text in real[parts[name][0] : parts[name][1]]:
                return name
        return "repository"
    if a.bad_host is not None:
        return "registry"
    ref = a.reference
    if ref is not None:
        if ref.host_missing:
            return "registry"
        if ref.tag_missing:
            return "tag"
        if ref.tag == "latest" and ref.digest is None:
            return "tag"
    return "repository"


def _primary_by_patterns(real: str, parts: dict[str, tuple[int, int]]) -> str:
    """_primary's decision by this module's own patterns, should the image analysis be missing."""
    for name in PARTS:
        if name in parts and _PLACEHOLDER.search(real[parts[name][0] : parts[name][1]]):
            return name
    if "registry" not in parts:
        return "registry"
    host = real[parts["registry"][0] : parts["registry"][1]]
    if (".dkr.ecr" in host or ".dkr-ecr" in host) and not _ECR_HOST_OK.match(host):
        return "registry"
    if "tag" not in parts and "digest" not in parts:
        return "tag"
    if "tag" in parts and real[parts["tag"][0] : parts["tag"][1]] == "latest":
        return "tag"
    return "repository"


def parts_from_sentinel(real: str, sentinel: str, sentinels: Sentinels) -> dict[str, Leaf]:
    """The leaf behind each part of ``real``, from the same field rendered with sentinels."""
    ranges = _align(real, sentinel, sentinels)
    out: dict[str, Leaf] = {}
    for name, span in split_image(real).items():
        leaf = _best(ranges, span)
        if leaf is not None:
            out[name] = leaf
    if not out and ranges:
        out["repository"] = ranges[0][2]
    return out


def parts_direct(real: str, sentinels: Sentinels, app_versions: set[str]) -> dict[str, Leaf] | None:
    """The leaf behind each part when the values say so unambiguously, without a second render.

    Every part present must be explained: by one leaf holding the whole image, or by one leaf
    holding the repository (with or without the registry) and its sibling ``registry``/``tag``/
    ``digest`` keys holding the rest (a tag equal to a chart's appVersion counts as explained
    when the sibling ``tag`` is empty). Anything else (two candidate leaves, a part no sibling
    explains) returns None and the sentinel render decides.
    """
    parts = split_image(real)

    def live(value: str) -> list[Leaf]:
        return [leaf for leaf in sentinels.by_value.get(value, []) if sentinels.effective(leaf)]

    whole = live(real)
    if len(whole) == 1:
        return {name: whole[0] for name in parts}
    if whole:
        return None
    repo_start, repo_end = parts["repository"]
    by_part: dict[str, Leaf] = {}
    named = live(real[:repo_end])
    if len(named) == 1:
        by_part["repository"] = named[0]
        if "registry" in parts:
            by_part["registry"] = named[0]
    elif named or "registry" not in parts:
        return None
    else:
        repos = live(real[repo_start:repo_end])
        if len(repos) != 1:
            return None
        by_part["repository"] = repos[0]
    anchor = by_part["repository"]
    parent = anchor.parent
    for name in ("registry", "tag", "digest"):
        if name not in parts or name in by_part:
            continue
        text = real[parts[name][0] : parts[name][1]]
        sibling = sentinels.by_place.get((id(parent), name)) if isinstance(parent, YMap) else None
        if sibling is not None and not sentinels.effective(sibling):
            return None  # another values file sets it: let the sentinel render tell which one
        if sibling is not None and sibling.original == text:
            by_part[name] = sibling
            continue
        empty_tag = not isinstance(parent, YMap) or parent.get("tag") in (None, "")
        if name == "tag" and text in app_versions and empty_tag:
            continue  # the template's `default .Chart.AppVersion`
        candidates = live(text)
        if name == "registry" and len(candidates) == 1 and sibling is None:
            by_part[name] = candidates[0]  # e.g. global.imageRegistry
            continue
        return None
    return by_part


def trace_image(
    pointer: str,
    real: str,
    by_part: dict[str, Leaf],
    template_loc: Loc | None,
) -> dict[str, tuple[Loc, str]]:
    """Trace entries for one image field: ``pointer`` (the primary) and ``pointer#part`` per part."""
    parts = split_image(real)
    out: dict[str, tuple[Loc, str]] = {}
    anchor = by_part.get("repository") or next(iter(by_part.values()), None)
    template = (template_loc, "template line") if template_loc else None
    for name in PARTS:
        if name in by_part:
            out[f"{pointer}#{name}"] = (by_part[name].loc, by_part[name].path)
            continue
        # Missing (or produced by the template/.Chart.AppVersion): the key the user would set.
        entry = _sibling(anchor, name)
        if entry is None:
            if name in parts and template is not None:
                entry = template
            elif anchor is not None:
                entry = (anchor.loc, anchor.path)
            else:
                entry = template
        if entry is not None:
            out[f"{pointer}#{name}"] = entry
    primary = out.get(f"{pointer}#{_primary(real, parts)}")
    if primary is not None:
        out[pointer] = primary
    return out


# --- rendered documents --------------------------------------------------------------------------


def image_fields(root: Any, pointer: str = "") -> Iterator[tuple[str, str]]:
    """(JSON pointer, value) of every container-like ``image`` string in a rendered document."""
    stack = [(root, pointer)]
    while stack:
        node, path = stack.pop()
        if isinstance(node, dict):
            image = node.get("image")
            if isinstance(image, str):
                yield f"{path}/image", image
            for key, value in reversed(list(node.items())):
                if isinstance(value, (dict, list)):
                    stack.append((value, f"{path}/{_escape(str(key))}"))
        elif isinstance(node, list):
            for i in range(len(node) - 1, -1, -1):
                if isinstance(node[i], (dict, list)):
                    stack.append((node[i], f"{path}/{i}"))


def _escape(key: str) -> str:
    return key.replace("~", "~0").replace("/", "~1")


def resolve(root: Any, pointer: str) -> Any:
    node = root
    for raw in pointer.split("/")[1:]:
        key = raw.replace("~1", "/").replace("~0", "~")
        if isinstance(node, dict):
            node = node.get(key)
        elif isinstance(node, list) and key.isdigit() and int(key) < len(node):
            node = node[int(key)]
        else:
            return None
    return node


def template_image_lines(source: str, path: str) -> list[Loc]:
    """Lines of a template that write an ``image:`` field, pointing at the value expression."""
    out = []
    for number, line in enumerate(source.splitlines(), start=1):
        found = _image_line(line)
        if found:
            start, end = found
            out.append(Loc(path, Span(number, start + 1, number, end + 1)))
    return out


def _image_line(line: str) -> tuple[int, int] | None:
    """Where the value of an ``image:`` line starts and ends (a trailing `` # comment`` and blanks cut).

    What ``^(\\s*(?:-\\s+)?["']?image["']?\\s*:\\s*)(\\S.*?)\\s*(?:\\s#.*)?$`` matched, in linear
    time: the value ends at the first run of blanks that ends the line or is followed by ``#``.
    """
    m = _TEMPLATE_IMAGE_PREFIX.match(line)
    if m is None or "\n" in line:
        return None
    start = m.end()
    for blank in _BLANKS.finditer(line, start + 1):
        if blank.end() == len(line) or line[blank.end()] == "#":
            return start, blank.start()
    return start, len(line)
