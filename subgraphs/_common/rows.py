"""Row lookups of every subgraph: by id, grouped by a column, required (NOT_FOUND), unique (CONFLICT); a row
saved at once; and the INSERT that can say what a conflict does."""

import functools
from collections.abc import Sequence
from typing import Any, TypeVar, cast

from sqlalchemy import bindparam
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, select

from subgraphs._common.errors import Conflict, NotFound

Row = TypeVar("Row")


@functools.cache
def _where_in(model: Any, key: str, order_by: tuple[str, ...] = ()) -> Any:
    # Built once per shape: the IN list is one expanding parameter, so the statement and its compiled form
    # are reused whatever the keys.
    query = select(model).where(getattr(model, key).in_(bindparam("keys", expanding=True)))
    return query.order_by(*(getattr(model, name) for name in order_by))


def by_ids(session: Session, model: type[Row], ids: Sequence[Any], *, key: str = "id") -> dict[Any, Row]:
    """The rows of `model` whose primary key (or unique column `key`) is one of `ids`, keyed by it."""
    statement: Any = _where_in(cast(Any, model), key)
    return {getattr(row, key): row for row in session.exec(statement, params={"keys": list(ids)}).all()}


def grouped(
    session: Session, model: type[Row], *, key: str, keys: Sequence[Any], order_by: Sequence[str] = ()
) -> dict[Any, list[Row]]:
    """For each of `keys`, the rows of `model` whose column `key` holds it, in `order_by` order."""
    found: dict[Any, list[Row]] = {value: [] for value in keys}
    statement: Any = _where_in(cast(Any, model), key, tuple(order_by))
    for row in session.exec(statement, params={"keys": list(keys)}).all():
        found[getattr(row, key)].append(row)
    return found


def get_required(session: Session, model: type[Row], key: int, *, message: str, field: str) -> Row:
    """The row of `model` with primary key `key`, or NOT_FOUND naming `field`."""
    row = session.get(model, key)
    if row is None:
        raise NotFound(message, field=field)
    return row


def ensure_unique(
    session: Session,
    model: Any,
    *,
    message: str,
    field: str,
    exclude_id: int | None = None,
    **equal: object,
) -> None:
    """CONFLICT naming `field` when another row of `model` has these column values.

    Call it before changing the row: this query would otherwise autoflush the change into the unique index.
    """
    query = select(model.id).where(*(getattr(model, column) == value for column, value in equal.items()))
    if exclude_id is not None:
        query = query.where(model.id != exclude_id)
    if session.exec(query).first() is not None:
        raise Conflict(message, field=field)


def save(session: Session, row: Row) -> Row:
    """`row` added and flushed, and returned: its id and database defaults are set now, and a constraint it
    breaks fails here, inside the service function, not at the commit after it."""
    session.add(row)
    session.flush()
    return row


def insert_of(dialect: str) -> Any:
    """The INSERT construct of `dialect` ("postgresql" or "sqlite"), which has ON CONFLICT (upserts, and
    inserts that do nothing on a unique key's conflict): the generic one has not."""
    return postgresql.insert if dialect == "postgresql" else sqlite.insert
