"""Alembic glue: each subgraph's env.py calls `run_env`; tools call `upgrade`."""

from pathlib import Path

from alembic import command, context
from alembic.config import Config
from sqlalchemy import MetaData, create_engine, text

from subgraphs._common.db import sync_url

ROOT = Path(__file__).resolve().parents[2]
# Several processes may migrate one PostgreSQL database at once (pods of a subgraph starting together, each
# migrating first): they take turns on this transaction lock, and those after the first find it at head
# instead of failing on the tables the first one is creating.
MIGRATION_LOCK_KEY = 7_402_119_306


def config(subgraph: str, database_url: str | None = None) -> Config:
    """The alembic config of `subgraph`, optionally pointed at `database_url`."""
    cfg = Config(str(ROOT / "alembic.ini"), ini_section=subgraph)
    cfg.set_main_option("script_location", str(ROOT / "subgraphs" / subgraph / "migrations"))
    if database_url:
        cfg.set_main_option("sqlalchemy.url", database_url)
    cfg.attributes["configure_logger"] = False
    return cfg


def upgrade(subgraph: str, database_url: str) -> None:
    """Migrate `subgraph`'s database to the newest revision (creating a SQLite file's folder if needed)."""
    if database_url.startswith("sqlite:///") and ":memory:" not in database_url:
        Path(database_url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    command.upgrade(config(subgraph, database_url), "head")


def run_env(metadata: MetaData, default_url: str) -> None:
    """Body of every subgraph's migrations/env.py."""
    url = context.config.get_main_option("sqlalchemy.url") or default_url
    if context.is_offline_mode():
        context.configure(url=url, target_metadata=metadata, render_as_batch=True, literal_binds=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = create_engine(sync_url(url))
    try:
        with engine.connect() as connection:
            context.configure(
                connection=connection,
                target_metadata=metadata,
                render_as_batch=True,  # SQLite alters tables by copying them
                compare_type=True,
            )
            with context.begin_transaction():
                if connection.dialect.name == "postgresql":
                    lock = text("SELECT pg_advisory_xact_lock(:key)")
                    connection.execute(lock, {"key": MIGRATION_LOCK_KEY})
                context.run_migrations()
            connection.commit()
    finally:
        engine.dispose()
