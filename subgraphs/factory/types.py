"""GraphQL types of the factory subgraph (tables never double as GraphQL types)."""

import enum
from datetime import datetime
from typing import Any, Self

import strawberry

from subgraphs._common.db import as_utc
from subgraphs._common.entities import Extended
from subgraphs._common.ids import parse_id, parse_ids, to_id
from subgraphs._common.loaders import load_required
from subgraphs.factory import grid, models, services
from subgraphs.factory.context import Context

Info = strawberry.Info[Context, None]


@strawberry.enum
class CraftRunStatus(enum.Enum):
    PENDING = "PENDING"
    DELIVERED = "DELIVERED"
    FAILED = "FAILED"


@strawberry.type
class CraftRun:
    id: strawberry.ID
    key: str
    scheduled_at: datetime
    finished_at: datetime | None
    status: CraftRunStatus
    attempts: int
    error: str | None
    craft_id: strawberry.Private[int]
    # The craft as read for a live event (once for all its subscribers); a query loads it when asked.
    craft_row: strawberry.Private[models.Craft | None] = None

    @classmethod
    def from_row(cls, row: models.CraftRun) -> Self:
        return cls(
            id=to_id(row.id),
            key=row.key,
            scheduled_at=as_utc(row.scheduled_at),
            finished_at=as_utc(row.finished_at) if row.finished_at else None,
            status=CraftRunStatus(row.status),
            attempts=row.attempts,
            error=row.error,
            craft_id=row.craft_id,
        )

    @classmethod
    def of_event(cls, item: dict[str, Any], craft: models.Craft | None) -> Self:
        """A run as a live event carries it (`runs.publish_runs`)."""
        return cls(
            id=to_id(item["id"]),
            key=item["key"],
            scheduled_at=datetime.fromisoformat(item["scheduled_at"]),
            finished_at=datetime.fromisoformat(item["finished_at"]) if item["finished_at"] else None,
            status=CraftRunStatus(item["status"]),
            attempts=item["attempts"],
            error=item["error"],
            craft_id=item["craft_id"],
            craft_row=craft,
        )

    @strawberry.field(description="The craft this run is of.")
    async def craft(self, info: Info) -> "Craft":
        if self.craft_row is not None:
            return Craft.from_row(self.craft_row)
        return Craft.from_row(await load_required(info.context.loaders.craft, self.craft_id, "craft"))


@strawberry.federation.type(keys=["id"])
class Product(Extended):
    """A shop's product; the factory contributes the crafts that make it."""

    id: strawberry.ID

    @strawberry.field(description="Public: who makes this product, how much and how often.")
    async def crafts(self, info: Info) -> list["Craft"]:
        rows = await info.context.loaders.crafts_of_product.load(parse_id(self.id, field="id"))
        return [Craft.from_row(row) for row in rows]


@strawberry.federation.type(keys=["id"])
class Factory:
    id: strawberry.ID
    name: str
    created_at: datetime

    @classmethod
    def from_row(cls, row: models.Factory) -> Self:
        return cls(id=to_id(row.id), name=row.name, created_at=as_utc(row.created_at))

    @classmethod
    async def resolve_references(cls, info: Info, ids: list[str]) -> list[Self | None]:
        rows = await info.context.loaders.factory.load_many(parse_ids(ids, field="id"))
        return [cls.from_row(row) if row else None for row in rows]

    @strawberry.field(description="ADMIN only.")
    async def crafts(self, info: Info) -> list["Craft"]:
        rows = await info.context.loaders.crafts_of_factory.load(int(self.id))
        return [Craft.from_row(row) for row in rows]


@strawberry.federation.type(keys=["id"])
class Craft:
    id: strawberry.ID
    count_per_run: int = strawberry.field(description="1..1000000")
    interval_seconds: int = strawberry.field(description="1..86400")
    active: bool
    next_run_at: datetime | None = strawberry.field(description="Null while paused.")
    factory_id: strawberry.Private[int]
    product_id: strawberry.Private[int]

    @classmethod
    def from_row(cls, row: models.Craft) -> Self:
        return cls(
            id=to_id(row.id),
            count_per_run=row.count_per_run,
            interval_seconds=row.interval_seconds,
            active=row.active,
            next_run_at=grid.next_run_at(row),
            factory_id=row.factory_id,
            product_id=row.product_id,
        )

    @classmethod
    async def resolve_references(cls, info: Info, ids: list[str]) -> list[Self | None]:
        rows = await info.context.loaders.craft.load_many(parse_ids(ids, field="id"))
        return [cls.from_row(row) if row else None for row in rows]

    @strawberry.field
    async def factory(self, info: Info) -> Factory:
        return Factory.from_row(await load_required(info.context.loaders.factory, self.factory_id, "factory"))

    @strawberry.field
    def product(self) -> Product:
        return Product(id=to_id(self.product_id))

    @strawberry.field(description="Newest first. ADMIN only.")
    async def runs(self, info: Info, last: int | None = 10) -> list[CraftRun]:
        rows = await info.context.loaders.runs.load(
            (int(self.id), services.validate_last(10 if last is None else last))
        )
        return [CraftRun.from_row(row) for row in rows]


@strawberry.input
class CreateCraftInput:
    factory_id: strawberry.ID
    product_id: strawberry.ID
    count_per_run: int
    interval_seconds: int
    active: bool = True


@strawberry.input
class UpdateCraftInput:
    id: strawberry.ID
    product_id: strawberry.ID | None = None
    count_per_run: int | None = None
    interval_seconds: int | None = None
