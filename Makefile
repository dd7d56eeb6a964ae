# The project's interface: CI calls these same targets.
PYTHON ?= python3
UV_VERSION := 0.13.8
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
BIN := $(VENV)/bin
export UV_PYTHON := $(shell command -v $(PYTHON))
export UV_PYTHON_DOWNLOADS := never

.PHONY: install run test test-fast lint schema schema-check admin bench wrk clean

install: $(VENV)/.synced router/node_modules/.installed

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet uv==$(UV_VERSION)

$(VENV)/.synced: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen
	touch $@

router/node_modules/.installed: router/package.json router/package-lock.json
	npm ci --prefix router --no-audit --no-fund --loglevel=error
	touch $@

## run: the whole system with demo data; Ctrl-C stops it
run: install
	$(BIN)/python -m tools.run

## test: lint, type-check and every test, end-to-end ones included
test: install lint
	$(BIN)/pytest

## test-fast: unit and resolver tests only
test-fast: install
	$(BIN)/pytest -m "not e2e"

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy subgraphs tools tests bench

## schema: for every subgraph in subgraphs/registry.py export its SDL, regenerate supergraph.yaml,
## alembic.ini and docker-compose.yml, then compose schema/supergraph.graphql
schema: install
	$(BIN)/python -m tools.schema

## admin: create an ADMIN user (asks for the password): make admin LOGIN=boss
admin: install
	$(BIN)/python -m subgraphs.purchase.cli create-admin --login "$(LOGIN)"

## bench: every figure of issue 7, three repeats, results in bench/results/ (about an hour; bench/README.md).
## A part, quickly: make bench BENCH_ARGS="--only flagship --repeats 1 --seconds 4"
bench: install wrk
	$(BIN)/python -m bench $(BENCH_ARGS)

## wrk: the HTTP load generator the benchmark drives (Debian package), installed when missing
wrk:
	@command -v wrk >/dev/null || { \
		SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
		$$SUDO apt-get install -y wrk || { $$SUDO apt-get update && $$SUDO apt-get install -y wrk; }; }

clean:
	rm -rf var $(VENV) $(TOOLS) router/node_modules
