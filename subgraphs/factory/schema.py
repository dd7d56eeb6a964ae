"""Query and Mutation of the factory subgraph, and its federation schema (ADMIN only, but Product.crafts)."""

import functools
from collections.abc import AsyncGenerator

import strawberry

from subgraphs._common import live, rows
from subgraphs._common.db import Database
from subgraphs._common.events import Event, bus_of
from subgraphs._common.ids import parse_id
from subgraphs._common.schema import SubgraphSchema
from subgraphs.factory import models, runs, services
from subgraphs.factory.types import (
    Craft,
    CraftRun,
    CreateCraftInput,
    Factory,
    Info,
    Product,
    UpdateCraftInput,
)


def _optional_id(value: strawberry.ID | None, field: str) -> int | None:
    return parse_id(value, field=field) if value is not None else None


@strawberry.type
class Query:
    @strawberry.field(description="ADMIN.")
    async def factories(self, info: Info) -> list[Factory]:
        rows = await info.context.db.read(services.list_factories, actor=info.context.auth.require())
        return [Factory.from_row(row) for row in rows]

    @strawberry.field(description="ADMIN.")
    async def factory(self, info: Info, id: strawberry.ID) -> Factory | None:
        row = await info.context.db.read(
            services.find_factory, actor=info.context.auth.require(), factory_id=parse_id(id, field="id")
        )
        return Factory.from_row(row) if row else None

    @strawberry.field(description="ADMIN.")
    async def craft(self, info: Info, id: strawberry.ID) -> Craft | None:
        row = await info.context.db.read(
            services.find_craft, actor=info.context.auth.require(), craft_id=parse_id(id, field="id")
        )
        return Craft.from_row(row) if row else None


@strawberry.type
class Mutation:
    @strawberry.mutation(description="ADMIN.")
    async def create_factory(self, info: Info, name: str) -> Factory:
        row = await info.context.db.write(
            services.create_factory, actor=info.context.auth.require(), name=name
        )
        return Factory.from_row(row)

    @strawberry.mutation(description="ADMIN.")
    async def rename_factory(self, info: Info, id: strawberry.ID, name: str) -> Factory:
        row = await info.context.db.write(
            services.rename_factory,
            actor=info.context.auth.require(),
            factory_id=parse_id(id, field="id"),
            name=name,
        )
        return Factory.from_row(row)

    @strawberry.mutation(description="ADMIN. Its crafts and their scheduled jobs go too.")
    async def delete_factory(self, info: Info, id: strawberry.ID) -> strawberry.ID:
        await info.context.db.write(
            services.delete_factory,
            actor=info.context.auth.require(),
            scheduler=info.context.resources.scheduler,
            factory_id=parse_id(id, field="id"),
        )
        return id

    @strawberry.mutation(description="ADMIN. The product is checked with the shop.")
    async def create_craft(self, info: Info, input: CreateCraftInput) -> Craft:
        row = await services.create_craft(
            info.context.db,
            actor=info.context.auth.require(),
            shop=info.context.resources.router,
            scheduler=info.context.resources.scheduler,
            factory_id=parse_id(input.factory_id, field="factoryId"),
            product_id=parse_id(input.product_id, field="productId"),
            count_per_run=input.count_per_run,
            interval_seconds=input.interval_seconds,
            active=input.active,
        )
        return Craft.from_row(row)

    @strawberry.mutation(description="ADMIN. A new interval restarts the schedule now.")
    async def update_craft(self, info: Info, input: UpdateCraftInput) -> Craft:
        row = await services.update_craft(
            info.context.db,
            actor=info.context.auth.require(),
            shop=info.context.resources.router,
            scheduler=info.context.resources.scheduler,
            craft_id=parse_id(input.id, field="id"),
            product_id=_optional_id(input.product_id, "productId"),
            count_per_run=input.count_per_run,
            interval_seconds=input.interval_seconds,
        )
        return Craft.from_row(row)

    @strawberry.mutation(description="ADMIN. Stops future runs at once.")
    async def pause_craft(self, info: Info, id: strawberry.ID) -> Craft:
        return await _set_active(info, id, active=False)

    @strawberry.mutation(description="ADMIN. The first run fires one interval from now.")
    async def resume_craft(self, info: Info, id: strawberry.ID) -> Craft:
        return await _set_active(info, id, active=True)

    @strawberry.mutation(description="ADMIN.")
    async def delete_craft(self, info: Info, id: strawberry.ID) -> strawberry.ID:
        await info.context.db.write(
            services.delete_craft,
            actor=info.context.auth.require(),
            scheduler=info.context.resources.scheduler,
            craft_id=parse_id(id, field="id"),
        )
        return id


async def _set_active(info: Info, id: strawberry.ID, *, active: bool) -> Craft:
    row = await info.context.db.write(
        services.set_active,
        actor=info.context.auth.require(),
        scheduler=info.context.resources.scheduler,
        craft_id=parse_id(id, field="id"),
        active=active,
    )
    return Craft.from_row(row)


@strawberry.type
class Subscription:
    @strawberry.subscription(
        description="ADMIN. Each committed change of a run (written PENDING, retried, DELIVERED, FAILED) of "
        "one factory's crafts, or of all; never older than one sent before."
    )
    async def craft_run_changed(
        self, info: Info, factory_id: strawberry.ID | None = None
    ) -> AsyncGenerator[CraftRun, None]:
        factory = _optional_id(factory_id, "factoryId")
        db = info.context.db
        async with live.watch(
            bus_of(db), runs.RUN_CHANGES, field="craftRunChanged", auth=info.context.auth
        ) as changes:
            await db.read(services.check_watch, actor=info.context.auth.require(), factory_id=factory)
            sent: dict[int, tuple[int, int]] = {}
            async for event in changes:
                fresh = [
                    item
                    for item in event.items
                    if factory in (None, item["factory_id"])
                    and runs.run_order(item) > sent.get(item["id"], (-1, -1))
                ]
                if not fresh:
                    continue
                crafts = await event.shared("crafts", functools.partial(_crafts_of, db, event))
                for item in fresh:
                    sent[item["id"]] = runs.run_order(item)
                    live.sent("craftRunChanged")
                    yield CraftRun.of_event(item, crafts.get(item["craft_id"]))


async def _crafts_of(db: Database, event: Event) -> dict[int, models.Craft]:
    """The crafts of an event's runs, read once for every subscriber of this process."""
    return await db.read(rows.by_ids, models.Craft, sorted({item["craft_id"] for item in event.items}))


schema = SubgraphSchema(query=Query, mutation=Mutation, subscription=Subscription, types=[Product])
