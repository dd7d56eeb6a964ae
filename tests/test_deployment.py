"""docker-compose.yml stays in step with the code: every registered subgraph deployed and routed, every variable
one its settings read."""

import importlib
from pathlib import Path
from typing import Any

import pytest

from subgraphs import registry
from subgraphs._common.settings import SubgraphSettings

pytestmark = pytest.mark.db_agnostic

ROOT = Path(__file__).resolve().parents[1]
yaml = pytest.importorskip("yaml")  # PyYAML comes with strawberry's CLI extra (through libcst)


@pytest.fixture(scope="module")
def services() -> dict[str, Any]:
    """The services of the committed docker-compose.yml, as a YAML reader sees them."""
    compose: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    found: dict[str, Any] = compose["services"]
    return found


def settings_of(name: str) -> type[SubgraphSettings]:
    settings: type[SubgraphSettings] = importlib.import_module(registry.get(name).settings).Settings
    return settings


def test_every_registered_subgraph_is_composed_and_deployed(services: dict[str, Any]) -> None:
    supergraph = yaml.safe_load((ROOT / "supergraph.yaml").read_text())
    assert sorted(supergraph["subgraphs"]) == sorted(registry.NAMES)
    assert sorted(services) == sorted([*registry.NAMES, registry.ROUTER])
    router = services[registry.ROUTER]
    for name in registry.NAMES:
        assert services[name]["command"] == name
        assert router["environment"][f"{name.upper()}_URL"] == f"http://{name}:8000/graphql"
        assert router["depends_on"][name] == {"condition": "service_healthy"}


@pytest.mark.parametrize("subgraph", registry.NAMES)
def test_compose_sets_only_variables_the_settings_read(services: dict[str, Any], subgraph: str) -> None:
    prefix = f"{subgraph.upper()}_"
    fields = {prefix + name.upper() for name in settings_of(subgraph).model_fields}
    used = {name for name in services[subgraph]["environment"] if name.startswith(prefix)}
    assert f"{prefix}DATABASE_URL" in used
    assert used <= fields, used - fields


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
