"""Migrations create exactly the schema the models describe, on an empty database of either backend, and can
be undone."""

import importlib
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import MetaData, create_engine, inspect

from subgraphs import registry
from subgraphs._common.db import sync_url
from subgraphs._common.migrations import config
from tests.databases import Databases


def metadata_of(subgraph: str) -> MetaData:
    """The tables the subgraph's models declare."""
    metadata: MetaData = importlib.import_module(registry.get(subgraph).models).Table.metadata
    return metadata


@pytest.mark.parametrize("subgraph", registry.NAMES)
def test_upgrade_head_on_an_empty_database_matches_the_models(
    databases: Databases, tmp_path: Path, subgraph: str
) -> None:
    url = databases.fresh(subgraph, tmp_path)  # upgraded from an empty database on this run's backend
    metadata = metadata_of(subgraph)
    expected = set(metadata.tables)
    assert expected, f"{subgraph} declares no tables"
    engine = create_engine(sync_url(url))
    try:
        with engine.connect() as connection:
            assert set(inspect(connection).get_table_names()) == expected | {"alembic_version"}
            diff = compare_metadata(MigrationContext.configure(connection), metadata)
            assert diff == [], f"models and migrations disagree: {diff}"
    finally:
        engine.dispose()


@pytest.mark.parametrize("subgraph", registry.NAMES)
def test_downgrade_to_base_removes_every_table(databases: Databases, tmp_path: Path, subgraph: str) -> None:
    url = databases.fresh(subgraph, tmp_path)
    command.downgrade(config(subgraph, url), "base")
    engine = create_engine(sync_url(url))
    try:
        with engine.connect() as connection:
            assert set(inspect(connection).get_table_names()) == {"alembic_version"}
    finally:
        engine.dispose()
