"""Alembic environment of the factory subgraph."""

from subgraphs._common.migrations import run_env
from subgraphs.factory.models import Table
from subgraphs.factory.settings import Settings

run_env(Table.metadata, Settings().database_url)
