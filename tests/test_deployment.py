"""docker-compose.yml stays in step with the code: every subgraph deployed, every variable one we read."""

import re
from pathlib import Path

import pytest

from subgraphs._common.settings import SubgraphSettings
from subgraphs.factory.settings import Settings as FactorySettings
from subgraphs.purchase.settings import Settings as PurchaseSettings
from subgraphs.shop.settings import Settings as ShopSettings

ROOT = Path(__file__).resolve().parents[1]
COMPOSE = (ROOT / "docker-compose.yml").read_text()
SETTINGS: dict[str, type[SubgraphSettings]] = {
    "purchase": PurchaseSettings,
    "shop": ShopSettings,
    "factory": FactorySettings,
}


def test_every_subgraph_of_the_supergraph_is_deployed() -> None:
    subgraphs = re.findall(r"^  (\w+):\n    routing_url:", (ROOT / "supergraph.yaml").read_text(), re.M)
    assert sorted(subgraphs) == sorted(SETTINGS)
    for name in subgraphs:
        assert re.search(rf"^  {name}:\n(    .*\n)*?    command: {name}$", COMPOSE, re.M), name
        assert f"{name.upper()}_URL: http://{name}:8000/graphql" in COMPOSE


@pytest.mark.parametrize("subgraph", sorted(SETTINGS))
def test_compose_sets_only_variables_the_settings_read(subgraph: str) -> None:
    prefix = f"{subgraph.upper()}_"
    fields = {prefix + name.upper() for name in SETTINGS[subgraph].model_fields}
    used = set(re.findall(rf"^\s+({prefix}[A-Z_]+):", COMPOSE, re.M)) - {f"{prefix}URL"}
    assert used, f"no {prefix}* variables in docker-compose.yml"
    assert used <= fields, used - fields
