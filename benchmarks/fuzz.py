"""The long fuzz run (issue 8.1): many seeded mutation cases through whole lint runs, in parallel children.

    .venv/bin/python benchmarks/fuzz.py --cases 200000            # or: make fuzz
    .venv/bin/python benchmarks/fuzz.py --first 4711 --cases 1     # replay one case
    .venv/bin/python benchmarks/fuzz.py --cases 0 --templates 20000   # template functions only

Cases come from tests/fuzzing.py (the same generator as the seeded corpus in the normal test run,
which covers seeds 0..2999), seeded from the test fixtures, the examples and, when present, the
shared real-world corpus (../shared/corpus). Each child lints its slice under an address-space limit
and a per-batch hang guard. The report gives cases tried and every crash with its case; crashing
cases are saved under benchmarks/.work/fuzz-crashes/ to replay.

``--templates N`` adds N template cases (tests/fuzzing.py make_template_case): charts whose templates
call the functions that build strings and collections with random, often huge, arguments, rendered
by the built-in engine. A crash there is also an internal error reported as ECR401, a case slower
than fuzzing.SLOW_CASE_SECONDS, or a child whose peak memory passes --max-rss-mb. The chart and run
work budgets are scaled by --budget-scale (default 0.1) so that a case exhausting them ends sooner;
what stops it is the same code.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TESTS = ROOT / "tests"
WORK = ROOT / "benchmarks" / ".work"
CORPUS = ROOT.parent / "shared" / "corpus"

_CHILD = """
import json, resource, sys
limit = int(sys.argv[4])
resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
sys.path.insert(0, sys.argv[5])
from pathlib import Path
import fuzzing
extra = [Path(p) for p in json.loads(sys.argv[6])]
print(json.dumps(fuzzing.run_campaign(int(sys.argv[1]), int(sys.argv[2]), Path(sys.argv[3]), extra_roots=extra)))
"""

_TEMPLATE_CHILD = """
import json, resource, sys
limit = int(sys.argv[4])
resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
sys.path.insert(0, sys.argv[5])
from pathlib import Path
import fuzzing
options = json.loads(sys.argv[6])
print(json.dumps(fuzzing.run_template_campaign(int(sys.argv[1]), int(sys.argv[2]), Path(sys.argv[3]), **options)))
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=100_000, help="how many cases (default 100000)")
    parser.add_argument("--first", type=int, default=1_000_000, help="first seed (the test run uses 0..2999)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--slice", type=int, default=5_000, help="cases per child process")
    parser.add_argument("--memory-limit", type=int, default=2 * 1024**3, help="address space per child, bytes")
    parser.add_argument("--no-corpus", action="store_true", help="do not seed from ../shared/corpus")
    parser.add_argument("--report", type=Path, default=WORK / "fuzz-report.json")
    parser.add_argument("--templates", type=int, default=0, help="template-function cases (built-in engine)")
    parser.add_argument("--template-slice", type=int, default=500, help="template cases per child process")
    parser.add_argument("--budget-scale", type=float, default=0.1, help="chart and run work budgets, scaled")
    parser.add_argument("--max-rss-mb", type=int, default=1_500, help="peak memory of a template child")
    args = parser.parse_args(argv)

    extra = [] if args.no_corpus or not CORPUS.is_dir() else [str(CORPUS)]
    started = time.monotonic()
    mutation = _campaign(args, _CHILD, args.first, args.cases, args.slice, json.dumps(extra), "cases")
    template_options = {"budget_scale": args.budget_scale, "max_rss_mb": args.max_rss_mb}
    templates = _campaign(args, _TEMPLATE_CHILD, args.first, args.templates, args.template_slice,
                          json.dumps(template_options), "template cases")
    reports = mutation[0] + templates[0]
    crashes = [c for r in reports for c in r["crashes"]] + mutation[1] + templates[1]
    summary = {
        "cases": sum(r["cases"] for r in mutation[0]),
        "template_cases": sum(r["cases"] for r in templates[0]),
        "first_seed": args.first,
        "seed_files": mutation[0][0]["seeds"] if mutation[0] else 0,
        "corpus_seeded": bool(extra),
        "budget_scale": args.budget_scale,
        "slowest_template_case_s": max((r["slowest_s"] for r in templates[0]), default=0),
        "seconds": round(time.monotonic() - started, 1),
        "crashes": crashes,
        "signatures": sorted({f"{c['error'].split(':', 1)[0]} @ {c['where']}" for c in crashes}),
        "peak_child_rss_mb": round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024),
    }
    args.report.parent.mkdir(parents=True, exist_ok=True)
    args.report.write_text(json.dumps(summary, indent=2) + "\n")
    _save_crashers(crashes, extra)
    print(f"fuzz: {summary['cases']} cases from {summary['seed_files']} seed files and {summary['template_cases']} "
          f"template cases in {summary['seconds']} s; {len(crashes)} crashing cases, {len(summary['signatures'])} distinct")
    for sig in summary["signatures"]:
        print(f"  {sig}")
    print(f"report: {args.report.relative_to(ROOT) if args.report.is_relative_to(ROOT) else args.report}")
    return 1 if crashes else 0


def _campaign(args: argparse.Namespace, child: str, first_seed: int, cases: int, per_child: int, extra: str,
              label: str) -> tuple[list[dict], list[dict]]:
    """Run ``cases`` seeds from ``first_seed`` in children of ``per_child`` each: (their reports, dead children)."""
    slices = [(s, min(per_child, first_seed + cases - s)) for s in range(first_seed, first_seed + cases, per_child)]
    reports: list[dict] = []
    failures: list[dict] = []
    running: list[tuple[subprocess.Popen[str], tuple[int, int], tempfile.TemporaryDirectory[str]]] = []
    pending = list(slices)
    while pending or running:
        while pending and len(running) < args.workers:
            first, count = pending.pop(0)
            workdir = tempfile.TemporaryDirectory(prefix="ecrlint-fuzz-")
            proc = subprocess.Popen(
                [sys.executable, "-c", child, str(first), str(count), workdir.name, str(args.memory_limit),
                 str(TESTS), extra],
                cwd=TESTS, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
            )
            running.append((proc, (first, count), workdir))
        proc, (first, count), workdir = running.pop(0)
        out, err = proc.communicate()
        workdir.cleanup()
        if proc.returncode == 0:
            reports.append(json.loads(out))
        else:  # the child itself died (killed, out of memory outside a lint): a crash of the slice
            failures.append({"case": f"{label} {first}..{first + count - 1}", "error": err.strip()[-500:], "where": "child"})
        done = sum(r["cases"] for r in reports)
        print(f"\r{done}/{cases} {label}, {sum(len(r['crashes']) for r in reports) + len(failures)} crashes",
              end="", file=sys.stderr, flush=True)
    if cases:
        print(file=sys.stderr)
    return reports, failures


def _save_crashers(crashes: list[dict], extra: list[str]) -> None:
    if not crashes:
        return
    sys.path.insert(0, str(TESTS))
    import fuzzing

    seeds = fuzzing.seed_files([Path(p) for p in extra])
    target = WORK / "fuzz-crashes"
    target.mkdir(parents=True, exist_ok=True)
    for crash in crashes:
        for name in crash["case"].split(","):
            if name.startswith("case") and "-" in name:
                seed = int(name[4:].split("-", 1)[0])
                case_name, data = fuzzing.make_case(seed, seeds)
                (target / case_name).write_bytes(data)
            elif name.startswith("tcase") and name[5:].isdigit():  # a template case: its chart
                for rel, data in fuzzing.make_template_case(int(name[5:])).items():
                    (target / name / rel).parent.mkdir(parents=True, exist_ok=True)
                    (target / name / rel).write_bytes(data)


if __name__ == "__main__":
    sys.exit(main())
