# Two commands on a fresh machine: `make demo` and `make test`. Everything else is set up on demand:
# a .venv with the pinned Python dependencies, and Node 22 + the AWS CDK CLI under node_modules/.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PY_STAMP := $(VENV)/.installed
NODE_STAMP := node_modules/.installed
export PATH := $(CURDIR)/node_modules/.bin:$(PATH)

.PHONY: setup demo test lint pytest synth bench clean integ integ-snapshot

$(PY_STAMP): requirements.txt requirements-dev.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	touch $@

$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

setup: $(PY_STAMP) $(NODE_STAMP)

demo: setup  ## a local dev -> prod promotion on emulated AWS
	$(PY) -m emulator.demo

lint: setup
	$(PY) -m ruff check .
	$(PY) -m mypy

# The checks run side by side (mypy is one process; pytest spreads over the cores with pytest-xdist), each
# target's output printed whole when it ends. Exit status: non-zero if any check failed.
test: setup  ## every check: ruff, mypy, pytest (handler, emulator, driver, constructs, cfn-lint, integ snapshots)
	$(MAKE) --no-print-directory -j 2 --output-sync=target lint pytest

pytest: setup
	$(PY) -m pytest -n auto --dist worksteal

# Integration tests in real AWS accounts (integ/): see README, "Verify in your accounts".
INTEG_TESTS ?=
integ: setup  ## deploy integ/integ_*.py for real, assert, destroy (needs INTEG_* variables and AWS credentials)
	$(PY) integ/run.py $(INTEG_TESTS)

integ-snapshot: setup  ## rewrite integ/*.snapshot/ (offline) after an intended change of the constructs
	$(PY) integ/snapshot.py --update

synth: setup  ## cdk synth of app.py into cdk.out/
	cdk synth --quiet
	@ls cdk.out/*.template.json

bench: setup
	$(PY) -m bench

clean:
	rm -rf $(VENV) node_modules cdk.out .pytest_cache .mypy_cache .ruff_cache

# The explorer (tests/explore/): random lifecycles under every emulator variant, the guarantees checked after
# every stack event. `make test` runs a small seeded budget; this runs more: EXPLORE_EXAMPLES sequences of
# EXPLORE_STEPS steps per variant, from EXPLORE_SEED (same seed, same sequences); EXPLORE_VARIANTS limits the
# variants (e.g. EXPLORE_VARIANTS=defaults,delete_policy_revision=ignores).
EXPLORE_EXAMPLES ?= 50
EXPLORE_STEPS ?= 12
EXPLORE_SEED ?= 0
EXPLORE_VARIANTS ?=
.PHONY: explore
explore: setup  ## the explorer, longer: sequences, steps and violations per variant
	EXPLORE_EXAMPLES=$(EXPLORE_EXAMPLES) EXPLORE_STEPS=$(EXPLORE_STEPS) EXPLORE_SEED=$(EXPLORE_SEED) \
	EXPLORE_VARIANTS="$(EXPLORE_VARIANTS)" PYTHONHASHSEED=0 $(PY) -m tests.explore.run
