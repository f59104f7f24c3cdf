# Two commands on a fresh machine: `make demo` and `make test`. Everything else is set up on demand:
# a .venv with the pinned Python dependencies, a .venv-floor at the aws-cdk-lib floor, and Node 22 + the AWS
# CDK CLI + integ-runner under node_modules/.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PY_STAMP := $(VENV)/.installed
NODE_STAMP := node_modules/.installed
# The floor environment: the oldest aws-cdk-lib and constructs pyproject.toml allows (requirements-floor.txt).
FLOOR_VENV := .venv-floor
FLOOR_PY := $(FLOOR_VENV)/bin/python
FLOOR_STAMP := $(FLOOR_VENV)/.installed
export PATH := $(CURDIR)/node_modules/.bin:$(PATH)

.PHONY: setup demo test lint pytest floor synth bench clean integ integ-snapshot

$(PY_STAMP): requirements.txt requirements-dev.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	touch $@

$(FLOOR_STAMP): requirements-floor.txt pyproject.toml
	test -x $(FLOOR_PY) || $(PYTHON) -m venv $(FLOOR_VENV)
	$(FLOOR_PY) -m pip install --quiet --disable-pip-version-check -r requirements-floor.txt
	$(FLOOR_PY) -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
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
test: setup $(FLOOR_STAMP)  ## every check: ruff, mypy, pytest (handler, emulator, driver, constructs, cfn-lint), the floor run
	$(MAKE) --no-print-directory -j 2 --output-sync=target lint pytest floor

pytest: setup
	$(PY) -m pytest -n auto --dist worksteal

# The construct and synth tests again at the aws-cdk-lib floor, with integ-runner's snapshot check of integ/
# (offline: it synthesises and compares, deploys nothing). cdk-nag 3 needs a newer aws-cdk-lib: skipped here.
floor: $(FLOOR_STAMP) $(NODE_STAMP)
	$(FLOOR_PY) -m pytest -n 2 tests/constructs tests/integ

# Integration tests in real AWS accounts (integ/): see README, "Verify in your accounts".
INTEG_TESTS ?=
# Both run in the floor environment: integ-runner reads the cloud assemblies of aws-cdk-lib <= 2.257.0 only.
integ: $(FLOOR_STAMP) $(NODE_STAMP)  ## integ-runner deploys integ/integ_*.py, asserts, destroys (needs INTEG_* variables and AWS credentials)
	$(FLOOR_PY) integ/run.py $(INTEG_TESTS)

integ-snapshot: $(FLOOR_STAMP) $(NODE_STAMP)  ## rewrite integ/*.snapshot/ with integ-runner (offline) after an intended change
	$(FLOOR_PY) integ/run.py --update-snapshots

synth: setup  ## cdk synth of app.py into cdk.out/
	cdk synth --quiet
	@ls cdk.out/*.template.json

bench: setup
	$(PY) -m bench

clean:
	rm -rf $(VENV) $(FLOOR_VENV) node_modules cdk.out .pytest_cache .mypy_cache .ruff_cache

.PHONY: dist
# No `setup` prerequisite: it uses the venv as it is (make setup first on a fresh clone), and installs nothing.
dist:  ## dist/: the wheel, the function's zip, the plain provider template and the example templates
	test -x $(PY) || { echo "no $(PY): run make setup first"; exit 1; }
	$(PY) -m tools.dist --out dist

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
