# The two commands of the README: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: setup run test lint bench

$(BIN)/cloudlabmanager: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

setup: $(BIN)/cloudlabmanager

run: setup
	PATH="$(abspath $(BIN)):$$PATH" $(BIN)/cloudlabmanager serve $(ARGS)

lint: setup
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy
	$(BIN)/bandit -q -r src -c pyproject.toml

test: lint
	PATH="$(abspath $(BIN)):$$PATH" $(BIN)/pytest $(PYTEST_ARGS)

bench: setup
	PATH="$(abspath $(BIN)):$$PATH" $(BIN)/python -m bench $(ARGS)
