"""The deployment stays in step with the code: docker-compose.yml runs every registered subgraph on PostgreSQL
with only variables its settings read, `docker-compose config` accepts it, its init script and the image's
entrypoint create and migrate every database, and router/router.yaml is a valid Apollo Router configuration
that routes every subgraph."""

import copy
import importlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic.script import ScriptDirectory
from jsonschema import validators
from jsonschema.protocols import Validator

from subgraphs import registry
from subgraphs._common.migrations import config as alembic_config
from subgraphs._common.settings import SubgraphSettings
from tools import deployment
from tools.postgres import Cluster, binaries
from tools.stack import free_port

pytestmark = pytest.mark.db_agnostic

ROOT = Path(__file__).resolve().parents[1]
yaml = pytest.importorskip("yaml")  # PyYAML comes with strawberry's CLI extra (through libcst)

# The Apollo Router's published configuration schema, of the release the compose file runs (tests/fixtures/README.md).
APOLLO_SCHEMA = ROOT / "tests" / "fixtures" / "apollo-router-{version}-config.schema.json"
INIT_SQL = ROOT / "deploy" / "postgres" / "init.sql"
# Dummies for the variables docker-compose.yml requires.
REQUIRED_ENV = {"SERVICE_TREE_IDENTITY_DIR": "/run/service-tree/identity", "POSTGRES_PASSWORD": "dummy"}
ROUTERS = (registry.ROUTER, deployment.APOLLO)
OBSERVABILITY = (deployment.PROMETHEUS, deployment.GRAFANA)
# What a subgraph container reads besides its settings: the entrypoint's PORT, the logging setup's LOG_FORMAT
# (subgraphs/_common/logs.py), the metrics' folder of its processes (subgraphs/_common/metrics.py) and uvicorn's
# trusted forwarders of client addresses.
PROCESS_ENV = {"PORT", "LOG_FORMAT", "PROMETHEUS_MULTIPROC_DIR", "FORWARDED_ALLOW_IPS"}
# Operation limits: the Apollo Router refuses to start with any of them unless it has a GraphOS licence.
LICENSED_LIMITS = ("max_depth", "max_height", "max_aliases", "max_root_fields")


@pytest.fixture(scope="module")
def services() -> dict[str, Any]:
    """The services of the committed docker-compose.yml, as a YAML reader sees them."""
    compose: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    found: dict[str, Any] = compose["services"]
    return found


@pytest.fixture(scope="module")
def router_config() -> dict[str, Any]:
    """router/router.yaml, as a YAML reader sees it."""
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "router" / "router.yaml").read_text())
    return loaded


def settings_of(name: str) -> type[SubgraphSettings]:
    settings: type[SubgraphSettings] = importlib.import_module(registry.get(name).settings).Settings
    return settings


def test_every_registered_subgraph_is_composed_and_deployed(services: dict[str, Any]) -> None:
    supergraph = yaml.safe_load((ROOT / "supergraph.yaml").read_text())
    assert sorted(supergraph["subgraphs"]) == sorted(registry.NAMES)
    expected = [deployment.POSTGRES, deployment.MIGRATE, *registry.NAMES, *ROUTERS, *OBSERVABILITY]
    assert sorted(services) == sorted(expected)
    for name in registry.NAMES:
        service = services[name]
        assert service["command"] == name
        assert service["deploy"] == {"replicas": 2}
        assert service["depends_on"] == {"migrate": {"condition": "service_completed_successfully"}}
        for router in ROUTERS:
            assert services[router]["environment"][f"{name.upper()}_URL"] == f"http://{name}:8000/graphql"
            assert services[router]["depends_on"][name] == {"condition": "service_healthy"}
    assert services[deployment.APOLLO]["profiles"] == ["apollo"]
    for name in OBSERVABILITY:
        assert services[name]["profiles"] == ["observability"]
    optional = {deployment.APOLLO, *OBSERVABILITY}
    assert all("profiles" not in services[name] for name in expected if name not in optional)


@pytest.mark.parametrize("subgraph", registry.NAMES)
def test_compose_sets_only_variables_the_settings_read(services: dict[str, Any], subgraph: str) -> None:
    """Own settings (prefixed), the shared ones (SERVICE_TREE_*), and what the process reads itself."""
    prefix = f"{subgraph.upper()}_"
    settings = settings_of(subgraph)
    fields = {
        alias if isinstance(alias := info.validation_alias, str) else prefix + name.upper()
        for name, info in settings.model_fields.items()
    }
    shared = {
        field.validation_alias
        for field in SubgraphSettings.model_fields.values()
        if isinstance(field.validation_alias, str)
    }
    environment = services[subgraph]["environment"]
    unread = set(environment) - fields - shared - PROCESS_ENV
    assert unread == set()
    assert environment[f"{prefix}DATABASE_URL"] == (
        f"postgresql://service_tree:${{POSTGRES_PASSWORD:?set POSTGRES_PASSWORD}}@postgres:5432/{subgraph}"
    )


def test_postgres_has_a_database_per_subgraph(services: dict[str, Any]) -> None:
    postgres = services[deployment.POSTGRES]
    assert re.fullmatch(r"postgres:15\.\d+", postgres["image"]), "pin a specific 15.x tag"
    environment = postgres["environment"]
    assert environment["POSTGRES_USER"] == "service_tree"
    assert environment["POSTGRES_PASSWORD"].startswith("${POSTGRES_PASSWORD:?")
    assert environment["SERVICE_TREE_DATABASES"].split() == list(registry.NAMES)
    assert "./deploy/postgres/init.sql:/docker-entrypoint-initdb.d/init.sql:ro" in postgres["volumes"]
    assert "postgres-data:/var/lib/postgresql/data" in postgres["volumes"]


def test_migrate_runs_once_before_the_subgraphs(services: dict[str, Any]) -> None:
    migrate = services[deployment.MIGRATE]
    assert migrate["command"] == "migrate"
    assert migrate["restart"] == "no"
    assert migrate["image"] == services[registry.NAMES[0]]["image"]
    assert migrate["depends_on"] == {"postgres": {"condition": "service_healthy"}}
    own_urls = {
        f"{name.upper()}_DATABASE_URL": services[name]["environment"][f"{name.upper()}_DATABASE_URL"]
        for name in registry.NAMES
    }
    assert migrate["environment"] == own_urls
    assert "deploy" not in migrate and "healthcheck" not in migrate  # one run; its exit status is the signal


def test_every_long_running_service_has_a_healthcheck(services: dict[str, Any]) -> None:
    long_running = [name for name in services if name != deployment.MIGRATE]
    for name in long_running:
        healthcheck = services[name].get("healthcheck", {})
        assert healthcheck.get("test") and healthcheck.get("start_period"), (
            f"{name}: healthcheck, start_period"
        )
    probes = {name: " ".join(services[name]["healthcheck"]["test"]) for name in long_running}
    assert "pg_isready -h 127.0.0.1" in probes[deployment.POSTGRES]
    for name in registry.NAMES:
        assert "http://127.0.0.1:8000/health" in probes[name]
    assert "http://127.0.0.1:4000/readiness" in probes[registry.ROUTER]
    assert f"/dev/tcp/127.0.0.1/{deployment.APOLLO_HEALTH_PORT}" in probes[deployment.APOLLO]
    assert "GET /health " in probes[deployment.APOLLO]


def test_every_mounted_file_exists(services: dict[str, Any]) -> None:
    mounts = [volume.split(":")[0] for service in services.values() for volume in service.get("volumes", [])]
    files = [mount for mount in mounts if mount.startswith("./")]
    assert files, "the init script, router.yaml and the supergraph are bind-mounted"
    for mount in files:
        assert (ROOT / mount).is_file(), mount


def _compose(*argv: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    tool = shutil.which("docker-compose")
    if tool is None:
        pytest.skip("docker-compose is not installed (make compose-tool installs Debian's package)")
    clean = {name: value for name, value in os.environ.items() if not name.startswith("COMPOSE_")}
    clean = {name: value for name, value in clean.items() if name not in REQUIRED_ENV}
    return subprocess.run(
        [tool, "--project-directory", str(ROOT), "-f", str(ROOT / "docker-compose.yml"), *argv],
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize(
    "profile",
    [(), ("--profile", "apollo"), ("--profile", "observability")],
    ids=["default", "apollo", "observability"],
)
def test_docker_compose_config_accepts_the_file(profile: tuple[str, ...]) -> None:
    """Compose's own validation (v1.29 validates every service whatever the profile; the flag must parse)."""
    checked = _compose(*profile, "config", "-q", env=REQUIRED_ENV)
    assert checked.returncode == 0, checked.stderr
    profiles = _compose(*profile, "config", "--profiles", env=REQUIRED_ENV)
    assert profiles.stdout.split() == ["apollo", "observability"], profiles.stderr


@pytest.mark.parametrize("missing", sorted(REQUIRED_ENV))
def test_docker_compose_config_requires_the_secrets(missing: str) -> None:
    given = {name: value for name, value in REQUIRED_ENV.items() if name != missing}
    checked = _compose("config", "-q", env=given)
    assert checked.returncode != 0
    assert f"set {missing}" in checked.stderr


def apollo_schema_path() -> Path:
    """The committed configuration schema of the Apollo Router release that docker-compose.yml runs."""
    version = deployment.APOLLO_IMAGE.rpartition(":v")[2]
    return Path(str(APOLLO_SCHEMA).format(version=version))


def test_the_apollo_schema_is_the_one_of_the_deployed_release() -> None:
    path = apollo_schema_path()
    assert path.is_file(), f"{deployment.APOLLO_IMAGE} is deployed: commit its configuration schema as {path}"


@pytest.fixture(scope="module")
def apollo_validator() -> Validator:
    """A validator of the Apollo Router's configuration JSON Schema."""
    schema = json.loads(apollo_schema_path().read_text())
    # The draft comes from the file's $schema (draft-07 for 2.13.1). Nullable values are written as
    # `type: [..., "null"]` there; an OpenAPI `nullable` keyword would be ignored, which only refuses more.
    validator_class = validators.validator_for(schema)
    validator_class.check_schema(schema)
    return validator_class(schema)


def schema_errors(config: dict[str, Any], validator: Validator) -> list[str]:
    """Every violation of the schema by `config`, one line each."""
    return [
        f"{'.'.join(map(str, error.absolute_path))}: {error.message}"
        for error in validator.iter_errors(config)
    ]


def test_router_yaml_is_a_valid_apollo_router_configuration(
    router_config: dict[str, Any], apollo_validator: Validator
) -> None:
    assert schema_errors(router_config, apollo_validator) == []


def _typo_key(config: dict[str, Any]) -> None:
    config["limits"]["http_max_request_byte"] = config["limits"].pop("http_max_request_bytes")


def _typo_section(config: dict[str, Any]) -> None:
    config["health_checks"] = config.pop("health_check")


def _wrong_type(config: dict[str, Any]) -> None:
    config["limits"]["http_max_request_bytes"] = "1 MB"


def _wrong_header_rule(config: dict[str, Any]) -> None:
    config["headers"]["all"]["request"] = [{"propagate": {"name": "authorization"}}]


@pytest.mark.parametrize("spoil", [_typo_key, _typo_section, _wrong_type, _wrong_header_rule])
def test_the_schema_check_refuses_mistakes(
    router_config: dict[str, Any], apollo_validator: Validator, spoil: Callable[[dict[str, Any]], None]
) -> None:
    spoiled = copy.deepcopy(router_config)
    spoil(spoiled)
    assert schema_errors(spoiled, apollo_validator) != []


def test_router_yaml_routes_and_limits_like_the_default_router(
    router_config: dict[str, Any], services: dict[str, Any]
) -> None:
    overrides = router_config["override_subgraph_url"]
    assert sorted(overrides) == sorted(registry.NAMES), "router/router.yaml: one override per subgraph"
    apollo_env = services[deployment.APOLLO]["environment"]
    for sub in registry.SUBGRAPHS:
        default = deployment.graphql_url(sub.name)
        assert overrides[sub.name] == f"${{env.{sub.url_env}:-{default}}}"
        assert apollo_env[sub.url_env] == default
    assert {"propagate": {"named": "authorization"}} in router_config["headers"]["all"]["request"]
    assert router_config["supergraph"]["listen"] == "0.0.0.0:4000"
    assert router_config["supergraph"]["path"] == "/graphql"
    assert router_config["supergraph"]["introspection"] is False
    health = router_config["health_check"]
    assert health["enabled"] is True
    assert health["listen"].endswith(f":{deployment.APOLLO_HEALTH_PORT}") and health["path"] == "/health"
    assert router_config["include_subgraph_errors"] == {"all": True}  # the subgraphs' codes reach clients
    limits = router_config["limits"]
    body_limit = SubgraphSettings.model_fields["max_body_bytes"].default
    assert limits["http_max_request_bytes"] == body_limit
    gateway = (ROOT / "router" / "src" / "bodyLimit.ts").read_text()
    assert f"MAX_BODY_BYTES = {body_limit:_}" in gateway
    assert not set(limits) & set(LICENSED_LIMITS), "the Apollo Router would refuse to start without a licence"


def test_the_image_runs_the_entrypoint() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "COPY deploy/entrypoint.sh ./deploy/\n" in dockerfile
    assert 'ENTRYPOINT ["sh", "/app/deploy/entrypoint.sh"]' in dockerfile
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert not any(pattern.startswith("deploy") for pattern in ignored)


@pytest.fixture(scope="module")
def server() -> Iterator[Cluster]:
    """A throwaway PostgreSQL cluster, standing in for the postgres service."""
    try:
        binaries()
    except RuntimeError as missing:
        pytest.skip(str(missing))
    folder = Path(tempfile.mkdtemp(prefix="service-tree-deploy-"))
    folder.chmod(0o755)  # the server's user must reach the data folder inside
    cluster = Cluster(folder / "data", free_port(), fast=True)
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.stop()
        shutil.rmtree(folder, ignore_errors=True)


def _psql(cluster: Cluster, *argv: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    psql = shutil.which("psql") or str(binaries() / "psql")
    server = ("-h", "127.0.0.1", "-p", str(cluster.port), "-U", "postgres")
    command = [psql, "-X", "-v", "ON_ERROR_STOP=1", *server, *argv]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=60, check=False)


def test_init_script_and_migrate_prepare_every_database(services: dict[str, Any], server: Cluster) -> None:
    """What the postgres service's first start and the migrate service do, on a real server."""
    base = {name: value for name, value in os.environ.items() if name != deployment.DATABASES_ENV}
    refused = _psql(server, "-d", "postgres", "-f", str(INIT_SQL), env=base)
    assert refused.returncode != 0 and "SERVICE_TREE_DATABASES is not set" in refused.stderr

    databases = services[deployment.POSTGRES]["environment"][deployment.DATABASES_ENV]
    created = _psql(
        server, "-d", "postgres", "-f", str(INIT_SQL), env={**base, deployment.DATABASES_ENV: databases}
    )
    assert created.returncode == 0, created.stderr
    listed = _psql(server, "-d", "postgres", "-Atc", "SELECT datname FROM pg_database", env=base)
    assert set(registry.NAMES) <= set(listed.stdout.split())

    variables = services[deployment.MIGRATE]["environment"]
    urls = {variable: server.url(variable.removesuffix("_DATABASE_URL").lower()) for variable in variables}
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"  # this venv's python and alembic
    migrated = subprocess.run(
        ["sh", "deploy/entrypoint.sh", "migrate"],
        cwd=ROOT,
        env={**base, **urls, "PATH": path},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert migrated.returncode == 0, migrated.stderr
    for name in registry.NAMES:
        head = ScriptDirectory.from_config(alembic_config(name)).get_current_head()
        version = _psql(server, "-d", name, "-Atc", "SELECT version_num FROM alembic_version", env=base)
        assert version.stdout.strip() == head, name


@pytest.mark.parametrize("argv", [[], ["serve"]], ids=["nothing", "serve"])
def test_the_entrypoint_refuses_no_subgraph(argv: list[str]) -> None:
    result = subprocess.run(
        ["sh", "deploy/entrypoint.sh", *argv], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode == 64
    assert "usage: migrate [SUBGRAPH] | serve SUBGRAPH | SUBGRAPH" in result.stderr


@pytest.mark.parametrize("subgraph", registry.NAMES)
def test_the_registry_names_each_subgraphs_parts(subgraph: str) -> None:
    """The registry's defaults are the ones the subgraph's settings read, and its migrations folder exists."""
    entry = registry.get(subgraph)
    settings = settings_of(subgraph)
    assert settings.model_config.get("env_prefix") == entry.env_prefix
    assert settings.model_fields["database_url"].default == entry.database_url
    assert (ROOT / entry.migrations / "env.py").is_file()
    for setting in entry.calls:
        assert setting in settings.model_fields, setting
