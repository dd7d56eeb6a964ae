"""DataLoaders: one transaction, and one SQL statement, per batch of keys."""

from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

from sqlmodel import Session
from strawberry.dataloader import DataLoader

from subgraphs._common import rows
from subgraphs._common.db import Database

K = TypeVar("K")
V = TypeVar("V")
Row = TypeVar("Row")


def batched(
    db: Database, fetch: Callable[[Session, list[K]], Mapping[K, Any]], default: V
) -> DataLoader[K, V]:
    """A DataLoader over `fetch(session, keys) -> {key: value}`, answering `default` for missing keys."""

    async def load(keys: Sequence[K]) -> list[V]:
        found = await db.read(fetch, list(keys))
        return [found.get(key, default) for key in keys]

    return DataLoader(load_fn=load)


def by_id(db: Database, model: type[Row], *, key: str = "id") -> DataLoader[Any, Row | None]:
    """Rows of `model` by primary key, or by the unique column `key` (None for a missing one)."""
    return batched(db, lambda session, ids: rows.by_ids(session, model, ids, key=key), None)


def groups(
    db: Database, model: type[Row], *, key: str, order_by: Sequence[str] = ()
) -> DataLoader[Any, list[Row]]:
    """For each key, the rows of `model` whose column `key` holds it, in `order_by` order."""
    return batched(
        db, lambda session, keys: rows.grouped(session, model, key=key, keys=keys, order_by=order_by), []
    )


async def load_required(loader: DataLoader[K, V | None], key: K, what: str) -> V:
    """Load a row a foreign key guarantees; its absence means a corrupted database, not a client error."""
    row = await loader.load(key)
    if row is None:
        raise LookupError(f"{what} {key} is missing")
    return row
