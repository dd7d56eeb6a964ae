"""Deliveries: stock added once per key (the factory's runs, an admin's top-ups), many in one transaction."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, delete, insert, update
from sqlmodel import Session, col, select

from subgraphs._common.auth import Principal, Role
from subgraphs._common.db import utcnow
from subgraphs._common.errors import AppError, BadUserInput, Conflict, NotFound
from subgraphs._common.inputs import nul_problem
from subgraphs.shop.models import Delivery, Product
from subgraphs.shop.services import MAX_STOCK, stock_changed

MAX_DELIVERY = 1_000_000
MAX_BATCH = 1_000
_DELIVERY = Delivery.__table__  # type: ignore[attr-defined]
_EARLIER = select(_DELIVERY).where(_DELIVERY.c.key.in_(bindparam("keys", expanding=True)))
_STOCKS = select(Product.id, Product.stock).where(col(Product.id).in_(bindparam("ids", expanding=True)))


@dataclass(frozen=True, slots=True)
class DeliveryOrder:
    """`count` units of a product to add to its stock, once per `key`."""

    product_id: int
    count: int
    key: str


@dataclass(frozen=True, slots=True)
class DeliveryRecord:
    """A delivery as stored (read and written with plain statements: a batch holds up to a thousand)."""

    id: int
    key: str
    product_id: int
    count: int
    delivered_at: datetime


def _order_problem(order: DeliveryOrder) -> BadUserInput | None:
    if not 1 <= len(order.key) <= 200:
        return BadUserInput("'key' must be 1 to 200 characters", field="key")
    if (problem := nul_problem(order.key, field="key")) is not None:
        return problem
    if not 1 <= order.count <= MAX_DELIVERY:
        return BadUserInput(f"'count' must be between 1 and {MAX_DELIVERY}", field="count")
    return None


def deliver_many(
    session: Session, *, actor: Principal, orders: Sequence[DeliveryOrder]
) -> list[DeliveryRecord | AppError]:
    """Add stock for each order, once per key, in one transaction. An order whose key was delivered before
    gets that delivery; a refused order (bad input, unknown product, stock beyond its bound) gets its error
    and changes nothing; every other order is applied. One result per order, in order."""
    actor.require(Role.ADMIN, Role.SERVICE)
    if not 1 <= len(orders) <= MAX_BATCH:
        raise BadUserInput(f"'inputs' must hold 1 to {MAX_BATCH} deliveries", field="inputs")
    problems = [_order_problem(order) for order in orders]
    # Refused orders are left out of the lookups: the database may refuse their values (a NUL in a key).
    valid = [order for order, problem in zip(orders, problems, strict=True) if problem is None]
    keys = sorted({order.key for order in valid})
    earlier = {row.key: DeliveryRecord(*row) for row in session.execute(_EARLIER, {"keys": keys})}
    product_ids = sorted({order.product_id for order in valid if order.key not in earlier})
    stock: dict[int, int] = {}
    if product_ids:
        stock = {row.id: row.stock for row in session.execute(_STOCKS, {"ids": product_ids})}
    verdicts: list[DeliveryOrder | DeliveryRecord | AppError] = []
    fresh: dict[str, DeliveryOrder] = {}
    for order, problem in zip(orders, problems, strict=True):
        done = earlier.get(order.key) or fresh.get(order.key)
        if problem is not None or done is not None:
            verdicts.append(problem or done)  # type: ignore[arg-type]
        elif order.product_id not in stock:
            verdicts.append(NotFound("No such product", field="productId"))
        elif stock[order.product_id] + order.count > MAX_STOCK:
            verdicts.append(BadUserInput(f"Stock may not exceed {MAX_STOCK}", field="count"))
        else:
            stock[order.product_id] += order.count
            fresh[order.key] = order
            verdicts.append(order)
    added: dict[int, int] = {}
    for order in fresh.values():
        added[order.product_id] = added.get(order.product_id, 0) + order.count
    changes: list[tuple[int, int, int]] = []
    for product_id, count in sorted(added.items()):  # a fixed order keeps concurrent batches deadlock-free
        # Conditional, like a buy's: a concurrent writer on another replica cannot push stock past its bound.
        # The version is bumped in the same statement (the order of the product's changes).
        changed = session.execute(
            update(Product)
            .where(col(Product.id) == product_id, col(Product.stock) + count <= MAX_STOCK)
            .values(stock=col(Product.stock) + count, version=col(Product.version) + 1)
            .returning(col(Product.id), col(Product.stock), col(Product.version))
        ).first()
        if changed is None:
            raise Conflict("Stock changed meanwhile; deliver again", field="count")
        changes.append((changed[0], changed[1], changed[2]))
    stock_changed(session, changes)
    written: dict[str, DeliveryRecord] = {}
    if fresh:
        now = utcnow()
        inserted = session.execute(
            insert(_DELIVERY).returning(_DELIVERY.c.id, sort_by_parameter_order=True),
            [
                {"key": o.key, "product_id": o.product_id, "count": o.count, "delivered_at": now}
                for o in fresh.values()
            ],
        )
        for order, row in zip(fresh.values(), inserted, strict=True):
            written[order.key] = DeliveryRecord(row.id, order.key, order.product_id, order.count, now)
    return [written[verdict.key] if isinstance(verdict, DeliveryOrder) else verdict for verdict in verdicts]


def deliver(session: Session, *, actor: Principal, order: DeliveryOrder) -> DeliveryRecord:
    """Add an order's count to its product's stock, once per key: the same key again returns the first
    delivery."""
    [result] = deliver_many(session, actor=actor, orders=[order])
    if isinstance(result, AppError):
        raise result
    return result


def prune(session: Session, before: datetime, limit: int) -> int:
    """Delete at most `limit` deliveries made before `before`; how many were deleted. (Their keys are
    forgotten: the retention window must outlast any retry of a delivery.)"""
    old = select(_DELIVERY.c.id).where(_DELIVERY.c.delivered_at < before).limit(limit).scalar_subquery()
    return len(
        session.execute(delete(_DELIVERY).where(_DELIVERY.c.id.in_(old)).returning(_DELIVERY.c.id)).all()
    )
