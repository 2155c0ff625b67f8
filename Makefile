# csc-warehouse: `make run` builds everything from synthetic data, `make test` runs every check.
# Needs only python3.11 (falls back to python3) and GNU make.

SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV := .venv
BIN := $(VENV)/bin
PYTHON_SYSTEM := $(shell command -v python3.11 2>/dev/null || command -v python3 2>/dev/null)
STAMP := $(VENV)/.installed

DATA := data
INPUT := $(DATA)/synthetic
WAREHOUSE := $(DATA)/warehouse.duckdb
SERVING := $(DATA)/serving.duckdb

# Telemetry off (an offline machine only gets errors from it); Prefect keeps its state in the project.
export DBT_SEND_ANONYMOUS_USAGE_STATS := false
export DO_NOT_TRACK := 1
export PREFECT_SERVER_ANALYTICS_ENABLED := false
export GX_ANALYTICS_ENABLED := false
export PREFECT_HOME := $(CURDIR)/.prefect

.PHONY: help install run test test-bi-compat test-spark browser docs validate lint format bench bench-national clean distclean \
	prefect-server prefect-up prefect-stop prefect-pool deploy worker

help:
	@echo "make run        generate synthetic data, load, dbt build, publish, print the scorecard"
	@echo "make test       ruff, sqlfluff, the DuckDB 1.5 client check, pytest"
	@echo "make test-bi-compat  open a published serving file with a real DuckDB 1.5 client (.venv-duckdb15)"
	@echo "make test-spark build fct_kpi_monthly on DuckDB and on Spark (local, .venv-spark, Java 17+) and compare"
	@echo "make validate   Great Expectations gates on data/warehouse.duckdb (Data Docs in gx/uncommitted/)"
	@echo "make prefect-server / prefect-pool / deploy / worker   serve the monthly schedule (README: Operations)"
	@echo "make prefect-stop  stop the Prefect server make run leaves running in the background"
	@echo "make docs       dbt docs as one static page (data/docs/index.html)"
	@echo "make lint       ruff and sqlfluff only"
	@echo "make format     ruff format and ruff --fix"
	@echo "make bench      where every second of cscw refresh goes and its budgets (PASS/FAIL), load and dbt build"
	@echo "                at everyday sizes (small unitary 1y, large county 10y, region 10y) and the england"
	@echo "                generator; make bench-national: England over 10 years (by hand, ~1 h)"
	@echo "make clean      remove data/, target/, logs/, .prefect/ and caches (keeps .venv)"
	@echo "make distclean  clean, and remove .venv"

install: $(STAMP)

# Reused while requirements.lock and pyproject.toml are unchanged.
$(STAMP): requirements.lock pyproject.toml
	@test -n "$(PYTHON_SYSTEM)" || { echo "python3.11 not found on PATH" >&2; exit 1; }
	test -x $(BIN)/python || $(PYTHON_SYSTEM) -m venv $(VENV)
	$(BIN)/python -m pip install --disable-pip-version-check --quiet -r requirements.lock
	$(BIN)/python -m pip install --disable-pip-version-check --quiet --no-deps -e .
	touch $@

# The demo starts from an empty warehouse: generated ids restart at 1 on every run, so a warehouse kept
# from an earlier run (or an older generator) would read this run's events as new versions of its own.
# The refresh runs on the project's Prefect server, started in the background if none answers, and left
# running so later `cscw refresh` / `cscw backfill` skip Prefect's start-up: `make prefect-stop` stops it.
run: $(STAMP)
	$(BIN)/cscw generate --out $(INPUT)
	rm -f $(WAREHOUSE) $(WAREHOUSE).wal
	$(MAKE) --no-print-directory prefect-up
	$(BIN)/cscw refresh --input $(INPUT) --warehouse $(WAREHOUSE) --serving $(SERVING)
	$(BIN)/cscw scorecard --warehouse $(WAREHOUSE)
	$(BIN)/cscw report --warehouse $(WAREHOUSE)
	$(BIN)/cscw export --warehouse $(WAREHOUSE)
	$(MAKE) --no-print-directory docs
	@echo
	@echo "Input files:  $(INPUT)/"
	@echo "Warehouse:    $(WAREHOUSE)  (raw, quarantine, staging, intermediate, marts, reference)"
	@echo "Serving file: $(SERVING)  (marts and reference, DuckDB 1.5 format, for BI tools)"
	@echo "Report:       $(DATA)/reports/report_*.html   Exports: $(DATA)/exports/   dbt docs: $(DATA)/docs/index.html"
	@echo "dbt logs:     logs/dbt.log   Prefect state: .prefect/"
	@echo "Prefect:      server left running on $(CSCW_PREFECT_API) (UI without /api); make prefect-stop stops it"

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/sqlfluff lint models macros tests/dbt

# dbt docs as one static page (target/static_index.html), copied beside the data.
docs: $(STAMP)
	CSCW_WAREHOUSE=$(CURDIR)/$(WAREHOUSE) $(BIN)/dbt docs generate --static --profiles-dir . --log-level warn
	mkdir -p $(DATA)/docs && cp target/static_index.html $(DATA)/docs/index.html
	@echo "dbt docs: $(DATA)/docs/index.html"

# The report's test looks at the page in headless Chromium: install the distribution's package if missing.
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
browser:
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || { \
		echo "Installing Chromium for the report's browser test (Debian/Ubuntu package chromium)"; \
		$(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium; }

# BI tools bundle DuckDB 1.5: a separate venv holds that exact client (pinned; reused while the pin holds).
BI_VENV := .venv-duckdb15
BI_DUCKDB_VERSION := 1.5.6
BI_STAMP := $(BI_VENV)/.installed-duckdb-$(BI_DUCKDB_VERSION)

$(BI_STAMP):
	@test -n "$(PYTHON_SYSTEM)" || { echo "python3.11 not found on PATH" >&2; exit 1; }
	rm -rf $(BI_VENV)
	$(PYTHON_SYSTEM) -m venv $(BI_VENV)
	$(BI_VENV)/bin/python -m pip install --disable-pip-version-check --quiet duckdb==$(BI_DUCKDB_VERSION)
	touch $@

# Publishes a serving file and opens it read-only with that client (tests/python/test_publish.py).
test-bi-compat: $(STAMP) $(BI_STAMP)
	CSCW_BI_PYTHON=$(CURDIR)/$(BI_VENV)/bin/python CSCW_BI_DUCKDB_VERSION=$(BI_DUCKDB_VERSION) \
		$(BIN)/pytest -q -k duckdb_15_client tests/python/test_publish.py

test: lint test-bi-compat browser
	$(BIN)/pytest

# The Spark engine (README: Running on Spark): dbt-spark and pyspark in their own venv, pinned by
# requirements-spark.lock (pyspark is a 450 MB download the DuckDB path does not need). Needs Java 17+.
SPARK_VENV := .venv-spark
SPARK_STAMP := $(SPARK_VENV)/.installed

$(SPARK_STAMP): requirements-spark.lock $(STAMP)
	$(BIN)/python -m csc_warehouse.spark_engine check-java
	test -x $(SPARK_VENV)/bin/python || $(PYTHON_SYSTEM) -m venv $(SPARK_VENV)
	$(SPARK_VENV)/bin/python -m pip install --disable-pip-version-check --quiet -r requirements-spark.lock
	touch $@

# Parity of fct_kpi_monthly between DuckDB and Spark on three generated authorities (tests/spark).
test-spark: $(STAMP) $(SPARK_STAMP)
	$(BIN)/python -m csc_warehouse.spark_engine check-java
	$(BIN)/pytest -q -s tests/spark

validate: $(STAMP)
	$(BIN)/cscw validate --warehouse $(WAREHOUSE)

# Serving the schedule (see README, "Operations"): each in its own terminal, from the repository root.
CSCW_POOL := cscw-process
CSCW_PREFECT_API := http://127.0.0.1:4200/api
INCOMING := $(DATA)/incoming
prefect-pool deploy worker prefect-up: export PREFECT_API_URL ?= $(CSCW_PREFECT_API)
SERVER_ANSWERS = $(BIN)/python -m csc_warehouse.flows.server check

# In the foreground (Ctrl-C stops it); says so and returns if one already runs (e.g. left by make run).
prefect-server: $(STAMP)
	@if PREFECT_API_URL=$${PREFECT_API_URL:-$(CSCW_PREFECT_API)} $(SERVER_ANSWERS); then \
		echo "A Prefect server already answers on $${PREFECT_API_URL:-$(CSCW_PREFECT_API)} (make prefect-stop stops one make run started)"; \
	else $(BIN)/prefect server start; fi

# In the background, unless one answers already; waits until it does.
prefect-up: $(STAMP)
	@$(SERVER_ANSWERS) || { echo "Starting a Prefect server in the background (make prefect-stop stops it)"; \
		$(BIN)/prefect server start --background >/dev/null && $(BIN)/python -m csc_warehouse.flows.server wait; }

prefect-stop: $(STAMP)
	$(BIN)/prefect server stop

prefect-pool: $(STAMP)
	$(BIN)/prefect work-pool inspect $(CSCW_POOL) >/dev/null 2>&1 || \
		$(BIN)/prefect work-pool create $(CSCW_POOL) --type process

# The scheduled run loads $(INCOMING): made here, so a fresh clone's first run finds the folder.
deploy: prefect-pool
	@mkdir -p $(INCOMING)
	cd $(CURDIR) && PWD=$(CURDIR) $(BIN)/prefect --no-prompt deploy --all
	@echo "Put each month's files in $(INCOMING)/ before the 3rd: children*.csv and events*.csv (CSV or Parquet,"
	@echo "the canonical columns), and population*.csv for the first load. The run loads whatever is there."

worker: $(STAMP)
	$(BIN)/prefect worker start --pool $(CSCW_POOL)

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: $(STAMP)
	$(BIN)/python bench/refresh_phases.py
	$(BIN)/python bench/run_bench.py
	$(BIN)/python bench/generate_bench.py --profile england --years 1
	$(BIN)/python bench/side_by_side.py

# By hand: about 50 minutes and 60 GB of free disk in $(DATA)/bench (the generated input is kept and reused);
# DuckDB spills to disk past the memory limit.
bench-national: $(STAMP)
	mkdir -p $(DATA)/bench
	CSCW_MEMORY_LIMIT=$${CSCW_MEMORY_LIMIT:-12GB} CSCW_TEMP_DIR=$(CURDIR)/$(DATA)/bench/duckdb_tmp \
		$(BIN)/python bench/run_bench.py --sizes england-10y --work-dir $(DATA)/bench --keep-input

clean:
	-@test -f .prefect/server.pid && $(BIN)/prefect server stop >/dev/null 2>&1 || true
	rm -rf $(DATA) target logs .prefect .pytest_cache .ruff_cache gx/uncommitted
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV) $(BI_VENV)
