# Every target bootstraps .venv when it is missing; nothing depends on what was installed by hand.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.omgml-installed
# Pinned threads keep timings steady on a small, busy machine.
export OMP_NUM_THREADS ?= 1
export OPENBLAS_NUM_THREADS ?= 1
export MKL_NUM_THREADS ?= 1

.PHONY: demo test bench bench-startup bench-validate bench-drift bench-baseline bench-reports bench-scale lint clean

$(STAMP): pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test,spark]'
	touch $@

demo: $(STAMP)
	$(PY) -m omgml.demo

# Two workers for two cores; each test file stays on one (tests/conftest.py).
test: $(STAMP)
	$(PY) -m pytest -q -n 2 --dist loadfile

# Each benchmark runs its anchor (bare MCPServer, pandera, Evidently, sklearn by hand) in the same run.
bench: bench-startup bench-validate bench-drift bench-baseline bench-reports

bench-startup: $(STAMP)
	$(PY) benchmarks/startup.py

bench-validate: $(STAMP)
	$(PY) benchmarks/validate.py

bench-drift: $(STAMP)
	$(PY) benchmarks/drift.py

bench-baseline: $(STAMP)
	$(PY) benchmarks/baseline.py

bench-reports: $(STAMP)
	$(PY) benchmarks/reports.py

# Not part of `bench`: it writes 4 GB of parquet once and runs for tens of minutes (Spark needs Java 17).
bench-scale: $(STAMP)
	$(PY) benchmarks/scale.py

lint: $(STAMP)
	$(PY) -m pip install -q ruff==0.17.6  # pinned: each ruff release changes its default rules
	$(PY) -m ruff check server tests benchmarks scripts
	$(PY) -m ruff format --check server tests benchmarks scripts

clean:
	rm -rf $(VENV) dist build
