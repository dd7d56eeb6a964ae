"""Row lookups that answer with the client's error codes: NOT_FOUND for a missing row, CONFLICT for a taken
unique value (before the database's unique index would refuse the write)."""

from typing import Any, TypeVar

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from subgraphs._common.errors import Conflict, NotFound

Row = TypeVar("Row")


async def get_required(session: AsyncSession, model: type[Row], key: int, *, message: str, field: str) -> Row:
    """The row of `model` with primary key `key`, or NOT_FOUND naming `field`."""
    row = await session.get(model, key)
    if row is None:
        raise NotFound(message, field=field)
    return row


async def ensure_unique(
    session: AsyncSession,
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
    if (await session.exec(query)).first() is not None:
        raise Conflict(message, field=field)
