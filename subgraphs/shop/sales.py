"""Sales rules of the shop subgraph: buy, checks, deliveries, and the outbox of purchases to record."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from subgraphs._common.auth import Principal, Role
from subgraphs._common.db import utcnow
from subgraphs._common.errors import BadUserInput, Forbidden, InsufficientStock, NotFound
from subgraphs._common.inputs import text
from subgraphs._common.pagination import Page
from subgraphs.shop.models import Check, CheckLine, Delivery, Outbox, Product, Shop
from subgraphs.shop.services import get_shop, paginate, require_admin

MAX_QUANTITY = 10_000
MAX_DISTINCT_ITEMS = 100
MAX_DELIVERY = 1_000_000
PAYMENTS = ("CASH", "CARD")


@dataclass(frozen=True, slots=True)
class Item:
    product_id: int
    quantity: int


@dataclass(frozen=True, slots=True)
class PurchaseRecord:
    """What the purchase subgraph is told about a check."""

    check_id: int
    user_id: int
    name: str
    payment: str
    total: int
    created_at: datetime


def can_see_check(actor: Principal | None, check: Check) -> bool:
    """A check is visible to its buyer, admins and services."""
    if actor is None:
        return False
    return actor.role in (Role.ADMIN, Role.SERVICE) or int(actor.subject) == check.user_id


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


async def _take_stock(session: AsyncSession, *, product: Product, quantity: int) -> None:
    # One conditional UPDATE: it can never drive stock below zero, and no concurrent buy's update is lost.
    taken = await session.exec(
        update(Product)
        .where(col(Product.id) == product.id, col(Product.stock) >= quantity)
        .values(stock=col(Product.stock) - quantity)
    )
    if taken.rowcount != 1:
        available = (await session.exec(select(Product.stock).where(Product.id == product.id))).one()
        raise InsufficientStock(product_id=product.id or 0, available=available)


async def _next_check_number(session: AsyncSession, shop_id: int) -> int:
    result = await session.exec(
        update(Shop)
        .where(col(Shop.id) == shop_id)
        .values(last_check_number=col(Shop.last_check_number) + 1)
        .returning(col(Shop.last_check_number))
    )
    return int(result.scalar_one())


async def buy(
    session: AsyncSession,
    *,
    actor: Principal,
    shop_id: int,
    items: Sequence[Item],
    payment: str,
    purchase_name: str,
    idempotency_key: str | None,
) -> Check:
    """Sell `items` to the actor in one transaction: stock, a numbered check, its lines and an outbox row."""
    if actor.role not in (Role.CUSTOMER, Role.ADMIN):
        raise Forbidden("Only users buy")
    user_id = actor.user_id
    name = text(purchase_name, field="purchaseName", max_length=200)
    if payment not in PAYMENTS:
        raise BadUserInput("Unknown payment", field="payment")
    _validate_items(items)
    if idempotency_key is not None:
        idempotency_key = text(idempotency_key, field="idempotencyKey", max_length=200)
        earlier = (
            await session.exec(
                select(Check).where(Check.user_id == user_id, Check.idempotency_key == idempotency_key)
            )
        ).first()
        if earlier is not None:
            return earlier
    await get_shop(session, shop_id)
    ids = sorted(item.product_id for item in items)
    products = {p.id: p for p in (await session.exec(select(Product).where(col(Product.id).in_(ids)))).all()}
    for product_id in ids:
        product = products.get(product_id)
        if product is None or product.shop_id != shop_id:
            raise BadUserInput(f"Product {product_id} is not sold in this shop", field="items.productId")
    quantities = {item.product_id: item.quantity for item in items}
    for product_id in ids:  # a fixed order keeps concurrent buys from deadlocking on PostgreSQL
        await _take_stock(session, product=products[product_id], quantity=quantities[product_id])
    check = Check(
        shop_id=shop_id,
        number=await _next_check_number(session, shop_id),
        user_id=user_id,
        payment=payment,
        total=sum(products[pid].price * quantity for pid, quantity in quantities.items()),
        purchase_name=name,
        idempotency_key=idempotency_key,
    )
    session.add(check)
    await session.flush()
    assert check.id is not None
    for product_id in ids:
        line = CheckLine(
            check_id=check.id,
            product_id=product_id,
            quantity=quantities[product_id],
            unit_price=products[product_id].price,
        )
        session.add(line)
    session.add(Outbox(check_id=check.id))
    await session.flush()
    return check


async def deliver(
    session: AsyncSession, *, actor: Principal, product_id: int, count: int, key: str
) -> Delivery:
    """Add `count` to a product's stock, once per `key`: the same key again returns the first delivery."""
    if actor.role not in (Role.ADMIN, Role.SERVICE):
        raise Forbidden("Only an ADMIN or a service delivers")
    if not 1 <= len(key) <= 200:
        raise BadUserInput("'key' must be 1 to 200 characters", field="key")
    if not 1 <= count <= MAX_DELIVERY:
        raise BadUserInput(f"'count' must be between 1 and {MAX_DELIVERY}", field="count")
    earlier = (await session.exec(select(Delivery).where(Delivery.key == key))).first()
    if earlier is not None:
        return earlier
    added = await session.exec(
        update(Product).where(col(Product.id) == product_id).values(stock=col(Product.stock) + count)
    )
    if added.rowcount != 1:
        raise NotFound("No such product", field="productId")
    delivery = Delivery(key=key, product_id=product_id, count=count)
    session.add(delivery)
    await session.flush()
    return delivery


async def get_check(session: AsyncSession, *, actor: Principal, check_id: int) -> Check | None:
    """One check, for its buyer or an admin."""
    check = await session.get(Check, check_id)
    if check is not None and not can_see_check(actor, check):
        raise Forbidden("That check is not yours")
    return check


async def shop_checks(
    session: AsyncSession, *, actor: Principal, shop_id: int, first: int | None, after: str | None
) -> Page[Check]:
    """A shop's checks in number order (ADMIN)."""
    require_admin(actor)
    return await paginate(
        session, select(Check).where(Check.shop_id == shop_id), Check, first=first, after=after
    )


async def checks_by_ids(session: AsyncSession, ids: Sequence[int]) -> dict[int, Check]:
    """Checks keyed by id (no permission check: callers filter with `can_see_check`)."""
    rows = (await session.exec(select(Check).where(col(Check.id).in_(ids)))).all()
    return {row.id: row for row in rows if row.id is not None}


async def lines_of_checks(session: AsyncSession, check_ids: Sequence[int]) -> dict[int, list[CheckLine]]:
    """Each check's lines."""
    query = select(CheckLine).where(col(CheckLine.check_id).in_(check_ids)).order_by(col(CheckLine.id))
    grouped: dict[int, list[CheckLine]] = {check_id: [] for check_id in check_ids}
    for row in (await session.exec(query)).all():
        grouped[row.check_id].append(row)
    return grouped


def purchase_record(check: Check) -> PurchaseRecord:
    """What the purchase subgraph is told about `check`."""
    assert check.id is not None
    return PurchaseRecord(
        check_id=check.id,
        user_id=check.user_id,
        name=check.purchase_name,
        payment=check.payment,
        total=check.total,
        created_at=check.created_at,
    )


async def due_records(session: AsyncSession, *, limit: int) -> list[PurchaseRecord]:
    """Purchases whose recording is due, oldest first."""
    query = (
        select(Check)
        .join(Outbox, col(Outbox.check_id) == col(Check.id))
        .where(col(Outbox.sent_at).is_(None), col(Outbox.next_attempt_at) <= utcnow())
        .order_by(col(Outbox.id))
        .limit(limit)
    )
    return [purchase_record(row) for row in (await session.exec(query)).all()]


async def mark_recorded(session: AsyncSession, *, check_id: int) -> None:
    """The purchase subgraph has the purchase for `check_id`."""
    await session.exec(update(Outbox).where(col(Outbox.check_id) == check_id).values(sent_at=utcnow()))


async def mark_failed(session: AsyncSession, *, check_id: int, error: str, max_backoff: float) -> None:
    """Recording failed: try again later, backing off exponentially."""
    row = (await session.exec(select(Outbox).where(Outbox.check_id == check_id))).one()
    row.attempts += 1
    row.last_error = error[:500]
    row.next_attempt_at = utcnow() + timedelta(seconds=min(max_backoff, 0.5 * 2 ** min(row.attempts, 16)))
    session.add(row)


async def pending_count(session: AsyncSession) -> int:
    """How many purchases still wait to be recorded."""
    return (await session.exec(select(func.count()).where(col(Outbox.sent_at).is_(None)))).one()
