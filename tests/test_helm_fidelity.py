"""The built-in engine renders what real Helm renders (issue 14): each cause benchmarks/helm_diff.py found.

The fixture charts fidelity-* (tests/fixtures/helm) reproduce, in a few lines each, what real
charts do: argo-cd (`eq X nil`, `index MAP "absent" | toString`), redis-ha (RE2 syntax),
prometheus (`semverCompare ">= 1.27.x"`), argo-events and appmesh-controller (numbers of 1e6 and
more), prometheus-adapter (`toYaml` quoting), external-dns (values.schema.json), cert-manager
(`---# comment`). test_helm.py lints each with both engines and exact findings; here their bytes
are compared with Helm's, known values without helm-python-sdk and the SDK's own render with it.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import pytest

from ecrlint.helm import ENGINE_BUILTIN, ENGINE_SDK, RenderError, load_chart
from ecrlint.helm import chart as chart_module
from ecrlint.model import Loc, Span
from ecrlint.helm.builtin import _yaml_dump
from ecrlint.helm.facts import in_archive
from ecrlint.helm.gofidelity import go_float, go_numbers, go_plain_is_string
from helm_archives import build_archive
from helpers import FIXTURES, lint

HELM = FIXTURES / "helm"
HAS_SDK = importlib.util.find_spec("helm_python") is not None


def _outputs(chart: Path, engine: str, values: list[str] | None = None, monkeypatch: Any = None) -> dict[str, str]:
    """Each template's rendered text as the engine rendered it (what _documents receives)."""
    captured: dict[str, str] = {}
    real = chart_module._documents

    def documents(parsed, root, outputs, renderer, user_docs):  # noqa: ANN001
        captured.update(outputs)
        real(parsed, root, outputs, renderer, user_docs)

    monkeypatch.setattr(chart_module, "_documents", documents)
    parsed = load_chart(str(chart), chart.name, values_files=values or [], engine=engine)
    assert parsed.chart is not None
    return captured


def _data(text: str) -> dict[str, str]:
    """``key: value`` lines under ``data:`` of a rendered ConfigMap, values as written."""
    out = {}
    for line in text.split("\ndata:\n", 1)[1].splitlines():
        if line.startswith("  ") and not line.lstrip().startswith("#") and ": " in line:
            key, value = line.strip().split(": ", 1)
            out[key] = value
    return out


# What helm-python-sdk (Helm v4) renders for tests/fixtures/helm/fidelity-funcs.
HELM_RENDERS = {
    "unsetIsNil": '"true"',
    "setIsNotNil": '"false"',
    "notNil": '"false"',
    "absent": '"<nil>"',
    "absentVar": '"<nil>"',
    "absentIsNil": '"true"',
    "noSecret": '"false"',
    "noKey": '"false"',
    "masterGroup": '"true"',
    "replaced": '"<aa|>x<a|b>"',
    "named": '"world hello"',
    "split": '"[\\"b\\",\\"c\\"]"',
    "findAll": '"[\\"\\",\\"aaa\\",\\"\\"]"',
    "find": '"123"',
    "kube": '"true"',
    "firstDoc": '"{\\"a\\":1}"',
    "bare": '"{\\"Error\\":\\"error unmarshaling JSON: while decoding JSON: json: cannot unmarshal string into Go '
            'value of type map[string]interface {}\\"}"',
    "maxMsgs": '"1e+06"',
    "account": "--aws-account-id=1.23456789e+08",
    "ratio": '"2"',
    "fromYamlNumber": '"map[x:1e+06]"',
    "yaml": '"big: 1000000\\ncolon: \\"1:20\\"\\nratio: 2\\nsmall: 1e-05\\nverbs:\\n- \'*\'\\n- get\\n\\"y\\": \\"y\\""',
    "binary": '"//4AAWFiYw=="',
    "binarySum": '"aaeac50405110540c8c68d2dbe78dc0243f6c24dc5651672f21df75ecf7773ba"',
    "types": '"float64 float64 true"',
    "printfD": '"%!d(float64=2)"',
    "hasInt": '"false"',
    "missingVerb": '"%!s(<nil>)"',
    "yamlV2": '"493 31 true 0755"',
    "toml": '"a = \\"b\\"\\nr = 2.0\\n\\n[sub]\\n  x = 1.5\\n  [sub.deep]\\n    z = true\\n"',
}


def test_builtin_engine_renders_the_functions_as_helm(monkeypatch):
    outputs = _outputs(HELM / "fidelity-funcs", "builtin", monkeypatch=monkeypatch)
    assert _data(outputs["fidelity-funcs/templates/configmap.yaml"]) == HELM_RENDERS


FIDELITY = sorted(p.name for p in HELM.iterdir() if p.name.startswith("fidelity-"))


@pytest.mark.skipif(not HAS_SDK, reason="helm-python-sdk not installed")
@pytest.mark.parametrize("chart", [c for c in FIDELITY if c != "fidelity-schema"])
def test_fixture_bytes_equal_helm(chart, monkeypatch):
    builtin = _outputs(HELM / chart, "builtin", monkeypatch=monkeypatch)
    helm = _outputs(HELM / chart, "sdk", monkeypatch=monkeypatch)
    assert builtin == helm


def test_user_null_without_a_default_is_kept(tmp_path, monkeypatch):
    # prometheus-operator-admission-webhook's ci values: `livenessProbe.tcpSocket: null` stays
    chart = tmp_path / "probe"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: probe\nversion: 0.1.0\n")
    (chart / "values.yaml").write_text("probe:\n  httpGet:\n    path: /healthz\n  period: 10\n  gone: 1\n")
    (chart / "templates" / "cm.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata:\n  probe: {{ .Values.probe | toJson | quote }}\n"
    )
    user = tmp_path / "ci.yaml"
    user.write_text("probe:\n  tcpSocket: null\n  gone: null\n")
    text = _outputs(chart, "builtin", [str(user)], monkeypatch)["probe/templates/cm.yaml"]
    # `gone` had a default: the user's null deletes it; `tcpSocket` had none: Helm keeps the null
    assert _data(text)["probe"] == '"{\\"httpGet\\":{\\"path\\":\\"/healthz\\"},\\"period\\":10,\\"tcpSocket\\":null}"'


def test_schema_violation_is_one_ecr401_on_the_values_line():
    result = lint("fidelity-schema", cwd=HELM, helm_engine="builtin")
    [finding] = [f for f in result.findings if f.rule == "ECR401"]
    assert (finding.path, finding.span.line, finding.span.column) == ("fidelity-schema/values.yaml", 2, 1)
    assert "missing property 'policy'" in finding.message and "values.schema.json" in finding.message


def test_schema_violation_in_a_user_values_file_points_there(tmp_path):
    bad = tmp_path / "prod.yaml"
    bad.write_text("policy: sync\nreplicas: 0\n")
    result = lint(str(HELM / "fidelity-schema"), cwd=tmp_path, helm_engine="builtin", helm_values=[str(bad)])
    [finding] = [f for f in result.findings if f.rule == "ECR401"]
    assert (Path(finding.path).name, finding.span.line) == ("prod.yaml", 2)
    assert "at '/replicas'" in finding.message and "minimum" in finding.message


def test_schema_with_a_remote_ref_is_not_validated_offline(tmp_path):
    chart = tmp_path / "remote"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: remote\nversion: 0.1.0\n")
    (chart / "values.yaml").write_text("a: 1\n")
    (chart / "values.schema.json").write_text('{"$ref": "https://example.com/schema.json"}')
    parsed = load_chart(str(chart), "remote", engine="builtin")
    assert parsed.chart is not None and not parsed.chart.render_errors
    assert any("values not validated" in note for note in parsed.chart.notes)


def _archive_chart(tmp_path: Path, template: str) -> Path:
    chart = tmp_path / "umbrella"
    (chart / "charts").mkdir(parents=True)
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: umbrella\nversion: 0.1.0\n")
    (chart / "values.yaml").write_text("{}\n")
    (chart / "charts" / "sub-1.0.0.tgz").write_bytes(build_archive({
        "sub/Chart.yaml": "apiVersion: v2\nname: sub\nversion: 1.0.0\n",
        "sub/templates/cm.yaml": template,
    }))
    return chart


def test_ecr001_inside_an_archive_points_at_the_archive(tmp_path):
    chart = _archive_chart(tmp_path, "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata:\n  a: b: c\n")
    result = lint("umbrella", cwd=tmp_path, helm_engine="builtin")
    [finding] = [f for f in result.findings if f.rule == "ECR001"]
    assert (finding.path, finding.span.line) == ("umbrella/charts/sub-1.0.0.tgz", 1)
    assert "sub/templates/cm.yaml:6:" in finding.message
    assert chart.is_dir()


def test_ecr401_inside_an_archive_points_at_the_archive(tmp_path):
    _archive_chart(tmp_path, "{{ fail \"no\" }}\n")
    result = lint("umbrella", cwd=tmp_path, helm_engine="builtin")
    [finding] = [f for f in result.findings if f.rule == "ECR401"]
    assert (finding.path, finding.span.line) == ("umbrella/charts/sub-1.0.0.tgz", 1)
    assert "sub/templates/cm.yaml:1:" in finding.message


def test_in_archive():
    assert in_archive("web/charts/common-1.0.0.tgz/common/templates/x.yaml") == (
        "web/charts/common-1.0.0.tgz", "common/templates/x.yaml")
    assert in_archive("web/charts/a.tgz/a/charts/b.tgz/b/values.yaml") == ("web/charts/a.tgz", "a/charts/b.tgz/b/values.yaml")
    assert in_archive("web/templates/x.tgz/y.yaml") is None
    assert in_archive("web/templates/x.yaml") is None


@pytest.mark.parametrize(("value", "text"), [
    (1e6, "1e+06"), (123456.0, "123456"), (1234567.5, "1.2345675e+06"), (1.5, "1.5"), (2.0, "2"),
    (0.0001, "0.0001"), (0.00001, "1e-05"), (-3e6, "-3e+06"), (123456789.0, "1.23456789e+08"), (0.0, "0"),
])
def test_go_float_formats_as_strconv_g(value, text):
    assert go_float(value) == text


def test_go_numbers_makes_every_integer_float64():
    values = {"a": 3, "b": 1_000_000, "c": [-2_000_000, "x"], "d": True, "e": 1.5}
    out = go_numbers(values)
    assert out == {"a": 3.0, "b": 1e6, "c": [-2e6, "x"], "d": True, "e": 1.5}
    assert type(out["a"]) is float and out["d"] is True
    same = {"a": "1", "b": ["x", 1.5]}
    assert go_numbers(same) is same


@pytest.mark.parametrize(("text", "plain"), [
    ("a", True), ("*", True), ("=", True), ("y", False), ("on", False), ("1:20", False), ("0x1F", False),
    ("1e3", False), ("12", False), (".5", False), ("2020-01-02", False), ("~", False), ("", False),
    ("1.2.3", True), ("v1", True),
])
def test_go_plain_is_string(text, plain):
    assert go_plain_is_string(text) is plain


def test_to_yaml_quotes_as_yaml_v2():
    dump = _yaml_dump()
    assert dump(["*", "=", "y", "1:20", "a: b", "x\ny"]) == "- '*'\n- =\n- \"y\"\n- \"1:20\"\n- 'a: b'\n- |-\n  x\n  y"
    assert dump({"f": 2.0, "g": 1e-05, "h": 1e21}) == "f: 2\ng: 1e-05\nh: 1e+21"


# --- "auto": the built-in engine first, Helm itself to confirm a failure ---------------------------


def test_auto_renders_with_the_builtin_engine():
    parsed = load_chart(str(HELM / "fidelity-funcs"), "fidelity-funcs", engine="auto")
    assert parsed.chart is not None and parsed.chart.engine == ENGINE_BUILTIN
    assert not parsed.chart.render_errors and parsed.documents


@pytest.mark.skipif(not HAS_SDK, reason="helm-python-sdk not installed")
def test_auto_lets_helm_overrule_a_builtin_failure(monkeypatch):
    real = chart_module._Renderer._render_builtin

    def failing(self):  # noqa: ANN001, ANN202 - a built-in engine that fails where Helm renders
        outputs = real(self)
        self.facts.render_errors.append(RenderError("template error: boom", Loc("x", Span(1, 1, 1, 2)), None))
        return outputs

    monkeypatch.setattr(chart_module._Renderer, "_render_builtin", failing)
    parsed = load_chart(str(HELM / "fidelity-funcs"), "fidelity-funcs", engine="auto")
    assert parsed.chart is not None and parsed.chart.engine == ENGINE_SDK
    assert not parsed.chart.render_errors and parsed.documents


@pytest.mark.skipif(not HAS_SDK, reason="helm-python-sdk not installed")
def test_auto_keeps_the_builtin_errors_when_helm_fails_too():
    result = lint("failing", cwd=HELM)
    lines = sorted((f.path, f.span.line) for f in result.findings if f.rule == "ECR401")
    assert ("failing/templates/secret.yaml", 6) in lines and ("failing/templates/_helpers.tpl", 3) in lines
