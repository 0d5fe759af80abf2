"""Helm charts through the engine: fixture charts with expectations on values and template lines."""

from __future__ import annotations

import importlib.util
import shutil

import pytest

from ecrlint.helm import ENGINE_BUILTIN, ENGINE_SDK, load_chart
from helm_archives import ARCHIVES, build_archive
from helpers import FIXTURES, assert_fixture, lint, message_of

HELM = FIXTURES / "helm"
CHARTS = sorted(p.name for p in HELM.iterdir() if (p / "Chart.yaml").is_file())
HAS_SDK = importlib.util.find_spec("helm_python") is not None
ENGINES = ["builtin", pytest.param("sdk", marks=pytest.mark.skipif(not HAS_SDK, reason="helm-python-sdk not installed"))]


# --- every fixture chart, exact (path, rule, line, column), with each engine ---------------------


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("chart", CHARTS)
def test_fixture_chart(chart, engine):
    assert_fixture(HELM / chart, helm_engine=engine)


def test_fixture_charts_cover_the_issue():
    # helpers, include, tpl, .Chart.AppVersion, conditions, subcharts, a library chart, a .tgz.
    for name in ("app", "tpl", "umbrella", "library", "archive", "failing", "missing-dep", "oci", "inline"):
        assert name in CHARTS


def test_committed_archives_are_reproducible():
    for path, files in ARCHIVES.items():
        assert path.read_bytes() == build_archive(files), f"run: python tests/helm_archives.py ({path.name})"


# --- messages ------------------------------------------------------------------------------------


def test_image_message_names_the_rendered_file_and_container():
    result = lint("app", cwd=HELM, helm_engine="builtin")
    message = message_of(result, "ECR103", 9)
    assert '"123456789012.dkr.ecr.us-east-1.amazonaws.com/sidecar:latest"' in message
    assert "templates/deployment.yaml" in message and "container sidecar" in message


def test_subchart_image_names_the_subchart_template():
    result = lint("archive", cwd=HELM, helm_engine="builtin")
    message = message_of(result, "ECR103", 4)
    assert "charts/tools-0.2.0.tgz/tools/templates/job.yaml" in message


def test_render_failure_messages():
    result = lint("failing", cwd=HELM, helm_engine="builtin")
    (required,) = [f.message for f in result.findings if f.path == "failing/templates/secret.yaml"]
    assert required.startswith("templates/secret.yaml cannot be rendered offline: required value missing")
    assert "database.password is required" in required and "--helm-values" in required
    failed = [f for f in result.findings if f.path == "failing/templates/_helpers.tpl"]
    assert len(failed) == 1 and 'not "turbo"' in failed[0].message
    assert failed[0].message.startswith("templates/configmap.yaml cannot be rendered offline")
    missing = message_of(lint("missing-dep", cwd=HELM), "ECR404", 6)
    assert '"redis"' in missing and "helm dependency build" in missing


def test_install_time_inputs_are_verbose_notes():
    result = lint("failing", cwd=HELM, helm_engine="builtin", verbose=True)
    notes = [n for n in result.notes if "clusterName is required" in n]
    assert notes and "failing/templates/deployment.yaml:18" in notes[0]


# --- --helm-values ------------------------------------------------------------------------------


def test_helm_values_files_merge_in_order_and_are_traced(tmp_path):
    chart = tmp_path / "app"
    shutil.copytree(HELM / "app", chart)
    first = chart / "values-prod.yaml"
    first.write_text("sidecar:\n  image:\n    tag: \"1.0\"\ninit:\n  image:\n    tag: \"2.0\"\n")
    second = chart / "values-hotfix.yaml"
    second.write_text("sidecar:\n  image:\n    tag: latest\n")
    result = lint("app", cwd=tmp_path, helm_engine="builtin", helm_values=[str(first), str(second)])
    found = {(f.path, f.rule, f.span.line, f.span.column) for f in result.findings}
    # The last file wins for the sidecar tag; the init tag now comes from the first file.
    assert ("app/values-hotfix.yaml", "ECR103", 3, 10) in found
    assert not any(f.rule == "ECR102" and f.path == "app/values.yaml" and f.span.line == 13 for f in result.findings)
    assert ("app/values.yaml", "ECR101", 2, 13) in found


# --- the 10 real charts -------------------------------------------------------------------------


def test_real_charts_render_without_ecr401(shared_corpus):
    result = lint(str(shared_corpus / "helm"), cwd=shared_corpus, helm_engine="builtin")
    assert not [f for f in result.findings if f.rule in ("ECR401", "ECR001")], result.findings
    assert len(result.workspace.charts) == 10
    for chart in result.workspace.charts:
        assert chart.templates_rendered > 0, chart.name


def test_real_chart_images_trace_to_values(shared_corpus):
    parsed = load_chart(str(shared_corpus / "helm" / "redis"), "redis", engine="builtin")
    traced = {
        doc.trace[pointer][1]
        for doc in parsed.documents
        for pointer in (doc.trace or {})
        if "#" not in pointer
    }
    assert "image.repository" in traced
    cni = load_chart(str(shared_corpus / "helm" / "aws-vpc-cni"), "cni", engine="builtin")
    parts = {
        pointer.rsplit("#", 1)[1]: entry[1]
        for doc in cni.documents
        for pointer, entry in (doc.trace or {}).items()
        if pointer.startswith("/spec/template/spec/containers/0/image#")
    }
    # account.dkr.ecr.region.domain/repository:tag assembled from four values
    assert parts["registry"] in ("init.image.account", "image.account", "init.image.region", "image.region")
    assert parts["tag"].endswith(".tag")


# --- load_chart directly ------------------------------------------------------------------------


def test_load_chart_documents_and_facts():
    parsed = load_chart(str(HELM / "umbrella"), "umbrella", engine="builtin")
    facts = parsed.chart
    assert facts.engine == ENGINE_BUILTIN and facts.name == "umbrella"
    assert facts.chart_yaml == "umbrella/Chart.yaml"
    names = {(d.path, d.origin, d.root["metadata"]["name"]) for d in parsed.documents}
    assert names == {
        ("umbrella/templates/configmap.yaml", "templates/configmap.yaml", "release-name-umbrella"),
        ("umbrella/charts/worker/templates/deployment.yaml", "charts/worker/templates/deployment.yaml", "release-name-worker"),
        ("umbrella/charts/worker/templates/deployment.yaml", "charts/worker/templates/deployment.yaml", "release-name-jobs"),
    }
    assert len({(d.path, d.index) for d in parsed.documents}) == 3  # aliased copies do not collide
    assert all(d.kind == "kubernetes" for d in parsed.documents)
    deps = {d.alias or d.name: d for d in facts.dependencies}
    assert deps["legacy"].condition == "legacy.enabled" and deps["extra"].tags == ("extras",)
    assert deps["jobs"].name == "worker" and deps["worker"].vendored_version == "1.2.0"
    assert any("'legacy'" in n for n in facts.notes) and any("'extra'" in n for n in facts.notes)


def test_trace_points_each_part_at_its_values_line():
    parsed = load_chart(str(HELM / "library"), "library", engine="builtin")
    (doc,) = parsed.documents
    trace = doc.trace
    nginx = "/spec/template/spec/containers/0/image"
    assert trace[nginx][1] == "image.tag"  # the wrong part (latest)
    assert {p: trace[f"{nginx}#{p}"][1] for p in ("registry", "repository", "tag", "digest")} == {
        "registry": "image.registry", "repository": "image.repository", "tag": "image.tag", "digest": "image.digest",
    }
    assert trace[nginx][0].path == "library/values.yaml" and trace[nginx][0].span.line == 6
    cloner = "/spec/template/spec/initContainers/0/image"
    assert doc.root["spec"]["template"]["spec"]["initContainers"][0]["image"] == "public.ecr.aws/bitnami/git:1.27.3"
    assert trace[f"{cloner}#tag"][1] == "cloner.image.tag"  # the empty tag the user would set


def test_template_line_when_no_value_produced_it():
    parsed = load_chart(str(HELM / "inline"), "inline", engine="builtin")
    (doc,) = parsed.documents
    loc, what = doc.trace["/spec/template/spec/containers/0/image"]
    assert what == "template line"
    assert (loc.path, loc.span.line, loc.span.column) == ("inline/templates/statefulset.yaml", 18, 18)


def test_library_and_missing_dependency_still_render_own_templates():
    parsed = load_chart(str(HELM / "missing-dep"), "missing-dep")
    assert [e.kind for e in parsed.chart.render_errors] == ["missing-dependency"]
    assert [d.root["kind"] for d in parsed.documents] == ["Pod"]


def test_a_library_chart_alone_renders_nothing_and_is_not_an_error():
    parsed = load_chart(str(HELM / "library" / "charts" / "common"), "common")
    assert parsed.documents == [] and parsed.chart.render_errors == []
    assert parsed.chart.chart_type == "library"


def test_runtime_objects_match_helm(tmp_path):
    chart = tmp_path / "runtime"
    (chart / "templates").mkdir(parents=True)
    (chart / "files").mkdir()
    (chart / "Chart.yaml").write_text('apiVersion: v2\nname: runtime\nversion: 0.1.0\nappVersion: 1.10\n')
    (chart / "values.yaml").write_text("a: {b: 1}\n")
    (chart / "files" / "app.conf").write_text("key = value\n")
    (chart / "templates" / "cm.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}\n  namespace: {{ .Release.Namespace }}\n"
        "data:\n"
        "  appVersion: {{ .Chart.AppVersion | quote }}\n"
        "  kube: {{ .Capabilities.KubeVersion.Version }}\n"
        "  apps: {{ .Capabilities.APIVersions.Has \"apps/v1\" | quote }}\n"
        "  lookup: {{ lookup \"v1\" \"Secret\" \"default\" \"x\" | toYaml | quote }}\n"
        "  scalar: {{ toYaml \"abc\" | quote }}\n"
        "  file: {{ .Files.Get \"files/app.conf\" | quote }}\n"
        "  glob: {{ range $p, $_ := .Files.Glob \"files/*\" }}{{ $p }}{{ end }}\n"
        "  template: {{ .Template.Name }}\n"
        "  isRoot: {{ .Chart.IsRoot | quote }}\n"
        "  config: |\n{{ (.Files.Glob \"files/*\").AsConfig | indent 4 }}\n"
    )
    builtin = load_chart(str(chart), "runtime", engine="builtin")
    data = builtin.documents[0].root["data"]
    assert data["appVersion"] == "1.1"  # Helm v4 reads `appVersion: 1.10` as a number
    assert data["kube"] == "v1.36.0" and data["apps"] == "true" and data["lookup"] == "{}"
    assert data["scalar"] == "abc" and data["file"] == "key = value\n" and data["glob"] == "files/app.conf"
    assert data["template"] == "runtime/templates/cm.yaml" and data["isRoot"] == "true"
    assert builtin.documents[0].root["metadata"]["name"] == "release-name"
    assert builtin.documents[0].root["metadata"]["namespace"] == "default"
    if HAS_SDK:
        sdk = load_chart(str(chart), "runtime", engine="sdk")
        assert sdk.chart.engine == ENGINE_SDK
        assert sdk.documents[0].root == builtin.documents[0].root


def test_never_raises_on_broken_input(tmp_path):
    missing = load_chart(str(tmp_path / "nope"), "nope")
    assert missing.chart.render_errors and missing.documents == []
    bad = tmp_path / "bad"
    (bad / "templates").mkdir(parents=True)
    (bad / "Chart.yaml").write_text("name: [unclosed\n")
    (bad / "values.yaml").write_text("a: b: c\n")
    (bad / "templates" / "x.yaml").write_text("kind: ConfigMap\napiVersion: v1\nmetadata: {name: x}\n  bad: indent\n")
    parsed = load_chart(str(bad), "bad", engine="builtin")
    paths = sorted((e.path, e.rule) for e in parsed.errors)
    assert ("bad/Chart.yaml", "ECR001") in paths and ("bad/values.yaml", "ECR001") in paths
    assert ("bad/templates/x.yaml", "ECR001") in paths  # rendered output that is not YAML


def test_chart_facts_start_named_after_the_directory(tmp_path, monkeypatch):
    from ecrlint.helm import ChartFacts

    facts = ChartFacts.for_dir(str(tmp_path / "web"), "charts/web")
    assert (facts.name, facts.dir, facts.display, facts.chart_yaml) == (
        "web", str(tmp_path / "web"), "charts/web", "charts/web/Chart.yaml"
    )
    # both ways a chart can fail before its Chart.yaml is read use those facts
    missing = load_chart(str(tmp_path / "nope"), "charts/nope")
    assert (missing.chart.name, missing.chart.chart_yaml) == ("nope", "charts/nope/Chart.yaml")

    def crash(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr("ecrlint.helm.chart.load_chart", crash)
    broken = load_chart(str(tmp_path / "web"), "charts/web")
    assert (broken.chart.name, broken.chart.chart_yaml) == ("web", "charts/web/Chart.yaml")
    [error] = broken.chart.render_errors
    assert (error.message, error.loc.path, error.loc.line) == (
        "the chart cannot be rendered: RuntimeError: boom", "charts/web/Chart.yaml", 1
    )


@pytest.mark.slow
def test_budgets_stop_runaway_templates(tmp_path):
    chart = tmp_path / "bomb"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: bomb\nversion: 1.0.0\n")
    (chart / "templates" / "a.yaml").write_text("{{ range until 100000000 }}x{{ end }}\n")
    (chart / "templates" / "b.yaml").write_text('{{ define "r" }}{{ include "r" . }}{{ end }}{{ include "r" . }}\n')
    (chart / "templates" / "c.yaml").write_text("{{ range until 1000 }}{{ range until 1000 }}{{ range until 1000 }}x{{ end }}{{ end }}{{ end }}\n")
    parsed = load_chart(str(chart), "bomb")
    failed = sorted(e.template for e in parsed.chart.render_errors)
    assert failed == ["templates/a.yaml", "templates/b.yaml", "templates/c.yaml"]
    assert parsed.chart.engine == ENGINE_BUILTIN


def test_helm_import_is_lazy():
    import subprocess
    import sys

    code = "import sys, ecrlint.helm; print('gotpl' in sys.modules, 'helm_python' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]


@pytest.mark.skipif(not HAS_SDK, reason="helm-python-sdk not installed (the test extra installs it)")
def test_fixture_engines_agree():
    """The built-in engine and Helm itself produce the same objects and images for every fixture chart."""
    compared = []
    for chart in CHARTS:
        ours = load_chart(str(HELM / chart), chart, engine="builtin")
        helm = load_chart(str(HELM / chart), chart, engine="sdk")
        if helm.chart.engine != ENGINE_SDK:
            continue  # Helm itself stops on this chart (fail, syntax error, missing dependency)
        assert _objects(ours) == _objects(helm), chart
        compared.append(chart)
    assert sorted(compared) == sorted(set(CHARTS) - {"failing", "missing-dep", "fidelity-schema"})


def _objects(parsed) -> set[tuple[str, str, str | None, str]]:
    """(kind, name, container, image) of every rendered object (container None: no images)."""
    from ecrlint.helm.trace import image_fields, resolve

    out = set()
    for doc in parsed.documents:
        if not isinstance(doc.root, dict):
            continue
        kind = str(doc.root.get("kind"))
        name = str((doc.root.get("metadata") or {}).get("name"))
        images = list(image_fields(doc.root))
        if not images:
            out.add((kind, name, None, ""))
        for pointer, image in images:
            container = resolve(doc.root, pointer.rsplit("/", 1)[0]) or {}
            out.add((kind, name, str(container.get("name")), image))
    return out


@pytest.fixture
def helm_corpus(shared_corpus):
    return shared_corpus / "helm"


# Values the two charts need at install time (their `required` clusterName), so Helm itself renders.
INSTALL_VALUES = "clusterName: demo\nsettings:\n  clusterName: demo\n"


@pytest.mark.skipif(not HAS_SDK, reason="helm-python-sdk not installed (the test extra installs it)")
def test_real_charts_render_like_helm(helm_corpus, tmp_path):
    values = tmp_path / "install.yaml"
    values.write_text(INSTALL_VALUES)
    compared = 0
    for chart in sorted(p for p in helm_corpus.iterdir() if (p / "Chart.yaml").is_file()):
        ours = load_chart(str(chart), chart.name, engine="builtin", values_files=[str(values)])
        helm = load_chart(str(chart), chart.name, engine="sdk", values_files=[str(values)])
        assert helm.chart.engine == ENGINE_SDK, (chart.name, helm.chart.notes)
        assert not ours.chart.render_errors, (chart.name, ours.chart.render_errors)
        assert _objects(ours) == _objects(helm), chart.name
        compared += 1
    assert compared == 10


def test_an_argo_cd_chart_without_vendored_dependencies_is_a_warning_not_a_render_failure(tmp_path):
    # Argo CD runs `helm dependency build` at sync time: charts/ is not committed
    chart = tmp_path / "apps" / "web"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text(
        "apiVersion: v2\nname: web\nversion: 1.0.0\ndependencies:\n"
        "  - name: redis\n    version: 18.6.1\n    repository: https://charts.bitnami.com/bitnami\n")
    (chart / "Chart.lock").write_text("dependencies:\n- name: redis\n  version: 18.6.1\n")
    (chart / "values.yaml").write_text("image: 123456789012.dkr.ecr.us-east-1.amazonaws.com/web:1.4.2\n")
    (chart / "templates" / "pod.yaml").write_text(
        "apiVersion: v1\nkind: Pod\nmetadata: {name: web}\nspec:\n  containers:\n"
        "    - {name: web, image: {{ .Values.image | quote }}}\n")
    result = lint(".", cwd=tmp_path)
    assert [(f.rule, f.severity.label, f.path, f.span.line) for f in result.findings] == [
        ("ECR404", "warning", "apps/web/Chart.yaml", 5)]
    assert not result.failed
