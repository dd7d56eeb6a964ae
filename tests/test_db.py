"""The database's connection pool on PostgreSQL: a pooled connection the server ended is replaced before a
transaction uses it, and a healthy one is kept."""

import pytest
from sqlalchemy import create_engine, text
from sqlmodel import Session

from subgraphs._common.db import Database, sync_url
from tests.databases import Databases
from tools.polling import poll


def _backend(session: Session) -> int:
    pid: int = session.execute(text("SELECT pg_backend_pid()")).scalar_one()
    return pid


def _end_backends(url: str, database: str) -> None:
    """End every other session on `database` from the server's side, as a restart does; return once they are
    gone (their sockets closed)."""
    engine = create_engine(sync_url(url), isolation_level="AUTOCOMMIT")
    others = "FROM pg_stat_activity WHERE datname = :db AND pid <> pg_backend_pid()"
    try:
        with engine.connect() as connection:
            connection.execute(text(f"SELECT pg_terminate_backend(pid) {others}"), {"db": database})
            left = poll(
                lambda: connection.execute(text(f"SELECT count(*) {others}"), {"db": database}).scalar_one(),
                lambda left: left == 0,
                within=30,
                interval=0.02,
            )
            assert left == 0, "the ended sessions did not go"
    finally:
        engine.dispose()


def test_a_pooled_connection_the_server_ended_is_replaced_and_a_healthy_one_kept(
    databases: Databases,
) -> None:
    if databases.cluster is None:
        pytest.skip("a SQLite file has no server to end its connections")
    url = databases.cluster.create_database("pooled")
    db = Database(url, threads=1)
    try:
        first = db.read_now(_backend)
        assert db.write_now(_backend) == first  # the same connection again: no reconnect per transaction
        _end_backends(databases.cluster.url("postgres"), "pooled")
        replaced = db.write_now(_backend)  # no error: the ended connection never reached the transaction
        assert replaced != first
        assert db.read_now(_backend) == replaced
    finally:
        db.engine.dispose()
