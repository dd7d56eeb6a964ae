"""Row lookups of every subgraph: by id, grouped by a column, required (NOT_FOUND), unique (CONFLICT)."""

from collections.abc import Sequence
from typing import Any, TypeVar

from sqlalchemy import ColumnElement
from sqlmodel import Session, col, select

from subgraphs._common.errors import Conflict, NotFound

Row = TypeVar("Row")


def by_ids(session: Session, model: type[Row], ids: Sequence[Any], *, key: Any = None) -> dict[Any, Row]:
    """The rows of `model` whose primary key (or unique column `key`) is one of `ids`, keyed by it."""
    table: Any = model
    column: Any = table.id if key is None else key
    rows = session.exec(select(table).where(column.in_(ids))).all()
    return {getattr(row, column.key): row for row in rows}


def grouped(
    session: Session,
    model: type[Row],
    *,
    key: Any,
    keys: Sequence[Any],
    order_by: Sequence[ColumnElement[Any] | Any],
) -> dict[Any, list[Row]]:
    """For each of `keys`, the rows of `model` whose column `key` holds it, in `order_by` order."""
    table: Any = model
    found: dict[Any, list[Row]] = {value: [] for value in keys}
    for row in session.exec(select(table).where(col(key).in_(keys)).order_by(*order_by)).all():
        found[getattr(row, key.key)].append(row)
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
