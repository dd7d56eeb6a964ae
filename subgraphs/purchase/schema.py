"""Query and Mutation of the purchase subgraph, and its federation schema."""

import strawberry

from subgraphs._common.auth import Role as AuthRole
from subgraphs._common.ids import parse_id, parse_ids
from subgraphs._common.schema import SubgraphSchema
from subgraphs.purchase import services
from subgraphs.purchase.types import (
    AuthPayload,
    Check,
    Info,
    Purchase,
    RecordPurchaseArgument,
    RegisterInput,
    UpdateMeInput,
    UpdatePurchaseInput,
    User,
    UserCategory,
)


def _payload(session: services.Session) -> AuthPayload:
    return AuthPayload(token=session.token, expires_at=session.expires_at, user=User.from_row(session.user))


@strawberry.type
class Query:
    @strawberry.field(description="The user behind the token, or null without one.")
    async def me(self, info: Info) -> User | None:
        actor = info.context.auth.principal
        if actor is None or actor.role is AuthRole.SERVICE:
            return None
        row = await info.context.loaders.user.load(actor.user_id)
        return User.from_row(row) if row else None

    @strawberry.field(description="Yourself, or anyone for an ADMIN.")
    async def user(self, info: Info, id: strawberry.ID) -> User | None:
        actor = info.context.auth.require()
        async with info.context.db.read() as session:
            row = await services.get_user(session, actor=actor, user_id=parse_id(id, field="id"))
        return User.from_row(row) if row else None

    @strawberry.field(description="Your purchases by id; unknown ids (or not yours) give null entries.")
    async def purchases(self, info: Info, ids: list[strawberry.ID]) -> list[Purchase | None]:
        actor = info.context.auth.require()
        wanted = parse_ids(ids, field="ids")
        rows = await info.context.loaders.purchase.load_many(wanted)
        return [
            Purchase.from_row(row) if row and services.can_see_purchase(actor, row) else None for row in rows
        ]


@strawberry.type
class Mutation:
    @strawberry.mutation(description="Create a CUSTOMER account and log in.")
    async def register(self, info: Info, input: RegisterInput) -> AuthPayload:
        settings = info.context.settings
        user = await services.new_user(
            login=input.login,
            password=input.password,
            first_name=input.first_name,
            second_name=input.second_name,
            role=AuthRole.CUSTOMER,
        )
        async with info.context.db.write() as session:
            await services.add_user(session, user)
        return _payload(
            services.issue_session(user, secret=settings.jwt_secret, ttl_seconds=settings.token_ttl_seconds)
        )

    @strawberry.mutation
    async def login(self, info: Info, login: str, password: str) -> AuthPayload:
        settings = info.context.settings
        async with info.context.db.read() as session:
            result = await services.login(
                session,
                login=login,
                password=password,
                secret=settings.jwt_secret,
                ttl_seconds=settings.token_ttl_seconds,
            )
        return _payload(result)

    @strawberry.mutation
    async def update_me(self, info: Info, input: UpdateMeInput) -> User:
        actor = info.context.auth.require(AuthRole.CUSTOMER, AuthRole.ADMIN)
        async with info.context.db.write() as session:
            row = await services.update_me(
                session, actor=actor, first_name=input.first_name, second_name=input.second_name
            )
        return User.from_row(row)

    @strawberry.mutation
    async def create_user_category(self, info: Info, name: str) -> UserCategory:
        actor = info.context.auth.require(AuthRole.CUSTOMER, AuthRole.ADMIN)
        async with info.context.db.write() as session:
            row = await services.create_category(session, actor=actor, name=name)
        return UserCategory.from_row(row)

    @strawberry.mutation
    async def rename_user_category(self, info: Info, id: strawberry.ID, name: str) -> UserCategory:
        actor = info.context.auth.require(AuthRole.CUSTOMER, AuthRole.ADMIN)
        async with info.context.db.write() as session:
            row = await services.rename_category(
                session, actor=actor, category_id=parse_id(id, field="id"), name=name
            )
        return UserCategory.from_row(row)

    @strawberry.mutation(description="Purchases in it keep existing, uncategorised.")
    async def delete_user_category(self, info: Info, id: strawberry.ID) -> strawberry.ID:
        actor = info.context.auth.require(AuthRole.CUSTOMER, AuthRole.ADMIN)
        async with info.context.db.write() as session:
            await services.delete_category(session, actor=actor, category_id=parse_id(id, field="id"))
        return id

    @strawberry.mutation
    async def update_purchase(self, info: Info, input: UpdatePurchaseInput) -> Purchase:
        actor = info.context.auth.require(AuthRole.CUSTOMER, AuthRole.ADMIN)
        set_category = input.user_category_id is not strawberry.UNSET
        category_id = (
            parse_id(input.user_category_id, field="userCategoryId")
            if set_category and input.user_category_id is not None
            else None
        )
        async with info.context.db.write() as session:
            row = await services.update_purchase(
                session,
                actor=actor,
                purchase_id=parse_id(input.id, field="id"),
                name=input.name,
                payment=input.payment.value if input.payment else None,
                category_id=category_id,
                set_category=set_category,
            )
        return Purchase.from_row(row)

    @strawberry.mutation
    async def delete_purchase(self, info: Info, id: strawberry.ID) -> strawberry.ID:
        actor = info.context.auth.require(AuthRole.CUSTOMER, AuthRole.ADMIN)
        async with info.context.db.write() as session:
            await services.delete_purchase(session, actor=actor, purchase_id=parse_id(id, field="id"))
        return id

    @strawberry.federation.mutation(
        inaccessible=True, description="Internal: record the purchase behind a check (SERVICE, idempotent)."
    )
    async def record_purchase(self, info: Info, input: RecordPurchaseArgument) -> Purchase:
        actor = info.context.auth.require(AuthRole.SERVICE)
        async with info.context.db.write() as session:
            row = await services.record_purchase(
                session,
                actor=actor,
                check_id=parse_id(input.check_id, field="checkId"),
                user_id=parse_id(input.user_id, field="userId"),
                name=input.name,
                payment=input.payment.value,
                total=input.total,
                created_at=input.created_at,
            )
        return Purchase.from_row(row)


schema = SubgraphSchema(query=Query, mutation=Mutation, types=[Check])
