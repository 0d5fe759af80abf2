# Tests and the long fuzz run; see tests/ and benchmarks/fuzz.py.
PYTHON ?= .venv/bin/python
FUZZ_CASES ?= 100000
FUZZ_TEMPLATE_CASES ?= 20000
ORACLE_CASES ?= 10000
ORACLE_SEED ?= 12

.PHONY: test test-fast fuzz oracle helm-diff

test:
	$(PYTHON) -m pytest

# While iterating: everything but the tests marked slow (pre-commit, corpus, fuzz and budget runs).
test-fast:
	$(PYTHON) -m pytest -m "not slow"

# Hypothesis properties at 10,000 examples each (the "fuzz" profile, tests/conftest.py), then
# FUZZ_CASES seeded mutation cases through whole lint runs and FUZZ_TEMPLATE_CASES charts calling
# template functions with huge arguments under the built-in engine's budgets; all report how many
# cases they tried.
fuzz:
	$(PYTHON) -m pytest -q -p no:cacheprovider tests/test_properties_images.py tests/test_properties_iam.py \
		tests/test_properties_loaders.py --hypothesis-profile fuzz --hypothesis-show-statistics
	$(PYTHON) benchmarks/fuzz.py --cases $(FUZZ_CASES) --templates $(FUZZ_TEMPLATE_CASES)


# The built-in Helm engine against real Helm (helm-python-sdk) on every chart of ../shared/charts,
# default values and each ci/*.yaml: success, images and every template's bytes (benchmarks/helm_diff.py).
helm-diff:
	$(PYTHON) benchmarks/helm_diff.py $(HELM_DIFF_ARGS)

# The differential IAM oracle (issue 12): ORACLE_CASES seeded random node-role policy sets asked
# the pull questions of ecrlint's evaluator and of @cloud-copilot/iam-simulate (Node), every
# disagreement shrunk and classified; see benchmarks/iam_oracle/README.md. Needs node and npm;
# installs the pinned simulator into benchmarks/iam_oracle/node_modules on first use.
oracle:
	@test -d benchmarks/iam_oracle/node_modules/@cloud-copilot/iam-simulate || \
		(cd benchmarks/iam_oracle && npm ci --no-audit --no-fund)
	$(PYTHON) benchmarks/iam_oracle/compare.py --cases $(ORACLE_CASES) --seed $(ORACLE_SEED)
