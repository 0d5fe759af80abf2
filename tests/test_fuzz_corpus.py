"""A deterministic, seeded corpus of mutated files, linted in every normal test run (issue 8.1).

The long campaign with the same machinery is ``make fuzz`` (benchmarks/fuzz.py). Cases come from
tests/fuzzing.py: the same seed always gives the same file, so any crash reported here reproduces
with ``fuzzing.make_case(seed, fuzzing.seed_files())``.
"""

from __future__ import annotations

import collections
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
    report = fuzzing.campaign_in_child(f"run_campaign(0, {CASES}, Path(sys.argv[1]))", tmp_path, MEMORY_LIMIT, HANG_GUARD)
    assert report["cases"] == CASES
    crashes = "\n".join(f"  {c['case']}: {c['error']} at {c['where']}" for c in report["crashes"])
    assert not report["crashes"], f"{len(report['crashes'])} crashing cases:\n{crashes}"
