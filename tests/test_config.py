"""Config discovery, validation against the shipped schema, selection semantics, exit code 2 on bad keys."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from ecrlint.config import ConfigError, glob_match, is_enabled, load_config, schema, validate

KNOWN = {"ECR001", "ECR101", "ECR103", "ECR106", "ECR201"}


def test_shipped_schema_is_a_valid_json_schema():
    shipped = schema()
    assert jsonschema.validators.validator_for(shipped) is jsonschema.Draft202012Validator  # the draft it declares
    meta = jsonschema.Draft202012Validator(jsonschema.Draft202012Validator.META_SCHEMA)
    assert [error.message for error in meta.iter_errors(shipped)] == []


GOOD = [
    {},
    {"select": ["ECR1"], "ignore": ["ECR103"], "fail-on": "warning"},
    {"per-file-ignores": {"legacy/**": ["ECR101"]}, "severity": {"ECR103": "error"}},
    {"clusters": [{"name": "prod", "definition": "infra/c.yaml", "workloads": ["k8s/**"], "account-id": "123456789012"}]},
    {"helm": {"values": ["v.yaml"], "engine": "builtin"}, "max-file-size": 1000, "require-digest": True},
]
BAD = [
    {"selekt": ["ECR1"]},
    {"fail-on": "fatal"},
    {"select": "ECR1"},
    {"clusters": [{"name": "p", "acount-id": "1"}]},
    {"clusters": [{"definition": "x"}]},
    {"helm": {"value": []}},
    {"max-file-size": 0},
    {"require-digest": "yes"},
    {"clusters": [{"name": "p", "account-id": "12345"}]},
]


@pytest.mark.parametrize("data", GOOD)
def test_validator_accepts_what_jsonschema_accepts(data):
    assert [error.message for error in jsonschema.Draft202012Validator(schema()).iter_errors(data)] == []
    try:
        validate(data)
    except ConfigError as exc:
        pytest.fail(f"ecrlint's validator rejects what jsonschema accepts: {exc}")


@pytest.mark.parametrize("data", BAD)
def test_validator_rejects_what_jsonschema_rejects(data):
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(data, schema())
    with pytest.raises(ConfigError):
        validate(data)


def test_unknown_key_is_named(tmp_path):
    (tmp_path / ".ecrlint.yaml").write_text("selekt: [ECR1]\n")
    with pytest.raises(ConfigError, match="unknown config key 'selekt'"):
        load_config(None, KNOWN, str(tmp_path))


def test_unknown_rule_id_is_named(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[tool.ecrlint]\nignore = ["ECR999"]\n')
    with pytest.raises(ConfigError, match="unknown rule ID 'ECR999'"):
        load_config(None, KNOWN, str(tmp_path))


def test_nearest_config_upward_and_pyproject_without_section_is_skipped(tmp_path):
    (tmp_path / ".ecrlint.yaml").write_text("fail-on: warning\n")
    sub = tmp_path / "a" / "b"
    sub.mkdir(parents=True)
    (sub / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    config = load_config(None, KNOWN, str(sub))
    assert config.path == str(tmp_path / ".ecrlint.yaml")
    assert config.fail_on.label == "warning"


def test_selection_longest_prefix_wins_and_opt_in_rules_need_full_id():
    assert is_enabled("ECR101", True, ("ECR",), ())
    assert not is_enabled("ECR101", True, ("ECR",), ("ECR1",))
    assert is_enabled("ECR101", True, ("ECR101",), ("ECR1",))
    assert not is_enabled("ECR106", False, ("ECR",), ())
    assert is_enabled("ECR106", False, ("ECR", "ECR106"), ())


@pytest.mark.parametrize(
    "pattern, path, expected",
    [
        ("legacy/**", "legacy/a/b.yaml", True),
        ("*.json", "iam/policy.json", True),
        ("iam/*.json", "iam/sub/policy.json", False),
        ("**/values.yaml", "charts/app/values.yaml", True),
        ("k8s/prod/**", "k8s/staging/x.yaml", False),
    ],
)
def test_glob_match(pattern, path, expected):
    assert glob_match(pattern, path) is expected


def test_cli_exits_2_naming_the_bad_key(tmp_path):
    (tmp_path / ".ecrlint.yaml").write_text("allowed-registry: [x]\n")
    (tmp_path / "a.yaml").write_text("a: 1\n")
    proc = subprocess.run([sys.executable, "-m", "ecrlint", "check", "a.yaml"], cwd=tmp_path, capture_output=True, text=True)
    assert proc.returncode == 2
    assert "allowed-registry" in proc.stderr
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("select: [ECR1\nfoo: [\n", ".ecrlint.yaml:2:4: invalid YAML: did not find expected ',' or ']'"),
        ("selct: [ECR1]\n", ".ecrlint.yaml: unknown config key 'selct' (did you mean 'select'?)"),
    ],
    ids=["broken-yaml", "unknown-key"],
)
def test_config_errors_are_one_line_with_the_file_position_and_a_suggestion(tmp_path, text, message):
    import subprocess
    import sys

    (tmp_path / ".ecrlint.yaml").write_text(text)
    proc = subprocess.run([sys.executable, "-m", "ecrlint", "check", "."], cwd=tmp_path, capture_output=True,
                          text=True, timeout=120, check=False)
    assert (proc.returncode, proc.stderr) == (2, f"ecrlint: {tmp_path}/{message}\n")
