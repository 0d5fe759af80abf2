"""The built-in engine against the SDK engine, chart by chart: which is faster, in-process and per run.

Usage: python benchmarks/helm_engines.py [--runs N] [--process-runs N] [CHART_DIR ...]
Default: every chart in ../shared/charts, 5 in-process runs, 3 whole-process runs.

Two measures per chart and engine, medians over the runs:
- load: ``ecrlint.helm.load_chart`` in one warm process (imports and a warm-up render outside the
  timing), what a run with many charts pays per chart;
- check: a whole ``ecrlint check --helm-engine ENGINE --jobs 1 CHART`` process, what a pre-commit
  hook or an editor pays for one chart (start-up and imports included).
Run ``python -m compileall -q linter rules`` first (PYTHONDONTWRITEBYTECODE keeps runs from writing them).
"""

from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
CHARTS = HERE.parent.parent / "shared" / "charts"
ENGINES = ("builtin", "sdk")


def _cpu() -> float:
    """CPU seconds of this process and its reaped children (the SDK's render child, `ecrlint check`)."""
    me, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + children.ru_utime + children.ru_stime


def load_medians(charts: list[Path], engine: str, runs: int) -> tuple[dict[str, float], dict[str, float]]:
    """(wall, CPU) medians of load_chart per chart."""
    from ecrlint.helm import load_chart

    load_chart(str(charts[0]), charts[0].name, engine=engine)  # imports, first-use caches
    walls: dict[str, list[float]] = {c.name: [] for c in charts}
    cpus: dict[str, list[float]] = {c.name: [] for c in charts}
    for _ in range(runs):
        for chart in charts:
            start, cpu = time.perf_counter(), _cpu()
            load_chart(str(chart), chart.name, engine=engine)
            walls[chart.name].append(time.perf_counter() - start)
            cpus[chart.name].append(_cpu() - cpu)
    return ({n: statistics.median(t) for n, t in walls.items()}, {n: statistics.median(t) for n, t in cpus.items()})


def check_medians(charts: list[Path], engine: str, runs: int) -> tuple[dict[str, float], dict[str, float]]:
    """(wall, CPU) medians of a whole `ecrlint check` per chart."""
    walls: dict[str, float] = {}
    cpus: dict[str, float] = {}
    for chart in charts:
        wall, cpu = [], []
        for _ in range(runs):
            start, used = time.perf_counter(), _cpu()
            subprocess.run(
                [sys.executable, "-m", "ecrlint", "check", "--no-color", "--jobs", "1", "--helm-engine", engine,
                 chart.name],
                cwd=chart.parent, capture_output=True, check=False,
            )
            wall.append(time.perf_counter() - start)
            cpu.append(_cpu() - used)
        walls[chart.name], cpus[chart.name] = statistics.median(wall), statistics.median(cpu)
    return walls, cpus


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("charts", nargs="*")
    parser.add_argument("--runs", type=int, default=5, help="in-process runs per chart")
    parser.add_argument("--process-runs", type=int, default=3, help="whole `ecrlint check` runs per chart (0: none)")
    args = parser.parse_args(argv)
    charts = [Path(c).resolve() for c in args.charts] or sorted(
        p for p in CHARTS.iterdir() if (p / "Chart.yaml").is_file()
    )
    if not charts:
        print(f"no charts (is {CHARTS} there?)", file=sys.stderr)
        return 2
    measures: dict[str, dict[str, dict[str, float]]] = {}  # "load wall" -> engine -> chart -> seconds
    for engine in ENGINES:
        wall, cpu = load_medians(charts, engine, args.runs)
        measures.setdefault("load wall", {})[engine] = wall
        measures.setdefault("load cpu", {})[engine] = cpu
    if args.process_runs:
        for engine in ENGINES:
            wall, cpu = check_medians(charts, engine, args.process_runs)
            measures.setdefault("check wall", {})[engine] = wall
            measures.setdefault("check cpu", {})[engine] = cpu
    names = list(measures)
    print("| chart | " + " | ".join(f"{m} built-in | {m} sdk" for m in names) + " |")
    print("|---|" + "---:|---:|" * len(names))
    for chart in charts:
        cells = [f"{measures[m][e][chart.name] * 1000:.0f} ms" for m in names for e in ENGINES]
        print(f"| {chart.name} | " + " | ".join(cells) + " |")
    for name in names:
        b, s = measures[name]["builtin"], measures[name]["sdk"]
        faster = sum(1 for c in b if b[c] <= s[c])
        print(f"{name}: median per chart built-in {statistics.median(b.values()) * 1000:.0f} ms, "
              f"sdk {statistics.median(s.values()) * 1000:.0f} ms; built-in at least as fast on {faster} of {len(b)} "
              f"charts; total built-in {sum(b.values()):.2f} s, sdk {sum(s.values()):.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
