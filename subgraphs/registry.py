"""Every subgraph of the graph, once: the launcher, `make schema`, the generated config files and the tests
derive their lists of subgraphs from `SUBGRAPHS`.

A new subgraph is a package `subgraphs/<name>/` (app, settings, models, schema, migrations) plus one entry
below; `make schema` then regenerates what cannot import Python (docs/adding-a-subgraph.md).
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

ROUTER = "router"
ROUTER_PORT = 4000
# The one subgraph that signs tokens (it holds the keys and the services' credential hashes); every other
# subgraph verifies tokens with its JWKS and has a credential of its own, to call as a SERVICE.
IDENTITY = "purchase"


@dataclass(frozen=True)
class Subgraph:
    """One subgraph: its name, its default local port, and the other processes it calls."""

    name: str
    port: int
    # Setting (without the prefix) -> the process ("router" or a subgraph) whose /graphql it points at.
    calls: Mapping[str, str] = field(default_factory=dict, hash=False)

    @property
    def package(self) -> str:
        return f"subgraphs.{self.name}"

    @property
    def env_prefix(self) -> str:
        return f"{self.name.upper()}_"

    @property
    def url_env(self) -> str:
        """The variable giving this subgraph's /graphql URL to the router (`SHOP_URL`)."""
        return f"{self.env_prefix}URL"

    @property
    def database_url(self) -> str:
        """The default database, relative to the working directory."""
        return f"sqlite:///var/{self.name}.db"

    @property
    def app(self) -> str:
        """The app factory, as uvicorn takes it (`--factory`)."""
        return f"{self.package}.app:create_app"

    @property
    def schema(self) -> str:
        """The Strawberry schema, as `strawberry export-schema` takes it."""
        return f"{self.package}.schema:schema"

    @property
    def models(self) -> str:
        """The module whose `Table.metadata` holds this subgraph's tables."""
        return f"{self.package}.models"

    @property
    def settings(self) -> str:
        """The module whose `Settings` reads this subgraph's environment."""
        return f"{self.package}.settings"

    @property
    def migrations(self) -> Path:
        """The alembic script folder, relative to the repository root."""
        return Path(*self.package.split("."), "migrations")


SUBGRAPHS: tuple[Subgraph, ...] = (
    Subgraph("purchase", port=4001),
    Subgraph("shop", port=4002, calls={"purchase_url": "purchase"}),
    Subgraph("factory", port=4003, calls={"router_url": ROUTER}),
)
NAMES: tuple[str, ...] = tuple(subgraph.name for subgraph in SUBGRAPHS)
SERVICES: tuple[str, ...] = tuple(name for name in NAMES if name != IDENTITY)


def get(name: str) -> Subgraph:
    """The registered subgraph called `name` (KeyError for any other)."""
    for subgraph in SUBGRAPHS:
        if subgraph.name == name:
            return subgraph
    raise KeyError(f"no subgraph {name!r} in subgraphs/registry.py (registered: {', '.join(NAMES)})")
