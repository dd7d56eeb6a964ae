"""GraphQL types of the purchase subgraph (tables never double as GraphQL types)."""

import enum
from datetime import datetime
from typing import Annotated, Any, Self

import strawberry

from subgraphs._common.connection import Connection
from subgraphs._common.db import as_utc, utcnow
from subgraphs._common.ids import parse_id, parse_ids, to_id
from subgraphs._common.loaders import load_required
from subgraphs._common.payment import Payment
from subgraphs.purchase import models, services, sessions
from subgraphs.purchase.context import Context
from subgraphs.purchase.signing import IssuedToken

Info = strawberry.Info[Context, None]


@strawberry.enum(name="Role")
class UserRole(enum.Enum):
    """A user's role as the API shows it (SERVICE is never a user's)."""

    CUSTOMER = "CUSTOMER"
    ADMIN = "ADMIN"


@strawberry.type
class UserCategory:
    id: strawberry.ID
    name: str

    @classmethod
    def from_row(cls, row: models.UserCategory) -> Self:
        return cls(id=to_id(row.id), name=row.name)


@strawberry.type
class Session:
    """A login of yours, kept alive by refreshing until it ends (or its refresh token expires unused)."""

    id: strawberry.ID
    created_at: datetime
    last_used_at: datetime
    current: bool = strawberry.field(description="Whether it is the session of the token asking.")

    @classmethod
    def from_row(cls, row: models.LoginSession, *, current: str | None) -> Self:
        return cls(
            id=strawberry.ID(row.sid),
            created_at=as_utc(row.created_at),
            last_used_at=as_utc(row.last_used_at),
            current=row.sid == current,
        )


@strawberry.federation.type(keys=["id"])
class User:
    id: strawberry.ID
    login: str
    first_name: str
    second_name: str
    role: UserRole
    registered_at: datetime
    disabled: bool = strawberry.field(
        description="A disabled user cannot log in or refresh (setUserDisabled)."
    )

    @classmethod
    def from_row(cls, row: models.User) -> Self:
        return cls(
            id=to_id(row.id),
            login=row.login,
            first_name=row.first_name,
            second_name=row.second_name,
            role=UserRole(row.role),
            registered_at=as_utc(row.registered_at),
            disabled=row.disabled,
        )

    @classmethod
    async def resolve_references(cls, info: Info, ids: list[str]) -> list[Self | Exception | None]:
        actor = info.context.auth.require()
        found = await info.context.db.read(services.users_for, actor=actor, ids=parse_ids(ids, field="id"))
        return [cls.from_row(row) if isinstance(row, models.User) else row for row in found]

    @strawberry.field
    async def categories(self, info: Info) -> list[UserCategory]:
        rows = await info.context.loaders.categories_of_user.load(int(self.id))
        return [UserCategory.from_row(row) for row in rows]

    @strawberry.field(description="The user's live sessions, newest first: yourself, or anyone for an ADMIN.")
    async def sessions(self, info: Info) -> list[Session]:
        actor = info.context.auth.require()
        rows = await info.context.db.read(
            sessions.sessions_of, actor=actor, user_id=int(self.id), now=utcnow()
        )
        return [Session.from_row(row, current=actor.session) for row in rows]

    @strawberry.field(description="Newest first.")
    async def purchases(
        self, info: Info, first: int | None = 20, after: str | None = None
    ) -> "Connection[Purchase]":
        page = await info.context.db.read(
            services.list_purchases,
            actor=info.context.auth.require(),
            user_id=int(self.id),
            first=first,
            after=after,
        )
        return Connection.of(page, Purchase.of)


@strawberry.federation.type(keys=["id"])
class Check:
    """A shop's check; the purchase subgraph contributes the purchase it records."""

    id: strawberry.ID

    @classmethod
    async def resolve_references(cls, info: Info, ids: list[str]) -> list[Self]:
        return [cls(id=strawberry.ID(id)) for id in ids]

    @strawberry.field
    async def purchase(self, info: Info) -> "Purchase | None":
        view = await info.context.loaders.purchase_by_check.load(parse_id(self.id, field="id"))
        return Purchase.of(view) if view else None


@strawberry.federation.type(keys=["id"])
class Purchase:
    id: strawberry.ID
    name: str = strawberry.field(description="The purchaseName given at buy time.")
    payment: Payment
    total: int
    created_at: datetime
    user_category: UserCategory | None
    check: Check
    user_id: strawberry.Private[int]

    @classmethod
    def of(cls, view: services.PurchaseView) -> Self:
        row, category = view.purchase, view.category
        return cls(
            id=to_id(row.id),
            name=row.name,
            payment=Payment(row.payment),
            total=row.total,
            created_at=as_utc(row.created_at),
            user_category=UserCategory.from_row(category) if category else None,
            check=Check(id=to_id(row.check_id)),
            user_id=row.user_id,
        )

    @classmethod
    def of_event(cls, item: dict[str, Any]) -> Self:
        """A purchase as its live event carries it (`services.purchase_event`): new, uncategorised."""
        return cls(
            id=to_id(item["id"]),
            name=item["name"],
            payment=Payment(item["payment"]),
            total=item["total"],
            created_at=datetime.fromisoformat(item["created_at"]),
            user_category=None,
            check=Check(id=to_id(item["check_id"])),
            user_id=item["user_id"],
        )

    @classmethod
    async def resolve_references(cls, info: Info, ids: list[str]) -> list[Self | None]:
        views = await info.context.db.read(
            services.visible_purchases, actor=info.context.auth.require(), ids=parse_ids(ids, field="id")
        )
        return [cls.of(view) if view else None for view in views]

    @strawberry.field
    async def user(self, info: Info) -> User:
        return User.from_row(await load_required(info.context.loaders.user, self.user_id, "user"))


@strawberry.type
class AuthPayload:
    token: str = strawberry.field(description="The access token: send it as `Authorization: Bearer <token>`.")
    expires_at: datetime
    refresh_token: str = strawberry.field(
        description="Spent once by refreshSession for the next pair; keep it secret, and never twice."
    )
    refresh_expires_at: datetime
    user: User

    @classmethod
    def of(cls, issued: IssuedToken) -> Self:
        return cls(
            token=issued.token,
            expires_at=issued.expires_at,
            refresh_token=issued.refresh_token,
            refresh_expires_at=issued.refresh_expires_at,
            user=User.from_row(issued.user),
        )


@strawberry.input
class RegisterInput:
    login: str
    password: str
    first_name: str
    second_name: str


@strawberry.input
class UpdateMeInput:
    first_name: str | None = None
    second_name: str | None = None


@strawberry.input
class UpdatePurchaseInput:
    id: strawberry.ID
    name: str | None = None
    payment: Payment | None = None
    user_category_id: strawberry.ID | None = strawberry.field(
        default=strawberry.UNSET, description="An explicit null clears the category."
    )


@strawberry.federation.input(inaccessible=True)
class RecordPurchaseInput:
    check_id: strawberry.ID
    user_id: strawberry.ID
    name: str
    payment: Payment
    total: int
    created_at: datetime | None = None
    # The id of the buy's request: the record is logged under it, however late it arrives.
    request_id: str | None = None


RecordPurchaseArgument = Annotated[RecordPurchaseInput, strawberry.federation.argument(inaccessible=True)]
