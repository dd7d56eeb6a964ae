"""Entities another subgraph owns that this one extends with fields of its own."""

from dataclasses import dataclass
from typing import Any, Self

import strawberry


@dataclass
class Extended:
    """Base of the local stub of an entity another subgraph owns, keyed by `id`: a reference resolves to a
    stub of its id without a read (the owner answers for ids that do not exist), and the fields this subgraph
    adds take it from there."""

    id: strawberry.ID

    @classmethod
    async def resolve_references(cls, info: Any, ids: list[str]) -> list[Self]:
        """A stub for each id, in order."""
        return [cls(id=strawberry.ID(id)) for id in ids]
