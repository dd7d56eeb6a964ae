"""Alembic environment of the purchase subgraph."""

from subgraphs._common.migrations import run_env
from subgraphs.purchase.models import Table
from subgraphs.purchase.settings import Settings

run_env(Table.metadata, Settings().database_url)
