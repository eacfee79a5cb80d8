# The two commands: `make run` and `make test`. Only Python 3.11+, git and make are needed.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 5000
WORKERS ?= 2
export REGISTER_CONFIG ?= development
FLASK := $(BIN)/flask --app register

.PHONY: run test lint format bench venv clean

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed; found " + sys.version.split()[0] + ". Run: make PYTHON=python3.11 ...")'
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $@

venv: $(VENV)/.installed

## run: install, create development secrets, migrate, load the demo, serve on 127.0.0.1:$(PORT)
run: venv
	$(FLASK) dev init
	$(FLASK) db upgrade
	$(FLASK) keys rotate --data --if-missing
	$(FLASK) demo seed
	$(FLASK) open-data export
	@echo "Serving the register on http://127.0.0.1:$(PORT)  (Ctrl+C stops it)"
	$(BIN)/gunicorn --workers $(WORKERS) --bind 127.0.0.1:$(PORT) --graceful-timeout 5 'register.wsgi:app'

## test: install and run the whole test suite (SQLite; set TEST_DATABASE_URL for PostgreSQL)
test: venv
	$(BIN)/python -m pytest $(PYTEST_ARGS)

## lint: ruff and mypy, as CI runs them
lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy register

format: venv
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

## bench: public search, pages, HTTP and open data at 1.2 M holders, then the review queue (figures
## beside targets; BENCH_PUBLIC_ARGS="--holders 20000", BENCH_QUEUE_ARGS="--declarations 5000")
bench: venv
	$(BIN)/python bench/crypto.py
	$(BIN)/python bench/public.py $(BENCH_PUBLIC_ARGS)
	$(BIN)/python bench/agency_queue.py $(BENCH_QUEUE_ARGS)
	$(BIN)/python bench/inspection_plan.py $(BENCH_PLAN_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
