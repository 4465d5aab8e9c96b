# Every target bootstraps .venv when it is missing; nothing depends on what was installed by hand.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.omgml-installed
# Pinned threads keep timings steady on a small, busy machine.
export OMP_NUM_THREADS ?= 1
export OPENBLAS_NUM_THREADS ?= 1
export MKL_NUM_THREADS ?= 1

.PHONY: demo test bench lint clean

$(STAMP): pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	touch $@

demo: $(STAMP)
	$(PY) -m omgml.demo

test: $(STAMP)
	$(PY) -m pytest -q

bench: $(STAMP)
	$(PY) benchmarks/startup.py

lint: $(STAMP)
	$(PY) -m pip install -q ruff
	$(PY) -m ruff check server tests benchmarks

clean:
	rm -rf $(VENV) dist build
