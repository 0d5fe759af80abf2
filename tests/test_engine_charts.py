"""The engine's side of charts: unrenderable charts still have values images checked; --helm-values outside."""

from __future__ import annotations

from helpers import found, lint


def _chart(root, template: str) -> None:
    (root / "templates").mkdir(parents=True)
    (root / "Chart.yaml").write_text("apiVersion: v2\nname: app\nversion: 0.1.0\n")
    (root / "values.yaml").write_text("image:\n  repository: nginx\n  tag: \"1.25\"\n")
    (root / "templates" / "deploy.yaml").write_text(template)


def test_values_images_are_checked_when_no_template_renders(tmp_path):
    _chart(tmp_path / "app", "{{ if }}\n")
    result = lint("app", cwd=tmp_path, helm_engine="builtin")
    rules = {(f.path, f.rule) for f in result.findings}
    assert ("app/templates/deploy.yaml", "ECR401") in rules
    assert ("app/values.yaml", "ECR101") in rules


def test_findings_traced_into_helm_values_outside_the_chart_are_reported(tmp_path):
    _chart(tmp_path / "app", (
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n"
        "    - name: web\n      image: \"{{ .Values.image.repository }}:{{ .Values.image.tag }}\"\n"
    ))
    (tmp_path / "prod.yaml").write_text("image:\n  repository: redis\n")
    result = lint("app", cwd=tmp_path, helm_values=["prod.yaml"], helm_engine="builtin")
    assert ("prod.yaml", "ECR101", 2, 15) in found(result)


def test_each_rule_points_at_the_values_line_of_the_part_it_is_about(tmp_path):
    root = tmp_path / "app"
    (root / "templates").mkdir(parents=True)
    (root / "Chart.yaml").write_text("apiVersion: v2\nname: app\nversion: 0.1.0\n")
    (root / "values.yaml").write_text(
        "image:\n  registry: 111122223333.dkr.ecr.us-east1.amazonaws.com\n  repository: shop/app\n  tag: latest\n"
    )
    (root / "templates" / "pod.yaml").write_text(
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n    - name: web\n"
        "      image: \"{{ .Values.image.registry }}/{{ .Values.image.repository }}:{{ .Values.image.tag }}\"\n"
    )
    result = lint("app", cwd=tmp_path, helm_engine="builtin")
    assert found(result) == {("app/values.yaml", "ECR105", 2, 13), ("app/values.yaml", "ECR103", 4, 8)}


def test_helper_used_only_from_a_tpl_rendered_file_is_compiled(tmp_path):
    root = tmp_path / "c"
    (root / "templates").mkdir(parents=True)
    (root / "conf").mkdir()
    (root / "Chart.yaml").write_text("apiVersion: v2\nname: c\nversion: 0.1.0\n")
    (root / "values.yaml").write_text("image: nginx:1.25\n")
    (root / "templates" / "_helpers.tpl").write_text('{{- define "c.image" -}}{{ .Values.image }}{{- end -}}\n')
    (root / "conf" / "snippet.tpl").write_text('image: {{ include "c.image" . }}\n')
    (root / "templates" / "pod.yaml").write_text(
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n    - name: web\n"
        '      {{- tpl (.Files.Get "conf/snippet.tpl") . | nindent 6 }}\n'
    )
    result = lint("c", cwd=tmp_path, helm_engine="builtin")
    assert [f.rule for f in result.findings] == ["ECR101"]  # rendered, not a false ECR401
