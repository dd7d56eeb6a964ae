"""Purchase business rules: each rule and permission check lives here, once."""

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from subgraphs._common.auth import Principal, Role, hash_password, issue_token, verify_password
from subgraphs._common.db import utcnow
from subgraphs._common.errors import BadUserInput, Conflict, Forbidden, NotFound, Unauthenticated
from subgraphs._common.inputs import text
from subgraphs._common.pagination import Page, decode_cursor, encode_cursor, page_size
from subgraphs._common.rows import ensure_unique, get_required
from subgraphs.purchase.models import Purchase, User, UserCategory

LOGIN_PATTERN = re.compile(r"[A-Za-z0-9_.-]{3,64}")
PASSWORD_MIN, PASSWORD_MAX = 8, 256
PAYMENTS = ("CASH", "CARD")
_BAD_CREDENTIALS = "Wrong login or password"
_CATEGORY_TAKEN = "You already have a category with that name"


@dataclass(frozen=True, slots=True)
class Session:
    user: User
    token: str
    expires_at: datetime


def issue_session(user: User, *, secret: str, ttl_seconds: int) -> Session:
    """A signed token for `user`."""
    token, expires_at = issue_token(
        secret=secret, subject=str(user.id), role=Role(user.role), ttl_seconds=ttl_seconds
    )
    return Session(user=user, token=token, expires_at=expires_at)


async def new_user(*, login: str, password: str, first_name: str, second_name: str, role: Role) -> User:
    """A validated user with its password hashed, not stored yet: hashing takes tens of milliseconds, so it
    happens before the write transaction, not inside it."""
    if not LOGIN_PATTERN.fullmatch(login):
        raise BadUserInput("'login' must be 3 to 64 of A-Z a-z 0-9 _ . -", field="login")
    if not PASSWORD_MIN <= len(password) <= PASSWORD_MAX:
        raise BadUserInput(
            f"'password' must be {PASSWORD_MIN} to {PASSWORD_MAX} characters", field="password"
        )
    first_name = text(first_name, field="firstName", max_length=100)
    second_name = text(second_name, field="secondName", max_length=100)
    return User(
        login=login,
        password_hash=await hash_password(password),
        first_name=first_name,
        second_name=second_name,
        role=role.value,
    )


async def add_user(session: AsyncSession, user: User) -> User:
    """Store a user from `new_user`; its login must be free."""
    await ensure_unique(session, User, message="That login is taken", field="login", login=user.login)
    session.add(user)
    try:
        await session.flush()
    except IntegrityError:
        raise Conflict("That login is taken", field="login") from None
    return user


_DUMMY_HASH: str | None = None


async def login(
    session: AsyncSession, *, login: str, password: str, secret: str, ttl_seconds: int
) -> Session:
    """Log in; an unknown login and a wrong password are indistinguishable."""
    global _DUMMY_HASH
    user = (await session.exec(select(User).where(User.login == login))).first()
    if user is None:
        # Spend the same time as a real check so response time does not reveal which logins exist.
        _DUMMY_HASH = _DUMMY_HASH or await hash_password("not-a-real-password")
        await verify_password(_DUMMY_HASH, password)
        raise Unauthenticated(_BAD_CREDENTIALS)
    if not await verify_password(user.password_hash, password):
        raise Unauthenticated(_BAD_CREDENTIALS)
    return issue_session(user, secret=secret, ttl_seconds=ttl_seconds)


def can_see_user(actor: Principal, user_id: int) -> bool:
    """Users see themselves; admins and services see everyone."""
    return actor.role in (Role.ADMIN, Role.SERVICE) or actor.user_id == user_id


async def get_user(session: AsyncSession, *, actor: Principal, user_id: int) -> User | None:
    """A user by id: yourself, or anyone for an admin."""
    if not can_see_user(actor, user_id):
        raise Forbidden("You can only read your own user")
    return await session.get(User, user_id)


async def users_by_ids(session: AsyncSession, ids: Sequence[int]) -> dict[int, User]:
    """Users keyed by id (no permission check: callers filter)."""
    rows = (await session.exec(select(User).where(col(User.id).in_(ids)))).all()
    return {row.id: row for row in rows if row.id is not None}


async def update_me(
    session: AsyncSession, *, actor: Principal, first_name: str | None, second_name: str | None
) -> User:
    """Change your own names."""
    user = await session.get(User, actor.user_id)
    if user is None:
        raise NotFound("Your user no longer exists")
    if first_name is not None:
        user.first_name = text(first_name, field="firstName", max_length=100)
    if second_name is not None:
        user.second_name = text(second_name, field="secondName", max_length=100)
    session.add(user)
    await session.flush()
    return user


async def categories_of_users(
    session: AsyncSession, user_ids: Sequence[int]
) -> dict[int, list[UserCategory]]:
    """Each user's categories, by name."""
    rows = (
        await session.exec(
            select(UserCategory).where(col(UserCategory.user_id).in_(user_ids)).order_by(UserCategory.name)
        )
    ).all()
    grouped: dict[int, list[UserCategory]] = {user_id: [] for user_id in user_ids}
    for row in rows:
        grouped[row.user_id].append(row)
    return grouped


async def categories_by_ids(session: AsyncSession, ids: Sequence[int]) -> dict[int, UserCategory]:
    """Categories keyed by id."""
    rows = (await session.exec(select(UserCategory).where(col(UserCategory.id).in_(ids)))).all()
    return {row.id: row for row in rows if row.id is not None}


async def _own_category(
    session: AsyncSession, *, actor: Principal, category_id: int, field: str
) -> UserCategory:
    category = await get_required(session, UserCategory, category_id, message="No such category", field=field)
    if category.user_id != actor.user_id:
        raise Forbidden("That category is not yours", field=field)
    return category


async def create_category(session: AsyncSession, *, actor: Principal, name: str) -> UserCategory:
    """A new category of your own."""
    name = text(name, field="name", max_length=100)
    await ensure_unique(
        session, UserCategory, message=_CATEGORY_TAKEN, field="name", user_id=actor.user_id, name=name
    )
    category = UserCategory(user_id=actor.user_id, name=name)
    session.add(category)
    await session.flush()
    return category


async def rename_category(
    session: AsyncSession, *, actor: Principal, category_id: int, name: str
) -> UserCategory:
    """Rename one of your categories."""
    category = await _own_category(session, actor=actor, category_id=category_id, field="id")
    name = text(name, field="name", max_length=100)
    await ensure_unique(
        session,
        UserCategory,
        message=_CATEGORY_TAKEN,
        field="name",
        exclude_id=category_id,
        user_id=actor.user_id,
        name=name,
    )
    category.name = name
    session.add(category)
    await session.flush()
    return category


async def delete_category(session: AsyncSession, *, actor: Principal, category_id: int) -> None:
    """Delete one of your categories; its purchases stay, uncategorised."""
    category = await _own_category(session, actor=actor, category_id=category_id, field="id")
    purchases = (await session.exec(select(Purchase).where(Purchase.user_category_id == category_id))).all()
    for purchase in purchases:
        purchase.user_category_id = None
        session.add(purchase)
    await session.delete(category)
    await session.flush()


async def list_purchases(
    session: AsyncSession, *, actor: Principal, user_id: int, first: int | None, after: str | None
) -> Page[Purchase]:
    """A user's purchases, newest first."""
    if not can_see_user(actor, user_id):
        raise Forbidden("You can only read your own purchases")
    size = page_size(first)
    cursor = decode_cursor(after, arity=2)
    query = select(Purchase).where(Purchase.user_id == user_id)
    if cursor is not None:
        created_at, last_id = datetime.fromisoformat(str(cursor[0])), int(cursor[1])
        query = query.where(
            (col(Purchase.created_at) < created_at)
            | ((col(Purchase.created_at) == created_at) & (col(Purchase.id) < last_id))
        )
    query = query.order_by(col(Purchase.created_at).desc(), col(Purchase.id).desc()).limit(size + 1)
    rows = list((await session.exec(query)).all())
    total = (await session.exec(select(func.count()).where(Purchase.user_id == user_id))).one()
    has_next = len(rows) > size
    rows = rows[:size]
    end = encode_cursor(rows[-1].created_at.isoformat(), rows[-1].id) if rows else None
    return Page(rows=rows, has_next=has_next, end_cursor=end, total=total)


async def purchases_by_ids(session: AsyncSession, ids: Sequence[int]) -> dict[int, Purchase]:
    """Purchases keyed by id (no permission check: callers filter with `can_see_purchase`)."""
    rows = (await session.exec(select(Purchase).where(col(Purchase.id).in_(ids)))).all()
    return {row.id: row for row in rows if row.id is not None}


async def purchases_by_check_ids(session: AsyncSession, check_ids: Sequence[int]) -> dict[int, Purchase]:
    """Purchases keyed by the check they record."""
    rows = (await session.exec(select(Purchase).where(col(Purchase.check_id).in_(check_ids)))).all()
    return {row.check_id: row for row in rows}


def can_see_purchase(actor: Principal | None, purchase: Purchase) -> bool:
    """A purchase is visible to its buyer, admins and services."""
    return actor is not None and can_see_user(actor, purchase.user_id)


async def _own_purchase(session: AsyncSession, *, actor: Principal, purchase_id: int) -> Purchase:
    purchase = await get_required(session, Purchase, purchase_id, message="No such purchase", field="id")
    if purchase.user_id != actor.user_id:
        raise Forbidden("That purchase is not yours", field="id")
    return purchase


async def update_purchase(
    session: AsyncSession,
    *,
    actor: Principal,
    purchase_id: int,
    name: str | None,
    payment: str | None,
    category_id: int | None,
    set_category: bool,
) -> Purchase:
    """Rename a purchase of yours, change its payment, or (un)set its category."""
    purchase = await _own_purchase(session, actor=actor, purchase_id=purchase_id)
    if name is not None:
        purchase.name = text(name, field="name", max_length=200)
    if payment is not None:
        purchase.payment = payment
    if set_category:
        if category_id is not None:
            await _own_category(session, actor=actor, category_id=category_id, field="userCategoryId")
        purchase.user_category_id = category_id
    session.add(purchase)
    await session.flush()
    return purchase


async def delete_purchase(session: AsyncSession, *, actor: Principal, purchase_id: int) -> None:
    """Delete a purchase of yours (the shop's check stays)."""
    purchase = await _own_purchase(session, actor=actor, purchase_id=purchase_id)
    await session.delete(purchase)
    await session.flush()


async def record_purchase(
    session: AsyncSession,
    *,
    actor: Principal,
    check_id: int,
    user_id: int,
    name: str,
    payment: str,
    total: int,
    created_at: datetime | None,
) -> Purchase:
    """Record the purchase behind a shop's check; recording the same check again returns the first record."""
    if actor.role is not Role.SERVICE:
        raise Forbidden("Only services record purchases")
    existing = (await session.exec(select(Purchase).where(Purchase.check_id == check_id))).first()
    if existing is not None:
        return existing
    if await session.get(User, user_id) is None:
        raise NotFound("No such user", field="userId")
    if payment not in PAYMENTS:
        raise BadUserInput("Unknown payment", field="payment")
    purchase = Purchase(
        user_id=user_id,
        check_id=check_id,
        name=text(name, field="name", max_length=200),
        payment=payment,
        total=total,
        created_at=created_at or utcnow(),
    )
    session.add(purchase)
    await session.flush()
    return purchase
