"""Helm charts rendered offline as `helm template` renders them, each image traced to the values line behind it.

Importing this package is cheap: the loader and gotpl load only when a chart is rendered, and
helm-python-sdk only ever in the child process that renders one chart.
"""

from __future__ import annotations

from typing import Any, Sequence

from ..model import Loc, ParsedFile, Span
from .facts import ENGINE_BINARY, ENGINE_BUILTIN, ENGINE_SDK, ChartDependency, ChartFacts, RenderError, ValuesImage

DEFAULT_MAX_BYTES = 10 * 1024 * 1024

__all__ = [
    "ENGINE_BINARY",
    "ENGINE_BUILTIN",
    "ENGINE_SDK",
    "ChartDependency",
    "ChartFacts",
    "RenderError",
    "ValuesImage",
    "load_chart",
    "preload",
]


def preload() -> None:
    """Import the built-in engine before a process pool forks (workers then share it).

    helm-python-sdk is never loaded by ecrlint's own processes: each chart renders in a child
    process of its own (external.render_sdk), so forking workers is safe.
    """
    from . import chart  # noqa: F401 - the loader, values and tracing modules; gotpl, checked (gotpl_api)
    from .builtin import speed_up_gotpl

    speed_up_gotpl()


def load_chart(
    chart_dir: str,
    display: str,
    *,
    values_files: Sequence[Any] = (),
    engine: str | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    release: tuple[str, str] | None = None,
) -> ParsedFile:
    """Render the chart at ``chart_dir`` into Kubernetes documents; raises only UnsupportedEnvironment.

    ``engine``: None/"auto" (built-in; helm-python-sdk, when installed, confirms a failure), "sdk", "binary"
    (a `helm` on PATH) or "builtin". A chart that cannot be (fully) rendered is reported in
    ``ParsedFile.chart.render_errors`` (ECR401); files that cannot be parsed in ``errors`` (ECR001).
    ``release``: the release's (name, namespace) for ``.Release`` (default ``release-name`` in ``default``).
    """
    from ..engine.options import UnsupportedEnvironment
    from .chart import load_chart as render  # imports gotpl through gotpl_api, which checks its version

    try:
        return render(chart_dir, display, values_files=values_files, engine=engine, max_bytes=max_bytes,
                      release=release)
    except UnsupportedEnvironment:
        raise  # an unusable gotpl is no finding on this chart: the run stops (exit 2)
    except (RecursionError, MemoryError) as exc:
        reason = "it nests too deeply" if isinstance(exc, RecursionError) else "it needs too much memory"
        return _broken(chart_dir, display, f"the chart cannot be rendered: {reason}")
    except Exception as exc:  # noqa: BLE001 - a broken chart is a finding, never a traceback
        return _broken(chart_dir, display, f"the chart cannot be rendered: {type(exc).__name__}: {exc}")


def _broken(chart_dir: str, display: str, message: str) -> ParsedFile:
    parsed = ParsedFile(display)
    facts = ChartFacts.for_dir(chart_dir, display)
    facts.render_errors.append(RenderError(message, Loc(facts.chart_yaml, Span(1, 1, 1, 2)), None, "chart"))
    parsed.chart = facts
    return parsed
