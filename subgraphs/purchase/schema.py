"""Query and Mutation of the purchase subgraph, and its federation schema."""

import logging
from collections.abc import AsyncGenerator

import strawberry

from subgraphs._common import live, request_id
from subgraphs._common.db import utcnow
from subgraphs._common.events import bus_of
from subgraphs._common.ids import parse_id, parse_ids
from subgraphs._common.schema import SubgraphSchema
from subgraphs.purchase import services, sessions
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

logger = logging.getLogger(__name__)


@strawberry.type
class Query:
    @strawberry.field(description="The user behind the token, or null without one.")
    async def me(self, info: Info) -> User | None:
        user_id = services.me(info.context.auth.principal)
        row = await info.context.loaders.user.load(user_id) if user_id is not None else None
        return User.from_row(row) if row else None

    @strawberry.field(description="Yourself, or anyone for an ADMIN.")
    async def user(self, info: Info, id: strawberry.ID) -> User | None:
        row = await info.context.db.read(
            services.get_user, actor=info.context.auth.require(), user_id=parse_id(id, field="id")
        )
        return User.from_row(row) if row else None

    @strawberry.field(description="Your purchases by id; unknown ids (or not yours) give null entries.")
    async def purchases(self, info: Info, ids: list[strawberry.ID]) -> list[Purchase | None]:
        views = await info.context.db.read(
            services.visible_purchases, actor=info.context.auth.require(), ids=parse_ids(ids, field="ids")
        )
        return [Purchase.of(view) if view else None for view in views]


@strawberry.type
class Mutation:
    @strawberry.mutation(description="Create a CUSTOMER account and log in.")
    async def register(self, info: Info, input: RegisterInput) -> AuthPayload:
        issued = await services.register(
            info.context.db,
            login=input.login,
            password=input.password,
            first_name=input.first_name,
            second_name=input.second_name,
            issuer=info.context.resources.issuer,
        )
        return AuthPayload.of(issued)

    @strawberry.mutation(description="Log in: a new session.")
    async def login(self, info: Info, login: str, password: str) -> AuthPayload:
        issued = await services.login(
            info.context.db,
            login=login,
            password=password,
            issuer=info.context.resources.issuer,
            policy=info.context.resources.settings.login_policy,
        )
        return AuthPayload.of(issued)

    @strawberry.mutation(
        description="Spend a refresh token for a new pair; a spent one again ends its session."
    )
    async def refresh_session(self, info: Info, refresh_token: str) -> AuthPayload:
        issued = await services.refresh_session(
            info.context.db,
            actor=info.context.auth.principal,
            refresh_token=refresh_token,
            address=info.context.address,
            issuer=info.context.resources.issuer,
            policy=info.context.resources.settings.refresh_policy,
        )
        return AuthPayload.of(issued)

    @strawberry.mutation(
        description="End the session of this refresh token; false when it had already ended."
    )
    async def logout(self, info: Info, refresh_token: str) -> bool:
        return await services.logout(
            info.context.db,
            actor=info.context.auth.principal,
            refresh_token=refresh_token,
            address=info.context.address,
            policy=info.context.resources.settings.refresh_policy,
        )

    @strawberry.mutation(description="End every session of yours; how many there were.")
    async def logout_everywhere(self, info: Info) -> int:
        return await info.context.db.write(
            sessions.logout_everywhere, actor=info.context.auth.require(), now=utcnow()
        )

    @strawberry.mutation(description="Every other session of yours ends; this one gets a new pair.")
    async def change_password(self, info: Info, current_password: str, new_password: str) -> AuthPayload:
        issued = await services.change_password(
            info.context.db,
            actor=info.context.auth.require(),
            current_password=current_password,
            new_password=new_password,
            issuer=info.context.resources.issuer,
            policy=info.context.resources.settings.login_policy,
        )
        return AuthPayload.of(issued)

    @strawberry.mutation(
        description="End one session of yours (an id of me.sessions); false when already ended."
    )
    async def end_session(self, info: Info, id: strawberry.ID) -> bool:
        return await info.context.db.write(
            sessions.end_session, actor=info.context.auth.require(), sid=str(id), now=utcnow()
        )

    @strawberry.mutation(
        description="ADMIN: a disabled user cannot log in or refresh, and their sessions end."
    )
    async def set_user_disabled(self, info: Info, user_id: strawberry.ID, disabled: bool) -> User:
        row = await info.context.db.write(
            sessions.set_disabled,
            actor=info.context.auth.require(),
            user_id=parse_id(user_id, field="userId"),
            disabled=disabled,
            now=utcnow(),
        )
        return User.from_row(row)

    @strawberry.mutation
    async def update_me(self, info: Info, input: UpdateMeInput) -> User:
        row = await info.context.db.write(
            services.update_me,
            actor=info.context.auth.require(),
            first_name=input.first_name,
            second_name=input.second_name,
        )
        return User.from_row(row)

    @strawberry.mutation
    async def create_user_category(self, info: Info, name: str) -> UserCategory:
        row = await info.context.db.write(
            services.create_category, actor=info.context.auth.require(), name=name
        )
        return UserCategory.from_row(row)

    @strawberry.mutation
    async def rename_user_category(self, info: Info, id: strawberry.ID, name: str) -> UserCategory:
        row = await info.context.db.write(
            services.rename_category,
            actor=info.context.auth.require(),
            category_id=parse_id(id, field="id"),
            name=name,
        )
        return UserCategory.from_row(row)

    @strawberry.mutation(description="Purchases in it keep existing, uncategorised.")
    async def delete_user_category(self, info: Info, id: strawberry.ID) -> strawberry.ID:
        await info.context.db.write(
            services.delete_category, actor=info.context.auth.require(), category_id=parse_id(id, field="id")
        )
        return id

    @strawberry.mutation
    async def update_purchase(self, info: Info, input: UpdatePurchaseInput) -> Purchase:
        set_category = input.user_category_id is not strawberry.UNSET
        category_id = (
            parse_id(input.user_category_id, field="userCategoryId")
            if set_category and input.user_category_id is not None
            else None
        )
        row = await info.context.db.write(
            services.update_purchase,
            actor=info.context.auth.require(),
            purchase_id=parse_id(input.id, field="id"),
            name=input.name,
            payment=input.payment,
            category_id=category_id,
            set_category=set_category,
        )
        return Purchase.of(row)

    @strawberry.mutation
    async def delete_purchase(self, info: Info, id: strawberry.ID) -> strawberry.ID:
        await info.context.db.write(
            services.delete_purchase, actor=info.context.auth.require(), purchase_id=parse_id(id, field="id")
        )
        return id

    @strawberry.federation.mutation(
        inaccessible=True, description="Internal: record the purchase behind a check (SERVICE, idempotent)."
    )
    async def record_purchase(self, info: Info, input: RecordPurchaseArgument) -> Purchase:
        with request_id.use(input.request_id or request_id.current()):
            row = await info.context.db.write(
                services.record_purchase,
                actor=info.context.auth.require(),
                check_id=parse_id(input.check_id, field="checkId"),
                user_id=parse_id(input.user_id, field="userId"),
                name=input.name,
                payment=input.payment,
                total=input.total,
                created_at=input.created_at,
            )
            logger.info("recorded the purchase of check %s", input.check_id)
        return Purchase.of(services.PurchaseView(purchase=row, category=None))


@strawberry.type
class Subscription:
    @strawberry.subscription(description="CUSTOMER: each purchase of yours once recorded; ADMIN: everyone's.")
    async def purchase_recorded(self, info: Info) -> AsyncGenerator[Purchase, None]:
        db = info.context.db
        async with live.watch(
            bus_of(db), services.RECORDED, field="purchaseRecorded", auth=info.context.auth
        ) as recorded:
            actor = services.watch_purchases(info.context.auth.require())
            async for event in recorded:
                for item in event.items:
                    if actor.can_read(item["user_id"]):
                        live.sent("purchaseRecorded")
                        yield Purchase.of_event(item)


schema = SubgraphSchema(query=Query, mutation=Mutation, subscription=Subscription, types=[Check])
