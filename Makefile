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

.PHONY: identity keys-add keys-list keys-retire install postgres-server compose-tool promtool chromium test-postgres test-sqlite run run-postgres test test-fast lint schema schema-check codegen web screenshots admin bench wrk clean

install: $(VENV)/.synced $(CODEGEN)/.synced router/node_modules/.installed web/node_modules/.installed

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

web/node_modules/.installed: web/package.json web/package-lock.json
	npm ci --prefix web --no-audit --no-fund --loglevel=error
	touch $@

WEB_SOURCES := $(shell find web/src -type f 2>/dev/null) web/index.html web/vite.config.ts web/tsconfig.json

## web: build the web app into web/dist when its sources changed (make run and the browser tests serve it)
web: web/dist/index.html

web/dist/index.html: web/node_modules/.installed $(WEB_SOURCES)
	cd web && node node_modules/.bin/vite build --logLevel warn
	touch $@

## codegen: regenerate the web app's typed documents and trusted-document manifest (web/src/gql/) from
## schema/api.graphql and web/src/operations/*.graphql; `make schema` runs it too
codegen: web/node_modules/.installed
	cd web && node node_modules/.bin/graphql-codegen --config codegen.ts --silent

## run: the whole system with demo data and the web app (built when needed); Ctrl-C stops it
run: install web
	$(BIN)/python -m tools.run

## run-postgres: the same demo on a PostgreSQL cluster under var/, with two processes of each subgraph
run-postgres: install postgres-server web
	$(BIN)/python -m tools.run --postgres

# Test processes of each backend's run (pytest-xdist; the SQLite run has most of the tests). A process takes a
# whole test file at a time, since the tests of a module share its stack; each process starts its own stacks
# (and, on PostgreSQL, its own cluster), on free ports.
SQLITE_WORKERS ?= 3
POSTGRES_WORKERS ?= 2
PYTEST_PARALLEL = --dist loadfile

## test: lint, type-check and every test, end-to-end and browser ones included, on SQLite and on PostgreSQL,
## and the router's own tests: all at once (each one's output shows when it ends); `make test-sqlite`,
## `make test-postgres`, `make router-test` or `make lint` runs one of them, `.venv/bin/pytest tests/e2e/test_x.py`
## one file
test: install postgres-server compose-tool promtool chromium web
	$(MAKE) --no-print-directory -j4 --output-sync=target lint router-test test-sqlite test-postgres

## router-test: type-check the router's configuration (router/src) and run its tests (router/test, seconds)
.PHONY: router-test
router-test: router/node_modules/.installed
	cd router && node node_modules/.bin/tsc -p . && node --import tsx test/all.ts

## test-sqlite: every test, on SQLite
test-sqlite: install compose-tool promtool chromium web
	$(BIN)/pytest -n $(SQLITE_WORKERS) $(PYTEST_PARALLEL)

## test-postgres: the tests that depend on the database, on a throwaway PostgreSQL cluster
test-postgres: install postgres-server
	$(BIN)/pytest -n $(POSTGRES_WORKERS) $(PYTEST_PARALLEL) --backend postgresql -m "not db_agnostic"

# Debian's PostgreSQL server, for the tests' throwaway clusters and make run-postgres (installed if missing).
postgres-server:
	@ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || command -v pg_ctl >/dev/null || \
		{ $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq postgresql; }

# Debian's Chromium, which the browser tests drive through Playwright (installed if missing; never a download).
chromium:
	@command -v chromium >/dev/null || \
		{ $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq chromium; }

## screenshots: run the browser tests and refresh the committed screenshots in docs/screenshots/
screenshots: install chromium web
	SCREENSHOTS_DIR=docs/screenshots $(BIN)/pytest tests/e2e/test_web.py

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
	$(BIN)/pytest -n 2 $(PYTEST_PARALLEL) -m "not e2e"

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy subgraphs tools tests bench client
	$(BIN)/python -m tools.pyclient --check
	cd web && node node_modules/.bin/tsc --noEmit -p .

## schema: for every subgraph in subgraphs/registry.py export its SDL, regenerate supergraph.yaml,
## alembic.ini and docker-compose.yml, compose schema/supergraph.graphql and the clients' schema/api.graphql, then
## generate the typed clients from it: Python (client/service_tree_client) and the web app's documents (make codegen)
schema: install
	$(BIN)/python -m tools.schema
	$(MAKE) --no-print-directory codegen

## schema-check: fail when a committed artifact of `make schema` is stale (the SDL, supergraph, api.graphql,
## generated config files, the typed Python client, the web app's generated documents)
schema-check: install web/node_modules/.installed
	$(BIN)/pytest -q -p no:cacheprovider tests/test_schema_drift.py tests/test_web_codegen.py

## admin: create an ADMIN user (asks for the password; PASSWORD_STDIN=1 reads it from standard input):
## make admin LOGIN=boss. It writes to the purchase database of the demo `make run` or `make run-postgres` last
## started (var/databases.env, which the launcher writes), or to PURCHASE_DATABASE_URL when that is set.
admin: install
	@if [ -z "$$PURCHASE_DATABASE_URL" ] && [ -f "$${SERVICE_TREE_DATA:-var}/databases.env" ]; then \
		set -a; . "$${SERVICE_TREE_DATA:-var}/databases.env"; set +a; fi; \
	$(BIN)/python -m subgraphs.purchase.cli create-admin --login "$(LOGIN)" $(if $(PASSWORD_STDIN),--password-stdin)

## identity: make the identity files of a deployment in DIR (purchase's signing key, the services' credentials;
## keep them secret, never committed): make identity DIR=/secure/place; the settings that name them are printed
identity: install
	@test -n "$(DIR)" || { echo "usage: make identity DIR=<folder>"; exit 2; }
	$(BIN)/python -m tools.identity "$(DIR)"

## kubernetes-dev-identity: the dev overlay's identity Secrets, made on this machine (never committed)
.PHONY: kubernetes-dev-identity
kubernetes-dev-identity: install
	$(BIN)/python -m tools.kubernetes dev-identity

## keys-add, keys-list, keys-retire KID=...: rotate purchase's signing keys (PURCHASE_SIGNING_KEYS_DIR, else the
## demo's var/identity/signing-keys): add a key (PUBLISH_SECONDS=N: in the JWKS at once, signing N s later), retire
## the old one once its tokens expired
keys-add: install
	$(BIN)/python -m subgraphs.purchase.cli keys add $(if $(PUBLISH_SECONDS),--publish-seconds "$(PUBLISH_SECONDS)")
keys-list: install
	$(BIN)/python -m subgraphs.purchase.cli keys list
keys-retire: install
	@test -n "$(KID)" || { echo "usage: make keys-retire KID=<kid> [FORCE=1]"; exit 2; }
	$(BIN)/python -m subgraphs.purchase.cli keys retire "$(KID)" $(if $(FORCE),--force)

## bench: every performance figure with its target, three repeats, results in bench/results/ (about an hour; bench/README.md).
## A part, quickly: make bench BENCH_ARGS="--only flagship --repeats 1 --seconds 4"
bench: install wrk
	$(BIN)/python -m bench $(BENCH_ARGS)

## wrk: the HTTP load generator the benchmark drives (Debian package), installed when missing
wrk:
	@command -v wrk >/dev/null || { \
		SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
		$$SUDO apt-get install -y wrk || { $$SUDO apt-get update && $$SUDO apt-get install -y wrk; }; }

clean:
	rm -rf var $(VENV) $(TOOLS) router/node_modules web/node_modules web/dist
