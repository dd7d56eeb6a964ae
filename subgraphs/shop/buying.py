"""Buying: stock taken, a numbered check with its lines, and the outbox row of its purchase, in one
transaction."""

import functools
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Integer, Table, Update, bindparam, case, func, insert, update
from sqlalchemy import select as core_select  # sqlmodel's select types ORM entities, not tables
from sqlalchemy.dialects import postgresql
from sqlmodel import Session, select

from subgraphs._common import events, rows
from subgraphs._common.auth import Principal, Role
from subgraphs._common.db import after_commit, utcnow
from subgraphs._common.errors import BadUserInput, InsufficientStock, NotFound
from subgraphs._common.inputs import text
from subgraphs._common.payment import Payment
from subgraphs.shop.checks import CheckRecords, check_records
from subgraphs.shop.models import Category, Check, CheckLine, Outbox, Product, Shop
from subgraphs.shop.outbox import Recorder, purchase_record
from subgraphs.shop.services import MAX_INT, stock_notice

MAX_QUANTITY = 10_000
MAX_DISTINCT_ITEMS = 100


@dataclass(frozen=True, slots=True)
class Item:
    product_id: int
    quantity: int


def _validate_items(items: Sequence[Item]) -> None:
    if not 1 <= len(items) <= MAX_DISTINCT_ITEMS:
        raise BadUserInput(f"'items' must hold 1 to {MAX_DISTINCT_ITEMS} products", field="items")
    seen: set[int] = set()
    for item in items:
        if not 1 <= item.quantity <= MAX_QUANTITY:
            raise BadUserInput(f"'quantity' must be between 1 and {MAX_QUANTITY}", field="items.quantity")
        if item.product_id in seen:
            raise BadUserInput("Each product may appear once in 'items'", field="items.productId")
        seen.add(item.product_id)


_CATEGORY: Table = Category.__table__  # type: ignore[attr-defined]
_CHECK: Table = Check.__table__  # type: ignore[attr-defined]
_LINE: Table = CheckLine.__table__  # type: ignore[attr-defined]
_OUTBOX: Table = Outbox.__table__  # type: ignore[attr-defined]
_PRODUCT: Table = Product.__table__  # type: ignore[attr-defined]
_SHOP: Table = Shop.__table__  # type: ignore[attr-defined]

# A buy's statements, built once (compiled once). What it reads and the rows it adds come first; the rows
# other buys change too (products' stock, the shop's last number) come last, so their locks are held for the
# fewest statements: concurrent buys of one shop, or of one product, queue on those locks until commit.
# Core rows, not ORM objects: the check as the buyer sees it is mapped from plain rows (`CheckRecords`), as
# the router's reads of checks are; no identity map, no model built, for what the buy only reads.
_CATALOG = (
    core_select(
        _SHOP.c.id,
        _SHOP.c.name,
        _SHOP.c.address,
        _SHOP.c.phone,
        _PRODUCT.c.id,
        _PRODUCT.c.name,
        _PRODUCT.c.description,
        _PRODUCT.c.price,
        _CATEGORY.c.id,
        _CATEGORY.c.name,
    )
    .select_from(_SHOP)
    .outerjoin(
        _PRODUCT,
        (_PRODUCT.c.shop_id == _SHOP.c.id) & _PRODUCT.c.id.in_(bindparam("products", expanding=True)),
    )
    .outerjoin(_CATEGORY, _CATEGORY.c.id == _PRODUCT.c.category_id)
    .where(_SHOP.c.id == bindparam("shop"))
)
# A buy that repeats one still in flight (the same caller, the same idempotency key) inserts nothing: on
# PostgreSQL it waits on the unique key for that buy's end and, once it has committed, answers its check
# (READ COMMITTED: the next statement sees it). SQLite's one writer has the repeat find the check first.
# SQLite adds the check, its lines and its outbox row in three statements:
_NEW_CHECK = (
    rows.insert_of("sqlite")(_CHECK)
    .on_conflict_do_nothing(index_elements=[_CHECK.c.user_id, _CHECK.c.idempotency_key])
    .returning(_CHECK.c.id)
)
_NEW_LINES = insert(_LINE)
_NEW_OUTBOX = insert(_OUTBOX)
# PostgreSQL in one (data-modifying WITHs, which SQLite lacks): two round trips fewer while the buy runs. A
# repeat inserts no check, so no lines and no row either.
_ADDED = (
    rows.insert_of("postgresql")(_CHECK)
    .values({name: bindparam(name, type_=column.type) for name, column in _CHECK.c.items() if name != "id"})
    .on_conflict_do_nothing(index_elements=[_CHECK.c.user_id, _CHECK.c.idempotency_key])
    .returning(_CHECK.c.id)
    .cte("added")
)
_ADDED_LINES = insert(_LINE).from_select(
    ["check_id", "product_id", "quantity", "unit_price"],
    select(
        _ADDED.c.id,
        *(
            func.unnest(bindparam(name, type_=postgresql.ARRAY(Integer)))
            for name in ("line_products", "line_quantities", "line_prices")
        ),
    ),
)
_ADDED_ROW = insert(_OUTBOX).from_select(
    ["check_id", "next_attempt_at", "request_id"],
    select(
        _ADDED.c.id,
        bindparam("first_due", type_=_OUTBOX.c.next_attempt_at.type),
        bindparam("request_id", type_=_OUTBOX.c.request_id.type),
    ),
)
_NEW_CHECK_WITH_ROWS = select(_ADDED.c.id).add_cte(_ADDED_LINES.cte("lines"), _ADDED_ROW.cte("row"))
_AVAILABLE = select(_PRODUCT.c.stock).where(_PRODUCT.c.id == bindparam("product"))
_NEXT_NUMBER = (
    update(_SHOP)
    .where(_SHOP.c.id == bindparam("shop"))
    .values(last_check_number=_SHOP.c.last_check_number + 1)
    .returning(_SHOP.c.last_check_number)
)
_NUMBER = update(_CHECK).where(_CHECK.c.id == bindparam("check")).values(number=bindparam("assigned"))
# PostgreSQL does both in one statement (a data-modifying WITH, which SQLite lacks): one round trip fewer
# while the buy holds its locks.
_NEXT = _NEXT_NUMBER.cte("next")
_NUMBERED = (
    update(_CHECK)
    .where(_CHECK.c.id == bindparam("check"))
    .values(number=select(_NEXT.c.last_check_number).scalar_subquery())
    .returning(_CHECK.c.number)
)
# With the stock event's NOTIFY in it too: no round trip of its own while the products are locked.
_NUMBERED_NOTIFYING = _NUMBERED.returning(func.pg_notify(events.CHANNEL, bindparam("notice")))


def _placeholder_number() -> int:
    # Until its number is taken, a check in the making holds a negative one of its own: never a committed
    # check's, and another buy in flight holds the same only by a 1-in-2^31 chance, which merely makes the
    # later one wait for the earlier one's commit in PostgreSQL's unique index (the number is gone by then).
    return -random.randint(1, MAX_INT)


@functools.cache
def _taking(count: int) -> Update:
    """The UPDATE that takes stock of `count` products: product `p<n>` loses `q<n>` (n < count). Built once
    per count."""
    product = _PRODUCT.c
    wanted = case(
        *(
            (product.id == bindparam(f"p{n}", type_=Integer), bindparam(f"q{n}", type_=Integer))
            for n in range(count)
        )
    )
    # PostgreSQL: the rows are locked in id order, as every buy and delivery locks products, so none deadlock;
    # FOR NO KEY UPDATE, the lock an UPDATE of stock takes anyway, lets other buys write check lines of these
    # products meanwhile. SQLite renders no lock: its one writer at a time already serialises buys.
    in_order = (
        select(product.id)
        .where(product.id.in_(bindparam("products", expanding=True)))
        .order_by(product.id)
        .with_for_update(key_share=True)
    )
    return (
        update(_PRODUCT)
        .where(product.id.in_(in_order.scalar_subquery()), product.stock >= wanted)
        .values(stock=product.stock - wanted, version=product.version + 1)
        .returning(product.id, product.stock, product.version)
    )


def _take_stock(connection: Connection, quantities: dict[int, int]) -> list[tuple[int, int, int]]:
    # One conditional UPDATE of all the products: it can never drive stock below zero, and no concurrent buy's
    # update is lost. It bumps the version in the same statement, so the versions of one product follow the
    # order of its changes. A product left out had too little: the whole buy is refused (and rolled back).
    ids = sorted(quantities)
    params: dict[str, Any] = {"products": ids}
    for n, product_id in enumerate(ids):
        params |= {f"p{n}": product_id, f"q{n}": quantities[product_id]}
    taken = sorted((row[0], row[1], row[2]) for row in connection.execute(_taking(len(ids)), params))
    short = sorted(set(ids) - {product_id for product_id, _, _ in taken})
    if short:
        available = connection.execute(_AVAILABLE, {"product": short[0]}).scalar_one()
        raise InsufficientStock(product_id=short[0], available=available)
    return taken


def _next_check_number(connection: Connection, *, shop_id: int, check_id: int, notice: str | None) -> int:
    """Number the check `check_id` with its shop's next number (and send the `notice` of its stock event)."""
    # One UPDATE ... RETURNING: concurrent buys in one shop queue on the shop's row and never share a number;
    # a buy that rolls back gives its number back, so the numbers have no gaps. Every buy locks its products
    # (in id order) before its shop, one order for all, so buys cannot deadlock on PostgreSQL.
    if connection.dialect.name == "postgresql":
        numbering = _NUMBERED if notice is None else _NUMBERED_NOTIFYING
        params = {"shop": shop_id, "check": check_id, "notice": notice}
        numbered: int = connection.execute(numbering, params).scalar_one()
        return numbered
    number: int = connection.execute(_NEXT_NUMBER, {"shop": shop_id}).scalar_one()
    connection.execute(_NUMBER, {"check": check_id, "assigned": number})
    return number


def _add_check(
    connection: Connection,
    values: dict[str, Any],
    lines: Sequence[tuple[int, int, int]],
    *,
    first_due: datetime,
    request_id: str | None,
) -> int | None:
    """Insert the check of `values` (its columns but the id), its `lines` (product, quantity, unit price) and
    its outbox row due at `first_due`: the check's id, or None when the caller's idempotency key has a check
    already (nothing inserted)."""
    if connection.dialect.name == "postgresql":
        products, quantities, prices = zip(*lines, strict=True)
        added: int | None = connection.execute(
            _NEW_CHECK_WITH_ROWS,
            values
            | {
                "line_products": list(products),
                "line_quantities": list(quantities),
                "line_prices": list(prices),
                "first_due": first_due,
                "request_id": request_id,
            },
        ).scalar_one_or_none()
        return added
    check_id: int | None = connection.execute(_NEW_CHECK, values).scalar_one_or_none()
    if check_id is None:
        return None
    connection.execute(
        _NEW_LINES,
        [
            {"check_id": check_id, "product_id": product, "quantity": quantity, "unit_price": price}
            for product, quantity, price in lines
        ],
    )
    connection.execute(
        _NEW_OUTBOX, {"check_id": check_id, "next_attempt_at": first_due, "request_id": request_id}
    )
    return check_id


def _earlier(
    session: Session, recorder: Recorder, *, actor: Principal, idempotency_key: str
) -> CheckRecords | None:
    """The check of the caller's buy under this key, if there is one (its purchase sent again, at once)."""
    earlier = session.exec(
        select(Check).where(Check.user_id == actor.user_id, Check.idempotency_key == idempotency_key)
    ).first()
    if earlier is None:
        return None
    assert earlier.id is not None
    record = purchase_record(earlier.id, earlier.model_dump())
    after_commit(session, lambda: recorder.record_now(record))
    return check_records(session, actor=actor, ids=[earlier.id])


def buy(
    session: Session,
    *,
    actor: Principal,
    recorder: Recorder,
    shop_id: int,
    items: Sequence[Item],
    payment: Payment,
    purchase_name: str,
    idempotency_key: str | None,
    request_id: str | None = None,
) -> CheckRecords:
    """Sell `items` to the actor in one transaction: stock, a numbered check, its lines and an outbox row.
    Once committed, the purchase is recorded at once (briefly), so the buyer sees it; the outbox retries.
    The check is answered as plain rows (`CheckRecords`, one check)."""
    user_id = actor.require(Role.CUSTOMER, Role.ADMIN).user_id
    name = text(purchase_name, field="purchaseName", max_length=200)
    _validate_items(items)
    if idempotency_key is not None:
        idempotency_key = text(idempotency_key, field="idempotencyKey", max_length=200)
        earlier = _earlier(session, recorder, actor=actor, idempotency_key=idempotency_key)
        if earlier is not None:
            return earlier
    ids = sorted(item.product_id for item in items)
    connection = session.connection()
    # The shop and the products with their categories in one statement: the check as the buyer sees it
    # needs them all. No shop: no row; a product the shop does not sell: no product in its row.
    found = connection.execute(_CATALOG, {"shop": shop_id, "products": ids}).all()
    if not found:
        raise NotFound("No such shop", field="shopId")
    shop = tuple(found[0][:4])
    products = {row[4]: row[5:] for row in found if row[4] is not None}
    for product_id in ids:
        if product_id not in products:
            raise BadUserInput(f"Product {product_id} is not sold in this shop", field="items.productId")
    quantities = {item.product_id: item.quantity for item in items}
    prices = {product_id: products[product_id][2] for product_id in ids}
    total = sum(prices[pid] * quantity for pid, quantity in quantities.items())
    if total > MAX_INT:
        raise BadUserInput(f"A check's total may not exceed {MAX_INT}", field="items")
    created_at = utcnow()
    check = {
        "shop_id": shop_id,
        "number": _placeholder_number(),
        "user_id": user_id,
        "payment": payment.value,
        "total": total,
        "purchase_name": name,
        "idempotency_key": idempotency_key,
        "created_at": created_at,
    }
    # The buy's own attempt has the row first: the relay's timer leaves it alone until that attempt is over,
    # so in the common case a purchase is sent once, not once by each.
    first_due = created_at + timedelta(seconds=2 * recorder.inline_seconds)
    check_id = _add_check(
        connection,
        check,
        [(pid, quantities[pid], prices[pid]) for pid in ids],
        first_due=first_due,
        request_id=request_id,
    )
    if check_id is None:  # the same key's buy committed meanwhile (only a key can conflict)
        assert idempotency_key is not None
        repeated = _earlier(session, recorder, actor=actor, idempotency_key=idempotency_key)
        assert repeated is not None
        return repeated
    # The locks, last: the products (in id order), then the shop.
    taken = _take_stock(connection, quantities)
    notice = stock_notice(session, taken)  # None on SQLite: published at commit
    number = _next_check_number(connection, shop_id=shop_id, check_id=check_id, notice=notice)
    record = purchase_record(check_id, check, request_id=request_id)
    after_commit(session, lambda: recorder.record_now(record))
    # The check as the buyer sees it, from the rows in hand, in the columns of `CheckRecords`: its stock as
    # this buy left it.
    stock = {product_id: left for product_id, left, _ in taken}
    lines: list[tuple[Any, ...]] = []
    for pid in ids:
        product_name, description, price, category_id, category_name = products[pid]
        product = (pid, shop_id, product_name, description, price, stock[pid], category_id, category_name)
        lines.append((check_id, quantities[pid], price, *product))
    return CheckRecords(
        checks=[(check_id, user_id, shop_id, number, payment.value, total, created_at)],
        lines={check_id: lines},
        shops={shop_id: shop},
    )
