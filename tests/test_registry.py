"""Rule registry: built-ins, third-party rule packs through the ``ecrlint.rules`` entry-point group."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from ecrlint.registry import Registry, Rule, load_registry
from ecrlint.model import Severity


def test_builtin_rules_are_ordered_and_unique():
    registry = load_registry(plugins=False)
    ids = [r.id for r in registry]
    assert ids == sorted(ids) and len(ids) == len(set(ids))
    assert "ECR001" in registry and "ECR101" in registry


def test_two_rules_with_one_id_are_refused():
    class A(Rule):
        id, name, severity = "ECR900", "a", Severity.NOTE

    class B(Rule):
        id, name, severity = "ECR900", "b", Severity.NOTE

    try:
        Registry([A, B])
    except ValueError as exc:
        assert "ECR900" in str(exc)
    else:
        raise AssertionError("duplicate IDs must be refused")


def test_third_party_rule_pack_is_loaded_from_entry_points(tmp_path):
    (tmp_path / "acme_rules.py").write_text(textwrap.dedent('''
        from ecrlint.registry import Rule
        from ecrlint.model import Severity

        class NoBusybox(Rule):
            """Images must not be busybox.

            ## What it does
            Flags busybox.
            ## Why
            Policy.
            ## Example
            `busybox:1`
            ## Fix
            Use another image.
            ## Options
            None.
            """
            id = "ACME001"
            name = "no-busybox"
            severity = Severity.WARNING

            def check(self, ws, ctx):
                for image in ws.images:
                    if "busybox" in image.value:
                        yield self.finding(image.loc, f'image "{image.value}" is busybox')
    '''))
    dist = tmp_path / "acme_rules-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: acme-rules\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[ecrlint.rules]\nacme = acme_rules\n")
    (tmp_path / "pod.yaml").write_text(
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n"
        "    - name: a\n      image: public.ecr.aws/docker/library/busybox:1.36\n"
    )
    env_path = f"{tmp_path}"
    proc = subprocess.run(
        [sys.executable, "-c", f"import sys; sys.path.insert(0, {env_path!r}); from ecrlint.cli import main; "
         "sys.exit(main(['check', 'pod.yaml']))"],
        cwd=tmp_path, capture_output=True, text=True,
    )
    assert proc.returncode == 0, proc.stderr  # a warning does not fail the run
    assert proc.stdout == 'pod.yaml:7:14: ACME001 warning image "public.ecr.aws/docker/library/busybox:1.36" is busybox (no-busybox)\n'
