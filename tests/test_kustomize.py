"""Kustomize: overlays' ``images:`` applied to their bases without running kustomize (ECR101-ECR110),
with ``kubectl kustomize`` as the oracle for every image of the fixtures' builds."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from ecrlint.sources import kustomize
from ecrlint.sources.kustomize import KustomizationSource, matches, rewrite, split_image
from ecrlint.workspace import KustomizeImage
from helpers import FIXTURES, assert_fixture, lint, message_of

KUSTOMIZE = FIXTURES / "kustomize"
# Every kustomization of the fixtures whose build kubectl can make offline (no remote base).
BUILDS = [
    ("shop-fail", "overlays/prod"),
    ("shop-fail", "overlays/dev"),
    ("shop-fail", "base"),
    ("pass", "overlays/prod"),
    ("pass", "overlays/patched"),
    ("pass", "base"),
    ("crds-fail", "."),
    ("component-pass", "overlays/prod"),
    ("patches-fail", "base"),
    ("patches-fail", "overlays/inline"),
    ("patches-fail", "overlays/json"),
    ("patches-fail", "overlays/file"),
    ("workshop-events", "base"),
    ("workshop-events", "fix"),
]


@pytest.mark.parametrize("repository", ["shop-fail", "crds-fail", "component-pass", "pass", "patches-fail", "helm-fail", "workshop-events"])
def test_repository(repository):
    root = KUSTOMIZE / repository
    assert_fixture(root, cwd=root, select="ECR1")


def test_messages_name_the_build_and_the_base_line():
    result = lint(".", cwd=KUSTOMIZE / "shop-fail", select="ECR1")
    assert message_of(result, "ECR105", 7).startswith(
        'image "111122223333.dkr.ecr.us-east1.amazonaws.com/shop/api:latest" (as overlays/dev/kustomization.yaml '
        "builds base/deployment.yaml:15, container migrate) does not name a valid ECR registry"
    )
    assert message_of(result, "ECR110", 12) == (
        'images entry "shop/api" matches no image of the resources overlays/prod/kustomization.yaml builds, so '
        "kustomize leaves every image as it is; write the image's name as the resources spell it (without tag or digest)"
    )


def test_a_base_scanned_alone_is_checked_as_written():
    result = lint("base", cwd=KUSTOMIZE / "shop-fail", select="ECR1")
    assert sorted((f.rule, f.path, f.span.line) for f in result.findings) == [
        ("ECR101", "base/deployment.yaml", 15),
        ("ECR101", "base/deployment.yaml", 19),
        ("ECR101", "base/deployment.yaml", 21),
        ("ECR102", "base/deployment.yaml", 15),
        ("ECR102", "base/deployment.yaml", 19),
    ]


def test_parallel_reading_gives_the_same_findings():
    root = KUSTOMIZE / "shop-fail"
    one = lint(".", cwd=root, select="ECR1")
    two = lint(".", cwd=root, select="ECR1", jobs=2)
    assert [(f.rule, f.path, f.span, f.message) for f in one.findings] == [
        (f.rule, f.path, f.span, f.message) for f in two.findings
    ]


def _ecrlint_build(monkeypatch, repository: str, directory: str) -> list[str]:
    """The images ecrlint's reading of the kustomization deploys (before any base image is replaced)."""
    monkeypatch.setattr(KustomizationSource, "finish", lambda self, ws: None)
    result = lint(".", cwd=KUSTOMIZE / repository, select="ECR001")
    ws = result.workspace
    (target,) = [k for k in ws.kustomizations if Path(k.path).parent == Path(directory)]  # noqa: RUF015
    build = kustomize._Builder(ws).build(target)
    assert build.complete
    return sorted(b.value for b in build.images)


def _kubectl_build(repository: str, directory: str) -> list[str]:
    out = subprocess.run(
        ["kubectl", "kustomize", str(KUSTOMIZE / repository / directory)],
        check=True, capture_output=True, text=True, timeout=60,
    ).stdout
    images: list[str] = []

    def walk(node):
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "image" and isinstance(value, str):
                    images.append(value)
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    for doc in yaml.safe_load_all(out):
        walk(doc)
    return sorted(images)


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not installed")
@pytest.mark.parametrize(("repository", "directory"), BUILDS)
def test_kubectl_kustomize_agrees_on_every_image(monkeypatch, repository, directory):
    assert _ecrlint_build(monkeypatch, repository, directory) == _kubectl_build(repository, directory)


@pytest.mark.parametrize(
    ("value", "parts"),
    [
        ("nginx", ("nginx", "", "")),
        ("nginx:1.25", ("nginx", "1.25", "")),
        ("localhost:5000/app", ("localhost:5000/app", "", "")),
        ("localhost:5000/app:1", ("localhost:5000/app", "1", "")),
        ("repo/app@sha256:abc", ("repo/app", "", "sha256:abc")),
        ("repo/app:1@sha256:abc", ("repo/app", "1", "sha256:abc")),
    ],
)
def test_split_image(value, parts):
    assert split_image(value) == parts


@pytest.mark.parametrize(
    ("value", "name", "matched"),
    [
        ("nginx", "nginx", True),
        ("nginx:1.25", "nginx", True),
        ("nginx@sha256:abc", "nginx", True),
        ("docker.io/library/nginx:1.25", "nginx", False),
        ("myorg/nginx:1", "nginx", False),
        ("nginx-exporter:1", "nginx", False),
    ],
)
def test_matches(value, name, matched):
    assert matches(value, name) is matched


@pytest.mark.parametrize(
    ("entry", "value", "result"),
    [
        ({"new_tag": "2"}, "app:1@sha256:abc", "app:2"),
        ({"digest": "sha256:def"}, "app:1", "app@sha256:def"),
        ({"new_tag": "2", "digest": "sha256:def"}, "app", "app:2@sha256:def"),
        ({"new_name": "r.io/app"}, "app:1", "r.io/app:1"),
    ],
)
def test_rewrite(entry, value, result):
    assert rewrite(value, KustomizeImage("app", None, 0, **entry)) == result  # type: ignore[arg-type]


def test_a_crafted_web_of_kustomizations_stays_bounded(tmp_path):
    # 40 levels, each including the next one twice through two directories: 2**40 paths to one file
    (tmp_path / "app.yaml").write_text(
        "apiVersion: v1\nkind: Pod\nmetadata: {name: a}\nspec:\n  containers:\n    - {name: a, image: app}\n"
    )
    (tmp_path / "k0").mkdir()
    (tmp_path / "k0" / "kustomization.yaml").write_text("resources: [../app.yaml]\nimages: [{name: app, newTag: '1'}]\n")
    for level in range(1, 41):
        for side in ("a", "b"):
            d = tmp_path / f"k{level}{side}"
            d.mkdir()
            below = [f"../k{level - 1}a", f"../k{level - 1}b"] if level > 1 else ["../k0", "../k0"]
            (d / "kustomization.yaml").write_text(f"resources: [{below[0]}, {below[1]}]\n")
    result = lint(".", cwd=tmp_path, select="ECR1")
    assert [(f.rule, f.path) for f in result.findings] == [("ECR101", "app.yaml")]  # the name no entry rewrites: the base line, once


def test_a_name_built_to_backtrack_is_matched_literally():
    assert not matches("a" * 40 + "!", "(a+)+")
    assert matches("r.io/app:1", "r.io/app") and matches("rxio/app", "r.io/app")


def test_a_cycle_of_kustomizations_is_not_followed_for_ever(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "a" / "kustomization.yaml").write_text("resources: [../b, pod.yaml]\nimages: [{name: nomatch, newTag: '1'}]\n")
    (tmp_path / "a" / "pod.yaml").write_text(
        "apiVersion: v1\nkind: Pod\nmetadata: {name: a}\nspec:\n  containers:\n    - {name: a, image: app}\n"
    )
    (tmp_path / "b" / "kustomization.yaml").write_text("resources: [../a]\n")
    result = lint(".", cwd=tmp_path, select="ECR1")
    # kustomize rejects the cycle: nothing is known in full, so no ECR110; the pod is checked as written
    assert sorted(f.rule for f in result.findings) == ["ECR101", "ECR102"]


@pytest.mark.parametrize("repository", ["namespace-fail", "labels-fail"])
def test_an_overlay_namespace_and_labels_decide_which_fargate_profile_selects_the_base(repository):
    assert_fixture(KUSTOMIZE / repository, cwd=KUSTOMIZE / repository, select="ECR3")


def _pod_labels(doc: dict) -> dict:
    spec = doc.get("spec") or {}
    template = (spec.get("jobTemplate") or {}).get("spec", {}).get("template") or spec.get("template")
    return dict(((template or doc).get("metadata") or {}).get("labels") or {})


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not installed")
@pytest.mark.parametrize(("repository", "overlay"), [("namespace-fail", "overlays/prod"), ("labels-fail", "overlays/batch")])
def test_kubectl_kustomize_agrees_on_namespaces_and_pod_labels(repository, overlay):
    root = KUSTOMIZE / repository
    out = subprocess.run(["kubectl", "kustomize", str(root / overlay)], check=True, capture_output=True,
                         text=True, timeout=60).stdout
    expected = sorted((f"{d['kind']}/{d['metadata']['namespace']}/{d['metadata']['name']}", _pod_labels(d))
                      for d in yaml.safe_load_all(out))
    result = lint(".", cwd=root, select="ECR001")
    assert sorted((w.logical, w.pod_labels) for w in result.workspace.workloads) == expected


def test_verbose_notes_name_what_was_not_read():
    result = lint("overlays", cwd=KUSTOMIZE / "shop-fail", select="ECR1", verbose=True)
    assert "overlays/prod/kustomization.yaml:5: resource '../../base' is not among the scanned Kubernetes files; " \
           "the build is followed without it" in result.notes
    # the base is not scanned: nothing is known in full, so the unmatched entry is not judged
    assert [f.rule for f in result.findings if f.rule == "ECR110"] == []
    remote = lint(".", cwd=KUSTOMIZE / "pass", select="ECR1", verbose=True)
    assert any("remote base 'https://github.com/argoproj/argocd-example-apps//kustomize-guestbook?ref=master' is not "
               "fetched" in note for note in remote.notes)


def test_a_delete_patch_leaves_the_build_not_known_in_full(tmp_path):
    (tmp_path / "base").mkdir()
    (tmp_path / "prod").mkdir()
    (tmp_path / "base" / "kustomization.yaml").write_text("resources: [app.yaml]\n")
    (tmp_path / "base" / "app.yaml").write_text(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: redis}\nspec:\n  template:\n    spec:\n"
        "      containers:\n        - {name: redis, image: redis:7}\n"
    )
    (tmp_path / "prod" / "kustomization.yaml").write_text(
        "resources: [../base]\npatches: [{path: delete.yaml}]\nimages: [{name: nginx, newTag: '1'}]\n"
    )
    (tmp_path / "prod" / "delete.yaml").write_text(
        "$patch: delete\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: redis}\n"
    )
    result = lint(".", cwd=tmp_path, select="ECR110")
    assert result.findings == []  # what the build deploys is not followed: the entry is not judged


def test_patches_put_findings_on_the_patch_line_and_name_the_target():
    result = lint(".", cwd=KUSTOMIZE / "patches-fail", select="ECR1")
    assert message_of(result, "ECR105", 20).startswith(
        'image "111122223333.dkr.ecr.us-east1.amazonaws.com/web:1.0" (as overlays/inline/kustomization.yaml '
        "patches Deployment/web, container web) does not name a valid ECR registry"
    )
    # the inline patch's pod-template label reaches the workload every build deploys
    ws = result.workspace
    (web,) = [w for w in ws.workloads if w.name == "web" and w.path == "base/deployment.yaml"]  # noqa: RUF015
    assert web.pod_labels == {"app": "web"}  # builds disagree (only the inline overlay adds tier)


def test_inline_patch_positions_follow_the_block_indentation():
    from ecrlint.model import BlockSpan
    from ecrlint.parsing import parse_text

    text = "patches:\n  - patch: |-\n      kind: Deployment\n\n      spec: {image: x}\n"
    ((root, _),), problems = parse_text("k.yaml", text)
    assert not problems
    span = root["patches"][0].value_span("patch")
    assert isinstance(span, BlockSpan) and span.indent == 6
    assert span.inner(3, 7) == (5, 13)  # "spec" of the patch's line 3, column 7 is the file's 5:13


@pytest.mark.parametrize(
    ("ops", "expected"),
    [
        # replace one container's image; remove a container; add a container list wholesale
        ([{"op": "replace", "path": "/spec/template/spec/containers/1/image", "value": "b:2"}], ["a:1", "b:2"]),
        ([{"op": "remove", "path": "/spec/template/spec/containers/0"}], ["b:1"]),
        ([{"op": "add", "path": "/spec/template/spec/containers/-", "value": {"name": "c", "image": "c:1"}}],
         ["a:1", "b:1", "c:1"]),
        ([{"op": "replace", "path": "/spec/template/spec/containers", "value": [{"name": "d", "image": "d:1"}]}],
         ["d:1"]),
        ([{"op": "replace", "path": "/spec/replicas", "value": 3}], ["a:1", "b:1"]),
    ],
)
def test_json_6902_operations_agree_with_kubectl(tmp_path, monkeypatch, ops, expected):
    (tmp_path / "deployment.yaml").write_text(yaml.safe_dump({
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "w"},
        "spec": {"selector": {"matchLabels": {"a": "b"}}, "template": {"metadata": {"labels": {"a": "b"}}, "spec": {
            "containers": [{"name": "a", "image": "a:1"}, {"name": "b", "image": "b:1"}]}}},
    }))
    (tmp_path / "ops.yaml").write_text(yaml.safe_dump(ops))
    (tmp_path / "kustomization.yaml").write_text(yaml.safe_dump({
        "resources": ["deployment.yaml"],
        "patches": [{"target": {"kind": "Deployment", "name": "w"}, "path": "ops.yaml"}],
    }))
    monkeypatch.setattr(KustomizationSource, "finish", lambda self, ws: None)
    ws = lint(".", cwd=tmp_path, select="ECR001").workspace
    (target,) = ws.kustomizations
    build = kustomize._Builder(ws).build(target)
    assert build.complete
    assert sorted(b.value for b in build.images) == expected
    if shutil.which("kubectl"):
        out = subprocess.run(["kubectl", "kustomize", str(tmp_path)], check=True, capture_output=True, text=True,
                             timeout=60).stdout
        containers = yaml.safe_load(out)["spec"]["template"]["spec"]["containers"]
        assert sorted(c["image"] for c in containers) == expected


def test_helm_charts_render_the_scanned_chart_with_the_kustomizations_values():
    """``helmCharts`` (kustomize's examples/chart.md): the chart under chartHome renders with
    valuesInline / valuesFile; a chart from a repository is a --verbose note, never fetched. (The
    kubectl oracle needs a helm binary for --enable-helm, which these machines do not have; the
    built-in engine's agreement with Helm is tests/test_helm_fidelity.py's.)"""
    result = lint(".", cwd=KUSTOMIZE / "helm-fail", select="ECR1", verbose=True)
    assert message_of(result, "ECR105", 8).startswith(
        'image "111122223333.dkr.ecr.us-east1.amazonaws.com/web:1.0" (as kustomization.yaml inflates chart web, '
        "rendered in templates/deployment.yaml, container web)"
    )
    assert any("helm chart 'ingress-nginx' from https://kubernetes.github.io/ingress-nginx is not fetched" in n
               for n in result.notes)
    remote = next(k for k in result.workspace.kustomizations if k.path == "kustomization.yaml")
    assert [i.matched for i in remote.images] == [None]  # a build with a remote chart is not judged


def test_helm_charts_values_files_outside_the_tree_are_not_read(tmp_path):
    chart = tmp_path / "charts" / "web"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: web\nversion: 0.1.0\n")
    (chart / "values.yaml").write_text("image: public.ecr.aws/nginx/nginx:1.27\n")
    (chart / "templates" / "pod.yaml").write_text(
        "apiVersion: v1\nkind: Pod\nmetadata: {name: web}\nspec:\n  containers:\n    - name: web\n"
        "      image: {{ .Values.image | quote }}\n"
    )
    outside = tmp_path.parent / f"{tmp_path.name}-outside.yaml"
    outside.write_text("image: nginx\n")
    (tmp_path / "kustomization.yaml").write_text(
        f"helmCharts:\n  - name: web\n    valuesFile: {outside}\n  - name: web\n    valuesFile: ../{outside.name}\n"
    )
    result = lint(".", cwd=tmp_path, select="ECR1", verbose=True)
    assert not result.findings  # nginx from outside the tree is never read
    assert sum("is not in the scanned tree" in n for n in result.notes) == 2


def test_json_6902_namespace_and_template_labels_reach_the_workload(tmp_path):
    """A JSON 6902 operation on ``/metadata/namespace`` or ``/spec/template/metadata/labels/...`` moves
    the deployed workload (what Fargate profiles select by); kubectl agrees."""
    (tmp_path / "deployment.yaml").write_text(yaml.safe_dump({
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "w"},
        "spec": {"selector": {"matchLabels": {"a": "b"}}, "template": {"metadata": {"labels": {"a": "b"}}, "spec": {
            "containers": [{"name": "a", "image": "public.ecr.aws/nginx/nginx:1.27"}]}}},
    }))
    ops = [{"op": "add", "path": "/metadata/namespace", "value": "batch"},
           {"op": "add", "path": "/spec/template/metadata/labels/compute", "value": "fargate"}]
    (tmp_path / "kustomization.yaml").write_text(yaml.safe_dump({
        "resources": ["deployment.yaml"],
        "patches": [{"target": {"kind": "Deployment", "name": "w"}, "patch": yaml.safe_dump(ops)}],
    }))
    ws = lint(".", cwd=tmp_path, select="ECR1").workspace
    (workload,) = ws.workloads
    assert (workload.namespace, workload.pod_labels) == ("batch", {"a": "b", "compute": "fargate"})
    if shutil.which("kubectl"):
        out = yaml.safe_load(subprocess.run(["kubectl", "kustomize", str(tmp_path)], check=True, capture_output=True,
                                            text=True, timeout=60).stdout)
        assert (out["metadata"]["namespace"], out["spec"]["template"]["metadata"]["labels"]) == (
            "batch", {"a": "b", "compute": "fargate"})
