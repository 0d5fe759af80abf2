"""The gotpl guard (linter/helm/gotpl_api.py): a gotpl the built-in engine was not checked with stops the run.

The engine patches gotpl's private internals, so another gotpl could render charts wrongly; an
upgrade is simulated by a gotpl that reports another version (or lacks a private name), in a
subprocess, since the check runs once per process when gotpl is first imported.
"""

from __future__ import annotations

import pickle
import subprocess
import sys
from pathlib import Path

import pytest

from ecrlint.engine import UnsupportedEnvironment

UNSUPPORTED = (
    "ecrlint: gotpl 0.2.0 is installed; this ecrlint renders charts with gotpl >=0.1,<0.2 "
    "(pip install 'gotpl>=0.1,<0.2')\n"
)

# ecrlint's command line after `setup` ran, in a process of its own.
WRAPPER = """
import sys
{setup}
from ecrlint.cli import main
sys.exit(main(sys.argv[1:]))
"""
UPGRADED = "import gotpl\ngotpl.__version__ = '0.2.0'"


def _ecrlint(setup: str, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    code = WRAPPER.format(setup=setup)
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, cwd=cwd, timeout=120)


def _chart(root: Path, name: str) -> Path:
    """A chart whose image has findings (no registry, no tag) when it renders."""
    chart = root / name
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text(f"apiVersion: v2\nname: {name}\nversion: 1.0.0\n")
    (chart / "values.yaml").write_text("image: nginx\n")
    (chart / "templates" / "deployment.yaml").write_text(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  selector:\n"
        "    matchLabels: {app: web}\n  template:\n    metadata:\n      labels: {app: web}\n"
        "    spec:\n      containers:\n        - name: web\n          image: {{ .Values.image }}\n"
    )
    return chart


def _manifest(root: Path, name: str = "pod.yaml") -> Path:
    path = root / name
    path.write_text(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec:\n  containers:\n"
        "    - name: web\n      image: 123456789012.dkr.ecr.us-east-1.amazonaws.com/web:1.0\n"
    )
    return path


def test_supported_gotpl_renders_the_chart(tmp_path):
    """The control: with the installed gotpl the same chart renders and has findings."""
    _chart(tmp_path, "web")
    result = _ecrlint("", "check", "--helm-engine", "builtin", "web", cwd=tmp_path)
    assert result.returncode == 1, result.stderr
    assert "rendered in templates/deployment.yaml" in result.stdout


@pytest.mark.parametrize("engine", ["builtin", "auto"])
def test_other_gotpl_version_stops_the_run(tmp_path, engine):
    _chart(tmp_path, "web")
    result = _ecrlint(UPGRADED, "check", "--helm-engine", engine, "web", cwd=tmp_path)
    assert (result.returncode, result.stderr, result.stdout) == (2, UNSUPPORTED, "")


def test_other_gotpl_version_stops_a_parallel_run(tmp_path):
    """Charts rendered in worker processes: the error crosses the pool intact."""
    _chart(tmp_path, "a")
    _chart(tmp_path, "b")
    _manifest(tmp_path)
    for preload in ("", "import ecrlint.sources.chart as c\nc.HelmChartSource.preload = lambda self: None"):
        # Without the preload the parent never imports gotpl: the two workers take a chart each.
        setup = f"{UPGRADED}\n{preload}"
        result = _ecrlint(setup, "check", "--helm-engine", "builtin", "--jobs", "3", "a", "b", "pod.yaml", cwd=tmp_path)
        assert (result.returncode, result.stderr, result.stdout) == (2, UNSUPPORTED, ""), preload


def test_other_gotpl_version_stops_links(tmp_path):
    _chart(tmp_path, "web")
    result = _ecrlint(UPGRADED, "links", "web", cwd=tmp_path)
    assert (result.returncode, result.stderr, result.stdout) == (2, UNSUPPORTED, "")


def test_gotpl_without_a_patched_internal_stops_the_run(tmp_path):
    _chart(tmp_path, "web")
    setup = "import gotpl.parse.lexer as lexer\ndel lexer._KEYWORDS"
    result = _ecrlint(setup, "check", "--helm-engine", "builtin", "web", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr == (
        "ecrlint: gotpl 0.1.0 is installed without gotpl.parse.lexer._KEYWORDS; this ecrlint renders charts "
        "with gotpl >=0.1,<0.2 (pip install 'gotpl>=0.1,<0.2')\n"
    )


def test_missing_gotpl_stops_the_run(tmp_path):
    _chart(tmp_path, "web")
    result = _ecrlint("sys.modules['gotpl'] = None", "check", "--helm-engine", "builtin", "web", cwd=tmp_path)
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == (
        "ecrlint: gotpl is not installed; this ecrlint renders charts with gotpl >=0.1,<0.2 "
        "(pip install 'gotpl>=0.1,<0.2')\n"
    )


def test_runs_without_charts_never_import_gotpl(tmp_path):
    _manifest(tmp_path, "a.yaml")
    _manifest(tmp_path, "b.yaml")
    _chart(tmp_path, "web")
    code = (
        "import sys\nfrom ecrlint.cli import main\n"
        "code = main(sys.argv[1:])\n"
        "print(code, 'gotpl' in sys.modules, 'ecrlint.helm.gotpl_api' in sys.modules)\n"
    )

    def imports(*args: str) -> list[str]:
        result = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, cwd=tmp_path,
                                timeout=120)
        return result.stdout.splitlines()[-1].split()

    assert imports("check", "a.yaml") == ["0", "False", "False"]
    assert imports("check", "--jobs", "2", "a.yaml", "b.yaml") == ["0", "False", "False"]  # the pool's preload
    assert imports("check", "--helm-engine", "builtin", "web") == ["1", "True", "True"]  # the control


def test_checked_range():
    from ecrlint.helm import gotpl_api

    assert gotpl_api.CHECKED == ">=0.1,<0.2"
    assert [gotpl_api.is_checked(v) for v in ("0.1", "0.1.0", "0.1.7", "0.1.0rc1")] == [True] * 4
    assert [gotpl_api.is_checked(v) for v in ("0.2.0", "0.10.0", "1.0", "0.0.9", "", "(of unknown version)")] == [
        False
    ] * 6


def test_pyproject_pins_the_checked_range():
    import tomllib

    from ecrlint.helm import gotpl_api

    pyproject = tomllib.loads((Path(__file__).parent.parent / "pyproject.toml").read_text())
    assert f"gotpl{gotpl_api.CHECKED}" in pyproject["project"]["dependencies"]


def test_the_error_survives_pickling():
    """A worker's exception reaches the parent pickled: the message must come back whole."""
    error = pickle.loads(pickle.dumps(UnsupportedEnvironment("gotpl 0.2.0 is installed")))
    assert type(error) is UnsupportedEnvironment and str(error) == "gotpl 0.2.0 is installed"
