"""Where ecrlint's time goes: start-up imports (-X importtime) and a cProfile of one --jobs 1 run."""

# Usage: python benchmarks/profile.py [PATH ...]   (default: the shared corpus)
# Writes benchmarks/.work/profile/{importtime.txt,cprofile.txt,cprofile.pstats} and prints the
# top of each. Stdlib only; for a flame-style view run pyinstrument on the same command
# (`python -m pyinstrument -m ecrlint check --jobs 1 PATH`) where it is installed.

from __future__ import annotations

import os
import pstats
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
PYTHON = str(REPO / ".venv" / "bin" / "python")
OUT = HERE / ".work" / "profile"
CORPUS = REPO.parent / "shared" / "corpus"
ONE_FILE = CORPUS / "kubernetes" / "aws-lbc__echoserver-deployment.yaml"


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONDONTWRITEBYTECODE", "PYTHONPATH")}
    env["NO_COLOR"] = "1"
    return env


def importtime(target: Path, top: int = 20) -> list[str]:
    """Self and cumulative import cost of one single-file run, heaviest first."""
    cmd = [PYTHON, "-X", "importtime", "-m", "ecrlint", "check", "--no-color", str(target)]
    subprocess.run(cmd, capture_output=True, env=_env())  # writes the .pyc files first
    err = subprocess.run(cmd, capture_output=True, text=True, env=_env()).stderr
    (OUT / "importtime.txt").write_text(err)
    rows = []
    for line in err.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        self_us, cum_us, name = line.split(":", 1)[1].split("|")
        rows.append((int(self_us), int(cum_us), name[1:]))  # nesting shows as extra leading blanks
    top_level = sum(cum for _, cum, name in rows if not name.startswith(" "))
    lines = [f"imports: {top_level / 1000:.1f} ms cumulative at top level (importtime inflates this)",
             "  self ms   cum ms  module"]
    for self_us, cum_us, name in sorted(rows, reverse=True)[:top]:
        lines.append(f"  {self_us / 1000:7.1f}  {cum_us / 1000:7.1f}  {name.strip()}")
    return lines


def cprofile(paths: list[str], top: int = 25) -> list[str]:
    """cProfile of `ecrlint check --jobs 1 PATH...` in one process (workers would hide the work)."""
    stats_file = OUT / "cprofile.pstats"
    cmd = [PYTHON, "-m", "cProfile", "-o", str(stats_file), "-m", "ecrlint", "check", "--no-color",
           "--jobs", "1", *paths]
    subprocess.run(cmd, capture_output=True, env=_env())
    lines: list[str] = []
    with open(OUT / "cprofile.txt", "w") as fh:
        stats = pstats.Stats(str(stats_file), stream=fh)
        stats.sort_stats("cumulative").print_stats(60)
        stats.sort_stats("tottime").print_stats(60)
    stats = pstats.Stats(str(stats_file))
    lines.append(f"cProfile total {stats.total_tt:.2f} s (profiling roughly doubles it); top by own time:")
    entries = sorted(stats.stats.items(), key=lambda kv: kv[1][2], reverse=True)[:top]  # type: ignore[attr-defined]
    for (filename, line, func), (_cc, ncalls, tottime, cumtime, _callers) in entries:
        short = filename.replace(str(REPO) + "/", "").split("site-packages/")[-1]
        lines.append(f"  {tottime:6.3f} s own {cumtime:6.3f} s cum {ncalls:8d}x  {short}:{line}({func})")
    return lines


def main(argv: list[str]) -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    paths = argv or [str(CORPUS)]
    print("\n".join(importtime(ONE_FILE)))
    print()
    print("\n".join(cprofile(paths)))
    print(f"\nfull reports in {OUT.relative_to(REPO)}/")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
