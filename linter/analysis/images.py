"""Container image references: the distribution/reference grammar, ECR registry hosts, placeholders."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import NamedTuple

# --- the grammar: https://github.com/distribution/reference/blob/main/regexp.go ---------------
# Python's ``re`` matches leftmost-first like Go's regexp; ``\w`` is made ASCII-only as in Go.

_ALNUM = r"[a-z0-9]+"
_SEPARATOR = r"(?:[._]|__|[-]+)"
_PATH_COMPONENT = re.compile(rf"{_ALNUM}(?:{_SEPARATOR}{_ALNUM})*")
_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN_NAME = re.compile(rf"{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*")
_IPV6 = re.compile(r"\[[a-fA-F0-9:]+\]")
_TAG = re.compile(r"[\w][\w.-]{0,127}", re.ASCII)
_DIGEST = re.compile(r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}")
_IDENTIFIER = re.compile(r"[a-f0-9]{64}")
_WHITESPACE = re.compile(r"\s")

REPOSITORY_NAME_MAX = 255  # reference.go RepositoryNameTotalLengthMax, on the path only
TAG_MAX = 128
DEFAULT_DOMAIN = "docker.io"
LEGACY_DEFAULT_DOMAIN = "index.docker.io"
OFFICIAL_REPO_PREFIX = "library/"
# go-digest: the algorithms kubelet/containerd register, with their hex length.
DIGEST_ALGORITHMS = {"sha256": 64, "sha384": 96, "sha512": 128}


class InvalidReference(ValueError):
    """An image string that breaks the reference grammar; ``reason`` says exactly how."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


# --- CloudFormation tokens in symbolic images --------------------------------------------------
# A symbolic image (``ImageUse.symbolic``) comes from !Sub/!Join: its ``${...}`` parts are values
# CloudFormation fills in at deploy time, not placeholders. Each token is swapped for one
# private-use character before parsing, so the grammar never sees ``$``/``{``, then swapped back.
# Pseudo parameters have a known shape (an account ID, a region, a DNS suffix); any other token
# (a parameter without a default, ``${Repo.RepositoryUri}``) is opaque: it could hold anything.

_TOKEN = re.compile(r"\$\{([^}]*)\}")
ACCOUNT, REGION, URL_SUFFIX, PARTITION = "\ue000", "\ue001", "\ue002", "\ue003"
_PSEUDO = {"AWS::AccountId": ACCOUNT, "AWS::Region": REGION, "AWS::URLSuffix": URL_SUFFIX, "AWS::Partition": PARTITION}
# What a pseudo token stands for when a component is checked against the grammar.
_STAND_IN = {ACCOUNT: "123456789012", REGION: "us-east-1", URL_SUFFIX: "amazonaws.com", PARTITION: "aws"}
_OPAQUE_BASE = 0xE100


def _is_opaque(ch: str) -> bool:
    return 0xE100 <= ord(ch) <= 0xF8FF


class _Tokens:
    """A symbolic image with its tokens replaced by private-use characters."""

    __slots__ = ("text", "originals")

    def __init__(self, text: str, originals: dict[str, str]) -> None:
        self.text = text
        self.originals = originals

    @classmethod
    def of(cls, value: str, symbolic: bool) -> "_Tokens":
        if not symbolic or "${" not in value:
            return cls(value, {})
        originals: dict[str, str] = {}

        def swap(m: re.Match[str]) -> str:
            name = m.group(1)
            ch = _PSEUDO.get(name) or chr(_OPAQUE_BASE + len(originals))
            originals[ch] = m.group(0)
            return ch

        return cls(_TOKEN.sub(swap, value), originals)

    def restore(self, part: str | None) -> str | None:
        if part is None or not self.originals:
            return part
        return "".join(self.originals.get(ch, ch) for ch in part)


def _has_opaque(part: str) -> bool:
    return any(_is_opaque(ch) for ch in part)


def _has_token(part: str) -> bool:
    return any(ch in _STAND_IN or _is_opaque(ch) for ch in part)


def _stand_in(part: str) -> str:
    return "".join(_STAND_IN.get(ch, ch) for ch in part)


# --- the parsed reference ----------------------------------------------------------------------


@dataclass(frozen=True)
class Reference:
    """A parsed image reference: parts as written, plus Docker's normalised form.

    Tag and digest are both kept when both are written (Docker and containerd then use only the
    digest: ``resolved``). In a symbolic reference, parts may hold ``${...}`` tokens; ``unknown``
    names the parts whose value is hidden behind one: ``"domain"`` (whether and which registry),
    ``"path"``, ``"tag"``, ``"digest"``.
    """

    domain: str | None
    path: str
    tag: str | None = None
    digest: str | None = None
    symbolic: bool = False
    unknown: frozenset[str] = frozenset()

    @property
    def has_domain(self) -> bool:
        return self.domain is not None

    @property
    def host_missing(self) -> bool:
        """No registry host is written, for certain (a symbolic first component may be one)."""
        return self.domain is None and "domain" not in self.unknown

    @property
    def tag_missing(self) -> bool:
        """Neither tag nor digest, for certain: the reference means ``:latest``."""
        return self.tag is None and self.digest is None and not {"tag", "digest"} & self.unknown

    @property
    def normalized_domain(self) -> str:
        if self.domain is None or self.domain == LEGACY_DEFAULT_DOMAIN:
            return DEFAULT_DOMAIN
        return self.domain

    @property
    def normalized_path(self) -> str:
        if self.normalized_domain == DEFAULT_DOMAIN and "/" not in self.path:
            return OFFICIAL_REPO_PREFIX + self.path
        return self.path

    @property
    def name(self) -> str:
        """The repository's full name, ``docker.io/library/nginx`` (as written when the host is unknown)."""
        if self.domain is None and "domain" in self.unknown:
            return self.path  # ``${Registry}/app``: no default host can be assumed
        return f"{self.normalized_domain}/{self.normalized_path}"

    @property
    def full(self) -> str:
        """Normalised, with tag and digest as written: ``nginx:1.25`` -> ``docker.io/library/nginx:1.25``."""
        return self.name + (f":{self.tag}" if self.tag is not None else "") + (f"@{self.digest}" if self.digest else "")

    @property
    def resolved(self) -> str:
        """What Docker and containerd pull (ParseDockerRef): ``:latest`` added, a tag dropped next to a digest."""
        if self.digest:
            return f"{self.name}@{self.digest}"
        return f"{self.name}:{self.tag if self.tag is not None else 'latest'}"

    @property
    def familiar(self) -> str:
        """Docker's short form: ``docker.io/library/nginx:1.25`` -> ``nginx:1.25``."""
        name = self.name
        if self.normalized_domain == DEFAULT_DOMAIN and "domain" not in self.unknown:
            path = self.normalized_path
            rest = path[len(OFFICIAL_REPO_PREFIX):]
            name = rest if path.startswith(OFFICIAL_REPO_PREFIX) and "/" not in rest else path
        return name + (f":{self.tag}" if self.tag is not None else "") + (f"@{self.digest}" if self.digest else "")

    @property
    def host(self) -> str:
        """The registry host without a port (``docker.io`` when none is written)."""
        return split_port(self.normalized_domain)[0]


def split_port(domain: str) -> tuple[str, str | None]:
    """``host:5000`` -> (``host``, ``5000``); IPv6 ``[::1]:5000`` keeps its brackets."""
    if domain.startswith("["):
        end = domain.find("]")
        if end != -1 and domain[end + 1 : end + 2] == ":":
            return domain[: end + 1], domain[end + 2 :]
        return domain, None
    # a ":" inside a CloudFormation token (``${AWS::AccountId}``) is not a port separator
    masked = _TOKEN.sub(lambda m: "x" * len(m.group(0)), domain)
    colon = masked.find(":")
    return (domain[:colon], domain[colon + 1 :]) if colon != -1 else (domain, None)


def _split(text: str) -> tuple[str, str | None, str | None]:
    """``name[:tag][@digest]`` -> (name, tag, digest). A tag is a ``:`` after the last ``/``."""
    name_tag, at, digest = text.partition("@")
    slash, colon = name_tag.rfind("/"), name_tag.rfind(":")
    if colon > slash:
        return name_tag[:colon], name_tag[colon + 1 :], digest if at else None
    return name_tag, None, digest if at else None


def _is_domain(first: str) -> bool:
    """normalize.go splitDockerDomain: the first of several components names a registry when it
    has a ``.`` or ``:``, is ``localhost``, or has an uppercase letter (repository names cannot)."""
    probe = _stand_in(first)
    return probe == "localhost" or "." in probe or ":" in probe or probe.lower() != probe


def split_domain(name: str) -> tuple[str | None, str]:
    """(domain as written or None, path) of a repository name without tag or digest."""
    first, sep, rest = name.partition("/")
    if sep and _is_domain(first):
        return first, rest
    return None, name


def parse_reference(text: str, *, symbolic: bool = False, check_domain: bool = True) -> Reference:
    """Parse an image string as kubelet and containerd do (ParseNormalizedNamed), keeping tag and digest.

    ``symbolic``: ``${...}`` parts are CloudFormation values (see ``ImageUse.symbolic``).
    ``check_domain=False`` skips the host's grammar (the caller reports a bad ECR host itself).
    Raises ``InvalidReference`` with the precise reason.
    """
    tokens = _Tokens.of(text, symbolic)
    raw = tokens.text
    if raw == "":
        raise InvalidReference("the image is empty")
    if _WHITESPACE.search(raw):
        raise InvalidReference("it contains whitespace")
    if _IDENTIFIER.fullmatch(raw):
        raise InvalidReference("a 64-character hex string is an image ID, not a repository name")
    name, tag, digest = _split(raw)
    domain, path = split_domain(name)
    unknown: set[str] = set()

    if domain is None and _has_opaque(path.partition("/")[0]) or domain is not None and _has_token(domain):
        # ``${Registry}/app``: the token may or may not be a host; ``${Acct}.dkr.ecr...``: which host is unknown
        unknown.add("domain")
    if _has_token(path):
        unknown.add("path")
    if tag is not None and _has_token(tag):
        unknown.add("tag")
    if digest is not None and _has_token(digest):
        unknown.add("digest")
    if tag is None and digest is None and _has_opaque(path.rpartition("/")[2]):
        unknown.update(("tag", "digest"))  # ``${Repo.RepositoryUri}`` may carry its own tag

    try:
        if domain is not None and check_domain and not _has_opaque(domain):
            _check_domain(domain)
        _check_path(path, domain)
        if tag is not None and not _has_opaque(tag):
            _check_tag(tag)
        if digest is not None and not _has_opaque(digest):
            _check_digest(digest)
    except InvalidReference as exc:
        raise InvalidReference(tokens.restore(exc.reason) or exc.reason) from None
    ref = Reference(
        tokens.restore(domain),
        tokens.restore(path) or "",
        tokens.restore(tag),
        tokens.restore(digest),
        symbolic=bool(tokens.originals),
        unknown=frozenset(unknown),
    )
    if "path" not in ref.unknown and len(ref.normalized_path) > REPOSITORY_NAME_MAX:
        raise InvalidReference(
            f"the repository name is {len(ref.normalized_path)} characters; the limit is {REPOSITORY_NAME_MAX}"
        )
    return ref


def _check_domain(written: str) -> None:
    domain = _stand_in(written)
    host, port = split_port(domain)
    if port is not None and not port.isdigit():
        raise InvalidReference(f'the port "{port}" of registry "{written}" is not a number')
    if host.startswith("["):
        if not _IPV6.fullmatch(host):
            raise InvalidReference(f'registry host "{host}" is not a valid IPv6 address in brackets')
        return
    if _DOMAIN_NAME.fullmatch(host):
        return
    bad = sorted({ch for ch in host if not (ch.isascii() and (ch.isalnum() or ch in ".-"))})
    if bad:
        raise InvalidReference(f'registry host "{host}" contains {_chars(bad)}, which host names cannot')
    raise InvalidReference(
        f'registry host "{host}" is not a valid host name (empty labels, or labels that start or end with "-")'
    )


def _check_path(path: str, domain: str | None) -> None:
    if path == "":
        raise InvalidReference("the repository name is empty")
    probe = _stand_in(path)
    if probe.lower() != probe and not _has_opaque(path):
        shown = OFFICIAL_REPO_PREFIX + path if domain is None and "/" not in path else path
        raise InvalidReference(f'repository name "{shown}" must be lowercase')
    for component in path.split("/"):
        if _has_opaque(component):
            continue
        probe = _stand_in(component)
        if component == "":
            shown = f"{domain}/{path}" if domain is not None else path
            raise InvalidReference(f'"{shown}" has an empty path component ("//" or a trailing "/")')
        if _PATH_COMPONENT.fullmatch(probe):
            continue
        bad = sorted({ch for ch in probe if not (ch.isascii() and (ch.islower() or ch.isdigit() or ch in "._-"))})
        if bad:
            raise InvalidReference(f'repository name component "{component}" contains {_chars(bad)}')
        raise InvalidReference(
            f'repository name component "{component}" must start and end with a letter or digit, with only '
            f'".", "_", "__" or dashes between them'
        )


def _check_tag(written: str) -> None:
    tag = _stand_in(written)
    if tag == "":
        raise InvalidReference('the tag after ":" is empty')
    if len(tag) > TAG_MAX:
        raise InvalidReference(f"the tag is {len(tag)} characters; the limit is {TAG_MAX}")
    if _TAG.fullmatch(tag):
        return
    bad = sorted({ch for ch in tag if not (ch.isascii() and (ch.isalnum() or ch in "_.-"))})
    if bad:
        raise InvalidReference(f'the tag "{written}" contains {_chars(bad)}')
    raise InvalidReference(f'the tag "{written}" must start with a letter, digit or "_"')


def _check_digest(digest: str) -> None:
    if digest == "":
        raise InvalidReference('the digest after "@" is empty')
    algorithm, _, encoded = digest.partition(":")
    size = DIGEST_ALGORITHMS.get(algorithm)
    if size is not None and re.fullmatch(r"[0-9a-fA-F]+", encoded) and len(encoded) != size:
        raise InvalidReference(f"the {algorithm} digest has {len(encoded)} hex characters; it needs {size}")
    if not _DIGEST.fullmatch(digest):
        raise InvalidReference(f'the digest "{digest}" is not "algorithm:hex" (e.g. sha256: and 64 hex characters)')
    if size is None:
        raise InvalidReference(f'the digest algorithm "{algorithm}" is not supported (sha256, sha384, sha512)')
    if len(encoded) != size:
        raise InvalidReference(f"the {algorithm} digest has {len(encoded)} hex characters; it needs {size}")
    if encoded.lower() != encoded:
        raise InvalidReference(f"the {algorithm} digest must be lowercase hex")


def _chars(chars: list[str]) -> str:
    shown = ", ".join(f'"{c}"' if c.isprintable() and not c.isspace() else repr(c) for c in chars)
    return shown if len(chars) == 1 else f"the characters {shown}"


# --- AWS regions and ECR registry hosts (data/aws-regions.txt, ecr-registry-hosts.txt: sources in their headers) ---


class _AwsData(NamedTuple):
    region_partition: dict[str, str]  # region -> partition
    suffix_partitions: dict[str, frozenset[str]]  # DNS suffix -> partitions using it
    forms: frozenset[tuple[str, str]]  # (service labels, suffix), from kubelet's matchImages
    public_hosts: frozenset[str]


# Dual-stack registry suffixes are not in partitions.json (its dualStackDnsSuffix is the API's).
# ecr-registry-hosts.txt §3: dkr-ecr.<region>.on.aws; China: on.amazonwebservices.com.cn.
_DUALSTACK_SUFFIX_OF = {"amazonaws.com": "on.aws", "amazonaws.com.cn": "on.amazonwebservices.com.cn"}


@lru_cache(maxsize=1)
def _aws_data() -> _AwsData:
    data = resources.files("ecrlint") / "data"
    region_partition: dict[str, str] = {}
    suffix_partitions: dict[str, set[str]] = {}
    header = re.compile(r"^## partition (\S+) dnsSuffix=(\S+)")
    for line in (data / "aws-regions.txt").read_text(encoding="utf-8").splitlines():
        m = header.match(line)
        if m:
            partition, suffix = m.groups()
            suffix_partitions.setdefault(suffix, set()).add(partition)
            dual = _DUALSTACK_SUFFIX_OF.get(suffix)
            if dual:
                suffix_partitions.setdefault(dual, set()).add(partition)
            continue
        if line and not line.startswith("#"):
            parts = line.split("\t")
            if len(parts) >= 2:
                region_partition[parts[1]] = parts[0]
    forms: set[tuple[str, str]] = set()
    public: set[str] = set()
    glob = re.compile(r"^\*\.(dkr[.-]ecr(?:-fips)?)\.\*\.(\S+)$")
    for line in (data / "ecr-registry-hosts.txt").read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        m = glob.match(line)
        if m:
            forms.add((m.group(1), m.group(2)))
        else:
            public.add(line)
    return _AwsData(
        region_partition,
        {k: frozenset(v) for k, v in suffix_partitions.items()},
        frozenset(forms),
        frozenset(public),
    )


def aws_regions() -> dict[str, str]:
    """Every AWS region code with its partition (botocore partitions.json, bundled)."""
    return _aws_data().region_partition


ECR_PUBLIC_HOST = "public.ecr.aws"


@dataclass(frozen=True)
class EcrHost:
    """A valid ECR registry host. In symbolic images ``account``/``region``/``partition`` may be
    ``${AWS::AccountId}``-style tokens: "the stack's", unknown but valid."""

    host: str
    account: str | None  # None for ECR Public
    region: str | None
    partition: str
    fips: bool = False
    dualstack: bool = False
    public: bool = False

    @property
    def symbolic(self) -> bool:
        return any("${" in (part or "") for part in (self.account, self.region, self.partition))


@dataclass(frozen=True)
class InvalidEcrHost:
    """A host shaped like an ECR registry that cannot be one; ``problems`` says why, each a clause."""

    host: str
    problems: tuple[str, ...]
    placeholder: bool = False  # a problem is documentation placeholder text (``aws_account_id``)


_ECR_SERVICES = ("dkr.ecr", "dkr.ecr-fips", "dkr-ecr", "dkr-ecr-fips")
_REGION_SHAPE = re.compile(r"^[a-z]{2,4}(?:-[a-z]+)+-\d+$")
_SYMBOL = re.compile(r"^\$\{[^}]*\}$")


def _symbol(label: str) -> bool:
    return bool(_SYMBOL.match(label))


def classify_host(host: str, *, symbolic: bool = False) -> EcrHost | InvalidEcrHost | None:
    """An ECR registry host, an ECR-shaped host that is wrong, or None (not ECR).

    ``host`` is the registry part of an image (a port is ignored). ``symbolic``: ``${...}`` labels
    are CloudFormation values (pseudo parameters, parameters), valid wherever they stand.
    """
    host = split_port(host)[0]
    lower = host.lower()
    data = _aws_data()
    if lower in data.public_hosts:
        return EcrHost(host, None, None, "aws", public=True)
    labels = host.split(".")
    low = [label.lower() for label in labels]
    for i in range(len(labels)):
        if low[i] == "dkr" and i + 1 < len(labels) and low[i + 1] in ("ecr", "ecr-fips"):
            return _private(host, labels, i, 2, symbolic)
        if low[i] in ("dkr-ecr", "dkr-ecr-fips"):
            return _private(host, labels, i, 1, symbolic)
    if any(label in ("ecr", "ecr-fips") for label in low) and _aws_suffix(lower):
        # an API endpoint (ecr.us-east-1.amazonaws.com, 123456789012.ecr...) written as a registry
        return InvalidEcrHost(host, (f'"{host}" is an ECR API endpoint, not a registry; images are pulled from '
                                     "ACCOUNT.dkr.ecr.REGION.amazonaws.com",))
    return None


def _aws_suffix(lower: str) -> bool:
    return any(lower == s or lower.endswith("." + s) for s in _aws_data().suffix_partitions) or "amazonaws" in lower


def _private(host: str, labels: list[str], at: int, width: int, symbolic: bool) -> EcrHost | InvalidEcrHost | None:
    data = _aws_data()
    service = ".".join(labels[at : at + width]).lower()
    account_labels = labels[:at]
    rest = labels[at + width :]
    region = rest[0] if rest else None
    suffix = ".".join(rest[1:]).lower()
    suffix_is_symbol = symbolic and len(rest) == 2 and _symbol(rest[1])
    if (suffix and not suffix_is_symbol and suffix not in data.suffix_partitions
            and "amazonaws" not in suffix and "aws" not in suffix.split(".")):
        return None  # e.g. "dkr.ecr.example.com": not AWS at all
    problems: list[str] = []
    account = ".".join(account_labels)
    account_placeholder = _account_problems(account_labels, service, symbolic, problems)
    partition, region_placeholder = _region_problems(region, service, symbolic, data, problems)
    placeholder = account_placeholder or region_placeholder

    # suffix and form (kubelet's matchImages: ACCOUNT.<service>.REGION.<suffix>)
    partitions: frozenset[str] | None = None
    if suffix_is_symbol:
        if rest[1] == "${AWS::URLSuffix}" and service.startswith("dkr-ecr"):
            problems.append(f'dual-stack "{service}" hosts end in .on.aws, but ${{AWS::URLSuffix}} is the partition\'s '
                            "amazonaws.com domain")
    elif region is not None and suffix:
        partitions = data.suffix_partitions.get(suffix)
        if partitions is None:
            problems.append(f'"{suffix}" is not an ECR domain')
        elif (service, suffix) not in data.forms:
            # suggest the suffix of the region's own partition first (us-east-1 -> on.aws, not .com.cn)
            valid = sorted((s for (svc, s) in data.forms if svc == service),
                           key=lambda s: (partition not in data.suffix_partitions.get(s, frozenset()), len(s)))
            others = sorted(svc for (svc, s) in data.forms if s == suffix)
            same_fips = [o for o in others if o.endswith("-fips") == service.endswith("-fips")] or others
            alternatives = [f"ACCOUNT.{same_fips[0]}.REGION.{suffix}"] if same_fips else []
            alternatives += [f"ACCOUNT.{service}.REGION.{v}" for v in valid[:1]]
            problems.append(f'there are no "{service}" hosts under .{suffix}; use {" or ".join(alternatives)}')
        elif partition is not None and partition not in partitions:
            right = sorted(s for (svc, s) in data.forms
                           if svc == service and partition in data.suffix_partitions.get(s, frozenset()))
            whose = f", whose {service} hosts end in .{right[0]}" if right else ""
            problems.append(f'the region "{region}" is in the {partition} partition{whose}, not .{suffix}')
    elif region is not None:
        problems.append(f'there is no domain after the region "{region}"')

    if problems:
        return InvalidEcrHost(host, tuple(problems), placeholder)
    if partition is None:
        partition = next(iter(partitions)) if partitions and len(partitions) == 1 else "${AWS::Partition}"
    return EcrHost(
        host,
        account,
        region,
        partition,
        fips=service.endswith("-fips"),
        dualstack=service.startswith("dkr-ecr"),
    )


def _account_problems(account_labels: list[str], service: str, symbolic: bool, problems: list[str]) -> bool:
    """What is wrong with the labels before the service, added to ``problems``; True when it is placeholder text."""
    account = ".".join(account_labels)
    # in a symbolic image any ${...} in a label is CloudFormation's value, never a placeholder
    account_symbol = symbolic and len(account_labels) == 1 and "${" in account
    if not account_labels:
        problems.append(f'there is no account ID before "{service}"')
    elif not account_symbol:
        if len(account_labels) > 1:
            problems.append(f'"{account}" before "{service}" must be one 12-digit AWS account ID')
        elif not re.fullmatch(r"\d{12}", account):
            if account.isdigit():
                problems.append(f'the account "{account}" has {len(account)} digits; an AWS account ID has 12')
            elif _looks_placeholder(account):
                problems.append(f'"{account}" is a placeholder, not a 12-digit AWS account ID')
                return True
            else:
                problems.append(f'the account "{account}" is not a 12-digit AWS account ID')
    return False


def _region_problems(
    region: str | None, service: str, symbolic: bool, data: _AwsData, problems: list[str]
) -> tuple[str | None, bool]:
    """The region's partition (None unless it is a known region) and whether it is placeholder text;
    what is wrong with it is added to ``problems``."""
    region_symbol = symbolic and region is not None and "${" in region
    partition: str | None = None
    if region is None or region == "":
        problems.append(f'there is no region after "{service}"')
    elif not region_symbol:
        partition = data.region_partition.get(region)
        if partition is None:
            import difflib  # only for a did-you-mean on a region that does not exist

            close = difflib.get_close_matches(region.lower(), data.region_partition, n=1, cutoff=0.8)
            if region.lower() in data.region_partition:
                problems.append(f'the region "{region}" must be lowercase ({region.lower()})')
            elif _looks_placeholder(region):
                problems.append(f'"{region}" is a placeholder, not an AWS region')
                return partition, True
            elif close:
                problems.append(f'"{region}" is not an AWS region (did you mean {close[0]}?)')
            else:
                problems.append(f'"{region}" is not an AWS region')
    return partition, False


def _looks_placeholder(text: str) -> bool:
    """Documentation text standing in for a value: ``aws_account_id``, ``<account>``, ``REGION``, ``region-code``."""
    low = text.lower()
    return (
        bool(re.search(r"[<>{}$%_]", text))
        or text.isupper()
        or any(word in low for word in ("account", "region", "your", "xxx", "example", "placeholder", "code", "-id"))
    )


def ecr_problems(ref: Reference) -> InvalidEcrHost | None:
    """What makes an ECR image's registry part wrong: the host, or ECR Public's alias."""
    if ref.domain is None:
        return None
    result = classify_host(ref.domain, symbolic=ref.symbolic)
    if isinstance(result, InvalidEcrHost):
        return result
    if isinstance(result, EcrHost) and result.public and result.host.lower() == ECR_PUBLIC_HOST:
        if "path" not in ref.unknown and "/" not in ref.path:
            return InvalidEcrHost(ref.domain, (
                f'ECR Public images are {ECR_PUBLIC_HOST}/<registry-alias>/<repository>, and "{ref.path}" has no alias',
            ))
    return None


# ECR's RepositoryName: 2 to 256 characters (botocore ecr service-2.json; the ECR API Reference,
# https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_CreateRepository.html). Its pattern is the
# path grammar above, and 256 is above the grammar's REPOSITORY_NAME_MAX (255, on the path): a
# longer name already fails ``parse_reference``, so only the lower bound needs its own check.
ECR_REPOSITORY_MIN = 2
ECR_REPOSITORY_MAX = 256


def ecr_repository_problem(ref: Reference) -> str | None:
    """Why a private ECR image's repository name cannot exist in ECR, or None (ECR104's reason)."""
    host = ecr_host(ref)
    if host is None or host.public or "path" in ref.unknown or len(ref.path) >= ECR_REPOSITORY_MIN:
        return None
    return (f'the repository name "{ref.path}" is too short for ECR, whose repository names have '
            f"{ECR_REPOSITORY_MIN} to {ECR_REPOSITORY_MAX} characters")


def ecr_host(ref: Reference) -> EcrHost | None:
    """The valid ECR host of a reference, or None."""
    if ref.domain is None:
        return None
    result = classify_host(ref.domain, symbolic=ref.symbolic)
    return result if isinstance(result, EcrHost) else None


def ecr_repository_arn(ref: Reference) -> str | None:
    """``arn:<partition>:ecr:<region>:<account>:repository/<path>`` of a private ECR image, else None.

    Symbolic images give a symbolic ARN (``arn:${AWS::Partition}:ecr:${AWS::Region}:${AWS::AccountId}:...``),
    comparable with the ARNs a CloudFormation role policy writes the same way.
    """
    host = ecr_host(ref)
    if host is None or host.public or ecr_problems(ref) is not None or ecr_repository_problem(ref) is not None:
        return None
    return f"arn:{host.partition}:ecr:{host.region}:{host.account}:repository/{ref.path}"


def registry_of_auth_key(key: str) -> str:
    """The registry host of a ``.dockerconfigjson`` ``auths`` key (``https://host/v1/`` -> ``host``)."""
    text = key.strip()
    text = re.sub(r"^[a-zA-Z][a-zA-Z0-9+.-]*://", "", text)
    return text.split("/", 1)[0]


# --- placeholders (ECR109) ---------------------------------------------------------------------


@dataclass(frozen=True)
class Placeholder:
    """An unrendered placeholder in an image: the text and what produced it."""

    text: str
    what: str


# Template and variable syntax: nothing in the reference grammar uses these characters, so a match
# always means a tool was supposed to fill the value in before it reached kubectl/CloudFormation.
_TEMPLATE_SYNTAX: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\{\{.*?\}\}|\{\{.*|\{%.*?%\}"), "template expression"),
    (re.compile(r"\$\{[^}]*\}?"), "shell variable"),
    (re.compile(r"\$\([^)]*\)?"), "variable reference"),
    (re.compile(r"\$[A-Za-z_][A-Za-z0-9_]*"), "shell variable"),
    (re.compile(r"#\{[^}]*\}?"), "token-replacement variable"),
    (re.compile(r"%(?:\([^)]*\))?[sdv]"), "printf verb"),
    (re.compile(r"@[A-Za-z_][A-Za-z0-9_.-]*@"), "build-time variable"),
    (re.compile(r"__[A-Z][A-Z0-9_]*__"), "token-replacement variable"),
)
_ANGLE = re.compile(r"<[^<>]*>?|>")
_WORDS = re.compile(
    r"(?<![A-Za-z0-9])(?:(?i:replace[-_]?me|change[-_]?me|your[-_][A-Za-z0-9_-]*)"
    r"|TODO|FIXME|TBD|PLACEHOLDER|XXX+)(?![A-Za-z0-9])"
)
_CAPS_IDENT = re.compile(r"[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+")
_CAPS_WORDS = frozenset(["IMAGE", "REGISTRY", "REPOSITORY", "REPO", "ACCOUNT", "REGION", "TAG", "VERSION", "URI", "NAME"])
_CAPS_TAG = re.compile(r"(?:[A-Z0-9]+_)*(?:TAG|VERSION)")


def find_template_syntax(value: str, *, symbolic: bool = False) -> Placeholder | None:
    """``${TAG}``, ``$(VAR)``, ``{{ .Values.x }}``, ``%s``...; a symbolic image's CloudFormation tokens are not."""
    text = _Tokens.of(value, symbolic).text
    for pattern, what in _TEMPLATE_SYNTAX:
        m = pattern.search(text)
        if m:
            return Placeholder(m.group(0).strip(), what)
    return None


def find_placeholder_text(value: str, *, symbolic: bool = False, skip_domain: bool = False) -> Placeholder | None:
    """Placeholder words left from documentation: ``<account-id>``, ``REPLACE_ME``, ``IMAGE_TAG``.

    ``skip_domain``: the registry host is judged elsewhere (an ECR-shaped host, ECR105).
    """
    text = _Tokens.of(value, symbolic).text
    name, tag, digest = _split(text)
    domain, path = split_domain(name)
    if skip_domain and domain is not None:
        text = text[len(domain):]
    m = _ANGLE.search(text)
    if m:
        return Placeholder(m.group(0), "placeholder")
    m = _WORDS.search(text)
    if m:
        return Placeholder(m.group(0), "placeholder")
    components = path.split("/") + ([] if skip_domain or domain is None else domain.split("."))
    for component in components:
        if _CAPS_IDENT.fullmatch(component) or component in _CAPS_WORDS:
            return Placeholder(component, "placeholder")
    if tag is not None and _CAPS_TAG.fullmatch(tag):
        return Placeholder(tag, "placeholder")
    return None


# --- one analysis per image string, shared by every image rule ---------------------------------


@dataclass(frozen=True)
class ImageAnalysis:
    """Every image rule's view of one image string, decided once so rules never double-report.

    Precedence: template syntax anywhere (ECR109) hides everything else. An invalid ECR-shaped
    host (ECR105) owns every problem of the host, placeholder text included (so ECR104 stays
    silent about it); the rest of the image is still checked (ECR102/103 apply). Placeholder text
    outside the host (ECR109) hides grammar and tag findings, and is not raised next to an ECR105
    that is itself placeholder text: one unfilled documentation example, one finding. A grammar
    violation (ECR104) hides ECR101-103 and ECR106-107; ECR107 is silent on an ECR105 host. A
    private ECR repository name too short for ECR is a grammar violation of ECR's own
    (``ecr_repository_problem``): ECR104 on the repository part, not ECR105, which judges hosts.
    """

    value: str
    reference: Reference | None = None  # set when the image parses and holds no placeholder
    error: str | None = None  # ECR104 reason
    error_part: str | None = None  # the part ECR104 points at ("repository"); None: the whole image
    placeholder: Placeholder | None = None  # ECR109
    bad_host: InvalidEcrHost | None = None  # ECR105
    ecr: EcrHost | None = None


@lru_cache(maxsize=4096)
def analyze(value: str, symbolic: bool = False) -> ImageAnalysis:
    template = find_template_syntax(value, symbolic=symbolic)
    if template is not None:
        return ImageAnalysis(value, placeholder=template)
    tokens = _Tokens.of(value, symbolic)
    name = _split(tokens.text)[0]
    domain = tokens.restore(split_domain(name)[0])
    host = classify_host(domain, symbolic=symbolic) if domain is not None else None
    bad_host = host if isinstance(host, InvalidEcrHost) else None
    words = find_placeholder_text(value, symbolic=symbolic, skip_domain=host is not None)
    if words is not None:
        if bad_host is not None and bad_host.placeholder:
            return ImageAnalysis(value, bad_host=bad_host)
        return ImageAnalysis(value, placeholder=words, bad_host=bad_host)
    try:
        ref = parse_reference(value, symbolic=symbolic, check_domain=bad_host is None)
    except InvalidReference as exc:
        return ImageAnalysis(value, error=exc.reason, bad_host=bad_host)
    if bad_host is None:
        bad_host = ecr_problems(ref)
    if bad_host is None:
        short = ecr_repository_problem(ref)
        if short is not None:
            return ImageAnalysis(value, error=short, error_part="repository")
    return ImageAnalysis(
        value,
        reference=ref,
        bad_host=bad_host,
        ecr=host if isinstance(host, EcrHost) and bad_host is None else None,
    )
