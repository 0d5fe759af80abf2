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
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
CHARTS = HERE.parent.parent / "shared" / "charts"
ENGINES = ("builtin", "sdk")


def load_medians(charts: list[Path], engine: str, runs: int) -> dict[str, float]:
    from ecrlint.helm import load_chart

    load_chart(str(charts[0]), charts[0].name, engine=engine)  # imports, first-use caches
    times: dict[str, list[float]] = {c.name: [] for c in charts}
    for _ in range(runs):
        for chart in charts:
            start = time.perf_counter()
            load_chart(str(chart), chart.name, engine=engine)
            times[chart.name].append(time.perf_counter() - start)
    return {name: statistics.median(t) for name, t in times.items()}


def check_medians(charts: list[Path], engine: str, runs: int) -> dict[str, float]:
    out: dict[str, float] = {}
    for chart in charts:
        times = []
        for _ in range(runs):
            start = time.perf_counter()
            subprocess.run(
                [sys.executable, "-m", "ecrlint", "check", "--no-color", "--jobs", "1", "--helm-engine", engine,
                 chart.name],
                cwd=chart.parent, capture_output=True, check=False,
            )
            times.append(time.perf_counter() - start)
        out[chart.name] = statistics.median(times)
    return out


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
    load = {engine: load_medians(charts, engine, args.runs) for engine in ENGINES}
    check = {engine: check_medians(charts, engine, args.process_runs) for engine in ENGINES} if args.process_runs else {}
    print(f"| chart | load built-in | load sdk | {'check built-in | check sdk |' if check else ''}")
    print(f"|---|---:|---:|{'---:|---:|' if check else ''}")
    for chart in charts:
        row = f"| {chart.name} | {load['builtin'][chart.name] * 1000:.0f} ms | {load['sdk'][chart.name] * 1000:.0f} ms |"
        if check:
            row += f" {check['builtin'][chart.name] * 1000:.0f} ms | {check['sdk'][chart.name] * 1000:.0f} ms |"
        print(row)
    for name, measure in (("load", load), ("check", check)):
        if not measure:
            continue
        b, s = measure["builtin"], measure["sdk"]
        faster = sum(1 for c in b if b[c] <= s[c])
        print(f"{name}: median per chart built-in {statistics.median(b.values()) * 1000:.0f} ms, "
              f"sdk {statistics.median(s.values()) * 1000:.0f} ms; built-in at least as fast on {faster} of {len(b)} "
              f"charts; total built-in {sum(b.values()):.2f} s, sdk {sum(s.values()):.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
