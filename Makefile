# One-command set-up and the two README commands: `make run` and `make test`.
# Everything installs into .venv from the pinned requirements.lock.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup system-deps run test pytest java-check lint typecheck sqlfluff structure docs publish benchmark clean spark-setup spark-build spark-test

setup: system-deps $(STAMP)

## System packages (headless Chromium for the data dictionary test); does nothing when present.
system-deps:
	bash scripts/install-system-deps.sh

$(STAMP): requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check pip==25.3 setuptools==80.9.0
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	touch $(STAMP)

## The main job, end to end on the embedded DuckDB: generate, build, publish, docs, report.
run: setup
	$(BIN)/carecensus run

## Every test: types, SQL lint, pytest on DuckDB (generator rules, determinism, faults, dbt build),
## then the Spark leg (the Spark extras, then every public mart compared across the two targets).
test: setup typecheck sqlfluff pytest spark-test

typecheck: setup
	$(BIN)/mypy

sqlfluff: setup
	$(BIN)/sqlfluff lint models macros tests/singular --processes 2

pytest: setup
	$(BIN)/pytest -m "not spark"

## The structure check (dbt_project_evaluator rules) on a fresh parse of the project.
structure: setup
	$(BIN)/carecensus check-structure

## The data dictionary: target/static_index.html (one file) and target/index.html.
docs: setup
	$(BIN)/carecensus docs

## Copy the public marts of the last build to data/serving.duckdb and data/parquet/.
publish: setup
	$(BIN)/carecensus publish

## The benchmark (not a test): stage times, peak memory, dbt vs raw DuckDB, incremental vs full
## rebuild, the Spark build at scale 1, medians of 3 runs per scale; writes data/reports/benchmark.md
## (docs/benchmark.md says where each target stands and holds the latest runs: paste a new report
## under its table of targets, update the table, and move the runs it replaces to the top of
## docs/benchmark-history.md). Scales 10 and 100 take hours. Without Java the Spark extras do
## not install; the run goes on and its report says why the Spark row is empty.
benchmark: setup
	-@$(MAKE) --no-print-directory spark-setup
	$(BIN)/carecensus benchmark --scales $(or $(SCALES),1)

## The same dbt project on Apache Spark (dbt-spark `session` mode, an in-process local pyspark;
## needs Java 17): a scale-0.2 census into data/spark/raw, then seeds, models and tests on the
## spark target. Table files and the Hive metastore go under data/spark.
SPARK_STAMP := $(VENV)/.spark-installed
SPARK_DIR := data/spark

$(SPARK_STAMP): $(STAMP) requirements-spark.lock
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-spark.lock
	touch $(SPARK_STAMP)

spark-setup: $(SPARK_STAMP) java-check

## Spark needs a Java 17 runtime on PATH (or JAVA_HOME): fail here, not deep inside a build.
java-check:
	@java -version 2>&1 | grep -Eq 'version "(11|17)' || { echo "Spark 3.5 needs Java 17 (or 11) (java -version: $$(java -version 2>&1 | head -1))" >&2; exit 1; }

spark-build: spark-setup
	rm -rf $(SPARK_DIR) && mkdir -p $(SPARK_DIR)
	$(BIN)/carecensus generate --out $(SPARK_DIR)/raw --scale 0.2
	SPARK_LOCAL_IP=127.0.0.1 CENSUS_RAW_DIR=$(SPARK_DIR)/raw CENSUS_SPARK_DIR=$(SPARK_DIR) \
		$(BIN)/dbt build --target spark --threads 2

## The Spark leg: the default census built on both targets, every public mart compared row for row
## (tests/python/test_spark.py). CENSUS_SPARK_REQUIRED makes missing extras a failure, not a skip.
spark-test: spark-setup
	SPARK_LOCAL_IP=127.0.0.1 CENSUS_SPARK_REQUIRED=1 $(BIN)/pytest -m spark tests/python/test_spark.py

clean:
	rm -rf target logs data
