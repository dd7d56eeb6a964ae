"""Hot reads in the driver's own SQL: a statement written once, its list of ids ONE parameter, run with
SQLAlchemy's `Connection.exec_driver_sql`. Nothing is compiled and no expanding IN list is rendered per call
(the text is the same whatever the number of ids, so psycopg prepares it after a few calls), and the engine's
cursor events still fire around it: the statement counters and the traces see it as any other statement."""

import functools
import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Row
from sqlmodel import Session

# What `{ids}` in a statement becomes on each database: "is one of the ids", given as one parameter (a JSON
# array on SQLite, an array on PostgreSQL).
_IN_IDS = {"sqlite": "IN (SELECT value FROM json_each(?))", "postgresql": "= ANY(%s)"}


@functools.cache
def _statement(template: str, dialect: str) -> str:
    return template.format(ids=_IN_IDS[dialect])


def rows_by_ids(session: Session, template: str, ids: Sequence[int]) -> Sequence[Row[Any, *tuple[Any, ...]]]:
    """The rows of `template`, a SELECT whose `{ids}` stands for "is one of `ids`", on the session's
    connection. Their values are the driver's: no type of SQLAlchemy's processes them (`stored_datetime`
    reads a DateTime column)."""
    connection = session.connection()
    dialect = connection.dialect.name
    parameter = json.dumps(list(ids)) if dialect == "sqlite" else list(ids)
    return connection.exec_driver_sql(_statement(template, dialect), (parameter,)).all()


def stored_datetime(value: datetime | str) -> datetime:
    """A DateTime column as the driver hands it: psycopg a datetime, sqlite3 the text SQLAlchemy stored."""
    return value if isinstance(value, datetime) else datetime.fromisoformat(value)
