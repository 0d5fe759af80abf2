"""A deterministic, seeded corpus of mutated files, linted in every normal test run (issue 8.1).

The long campaign with the same machinery is ``make fuzz`` (benchmarks/fuzz.py). Cases come from
tests/fuzzing.py: the same seed always gives the same file, so any crash reported here reproduces
with ``fuzzing.make_case(seed, fuzzing.seed_files())``.
"""

from __future__ import annotations

import collections
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

import fuzzing
from ecrlint.sources import detect_kind
from ecrlint.parsing import parse_file

TESTS = Path(__file__).resolve().parent
CASES = 3000
MEMORY_LIMIT = 2 * 1024**3  # address space of the child: a case that balloons memory fails, not the machine
HANG_GUARD = 300  # seconds for the whole child; each batch of 100 also has its own guard


def test_cases_are_reproducible_from_their_seed():
    seeds = fuzzing.seed_files()
    assert [fuzzing.make_case(s, seeds) for s in range(50)] == [fuzzing.make_case(s, seeds) for s in range(50)]


def test_mutated_cases_reach_every_kind_of_document():
    # Tree mutations keep files parseable, so the corpus exercises the extractors, not only ECR001.
    seeds = fuzzing.seed_files()
    kinds: collections.Counter[str] = collections.Counter()
    for seed in range(600):
        name, data = fuzzing.make_case(seed, seeds)
        parsed = parse_file("unused", name, data=data)
        kinds.update(detect_kind(doc.root) for doc in parsed.documents)
    for kind in ("kubernetes", "cloudformation", "eksctl", "iam-policy"):
        assert kinds[kind] >= 10, kinds


@pytest.mark.slow
def test_seeded_mutation_corpus_never_crashes_a_run(tmp_path):
    script = (
        "import json, resource, sys\n"
        f"resource.setrlimit(resource.RLIMIT_AS, ({MEMORY_LIMIT}, {MEMORY_LIMIT}))\n"
        f"sys.path.insert(0, {str(TESTS)!r})\n"
        "from pathlib import Path\n"
        "import fuzzing\n"
        f"print(json.dumps(fuzzing.run_campaign(0, {CASES}, Path(sys.argv[1]))))\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", script, str(tmp_path)], cwd=TESTS, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True,
                            env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"})
    try:
        out, err = proc.communicate(timeout=HANG_GUARD)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        pytest.fail(f"the fuzz corpus did not finish in {HANG_GUARD} s")
    assert proc.returncode == 0, err[-3000:]
    report = json.loads(out)
    assert report["cases"] == CASES
    crashes = "\n".join(f"  {c['case']}: {c['error']} at {c['where']}" for c in report["crashes"])
    assert not report["crashes"], f"{len(report['crashes'])} crashing cases:\n{crashes}"
