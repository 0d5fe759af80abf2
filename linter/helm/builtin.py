"""The built-in engine: Helm's template runtime on gotpl (Go text/template + Sprig + Helm functions)."""

from __future__ import annotations

import base64
import functools
import posixpath
import re
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Callable, Iterator, Mapping

from . import budgets, nondeterministic
from .values import Node

RELEASE_NAME = "release-name"
NAMESPACE = "default"

# Helm v4.2.3 (client-go v0.36) defaults: `helm template` without --kube-version / --api-versions.
KUBE_VERSION = "v1.36.0"
HELM_VERSION = "v4.2"
GO_VERSION = "go1.26.6"
# chartutil.DefaultVersionSet, in Helm's order (templates may range over it).
API_VERSIONS = (
    "v1",
    "admissionregistration.k8s.io/v1", "admissionregistration.k8s.io/v1alpha1",
    "admissionregistration.k8s.io/v1beta1", "internal.apiserver.k8s.io/v1alpha1",
    "apps/v1", "apps/v1beta1", "apps/v1beta2",
    "authentication.k8s.io/v1", "authentication.k8s.io/v1alpha1", "authentication.k8s.io/v1beta1",
    "authorization.k8s.io/v1", "authorization.k8s.io/v1beta1",
    "autoscaling/v1", "autoscaling/v2",
    "batch/v1", "batch/v1beta1",
    "certificates.k8s.io/v1", "certificates.k8s.io/v1beta1", "certificates.k8s.io/v1alpha1",
    "coordination.k8s.io/v1alpha2", "coordination.k8s.io/v1beta1", "coordination.k8s.io/v1",
    "discovery.k8s.io/v1", "discovery.k8s.io/v1beta1",
    "events.k8s.io/v1", "events.k8s.io/v1beta1",
    "extensions/v1beta1",
    "flowcontrol.apiserver.k8s.io/v1", "flowcontrol.apiserver.k8s.io/v1beta1",
    "flowcontrol.apiserver.k8s.io/v1beta2", "flowcontrol.apiserver.k8s.io/v1beta3",
    "networking.k8s.io/v1", "networking.k8s.io/v1beta1",
    "node.k8s.io/v1", "node.k8s.io/v1alpha1", "node.k8s.io/v1beta1",
    "policy/v1", "policy/v1beta1",
    "rbac.authorization.k8s.io/v1", "rbac.authorization.k8s.io/v1beta1", "rbac.authorization.k8s.io/v1alpha1",
    "resource.k8s.io/v1", "resource.k8s.io/v1beta2", "resource.k8s.io/v1beta1", "resource.k8s.io/v1alpha3",
    "scheduling.k8s.io/v1alpha2", "scheduling.k8s.io/v1beta1", "scheduling.k8s.io/v1",
    "storage.k8s.io/v1beta1", "storage.k8s.io/v1", "storage.k8s.io/v1alpha1",
    "storagemigration.k8s.io/v1beta1",
    "apiextensions.k8s.io/v1beta1", "apiextensions.k8s.io/v1",
)

# Budgets so a hostile chart cannot hang or exhaust a lint run (`range until 100000000`).
MAX_OUTPUT_CHARS = 20_000_000
MAX_ITERATIONS = 2_000_000
MAX_TEMPLATE_DEPTH = 1_000
MAX_FUNCTION_CALLS = 5_000_000


# --- the objects templates see -------------------------------------------------------------------


class KubeVersion:
    def __init__(self, version: str = KUBE_VERSION) -> None:
        self.Version = version
        self.GitVersion = version
        major, minor = version.lstrip("v").split(".")[:2]
        self.Major = major
        self.Minor = minor

    def __str__(self) -> str:
        return self.Version


class APIVersions(tuple):
    def Has(self, version: str) -> bool:  # noqa: N802 - Helm's method name
        return version in self


class HelmVersion:
    Version = HELM_VERSION
    GitCommit = ""
    GitTreeState = ""
    GoVersion = GO_VERSION
    KubeClientVersion = KUBE_VERSION.rsplit(".", 1)[0]

    def __str__(self) -> str:
        return f"{{{self.Version} {self.GitCommit} {self.GitTreeState} {self.GoVersion} {self.KubeClientVersion}}}"


class Capabilities:
    def __init__(self) -> None:
        self.KubeVersion = KubeVersion()
        self.APIVersions = APIVersions(API_VERSIONS)
        self.HelmVersion = HelmVersion()


@functools.lru_cache(maxsize=256)
def _glob_regex(pattern: str) -> Any:
    """gobwas/glob with '/' as separator: '*' stays within a path segment, '**' crosses them.

    Compiled with RE2 (linear in the file name whatever the pattern): a chart's template chooses
    the pattern and its file names, and a backtracking engine takes exponential time on
    ``*a*a*a*a*b`` against a long name.
    """
    import re2

    out = []
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if pattern.startswith("**", i):
            out.append(".*")
            i += 2
            continue
        if ch == "*":
            out.append("[^/]*")
        elif ch == "?":
            out.append("[^/]")
        elif ch == "[":
            end = pattern.find("]", i + 1)
            if end > i:
                body = pattern[i + 1 : end]
                negate = body.startswith(("!", "^"))  # gobwas writes "!", the regex it became "^"
                body = "".join(c if c == "-" else _re2_literal(c) for c in (body[1:] if negate else body))
                out.append(f"[{'^' if negate else ''}{body}]")
                i = end + 1
                continue
            out.append(_re2_literal(ch))
        elif ch == "{":
            end = pattern.find("}", i + 1)
            if end > i:
                out.append("(?:" + "|".join(_re2_literal(p) for p in pattern[i + 1 : end].split(",")) + ")")
                i = end + 1
                continue
            out.append(_re2_literal(ch))
        else:
            out.append(_re2_literal(ch))
        i += 1
    options = re2.Options()
    options.log_errors = False  # an invalid pattern is the template's error, not a line on stderr
    return re2.compile("".join(out) + r"\z", options)


def _re2_literal(text: str) -> str:
    # letters and digits as themselves, anything else as a code point escape (no RE2 meaning)
    return "".join(c if c.isascii() and c.isalnum() else f"\\x{{{ord(c):x}}}" for c in text)


class Files(dict):
    """``.Files``: chart files by path, with Helm's Get/GetBytes/Glob/Lines/AsConfig/AsSecrets."""

    def __init__(self, files: Mapping[str, bytes], to_yaml: Callable[[Any], str]) -> None:
        super().__init__(files)
        self._to_yaml = to_yaml

    def __gotemplate_lookup__(self, name: str) -> Any:
        if name in self:
            return self[name]
        if name in ("Get", "GetBytes", "Glob", "Lines", "AsConfig", "AsSecrets"):
            return getattr(self, name)
        raise KeyError(name)

    def GetBytes(self, name: str) -> bytes:  # noqa: N802
        return self.get(name, b"")

    # Each method charges the chart being rendered for what it reads and builds (budgets.py):
    # called in a loop, they would otherwise copy the chart's files over and over for free.

    def Get(self, name: str) -> str:  # noqa: N802
        data = self.get(name, b"")
        budgets.charge(len(data), len(data))
        from .gofidelity import text_of

        return text_of(data)

    def Glob(self, pattern: str) -> "Files":  # noqa: N802
        rx = _glob_regex(pattern)
        budgets.charge(len(pattern) * budgets.TPL_WORK + sum(len(k) for k in self) + len(self) * budgets.NODE_WORK)
        return Files({k: v for k, v in self.items() if rx.match(k)}, self._to_yaml)

    def Lines(self, name: str) -> list[str]:  # noqa: N802
        if name not in self:
            return []
        data = self[name]
        budgets.charge(len(data), len(data) + data.count(b"\n") * budgets.ITEM_MEMORY)
        text = data.decode("utf-8", "replace")
        return budgets.check_value("Files.Lines", (text[:-1] if text.endswith("\n") else text).split("\n"))

    def AsConfig(self) -> str:  # noqa: N802
        if not self:
            return ""
        self._charge_yaml("Files.AsConfig", sum(len(v) for v in self.values()))
        return self._to_yaml({posixpath.basename(k): v.decode("utf-8", "replace") for k, v in self.items()})

    def AsSecrets(self) -> str:  # noqa: N802
        if not self:
            return ""
        self._charge_yaml("Files.AsSecrets", sum((len(v) + 2) // 3 * 4 for v in self.values()))
        return self._to_yaml({posixpath.basename(k): base64.b64encode(v).decode() for k, v in self.items()})

    def _charge_yaml(self, name: str, chars: int) -> None:
        size = chars + sum(len(k) + 8 for k in self)  # at least: escapes and indents add to it
        budgets.check_size(name, size)
        budgets.charge(size * 6 + len(self) * budgets.YAML_NODE_WORK, size * 2)


_METADATA_FIELDS = {
    "name": "Name", "home": "Home", "sources": "Sources", "version": "Version",
    "description": "Description", "keywords": "Keywords", "maintainers": "Maintainers",
    "icon": "Icon", "apiVersion": "APIVersion", "condition": "Condition", "tags": "Tags",
    "appVersion": "AppVersion", "deprecated": "Deprecated", "annotations": "Annotations",
    "kubeVersion": "KubeVersion", "dependencies": "Dependencies", "type": "Type",
}
_STRING_FIELDS = ("Name", "Home", "Version", "Description", "Icon", "APIVersion", "Condition", "Tags",
                  "AppVersion", "KubeVersion", "Type")
_DEPENDENCY_FIELDS = {
    "name": "Name", "version": "Version", "repository": "Repository", "condition": "Condition",
    "tags": "Tags", "enabled": "Enabled", "import-values": "ImportValues", "alias": "Alias",
}


def _go_string(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def chart_object(node: Node, is_root: bool) -> dict[str, Any]:
    """``.Chart``: Helm's chart.Metadata fields (string fields keep Chart.yaml's raw text) plus IsRoot."""
    meta = node.chart.metadata
    raw = node.chart.metadata_raw
    out: dict[str, Any] = {
        "Name": "", "Home": "", "Sources": [], "Version": "", "Description": "", "Keywords": [],
        "Maintainers": [], "Icon": "", "APIVersion": "", "Condition": "", "Tags": "", "AppVersion": "",
        "Deprecated": False, "Annotations": {}, "KubeVersion": "", "Dependencies": [], "Type": "",
    }
    for key, value in meta.items():
        name = _METADATA_FIELDS.get(key)
        if name is None:
            continue
        if name in _STRING_FIELDS:
            value = raw.get(key, _go_string(value))
        elif name == "Maintainers" and isinstance(value, list):
            value = [
                {"Name": _go_string(m.get("name")), "Email": _go_string(m.get("email")), "URL": _go_string(m.get("url"))}
                for m in value
                if isinstance(m, dict)
            ]
        elif name == "Dependencies" and isinstance(value, list):
            value = [{_DEPENDENCY_FIELDS.get(k, k): v for k, v in d.items()} for d in value if isinstance(d, dict)]
        out[name] = value
    out["Name"] = node.name
    out["IsRoot"] = is_root
    return out


# --- the function map ----------------------------------------------------------------------------


@dataclass
class RenderState:
    """Switches and records shared by the custom functions during one chart's renders."""

    lint: bool = False  # helm lint semantics: required/fail do not stop rendering
    failures: list[tuple[str, str]] = field(default_factory=list)  # (kind, message) of the last calls


def _strip_document_end(fn: Callable[..., Any]) -> Callable[..., Any]:
    # PyYAML ends a bare scalar with an explicit "..." document end marker; Go's toYaml does not.
    def wrapped(value: Any) -> Any:
        out = fn(value)
        if isinstance(out, str):
            if out.endswith("\n..."):
                out = out[:-4]
            elif out == "...":
                out = ""
        return out

    return wrapped


def _functions(state: RenderState) -> dict[str, Callable[..., Any]]:
    """The function map of one chart: the shared (budgeted) functions plus required/fail on its state."""
    from .gotpl_api import INVALID, FunctionResult

    def required(message: str, value: Any) -> Any:
        missing = value is None or value is INVALID or value == ""
        if not missing:
            return value
        state.failures.append(("required", str(message)))
        if state.lint:
            return ""
        return FunctionResult.failure(ValueError(str(message)), value="")

    def fail(message: str) -> Any:
        state.failures.append(("fail", str(message)))
        if state.lint:
            return ""
        return FunctionResult.failure(ValueError(str(message)), value="")

    custom = dict(_shared_functions())
    custom.update(budgets.budgeted_map({"required": required, "fail": fail}))
    return custom


@functools.cache
def _shared_functions() -> dict[str, Callable[..., Any]]:
    """Every function but required/fail, built and budgeted once per process.

    The same function objects for every chart: gotpl inspects each one's signature once (a
    cache keyed by the function), not once per chart.
    """
    from . import gofidelity
    from .gotpl_api import INVALID, UNTYPED_NIL, FunctionResult, function_map

    nils = (None, INVALID, UNTYPED_NIL)

    def eq(first: Any, *others: Any) -> Any:
        # Go's eq: a missing value (nil) compares false without error; two set values of
        # different kinds are an error. gotpl errors on nil, which Helm never does.
        if not others:
            return FunctionResult.failure(ValueError("missing argument for comparison"), value=False)
        k1 = _kind(first, nils)
        for other in others:
            k2 = _kind(other, nils)
            if k1 != k2:
                if k1 != "nil" and k2 != "nil":
                    return FunctionResult.failure(ValueError("incompatible types for comparison"), value=False)
                continue
            if k1 == "nil" or first == other:
                return True
        return False

    def ne(first: Any, second: Any) -> Any:
        result = eq(first, second)
        return result if isinstance(result, FunctionResult) else not result

    def unused(*_args: Any) -> Any:  # pragma: no cover - replaced by the extension
        return ""

    base = function_map(include=unused, tpl=unused, required=unused, fail=unused)
    for name in ("include", "tpl", "required", "fail"):
        del base[name]  # the extension's own (include, tpl) or the chart's (required, fail)
    custom: dict[str, Callable[..., Any]] = dict(base)
    custom.update({"eq": eq, "ne": ne})
    custom["toYamlPretty"] = _strip_document_end(base["toYamlPretty"])
    custom.update(_yaml_functions())
    custom.update(_json_functions(base))
    custom.update(_offline_crypto())
    custom.update(_fixed_functions(base))
    custom.update(_bounded(custom))
    custom.update(_builtin_overrides())
    custom.update(gofidelity.regex_functions())
    custom.update(gofidelity.fixed_functions(custom))
    return budgets.budgeted_map(custom)


def _fixed_functions(base: Mapping[str, Callable[..., Any]]) -> dict[str, Callable[..., Any]]:
    """The clock and randomness as the fixed values of nondeterministic.py (the SDK engine uses the same).

    A run, a re-run and the other engine render such a chart identically, so its findings and
    SARIF fingerprints never change; image pulls never depend on these values.
    """
    to_date = base["toDate"]
    minimum = base["min"]

    def now() -> Any:
        return to_date("2006-01-02T15:04:05Z07:00", nondeterministic.fixed_now_text())

    def ago(_value: Any) -> str:
        return "0s"  # `now` is fixed: no time has passed

    def uuidv4() -> str:
        return nondeterministic.FIXED_UUID

    def repeated(fill: str) -> Callable[[Any], str]:
        def generate(count: Any) -> str:
            n = _int_of(count)
            return fill * n if n > 0 else ""

        return generate

    def rand_bytes(count: Any) -> str:
        n = _int_of(count)
        return base64.b64encode(b"\0" * n).decode() if n > 0 else ""

    def rand_int(low: Any, high: Any) -> Any:
        return minimum(low, high)  # the lower bound, as `min` computes it

    def shuffle(value: Any) -> str:
        return value if isinstance(value, str) else _go_string(value)

    letters = repeated(nondeterministic.FIXED_LETTER)
    return {
        "now": now, "ago": ago, "uuidv4": uuidv4, "randAlpha": letters, "randAlphaNum": letters,
        "randAscii": letters, "randNumeric": repeated(nondeterministic.FIXED_DIGIT), "randBytes": rand_bytes,
        "randInt": rand_int, "shuffle": shuffle,
    }


def _int_of(value: Any) -> int:
    # a count as the SDK engine's helpers read it (`int .`): numbers and numeric strings
    try:
        return int(value) if isinstance(value, (bool, int)) else int(float(value))
    except (TypeError, ValueError, OverflowError):
        return 0


def _builtin_overrides() -> dict[str, Callable[..., Any]]:
    """Go's print family, escapers and slice (gotpl's builtins), so that they go through the budgets."""
    from .gotpl_api import sync_vm

    builtins = sync_vm._builtin_functions("go")
    names = ("print", "printf", "println", "html", "js", "urlquery", "slice")
    return {name: builtins[name] for name in names if name in builtins}


MAX_SEQUENCE = 100_000  # `until`/`seq` list lengths
MAX_STRING = budgets.MAX_VALUE_CHARS  # `repeat` and random-string lengths


def _bounded(base: Mapping[str, Callable[..., Any]]) -> dict[str, Callable[..., Any]]:
    """Sprig functions that allocate what a template asks for, capped (`until 100000000` is 800 MB)."""
    from .gotpl_api import FunctionResult

    base = dict(base)  # the functions as they are now: the caller replaces them with these

    def too_big(name: str, size: Any) -> Any:
        return FunctionResult.failure(ValueError(f"{name}: {size} is more than ecrlint renders"), value="")

    def number(value: Any) -> float:
        try:
            return float(value)
        except (TypeError, ValueError):
            return 0.0

    def until(count: Any) -> Any:
        n = abs(number(count))
        return too_big("until", count) if n > MAX_SEQUENCE else base["until"](count)

    def until_step(start: Any, stop: Any, step: Any) -> Any:
        span, stride = abs(number(stop) - number(start)), abs(number(step)) or 1
        return too_big("untilStep", stop) if span / stride > MAX_SEQUENCE else base["untilStep"](start, stop, step)

    def seq(*args: Any) -> Any:
        numbers = [number(a) for a in args]
        stride = abs(numbers[1]) if len(numbers) == 3 else 1
        span = abs(numbers[-1] - (numbers[0] if len(numbers) > 1 else 1))
        return too_big("seq", args[-1] if args else 0) if span / (stride or 1) > MAX_SEQUENCE else base["seq"](*args)

    def repeat(count: Any, text: Any) -> Any:
        size = number(count) * len(str(text))
        return too_big("repeat", count) if size > MAX_STRING else base["repeat"](count, text)

    def random(name: str) -> Callable[[Any], Any]:
        def generate(count: Any) -> Any:
            return too_big(name, count) if number(count) > MAX_STRING else base[name](count)

        return generate

    out: dict[str, Callable[..., Any]] = {"until": until, "untilStep": until_step, "seq": seq, "repeat": repeat}
    for name in ("randAlpha", "randAlphaNum", "randNumeric", "randAscii"):
        if name in base:
            out[name] = random(name)
    return out


def _json_functions(base: Mapping[str, Callable[..., Any]]) -> dict[str, Callable[..., Any]]:
    """fromJson and friends under the size and nesting limits of ecrlint's own parser."""
    from ..parsing import DEFAULT_MAX_BYTES, MAX_DEPTH
    from .gofidelity import go_numbers

    def limited(name: str) -> Callable[[str], Any]:
        function = base[name]

        @functools.wraps(function)
        def parse(value: str) -> Any:
            if isinstance(value, str) and len(value) > DEFAULT_MAX_BYTES:
                raise budgets.RenderBudgetExceeded(
                    f"{name}: the JSON text is larger than {DEFAULT_MAX_BYTES} characters"
                )
            result = function(value)
            data = getattr(result, "value", result)
            if not isinstance(data, str) and budgets.measure(data, name).depth > MAX_DEPTH + 1:
                raise budgets.RenderBudgetExceeded(f"{name}: the JSON nests deeper than {MAX_DEPTH} levels")
            return go_numbers(result)  # encoding/json decodes numbers as float64

        return parse

    return {name: limited(name) for name in ("fromJson", "fromJsonArray", "mustFromJson") if name in base}


def _yaml_functions() -> dict[str, Callable[..., Any]]:
    """toYaml/fromYaml on libyaml (gotpl's use PyYAML's pure-Python emitter and parser).

    Same output as gotpl's (sorted keys, block style, literal blocks for multi-line strings,
    double quotes where a plain scalar would change type) minus the stray ``...`` after scalars.
    """
    from .gotpl_api import FunctionResult

    dump = _yaml_dump()
    Loader = _yaml_loader()

    def to_yaml(value: Any) -> str:
        try:
            return dump(value)
        except Exception:  # noqa: BLE001 - Helm's toYaml renders "" when it cannot marshal
            return ""

    def must_to_yaml(value: Any) -> Any:
        try:
            return dump(value)
        except Exception as exc:  # noqa: BLE001
            return FunctionResult.failure(exc, "")

    return {"toYaml": to_yaml, "mustToYaml": must_to_yaml, **_from_yaml_functions(Loader)}


def _from_yaml_functions(Loader: Any) -> dict[str, Callable[..., Any]]:  # noqa: N803 - a class
    """fromYaml/fromYamlArray as Helm's: the first document, read through JSON (numbers float64)."""
    import yaml

    from ..parsing import ParseProblem, check_yaml_limits
    from .gofidelity import go_numbers

    def limited(name: str, text: Any) -> None:
        # ecrlint's own parser's size, nesting and alias limits, before PyYAML builds anything:
        # `.Files.Get "bomb.yaml" | fromYaml` must not expand a billion laughs.
        if isinstance(text, str):
            try:
                check_yaml_limits(text)
            except ParseProblem as problem:
                raise budgets.RenderBudgetExceeded(f"{name}: {problem.message}") from None

    def first_document(text: str) -> Any:
        # sigs.k8s.io/yaml reads the first document of the stream; later ones are never parsed
        for document in yaml.load_all(text, Loader=Loader):
            return go_numbers(document)
        return None

    def from_yaml(text: str) -> dict[str, Any]:
        limited("fromYaml", text)
        try:
            data = first_document(text)
        except Exception as exc:  # noqa: BLE001 - Helm returns the error under "Error"
            return {"Error": f"error converting YAML to JSON: {exc}"}
        if data is None:
            return {}
        if not isinstance(data, dict):
            return {"Error": _json_mismatch(data, "map[string]interface {}")}
        return {str(k): v for k, v in data.items()}

    def from_yaml_array(text: str) -> list[Any]:
        limited("fromYamlArray", text)
        try:
            data = first_document(text)
        except Exception as exc:  # noqa: BLE001
            return [f"error converting YAML to JSON: {exc}"]
        if data is None:
            return []
        if not isinstance(data, list):
            return [_json_mismatch(data, "[]interface {}")]
        return data

    return {"fromYaml": from_yaml, "fromYamlArray": from_yaml_array}


def _json_mismatch(data: Any, target: str) -> str:
    """encoding/json's error for a YAML document of the wrong shape (Helm's fromYaml "Error")."""
    kind = ("bool" if isinstance(data, bool) else "number" if isinstance(data, (int, float))
            else "string" if isinstance(data, str) else "array" if isinstance(data, list)
            else "object" if isinstance(data, dict) else "string")
    return f"error unmarshaling JSON: while decoding JSON: json: cannot unmarshal {kind} into Go value of type {target}"


def _yaml_dump() -> Callable[[Any], str]:
    """toYaml's serialiser (see _yaml_functions), on libyaml's emitter when PyYAML has it."""
    import yaml

    dumper_base = getattr(yaml, "CSafeDumper", yaml.SafeDumper)

    class Dumper(dumper_base):  # type: ignore[misc, valid-type]
        pass

    from .gofidelity import BinaryText, go_plain_is_string, yaml_float

    def represent_str(dumper: Any, value: str) -> Any:
        # yaml.v2's stringv: a literal block for text with a newline, double quotes where a plain
        # scalar would read back as another type, else what the emitter allows (plain, or single
        # quotes for text such as "*" that cannot be plain).
        value = str(value)
        if "\n" in value:
            return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|")
        if not go_plain_is_string(value):
            return dumper.represent_scalar("tag:yaml.org,2002:str", value, style='"')
        # Tagged as PyYAML reads the text, so that its emitter may write it plain where yaml.v2 does
        # ("1:20", "=" and "*" are strings to yaml.v2): the tag itself is never written.
        tag = dumper.resolve(yaml.ScalarNode, value, (True, False))
        if tag == "tag:yaml.org,2002:yaml":  # "!", "&", "*": never plain; quoted they read as str
            tag = "tag:yaml.org,2002:str"
        return dumper.represent_scalar(tag, value)

    def represent_float(dumper: Any, value: float) -> Any:
        text = yaml_float(value)
        if text in ("NaN", "+Inf", "-Inf"):
            raise ValueError(f"json: unsupported value: {text}")  # Helm's toYaml goes through JSON
        # the tag the text resolves to, whatever it is: written plain, as yaml.v2 writes it
        return dumper.represent_scalar(dumper.resolve(yaml.ScalarNode, text, (True, False)), text)

    Dumper.add_representer(str, represent_str)
    Dumper.add_representer(BinaryText, represent_str)
    Dumper.add_representer(float, represent_float)

    def dump(value: Any) -> str:
        out = yaml.dump(value, Dumper=Dumper, allow_unicode=True, default_flow_style=False, indent=2, sort_keys=True)
        out = out.removesuffix("\n")
        if out.endswith("\n..."):
            out = out[:-4]
        elif out == "...":
            out = ""
        return out

    return dump


def _yaml_loader() -> Any:
    """fromYaml's loader class, on libyaml's parser when PyYAML has it."""
    import yaml

    loader_base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

    class Loader(loader_base):  # type: ignore[misc, valid-type]
        pass

    # Helm reads YAML through JSON: timestamps stay strings; yaml.v2 has no "=" (value) type.
    dropped = ("tag:yaml.org,2002:timestamp", "tag:yaml.org,2002:value")
    Loader.yaml_implicit_resolvers = {
        key: [(tag, rx) for tag, rx in resolvers if tag not in dropped]
        for key, resolvers in loader_base.yaml_implicit_resolvers.items()
    }
    return Loader


def _kind(value: Any, nils: tuple[Any, ...]) -> str:
    if any(value is nil for nil in nils):
        return "nil"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"  # Helm's numbers are all float64 from YAML; keep ints and floats comparable
    if isinstance(value, (str, bytes)):
        return "string"
    return type(value).__name__


@dataclass(frozen=True)
class _Certificate:
    Cert: str  # noqa: N815 - Go field names
    Key: str  # noqa: N815


_FAKE_CERT = nondeterministic.FIXED_CERT
_FAKE_KEY = nondeterministic.FIXED_KEY


def _offline_crypto() -> dict[str, Callable[..., Any]]:
    """Sprig's certificate and hashing helpers as fixed placeholders.

    Helm would generate fresh keys on every render; their content never matters for image pulls,
    and generating them would cost time and an optional native dependency.
    """

    def cert(*_args: Any) -> _Certificate:
        return _Certificate(_FAKE_CERT, _FAKE_KEY)

    def key(*_args: Any) -> str:
        return _FAKE_KEY

    def hashed(*_args: Any) -> str:
        return nondeterministic.FIXED_BCRYPT

    def htpasswd(user: Any, *_args: Any) -> str:
        return f"{user}:{hashed()}"

    def empty(*_args: Any) -> str:
        return ""

    return {
        "genCA": cert, "genCAWithKey": cert, "genSelfSignedCert": cert, "genSelfSignedCertWithKey": cert,
        "genSignedCert": cert, "genSignedCertWithKey": cert, "buildCustomCert": cert,
        "genPrivateKey": key, "bcrypt": hashed, "htpasswd": htpasswd, "encryptAES": empty, "decryptAES": empty,
    }


# --- rendering -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class TemplateFailure:
    """A template that stopped rendering: the innermost template and line Helm would name."""

    template: str  # the template being rendered (Helm name, "web/templates/deployment.yaml")
    source: str  # the template where the error happened (may be a helper)
    line: int
    column: int
    message: str
    kind: str  # "required" | "fail" | "template" | "syntax"


@dataclass
class Rendered:
    outputs: dict[str, str] = field(default_factory=dict)  # Helm name -> rendered text (manifests only)
    failures: list[TemplateFailure] = field(default_factory=list)


def iter_nodes(root: Node) -> Iterator[tuple[Node, bool]]:
    stack = [(root, True)]
    while stack:
        node, is_root = stack.pop()
        yield node, is_root
        stack.extend((child, False) for child in reversed(node.children))


def _sort_key(name: str) -> tuple[int, str]:
    return (name.count("/"), name)


class Engine:
    """One chart's templates compiled once, rendered with any number of value sets."""

    def __init__(self, root: Node, extra_text: str = "") -> None:
        self.root = root
        self.release = (RELEASE_NAME, NAMESPACE)  # .Release.Name, .Release.Namespace
        self.state = RenderState()
        self.failures: list[TemplateFailure] = []  # syntax errors found while compiling
        self._tpl_cache: dict[Any, Any] = _TplCache()
        self.ledger = budgets.Ledger()  # what this chart's renders have cost, across all passes
        self._to_yaml = _yaml_functions()["toYaml"]
        self.sources: dict[str, str] = {}
        self.owner: dict[str, Node] = {}
        for node, _is_root in iter_nodes(root):
            for rel, source in node.chart.templates.items():
                if posixpath.basename(rel) == "NOTES.txt":
                    # Install notes are text for humans, never manifests; `helm template` drops them.
                    continue
                name = f"{node.full_path}/{rel}"
                self.sources[name] = source
                self.owner[name] = node
        # `tpl (.Files.Get "conf/x.tpl")` can call helpers from any chart file, not only values:
        # their template text counts as a root too, or a helper used only there looks unused.
        file_text = "\n".join(
            data.decode("utf-8", "replace")
            for node, _is_root in iter_nodes(root)
            for data in node.chart.files.values()
            if b"{{" in data and len(data) <= 1024 * 1024
        )
        # Helm parses deeper templates first so a parent's `define` overrides a subchart's.
        self.order = sorted(reachable(self.sources, extra_text + "\n" + file_text), key=_sort_key, reverse=True)
        self.engine = self._compile() if self._compilable() else None

    def _compilable(self) -> bool:
        """Whether parsing the chart's templates stays within MAX_CHART_COMPILE_CHARS (else one failure says so)."""
        sizes = {name: _action_chars(self.sources[name]) for name in self.order}
        total = sum(sizes.values())
        if total <= MAX_CHART_COMPILE_CHARS:
            return True
        largest = max(sizes, key=lambda name: sizes[name])
        self.failures.append(TemplateFailure(
            largest, largest, 1, 1,
            f"exceeded the render budget: the chart's templates have {total} characters of template actions to "
            f"parse (the limit is {MAX_CHART_COMPILE_CHARS}); none of its templates was rendered",
            "template",
        ))
        return False

    def _compile(self) -> Any:
        speed_up_gotpl()
        budgets.install()
        from .gotpl_api import Environment, ExecutionBudget, HelmExtension, TemplateSyntaxError

        extension = HelmExtension(custom_functions=_functions(self.state))
        # include and tpl are the extension's own (they need the render context): budgeted too
        own = {name: extension.functions[name] for name in ("include", "tpl") if name in extension.functions}
        object.__setattr__(
            extension, "functions", MappingProxyType({**extension.functions, **budgets.budgeted_map(own)})
        )
        env = Environment(
            extensions=(extension,),
            missing_key="zero",
            budget=ExecutionBudget(
                max_output_chars=MAX_OUTPUT_CHARS,
                max_iterations=MAX_ITERATIONS,
                max_template_depth=MAX_TEMPLATE_DEPTH,
                max_function_calls=MAX_FUNCTION_CALLS,
            ),
        )
        order = list(self.order)
        while order:
            try:
                return env.from_sources({name: self.sources[name] for name in order})
            except TemplateSyntaxError as exc:
                bad = self._find_syntax_error(env, order, exc)
                order.remove(bad)
            except RecursionError:
                return None
        return None

    def _find_syntax_error(self, env: Any, order: list[str], exc: Exception) -> str:
        from .gotpl_api import TemplateSyntaxError

        for name in order:
            try:
                env.from_sources({name: self.sources[name]})
            except TemplateSyntaxError as one:
                self.failures.append(
                    TemplateFailure(name, name, one.line, one.column, _syntax_message(one), "syntax")
                )
                return name
            except Exception:  # noqa: BLE001 - any other refusal counts as this template's error
                self.failures.append(TemplateFailure(name, name, 1, 1, str(exc), "syntax"))
                return name
        name = order[0]
        self.failures.append(TemplateFailure(name, name, 1, 1, _syntax_message(exc), "syntax"))
        return name

    def contexts(self, values: dict[str, Any], release: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
        """The root object of every renderable template (Helm engine.recAllTpls)."""
        caps = Capabilities()
        out: dict[str, dict[str, Any]] = {}
        to_yaml = self._to_yaml

        def visit(node: Node, node_values: Any, is_root: bool) -> dict[str, Any]:
            subcharts: dict[str, Any] = {}
            context = {
                "Chart": chart_object(node, is_root),
                "Files": Files(node.chart.files, to_yaml),
                "Release": release,
                "Capabilities": caps,
                "Values": node_values if isinstance(node_values, dict) else {},
                "Subcharts": subcharts,
            }
            for child in node.children:
                child_values = context["Values"].get(child.name) if isinstance(context["Values"], dict) else None
                subcharts[child.name] = visit(child, child_values, False)
            for rel in node.chart.templates:
                name = f"{node.full_path}/{rel}"
                if name not in self.sources or posixpath.basename(name).startswith("_") or node.is_library:
                    continue  # partials and library charts only define named templates
                ctx = dict(context)
                ctx["Template"] = {"Name": name, "BasePath": f"{node.full_path}/templates"}
                out[name] = ctx
            return context

        visit(self.root, values, True)
        return out

    def render(self, values: dict[str, Any], *, lint: bool = False, only: set[str] | None = None) -> Rendered:
        from .gotpl_api import RenderSession, TemplateError

        result = Rendered()
        result.failures.extend(self.failures)
        if self.engine is None:
            return result
        release = {
            "Name": self.release[0], "Namespace": self.release[1], "Revision": 1, "Service": "Helm",
            "IsUpgrade": False, "IsInstall": True,
        }
        broken = {f.template for f in self.failures}
        self.state.lint = lint
        contexts = self.contexts(values, release)
        template = self.engine.template
        for name in sorted(contexts, key=_sort_key, reverse=True):
            if name in broken or (only is not None and name not in only):
                continue
            self.state.failures.clear()
            spent = self.ledger.spent_reason()
            if spent is not None:
                # The chart's budget went on earlier templates: this one is not started at all.
                message = f"not rendered: exceeded the render budget: {spent}"
                result.failures.append(TemplateFailure(name, name, 1, 1, message, "template"))
                continue
            # One session per template (fresh step budgets that also charge the chart's ledger),
            # sharing the cache of `tpl` sources: gotpl links a `tpl` string against every
            # definition of the chart, which bitnami charts would otherwise pay for on every
            # template that renders a templated value.
            session = RenderSession(template, budgets.TemplateBudget(template.budget, self.ledger))
            session.dynamic_cache = self._tpl_cache
            try:
                with budgets.charging(self.ledger):
                    text = template._render_template_in_session(name, contexts[name], session)
            except (TemplateError, ValueError, TypeError, KeyError, IndexError, AttributeError,
                    ArithmeticError, RecursionError) as exc:
                result.failures.append(self._failure(name, exc))
                continue
            result.outputs[name] = text.replace("<no value>", "")
        return result

    def _failure(self, name: str, exc: BaseException) -> TemplateFailure:
        kind = "template"
        message = getattr(exc, "message", None) or str(exc)
        if self.state.failures:
            last_kind, last_message = self.state.failures[-1]
            if last_message and last_message in message:
                kind, message = last_kind, last_message
        source = getattr(exc, "source_name", None) or name
        line = getattr(exc, "line", None) or 1
        column = getattr(exc, "column", None) or 1
        if source not in self.sources:  # inside a `tpl` string: name the template that called it
            source, line, column = name, 1, 1
        return TemplateFailure(name, source, int(line), int(column), str(message), kind)


MAX_TPL_CACHE_CHARS = 1_000_000  # `tpl` source characters whose compiled programs one chart keeps
# Characters inside `{{ }}` of all templates a chart compiles (an unclosed action to the end of its
# file). Parsing costs about 0.5 us per such character (up to 3 us for dense actions) and is paid
# before any render budget applies; kube-prometheus-stack, the largest real chart, has 0.8 M.
MAX_CHART_COMPILE_CHARS = 8_000_000


def _action_chars(text: str) -> int:
    """Characters from each `{{` to its `}}` (or to the end of an unclosed one): what gotpl tokenizes."""
    total = position = 0
    while True:
        start = text.find("{{", position)
        if start < 0:
            return total
        end = text.find("}}", start + 2)
        if end < 0:
            return total + len(text) - start
        total += end + 2 - start
        position = end + 2


class _TplCache(dict[Any, Any]):
    """gotpl's cache of compiled `tpl` strings for one chart, bounded by the source it holds.

    gotpl keeps up to 128 programs; 128 programs of multi-megabyte strings would be gigabytes.
    A string past the bound is compiled again when it is used again (and charged again).
    """

    def __init__(self) -> None:
        super().__init__()
        self.chars = 0

    def __setitem__(self, key: Any, value: Any) -> None:
        size = len(key[-1]) if isinstance(key, tuple) and key and isinstance(key[-1], str) else 0
        if self.chars + size > MAX_TPL_CACHE_CHARS:
            return
        self.chars += size
        super().__setitem__(key, value)


def speed_up_gotpl() -> None:
    """Patch gotpl's lexer and add a compiled-program cache (idempotent; see gotpl_speed)."""
    from .gotpl_speed import install

    install()


_DEFINE = re.compile(r"\{\{-?\s*define\s+\"([^\"]+)\"")
_REFERENCE = re.compile(r"\b(?:include|template)\s+\\?\"([^\"\\]+)\\?\"")
# `include` with a computed name: fine when it names a file by .Template.BasePath (always compiled).
_DYNAMIC = re.compile(r"\binclude\s+(?!\\?\")(?!\(\s*print\s+\$?\.?(?:context\.)?Template\.BasePath)")


_COMMENT = re.compile(r"\{\{-?\s*/\*.*?\*/\s*-?\}\}", re.S)
_COMMENT_CLOSE = re.compile(r"\*/\s*-?\}\}")
_ACTION = re.compile(r"\{\{(.*?)\}\}", re.S)


# Both regexes scan lazily from an opening to the first closing after it: an opening with no
# closing after it scans to the end of the text, then the next opening does the same (160 KB of
# `{{/*` took 84 s). Cut after the last closing, every opening finds its closing and each
# character is scanned once; nothing after the last closing can match anyway.


def _strip_comments(text: str) -> str:
    """``_COMMENT.sub("", text)`` in linear time."""
    if "/*" not in text:
        return text
    end = 0
    for end_match in _COMMENT_CLOSE.finditer(text):  # closings never overlap: the last is the end
        end = end_match.end()
    return _COMMENT.sub("", text[:end]) + text[end:] if end else text


def _actions(text: str) -> list[str]:
    """``_ACTION.findall(text)`` in linear time."""
    end = text.rfind("}}")
    return _ACTION.findall(text[: end + 2]) if end >= 0 else []


def _is_dynamic(text: str) -> bool:
    if "include" not in text:
        return False
    return any(_DYNAMIC.search(action) for action in _actions(_strip_comments(text)))


def reachable(sources: Mapping[str, str], extra_text: str = "") -> list[str]:
    """Templates worth compiling: every manifest, and the partials whose definitions they use.

    Parsing is most of the built-in engine's cost, and library charts (bitnami common) ship many
    helpers a chart never calls. A computed `include` name makes every partial reachable.
    ``extra_text`` is values text, which `tpl` may render.
    """
    partials = [n for n in sources if posixpath.basename(n).startswith("_")]
    roots = [n for n in sources if not posixpath.basename(n).startswith("_")]
    if any(_is_dynamic(sources[n]) for n in sources) or _is_dynamic(extra_text):
        return list(sources)
    defined_in: dict[str, list[str]] = {}
    for name in partials:
        for define in _DEFINE.findall(sources[name]):
            defined_in.setdefault(define, []).append(name)
    chosen = set(roots)
    seen: set[str] = set()
    pending = [m for n in roots for m in _REFERENCE.findall(sources[n])] + _REFERENCE.findall(extra_text)
    while pending:
        ref = pending.pop()
        if ref in seen:
            continue
        seen.add(ref)
        for name in defined_in.get(ref, ()):
            if name not in chosen:
                chosen.add(name)
                pending.extend(_REFERENCE.findall(sources[name]))
    return [n for n in sources if n in chosen]


def _syntax_message(exc: Exception) -> str:
    text = str(exc)
    return re.sub(r"^template:\d+:\d+:\s*", "", text)
