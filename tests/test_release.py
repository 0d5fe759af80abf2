"""Release facts agree: the version, the CHANGELOG, the README's install tag, the pre-commit rev, LICENSE."""

from __future__ import annotations

import re
from pathlib import Path

from ecrlint import __version__

ROOT = Path(__file__).resolve().parent.parent


def test_version_changelog_readme_and_precommit_agree():
    tag = f"v{__version__}"
    changelog = (ROOT / "CHANGELOG.md").read_text()
    assert re.search(rf"^## \[{re.escape(__version__)}\] - \d{{4}}-\d{{2}}-\d{{2}}$", changelog, re.M)
    readme = (ROOT / "README.md").read_text()
    assert f"git+https://github.com/ecrlint/ecrlint@{tag}" in readme
    assert f"rev: {tag}" in readme and "rev: main" not in readme
    assert f"uses: ecrlint/ecrlint@{tag}" in readme
    assert "pip install ecrlint\n" not in readme, "ecrlint is not on PyPI: install from the repository"


def test_readme_first_screen_keeps_the_two_set_up_commands():
    first_screen = (ROOT / "README.md").read_text().split("## ", 1)[0]
    commands = [line for line in first_screen.splitlines() if line.startswith("python3 -m venv")]
    assert commands == [
        "python3 -m venv .venv && .venv/bin/pip install . && .venv/bin/ecrlint check examples/",
        "python3 -m venv .venv && .venv/bin/pip install -e '.[test]' && .venv/bin/python -m pytest",
    ]


def test_license_is_the_apache_2_0_text_pyproject_names():
    text = (ROOT / "LICENSE").read_text()
    assert "Apache License" in text and "Version 2.0, January 2004" in text
    assert "END OF TERMS AND CONDITIONS" in text
    assert 'license = "Apache-2.0"' in (ROOT / "pyproject.toml").read_text()
