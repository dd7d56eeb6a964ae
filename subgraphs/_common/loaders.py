"""A DataLoader factory: one SQL statement per batch of keys."""

from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, TypeVar

from strawberry.dataloader import DataLoader

from subgraphs._common.db import Database

K = TypeVar("K")
V = TypeVar("V")


def batched(
    db: Database, fetch: Callable[[Any, list[K]], Awaitable[Mapping[K, Any]]], default: V
) -> DataLoader[K, V]:
    """A DataLoader over `fetch(session, keys) -> {key: value}`, answering `default` for missing keys."""

    async def load(keys: Sequence[K]) -> list[V]:
        async with db.read() as session:
            found = await fetch(session, list(keys))
        return [found.get(key, default) for key in keys]

    return DataLoader(load_fn=load)


async def load_required(loader: DataLoader[K, V | None], key: K, what: str) -> V:
    """Load a row a foreign key guarantees; its absence means a corrupted database, not a client error."""
    row = await loader.load(key)
    if row is None:
        raise LookupError(f"{what} {key} is missing")
    return row
