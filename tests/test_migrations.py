"""Migrations create exactly the schema the models describe, on an empty database, and can be undone."""

from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import MetaData, create_engine, inspect

from subgraphs._common.migrations import config, upgrade
from subgraphs.factory.models import Table as FactoryTable
from subgraphs.purchase.models import Table as PurchaseTable
from subgraphs.shop.models import Table as ShopTable

TABLES: dict[str, tuple[MetaData, set[str]]] = {
    "purchase": (PurchaseTable.metadata, {"user", "user_category", "purchase"}),
    "factory": (FactoryTable.metadata, {"factory", "craft", "craft_run"}),
    "shop": (
        ShopTable.metadata,
        {"shop", "category", "product", "check", "check_line", "delivery", "outbox"},
    ),
}


@pytest.mark.parametrize("subgraph", sorted(TABLES))
def test_upgrade_head_on_an_empty_database_matches_the_models(tmp_path: Path, subgraph: str) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    upgrade(subgraph, url)
    metadata, expected = TABLES[subgraph]
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            assert set(inspect(connection).get_table_names()) == expected | {"alembic_version"}
            diff = compare_metadata(MigrationContext.configure(connection), metadata)
            assert diff == [], f"models and migrations disagree: {diff}"
    finally:
        engine.dispose()


@pytest.mark.parametrize("subgraph", sorted(TABLES))
def test_downgrade_to_base_removes_every_table(tmp_path: Path, subgraph: str) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    upgrade(subgraph, url)
    command.downgrade(config(subgraph, url), "base")
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            assert set(inspect(connection).get_table_names()) == {"alembic_version"}
    finally:
        engine.dispose()
