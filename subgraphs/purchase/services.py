"""Purchase business rules: each rule and permission check lives here, once.

Service functions take the session first, but for the one exception (`subgraphs.factory.services` says
it): `create_user`, `register` and `login` hash a password before writing, so they take the `Database`.
"""

import functools
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import Row, Table, Text, bindparam, cast, exists, func, update
from sqlalchemy import select as core_select  # sqlmodel's select types ORM entities, not tables
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from subgraphs._common import events, rows
from subgraphs._common.auth import Principal, Role, hash_password, verify_password
from subgraphs._common.db import Database, as_utc, utcnow
from subgraphs._common.errors import BadUserInput, Conflict, Forbidden, NotFound, Unauthenticated
from subgraphs._common.inputs import text
from subgraphs._common.pagination import Listing, Page, Sort
from subgraphs._common.payment import Payment
from subgraphs.purchase import sessions, throttle
from subgraphs.purchase.models import Purchase, User, UserCategory
from subgraphs.purchase.signing import IssuedToken, Issuer

R = TypeVar("R")
LOGIN_PATTERN = re.compile(r"[A-Za-z0-9_.-]{3,64}")
PASSWORD_MIN, PASSWORD_MAX = 8, 256
_BAD_CREDENTIALS = "Wrong login or password"
_CATEGORY_TAKEN = "You already have a category with that name"
RECORDED = "purchase"  # the topic of purchases recorded (the purchaseRecorded subscription)
_PURCHASE: Table = Purchase.__table__  # type: ignore[attr-defined]
# The flagship's hot read as a Core statement, compiled once: its rows go straight to the GraphQL types, with
# no ORM objects and no identity map.
_PURCHASES = Listing(
    core_select(_PURCHASE).where(_PURCHASE.c.user_id == bindparam("owner")),
    order=(Sort(_PURCHASE.c.created_at, descending=True), Sort(_PURCHASE.c.id, descending=True)),
)


@dataclass(frozen=True, slots=True)
class PurchaseView:
    """A purchase (its row, or a plain row of its table) with the category it is filed under: everything a
    purchase shows of its own."""

    purchase: Purchase | Row[Any, *tuple[Any, ...]]
    category: UserCategory | None


def purchase_views(
    session: Session, purchases: Sequence[Purchase | Row[Any, *tuple[Any, ...]]]
) -> list[PurchaseView]:
    """`purchases` with their categories, in one statement whatever their number."""
    ids = sorted({p.user_category_id for p in purchases if p.user_category_id is not None})
    categories = rows.by_ids(session, UserCategory, ids) if ids else {}
    return [PurchaseView(purchase=p, category=categories.get(p.user_category_id or 0)) for p in purchases]


def visible_purchases(
    session: Session, *, actor: Principal, ids: Sequence[int], key: str = "id"
) -> list[PurchaseView | None]:
    """The purchases with these ids (or check ids, by `key`), in order; None for a missing one or one the
    actor may not see."""
    found = rows.by_ids(session, Purchase, ids, key=key)
    views = {
        getattr(view.purchase, key): view
        for view in purchase_views(session, [p for p in found.values() if actor.can_read(p.user_id)])
    }
    return [views.get(value) for value in ids]


def purchases_of_checks(
    session: Session, check_ids: Sequence[int], *, actor: Principal | None
) -> dict[int, PurchaseView]:
    """What the actor may see of the purchase behind each check (a check has one at most)."""
    if actor is None:
        return {}
    views = visible_purchases(session, actor=actor, ids=check_ids, key="check_id")
    return {check_id: view for check_id, view in zip(check_ids, views, strict=True) if view}


def _check_password(password: str, *, field: str) -> None:
    if not PASSWORD_MIN <= len(password) <= PASSWORD_MAX:
        raise BadUserInput(f"'{field}' must be {PASSWORD_MIN} to {PASSWORD_MAX} characters", field=field)


async def _new_user(login: str, password: str, first_name: str, second_name: str, role: Role) -> User:
    """A valid user, its password hashed (tens of milliseconds: before any transaction, not inside one)."""
    if not LOGIN_PATTERN.fullmatch(login):
        raise BadUserInput("'login' must be 3 to 64 of A-Z a-z 0-9 _ . -", field="login")
    _check_password(password, field="password")
    return User(
        login=login,
        password_hash=await hash_password(password),
        first_name=text(first_name, field="firstName", max_length=100),
        second_name=text(second_name, field="secondName", max_length=100),
        role=role.value,
    )


async def create_user(
    db: Database, *, login: str, password: str, first_name: str, second_name: str, role: Role
) -> User:
    """Validate and store a user; this function owns its transaction."""
    return await db.write(_add_user, await _new_user(login, password, first_name, second_name, role))


def _add_user(session: Session, user: User) -> User:
    rows.ensure_unique(session, User, message="That login is taken", field="login", login=user.login)
    session.add(user)
    try:
        session.flush()
    except IntegrityError:
        raise Conflict("That login is taken", field="login") from None
    return user


async def register(
    db: Database, *, login: str, password: str, first_name: str, second_name: str, issuer: Issuer
) -> IssuedToken:
    """A new CUSTOMER, logged in: the user and its first session in one transaction."""
    user = await _new_user(login, password, first_name, second_name, Role.CUSTOMER)
    pair = await db.write(_add_user_in_session, user, ttl=issuer.refresh_ttl)
    return issuer.for_session(pair)


def _add_user_in_session(session: Session, user: User, *, ttl: timedelta) -> sessions.Pair:
    return sessions.start(session, user=_add_user(session, user), now=utcnow(), ttl=ttl)


# The hash of a password nobody has: an unknown login is checked against it, so an unknown login and a wrong
# password both cost exactly one password check, and take the same time.
_NOBODY = "$argon2id$v=19$m=65536,t=3,p=4$B2k6cm0xpePtLpHBb622jg$ld8ixVLWXQwx2qE3GovcRShylBOSqCJo4PZ+j/J5aVM"


async def login(
    db: Database, *, login: str, password: str, issuer: Issuer, policy: throttle.Policy
) -> IssuedToken:
    """Log in, starting a session; an unknown login and a wrong password are indistinguishable, and after a
    few failures a login name is blocked for a while (RATE_LIMITED). A disabled user is refused once the
    password matched. The password check runs outside any transaction: it takes tens of milliseconds."""
    now = utcnow()
    plausible = LOGIN_PATTERN.fullmatch(login) is not None
    user, had_failures = await db.read(_login_state, login=login, now=now) if plausible else (None, False)
    matches = await verify_password(user.password_hash if user else _NOBODY, password)
    if user is None or not matches:
        if plausible:
            await db.write(throttle.record_failure, login=login, now=now, policy=policy)
        raise Unauthenticated(_BAD_CREDENTIALS)
    if user.disabled:
        raise Unauthenticated(sessions.DISABLED)
    pair = await db.write(_logged_in, user, clear_failures=had_failures, now=now, ttl=issuer.refresh_ttl)
    return issuer.for_session(pair)


def _logged_in(
    session: Session, user: User, *, clear_failures: bool, now: datetime, ttl: timedelta
) -> sessions.Pair:
    if clear_failures:
        throttle.clear(session, login=user.login)
    return sessions.start(session, user=user, now=now, ttl=ttl)


async def _by_refresh_token(
    db: Database,
    fn: Callable[..., R | sessions.Refusal],
    *,
    address: str,
    policy: throttle.Policy,
    **kwargs: Any,
) -> R:
    """`fn(session, now=..., **kwargs)` in a write transaction, for a client presenting a refresh token:
    refused (RATE_LIMITED) while its address is blocked; a refusal is UNAUTHENTICATED, and one for a token
    that matched nothing (a guess) counts against the address."""
    now = utcnow()
    key = throttle.address_key(address)
    await db.read(throttle.ensure_not_blocked, login=key, now=now)
    outcome = await db.write(fn, now=now, **kwargs)
    if isinstance(outcome, sessions.Refusal):
        if outcome.guess:
            await db.write(throttle.record_failure, login=key, now=now, policy=policy)
        raise Unauthenticated(outcome.message)
    return outcome


async def refresh_session(
    db: Database,
    *,
    actor: Principal | None,
    refresh_token: str,
    address: str,
    issuer: Issuer,
    policy: throttle.Policy,
) -> IssuedToken:
    """Trade a refresh token for a new pair (sessions.refresh); refresh tokens that match nothing count
    against the client's address, which is blocked for a while after a few (RATE_LIMITED)."""
    pair = await _by_refresh_token(
        db,
        sessions.refresh,
        address=address,
        policy=policy,
        actor=actor,
        refresh_token=refresh_token,
        ttl=issuer.refresh_ttl,
    )
    return issuer.for_session(pair)


async def logout(
    db: Database, *, actor: Principal | None, refresh_token: str, address: str, policy: throttle.Policy
) -> bool:
    """End the session of a refresh token (sessions.logout); guesses count as for refreshSession."""
    return await _by_refresh_token(
        db, sessions.logout, address=address, policy=policy, actor=actor, refresh_token=refresh_token
    )


async def change_password(
    db: Database,
    *,
    actor: Principal,
    current_password: str,
    new_password: str,
    issuer: Issuer,
    policy: throttle.Policy,
) -> IssuedToken:
    """Change your password: the current one must match (a wrong one counts as a failed login of your login
    name, so a stolen access token cannot guess it), every other session ends, and yours gets a new pair."""
    user_id = actor.require(Role.CUSTOMER, Role.ADMIN).user_id
    _check_password(new_password, field="newPassword")
    now = utcnow()
    user = await db.read(_user_to_change, user_id=user_id, now=now)
    if not await verify_password(user.password_hash, current_password):
        await db.write(throttle.record_failure, login=user.login, now=now, policy=policy)
        raise BadUserInput("Wrong password", field="currentPassword")
    new_hash = await hash_password(new_password)
    pair = await db.write(
        _password_changed, actor=actor, user_id=user_id, new_hash=new_hash, now=now, ttl=issuer.refresh_ttl
    )
    return issuer.for_session(pair)


def _user_to_change(session: Session, *, user_id: int, now: datetime) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("Your user no longer exists")
    throttle.ensure_not_blocked(session, login=user.login, now=now)
    return user


def _password_changed(
    session: Session, *, actor: Principal, user_id: int, new_hash: str, now: datetime, ttl: timedelta
) -> sessions.Pair:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("Your user no longer exists")
    user.password_hash = new_hash
    session.add(user)
    return sessions.rotate_after_password_change(session, actor=actor, user=user, now=now, ttl=ttl)


def _login_state(session: Session, *, login: str, now: datetime) -> tuple[User | None, bool]:
    had_failures = throttle.ensure_not_blocked(session, login=login, now=now)
    return session.exec(select(User).where(User.login == login)).first(), had_failures


def readable_user_id(actor: Principal, user_id: int) -> int:
    """`user_id`, when the actor may read that user (FORBIDDEN otherwise)."""
    if not actor.can_read(user_id):
        raise Forbidden("You can only read your own user")
    return user_id


def me(actor: Principal | None) -> int | None:
    """The user id behind the token, or None for an anonymous caller or a service."""
    if actor is None or actor.role is Role.SERVICE:
        return None
    return actor.user_id


def users_for(session: Session, *, actor: Principal, ids: Sequence[int]) -> list[User | Forbidden | None]:
    """For references from other subgraphs: each user, None when missing, FORBIDDEN when the actor may not
    read it."""
    readable = [user_id for user_id in ids if actor.can_read(user_id)]
    found = rows.by_ids(session, User, readable) if readable else {}
    return [
        found.get(user_id) if actor.can_read(user_id) else Forbidden("You can only read your own user")
        for user_id in ids
    ]


def get_user(session: Session, *, actor: Principal, user_id: int) -> User | None:
    """A user by id: yourself, or anyone for an admin."""
    return session.get(User, readable_user_id(actor, user_id))


def update_me(session: Session, *, actor: Principal, first_name: str | None, second_name: str | None) -> User:
    """Change your own names."""
    user = session.get(User, actor.require(Role.CUSTOMER, Role.ADMIN).user_id)
    if user is None:
        raise NotFound("Your user no longer exists")
    if first_name is not None:
        user.first_name = text(first_name, field="firstName", max_length=100)
    if second_name is not None:
        user.second_name = text(second_name, field="secondName", max_length=100)
    return rows.save(session, user)


def _own_category(session: Session, *, actor: Principal, category_id: int, field: str) -> UserCategory:
    category = rows.get_required(session, UserCategory, category_id, message="No such category", field=field)
    if category.user_id != actor.user_id:
        raise Forbidden("That category is not yours", field=field)
    return category


def create_category(session: Session, *, actor: Principal, name: str) -> UserCategory:
    """A new category of your own."""
    user_id = actor.require(Role.CUSTOMER, Role.ADMIN).user_id
    name = text(name, field="name", max_length=100)
    rows.ensure_unique(
        session, UserCategory, message=_CATEGORY_TAKEN, field="name", user_id=user_id, name=name
    )
    category = UserCategory(user_id=user_id, name=name)
    return rows.save(session, category)


def rename_category(session: Session, *, actor: Principal, category_id: int, name: str) -> UserCategory:
    """Rename one of your categories."""
    category = _own_category(session, actor=actor, category_id=category_id, field="id")
    name = text(name, field="name", max_length=100)
    rows.ensure_unique(
        session,
        UserCategory,
        message=_CATEGORY_TAKEN,
        field="name",
        exclude_id=category_id,
        user_id=category.user_id,
        name=name,
    )
    category.name = name
    return rows.save(session, category)


def delete_category(session: Session, *, actor: Principal, category_id: int) -> None:
    """Delete one of your categories; its purchases stay, uncategorised."""
    category = _own_category(session, actor=actor, category_id=category_id, field="id")
    session.execute(
        update(Purchase).where(col(Purchase.user_category_id) == category_id).values(user_category_id=None)
    )
    session.delete(category)
    session.flush()


def list_purchases(
    session: Session, *, actor: Principal, user_id: int, first: int | None, after: str | None
) -> Page[PurchaseView]:
    """A user's purchases, newest first."""
    if not actor.can_read(user_id):
        raise Forbidden("You can only read your own purchases")
    page = _PURCHASES.page(session, first=first, after=after, owner=user_id)
    return replace(page, rows=purchase_views(session, page.rows))


def _own_purchase(session: Session, *, actor: Principal, purchase_id: int) -> Purchase:
    purchase = rows.get_required(session, Purchase, purchase_id, message="No such purchase", field="id")
    if purchase.user_id != actor.user_id:
        raise Forbidden("That purchase is not yours", field="id")
    return purchase


def update_purchase(
    session: Session,
    *,
    actor: Principal,
    purchase_id: int,
    name: str | None,
    payment: Payment | None,
    category_id: int | None,
    set_category: bool,
) -> PurchaseView:
    """Rename a purchase of yours, change its payment, or (un)set its category."""
    purchase = _own_purchase(session, actor=actor, purchase_id=purchase_id)
    if name is not None:
        purchase.name = text(name, field="name", max_length=200)
    if payment is not None:
        purchase.payment = payment.value
    if set_category:
        if category_id is not None:
            _own_category(session, actor=actor, category_id=category_id, field="userCategoryId")
        purchase.user_category_id = category_id
    rows.save(session, purchase)
    return purchase_views(session, [purchase])[0]


def delete_purchase(session: Session, *, actor: Principal, purchase_id: int) -> None:
    """Delete a purchase of yours (the shop's check stays)."""
    session.delete(_own_purchase(session, actor=actor, purchase_id=purchase_id))
    session.flush()


@functools.cache
def _recording(dialect: str) -> Any:
    """The INSERT of a check's purchase unless it has one, only for a known user: built once per dialect."""
    columns = ("user_id", "check_id", "name", "payment", "total", "created_at")
    user = User.__table__  # type: ignore[attr-defined]
    known = exists().where(user.c.id == bindparam("user_id"))
    values = core_select(*(bindparam(name, type_=_PURCHASE.c[name].type) for name in columns)).where(known)
    return (
        rows.insert_of(dialect)(_PURCHASE)
        .from_select(columns, values)
        .on_conflict_do_nothing(index_elements=[_PURCHASE.c.check_id])
        .returning(*_PURCHASE.c)
    )


@functools.cache
def _recording_notifying() -> Any:
    """On PostgreSQL, `_recording` with the purchase's live event in it: a `pg_notify` of the payload around
    the new row's id (`events.notice_around`), so the event costs no statement, nor round trip, of its own.
    Nothing recorded (a repeat, an unknown user): nothing notified."""
    recorded = _recording("postgresql").cte("recorded")
    payload = bindparam("before", type_=Text) + cast(recorded.c.id, Text) + bindparam("after", type_=Text)
    return core_select(recorded, func.pg_notify(events.CHANNEL, payload).label("notified"))


def record_purchase(
    session: Session,
    *,
    actor: Principal,
    check_id: int,
    user_id: int,
    name: str,
    payment: Payment,
    total: int,
    created_at: datetime | None,
) -> Row[Any, *tuple[Any, ...]]:
    """Record the purchase behind a shop's check (SERVICE only); recording the same check again returns the
    first record."""
    actor.require(Role.SERVICE)
    values = {
        "user_id": user_id,
        "check_id": check_id,
        "name": text(name, field="name", max_length=200),
        "payment": payment.value,
        "total": total,
        "created_at": created_at or utcnow(),
    }
    # One statement: a record sent twice at once is written once (the second waits for the first's unique
    # check_id, then writes nothing), and only for a user that exists.
    connection = session.connection()
    around = None
    if connection.dialect.name == "postgresql":  # with its live event: all of it but the new id is known now
        around = events.notice_around(session, RECORDED, _event_of(values), key="id")
    if around is None:
        recorded = connection.execute(_recording(connection.dialect.name), values).first()
    else:
        recorded = connection.execute(
            _recording_notifying(), values | {"before": around[0], "after": around[1]}
        ).first()
    if recorded is None:
        earlier = connection.execute(core_select(_PURCHASE).where(_PURCHASE.c.check_id == check_id)).first()
        if earlier is None:
            raise NotFound("No such user", field="userId")
        return earlier
    if around is None:
        events.publish(session, RECORDED, [purchase_event(recorded)])
    return recorded


def purchase_event(purchase: Purchase | Row[Any, *tuple[Any, ...]]) -> dict[str, object]:
    """A recorded purchase as its live event carries it (JSON)."""
    return _event_of({name: getattr(purchase, name) for name in _EVENT_FIELDS}) | {"id": purchase.id}


_EVENT_FIELDS = ("user_id", "check_id", "name", "payment", "total", "created_at")


def _event_of(values: dict[str, Any]) -> dict[str, object]:
    """The event of a purchase of these `values` (its columns but the id)."""
    event = {name: values[name] for name in _EVENT_FIELDS}
    # In UTC, as PostgreSQL hands a timestamp back here (SQLite's naive ones were stored as UTC).
    return event | {"created_at": as_utc(values["created_at"]).astimezone(UTC).isoformat()}


def watch_purchases(actor: Principal) -> Principal:
    """Who may watch recorded purchases: a CUSTOMER (their own) or an ADMIN (everyone's)."""
    return actor.require(Role.CUSTOMER, Role.ADMIN)
