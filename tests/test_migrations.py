"""Migrations create exactly the schema the models describe, on an empty database of either backend, and can
be undone; processes migrating one PostgreSQL database at once take turns."""

import importlib
import os
import subprocess
import sys
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, MetaData, create_engine, inspect, text

from subgraphs import registry
from subgraphs._common.db import sync_url
from subgraphs._common.migrations import MIGRATION_LOCK_KEY, config
from tests.databases import Databases
from tools.polling import poll

ROOT = Path(__file__).resolve().parents[1]


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


def _migrate_process(subgraph: str, url: str) -> subprocess.Popen[str]:
    """What a pod's init container runs: the image's entrypoint migrating one subgraph."""
    env = {**os.environ, f"{subgraph.upper()}_DATABASE_URL": url}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"  # this venv's alembic
    return subprocess.Popen(
        ["sh", "deploy/entrypoint.sh", "migrate", subgraph],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _waiting_on_the_lock(connection: Connection) -> bool:
    """True once another session waits for the migrations' advisory lock."""
    waiting = connection.execute(
        text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")
    ).scalar_one()
    return bool(waiting)


def test_migrations_of_one_database_take_turns(databases: Databases) -> None:
    """Pods starting together each migrate their database first: the second waits for the first's lock, then
    finds it at head, instead of failing on the tables the first is creating (PostgreSQL only)."""
    if databases.cluster is None:
        pytest.skip("SQLite files are migrated by one process each")
    subgraph = "factory"
    url = databases.cluster.create_database("migrated_in_turns")
    engine = create_engine(sync_url(url), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as holder, engine.connect() as observer:
            holder.execute(text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
            first, second = _migrate_process(subgraph, url), _migrate_process(subgraph, url)
            # Until one waits for the lock, or either ends (which only a migration without the lock could).
            waiting, ended = poll(
                lambda: (
                    _waiting_on_the_lock(observer),
                    first.poll() is not None or second.poll() is not None,
                ),
                any,
                within=60,
                interval=0.05,
            )
            assert not ended, "a migration ran without the lock"
            assert waiting, "no migration waited for the lock"
            assert "alembic_version" not in inspect(observer).get_table_names()  # nothing ran before the lock
            holder.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": MIGRATION_LOCK_KEY})
            outputs = [process.communicate(timeout=120)[0] for process in (first, second)]
            assert [first.returncode, second.returncode] == [0, 0], outputs
            head = ScriptDirectory.from_config(config(subgraph)).get_current_head()
            version = observer.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
            assert version == head
    finally:
        engine.dispose()
