# Two commands do all the set-up on a fresh machine:
#   make demo   grade the bundled example uploads with the local backend
#   make test   lint, type-check and run the whole test suite (tests/run_suites.sh: the
#               library tests beside the others)
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.autograde-installed
DEMO_OUT ?= results/demo

.PHONY: demo test lint unit integration docker-tests slurm-tests sandbox-image bench bench-library bench-docker rubric-test clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[grader,cluster,dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/autograde grade examples/ex02_gradient_descent \
		--assignment ex02_gradient_descent --out $(DEMO_OUT)

test: lint
	PY=$(PY) tests/run_suites.sh

lint: $(STAMP)
	$(VENV)/bin/ruff check autograde reference tests bench rubrics
	$(VENV)/bin/mypy

unit: $(STAMP)
	$(PY) -m pytest tests/unit

integration: $(STAMP)
	$(PY) -m pytest tests/integration

# a running Docker engine and the grading image (reused when its content-hash tag exists)
sandbox-image: $(STAMP)
	sandbox/start-docker.sh
	$(VENV)/bin/autograde sandbox build

docker-tests: sandbox-image
	$(PY) -m pytest tests/docker

# Dask workers in real SLURM jobs: a single-node SLURM on this machine (root installs and starts it)
slurm-tests: $(STAMP)
	tests/cluster/slurm/start-slurm.sh
	$(PY) -m pytest -m slurm tests/cluster

rubric-test: $(STAMP)
	$(VENV)/bin/autograde rubric test

# the issue's speed ratios in one run (bench/speed.py --help); e.g. make bench BENCH_ARGS="--otter --json b.json"
BENCH_ARGS ?=
bench: $(STAMP)
	$(PY) bench/speed.py $(BENCH_ARGS)

# every solution of the rubric library against its plain Python script, with the ex02 batch
bench-library: $(STAMP)
	$(PY) bench/speed.py --assignments all $(BENCH_ARGS)

bench-docker: sandbox-image
	$(PY) bench/speed.py --docker $(BENCH_ARGS)

clean:
	rm -rf results .pytest_cache .mypy_cache .ruff_cache
