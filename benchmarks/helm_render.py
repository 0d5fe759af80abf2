"""Render timing of the 10 corpus charts (issue 5: under 1 s with the built-in engine)."""

# Usage: python benchmarks/helm_render.py [--engine builtin|sdk|auto] [--runs N] [CHART_DIR ...]
# Default: every chart in ../shared/corpus/helm, built-in engine, 5 runs.
#
# What is timed is `ecrlint.helm.load_chart` for every chart, one after the other, in one process:
# loading the chart (and subcharts), values, rendering, parsing the rendered manifests and tracing
# images back to values.yaml - everything the engine pays per chart. Imports (gotpl,
# helm-python-sdk) and one warm-up render are outside the timing: a run pays them once, not per
# chart. Reported: median wall-clock and CPU time over the runs, and per chart.

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
CORPUS = HERE.parent.parent / "shared" / "corpus" / "helm"
BUDGET_SECONDS = 1.0


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("charts", nargs="*", help="chart directories (default: the corpus charts)")
    parser.add_argument("--engine", default="builtin", choices=("builtin", "sdk", "auto"))
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)
    charts = [Path(c) for c in args.charts] or sorted(p for p in CORPUS.iterdir() if (p / "Chart.yaml").is_file())
    if not charts:
        print(f"no charts (is {CORPUS} there?)", file=sys.stderr)
        return 2

    from ecrlint.helm import load_chart

    load_chart(str(charts[0]), charts[0].name, engine=args.engine)  # imports and first-use caches
    walls: list[float] = []
    cpus: list[float] = []
    per_chart: dict[str, list[float]] = {c.name: [] for c in charts}
    problems: dict[str, int] = {}
    for _ in range(args.runs):
        wall, cpu = time.perf_counter(), time.process_time()
        for chart in charts:
            start = time.perf_counter()
            parsed = load_chart(str(chart), chart.name, engine=args.engine)
            per_chart[chart.name].append(time.perf_counter() - start)
            problems[chart.name] = len(parsed.chart.render_errors)
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)

    print(f"engine {args.engine}, {len(charts)} charts, {args.runs} runs")
    for name, times in per_chart.items():
        print(f"  {name:32s} {statistics.median(times) * 1000:7.1f} ms   render errors: {problems[name]}")
    wall, cpu = statistics.median(walls), statistics.median(cpus)
    verdict = "within" if wall < BUDGET_SECONDS else "over"
    print(f"all charts: median wall {wall:.3f} s, cpu {cpu:.3f} s ({verdict} the {BUDGET_SECONDS:.0f} s budget)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
