# One-command set-up and the two README commands: `make run` and `make test`.
# Everything installs into .venv from the pinned requirements.lock.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup run test pytest lint typecheck sqlfluff clean

setup: $(STAMP)

$(STAMP): requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check pip==25.3 setuptools==80.9.0
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	touch $(STAMP)

## The main job, end to end on the embedded DuckDB: generate, build, report, docs.
run: setup
	$(BIN)/carecensus run

## Every test: types, SQL lint, then pytest (generator rules, determinism, faults, dbt build).
test: setup typecheck sqlfluff pytest

typecheck: setup
	$(BIN)/mypy

sqlfluff: setup
	$(BIN)/sqlfluff lint models macros tests/singular --processes 2

pytest: setup
	$(BIN)/pytest

clean:
	rm -rf target logs data
