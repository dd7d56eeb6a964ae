"""Alembic environment of the shop subgraph."""

from subgraphs._common.migrations import run_env
from subgraphs.shop.models import Table
from subgraphs.shop.settings import Settings

run_env(Table.metadata, Settings().database_url)
