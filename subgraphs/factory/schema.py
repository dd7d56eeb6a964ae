"""Query and Mutation of the factory subgraph, and its federation schema (ADMIN only, but Product.crafts)."""

import strawberry

from subgraphs._common.ids import parse_id
from subgraphs._common.schema import SubgraphSchema
from subgraphs.factory import services
from subgraphs.factory.types import Craft, CreateCraftInput, Factory, Info, Product, UpdateCraftInput


@strawberry.type
class Query:
    @strawberry.field(description="ADMIN.")
    async def factories(self, info: Info) -> list[Factory]:
        actor = info.context.auth.require()
        async with info.context.db.read() as session:
            rows = await services.list_factories(session, actor=actor)
        return [Factory.from_row(row) for row in rows]

    @strawberry.field(description="ADMIN.")
    async def factory(self, info: Info, id: strawberry.ID) -> Factory | None:
        services.require_admin(info.context.auth.require())
        row = await info.context.loaders.factory.load(parse_id(id, field="id"))
        return Factory.from_row(row) if row else None

    @strawberry.field(description="ADMIN.")
    async def craft(self, info: Info, id: strawberry.ID) -> Craft | None:
        services.require_admin(info.context.auth.require())
        row = await info.context.loaders.craft.load(parse_id(id, field="id"))
        return Craft.from_row(row) if row else None


@strawberry.type
class Mutation:
    @strawberry.mutation(description="ADMIN.")
    async def create_factory(self, info: Info, name: str) -> Factory:
        actor = info.context.auth.require()
        async with info.context.db.write() as session:
            row = await services.create_factory(session, actor=actor, name=name)
        return Factory.from_row(row)

    @strawberry.mutation(description="ADMIN.")
    async def rename_factory(self, info: Info, id: strawberry.ID, name: str) -> Factory:
        actor = info.context.auth.require()
        async with info.context.db.write() as session:
            row = await services.rename_factory(
                session, actor=actor, factory_id=parse_id(id, field="id"), name=name
            )
        return Factory.from_row(row)

    @strawberry.mutation(description="ADMIN. Its crafts and their scheduled jobs go too.")
    async def delete_factory(self, info: Info, id: strawberry.ID) -> strawberry.ID:
        actor = info.context.auth.require()
        async with info.context.db.write() as session:
            craft_ids = await services.delete_factory(
                session, actor=actor, factory_id=parse_id(id, field="id")
            )
        for craft_id in craft_ids:
            info.context.scheduler.unschedule(craft_id)
        return id

    @strawberry.mutation(description="ADMIN. The product is checked with the shop.")
    async def create_craft(self, info: Info, input: CreateCraftInput) -> Craft:
        actor = info.context.auth.require()
        factory_id = parse_id(input.factory_id, field="factoryId")
        product_id = await services.existing_product(
            actor=actor, shop=info.context.shop, product_id=parse_id(input.product_id, field="productId")
        )
        async with info.context.db.write() as session:
            row = await services.create_craft(
                session,
                actor=actor,
                factory_id=factory_id,
                product_id=product_id,
                count_per_run=input.count_per_run,
                interval_seconds=input.interval_seconds,
                active=input.active,
            )
        info.context.scheduler.schedule(row)
        return Craft.from_row(row)

    @strawberry.mutation(description="ADMIN. A new interval restarts the schedule now.")
    async def update_craft(self, info: Info, input: UpdateCraftInput) -> Craft:
        actor = info.context.auth.require()
        craft_id = parse_id(input.id, field="id")
        product_id = None
        if input.product_id is not None:
            product_id = await services.existing_product(
                actor=actor, shop=info.context.shop, product_id=parse_id(input.product_id, field="productId")
            )
        async with info.context.db.write() as session:
            row = await services.update_craft(
                session,
                actor=actor,
                craft_id=craft_id,
                product_id=product_id,
                count_per_run=input.count_per_run,
                interval_seconds=input.interval_seconds,
            )
        info.context.scheduler.schedule(row)
        return Craft.from_row(row)

    @strawberry.mutation(description="ADMIN. Stops future runs at once.")
    async def pause_craft(self, info: Info, id: strawberry.ID) -> Craft:
        return await _set_active(info, id, active=False)

    @strawberry.mutation(description="ADMIN. The first run fires one interval from now.")
    async def resume_craft(self, info: Info, id: strawberry.ID) -> Craft:
        return await _set_active(info, id, active=True)

    @strawberry.mutation(description="ADMIN.")
    async def delete_craft(self, info: Info, id: strawberry.ID) -> strawberry.ID:
        actor = info.context.auth.require()
        craft_id = parse_id(id, field="id")
        async with info.context.db.write() as session:
            await services.delete_craft(session, actor=actor, craft_id=craft_id)
        info.context.scheduler.unschedule(craft_id)
        return id


async def _set_active(info: Info, id: strawberry.ID, *, active: bool) -> Craft:
    actor = info.context.auth.require()
    async with info.context.db.write() as session:
        row = await services.set_active(
            session, actor=actor, craft_id=parse_id(id, field="id"), active=active
        )
    info.context.scheduler.schedule(row)
    return Craft.from_row(row)


schema = SubgraphSchema(query=Query, mutation=Mutation, types=[Product])
