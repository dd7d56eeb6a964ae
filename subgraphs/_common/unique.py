"""Uniqueness checks that answer CONFLICT before the database's unique index would refuse the write."""

from typing import Any

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from subgraphs._common.errors import Conflict


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
