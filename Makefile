# The project's interface: CI calls these same targets.
PYTHON ?= python3
UV_VERSION := 0.13.8
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
BIN := $(VENV)/bin
# ariadne-codegen, which generates the typed Python client, in an environment of its own (client/codegen/).
CODEGEN := $(TOOLS)/codegen
export UV_PYTHON := $(shell command -v $(PYTHON))
export UV_PYTHON_DOWNLOADS := never

SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: install postgres-server compose-tool promtool test-postgres run run-postgres test test-fast lint schema schema-check admin bench wrk clean

install: $(VENV)/.synced $(CODEGEN)/.synced router/node_modules/.installed

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet uv==$(UV_VERSION)

$(VENV)/.synced: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen
	touch $@

$(CODEGEN)/.synced: client/codegen/pyproject.toml client/codegen/uv.lock | $(UV)
	UV_PROJECT_ENVIRONMENT=$(abspath $(CODEGEN)) $(UV) sync --frozen --project client/codegen
	touch $@

router/node_modules/.installed: router/package.json router/package-lock.json
	npm ci --prefix router --no-audit --no-fund --loglevel=error
	touch $@

## run: the whole system with demo data; Ctrl-C stops it
run: install
	$(BIN)/python -m tools.run

## run-postgres: the same demo on a PostgreSQL cluster under var/, with two processes of each subgraph
run-postgres: install postgres-server
	$(BIN)/python -m tools.run --postgres

## test: lint, type-check and every test, end-to-end ones included, on SQLite and then on PostgreSQL
test: install postgres-server compose-tool promtool lint
	$(BIN)/pytest
	$(BIN)/pytest --backend postgresql -m "not db_agnostic"

## test-postgres: the tests that depend on the database, on a throwaway PostgreSQL cluster only
test-postgres: install postgres-server
	$(BIN)/pytest --backend postgresql -m "not db_agnostic"

# Debian's PostgreSQL server, for the tests' throwaway clusters and make run-postgres (installed if missing).
postgres-server:
	@ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || command -v pg_ctl >/dev/null || \
		{ $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq postgresql; }

# Debian's docker-compose (1.29) for the deployment test's `docker-compose config`, installed if missing
# (without the Docker engine it recommends: the file is validated, never run).
compose-tool:
	@command -v docker-compose >/dev/null || \
		{ $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq --no-install-recommends docker-compose; }

# Debian's Prometheus package for `promtool check config` of deploy/observability/prometheus.yml, installed if
# missing (its server is not used: the observability profile runs Prometheus in a container).
promtool:
	@command -v promtool >/dev/null || \
		{ $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq --no-install-recommends prometheus; }

## test-fast: unit and resolver tests only
test-fast: install
	$(BIN)/pytest -m "not e2e"

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy subgraphs tools tests bench client
	$(BIN)/python -m tools.pyclient --check

## schema: for every subgraph in subgraphs/registry.py export its SDL, regenerate supergraph.yaml,
## alembic.ini and docker-compose.yml, then compose schema/supergraph.graphql and the clients' schema/api.graphql,
## and generate the typed Python client (client/service_tree_client) from it
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
