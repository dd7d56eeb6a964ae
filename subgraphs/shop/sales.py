"""Sales rules of the shop subgraph: buy, checks, deliveries, and the outbox of purchases to record."""

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import bindparam, delete, insert, update
from sqlmodel import Session, col, select

from subgraphs._common import rows
from subgraphs._common.auth import Principal, Role
from subgraphs._common.backoff import next_attempt_at
from subgraphs._common.db import after_commit, utcnow
from subgraphs._common.errors import AppError, BadUserInput, Conflict, Forbidden, InsufficientStock, NotFound
from subgraphs._common.inputs import nul_problem, text
from subgraphs._common.pagination import Listing, Page, Sort
from subgraphs._common.payment import Payment
from subgraphs.shop.models import Category, Check, CheckLine, Delivery, Outbox, Product, Shop
from subgraphs.shop.services import MAX_INT, MAX_STOCK, ProductView, get_shop

MAX_QUANTITY = 10_000
MAX_DISTINCT_ITEMS = 100
MAX_DELIVERY = 1_000_000
MAX_BATCH = 1_000
_STOCKS = select(Product.id, Product.stock).where(col(Product.id).in_(bindparam("ids", expanding=True)))


@dataclass(frozen=True, slots=True)
class Item:
    product_id: int
    quantity: int


@dataclass(frozen=True, slots=True)
class CheckView:
    """A check with everything it shows: its shop, and its lines with their products."""

    check: Check
    shop: Shop
    lines: list[tuple[CheckLine, ProductView]]


# A check's lines with their products and the products' categories, in one statement.
_LINES = (
    select(CheckLine, Product, Category)
    .join(Product, col(Product.id) == col(CheckLine.product_id))
    .outerjoin(Category, col(Category.id) == col(Product.category_id))
    .where(col(CheckLine.check_id).in_(bindparam("checks", expanding=True)))
    .order_by(col(CheckLine.id))
)


def check_views(session: Session, checks: Sequence[Check]) -> list[CheckView]:
    """`checks` with their shops, lines, products and categories: two statements whatever their number."""
    if not checks:
        return []
    lines: dict[int, list[tuple[CheckLine, Product, Category | None]]] = {
        check.id or 0: [] for check in checks
    }
    for line, product, category in session.exec(_LINES, params={"checks": list(lines)}).all():
        lines[line.check_id].append((line, product, category))
    shop_ids = {check.shop_id for check in checks}
    shop_ids |= {product.shop_id for found in lines.values() for _, product, _ in found}
    shops = rows.by_ids(session, Shop, sorted(shop_ids))
    return [
        CheckView(
            check=check,
            shop=shops[check.shop_id],
            lines=[
                (line, ProductView(product=product, shop=shops[product.shop_id], category=category))
                for line, product, category in lines[check.id or 0]
            ],
        )
        for check in checks
    ]


def checks_by_ids(session: Session, *, actor: Principal, ids: Sequence[int]) -> list[CheckView | None]:
    """The checks with these ids, in order; None for a missing one or one the actor may not see."""
    found = rows.by_ids(session, Check, ids)
    visible = [check for check in found.values() if actor.can_read(check.user_id)]
    views = {view.check.id: view for view in check_views(session, visible)}
    return [views.get(check_id) for check_id in ids]


def check_references(
    session: Session, *, actor: Principal, ids: Sequence[int]
) -> list[CheckView | Forbidden | None]:
    """For references from other subgraphs: each check's view, None when missing, FORBIDDEN when the actor
    may not see it."""
    found = rows.by_ids(session, Check, ids)
    views = {view.check.id: view for view in check_views(session, list(found.values()))}
    return [
        None
        if check_id not in found
        else views[check_id]
        if actor.can_read(found[check_id].user_id)
        else Forbidden("That check is not yours")
        for check_id in ids
    ]


@dataclass(frozen=True, slots=True)
class PurchaseRecord:
    """What the purchase subgraph is told about a check."""

    check_id: int
    user_id: int
    name: str
    payment: str
    total: int
    created_at: datetime
    request_id: str | None = None  # of the buy that made the check: the record is sent under it


class Recorder(Protocol):
    """Records purchases in the purchase subgraph (the outbox relay)."""

    @property
    def inline_seconds(self) -> float:
        """How long `record_now` may take at most."""
        ...

    async def record_now(self, record: PurchaseRecord) -> None:
        """Try at once, briefly; the outbox retries what this does not confirm."""


def visible_check(actor: Principal, check: Check) -> Check:
    """`check`, when the actor may see it: its buyer, admins and services (FORBIDDEN otherwise)."""
    if not actor.can_read(check.user_id):
        raise Forbidden("That check is not yours")
    return check


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


def _take_stock(session: Session, *, product: Product, quantity: int) -> None:
    # One conditional UPDATE: it can never drive stock below zero, and no concurrent buy's update is lost.
    taken = session.execute(
        update(Product)
        .where(col(Product.id) == product.id, col(Product.stock) >= quantity)
        .values(stock=col(Product.stock) - quantity)
        .returning(col(Product.id))
    ).first()
    if taken is None:
        available = session.exec(select(Product.stock).where(Product.id == product.id)).one()
        raise InsufficientStock(product_id=product.id or 0, available=available)


def _next_check_number(session: Session, shop_id: int) -> int:
    # One UPDATE ... RETURNING: concurrent buys in one shop queue on the shop's row and never share a number.
    result = session.execute(
        update(Shop)
        .where(col(Shop.id) == shop_id)
        .values(last_check_number=col(Shop.last_check_number) + 1)
        .returning(col(Shop.last_check_number))
    )
    return int(result.scalar_one())


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
) -> CheckView:
    """Sell `items` to the actor in one transaction: stock, a numbered check, its lines and an outbox row.
    Once committed, the purchase is recorded at once (briefly), so the buyer sees it; the outbox retries."""
    user_id = actor.require(Role.CUSTOMER, Role.ADMIN).user_id
    name = text(purchase_name, field="purchaseName", max_length=200)
    _validate_items(items)
    if idempotency_key is not None:
        idempotency_key = text(idempotency_key, field="idempotencyKey", max_length=200)
        earlier = session.exec(
            select(Check).where(Check.user_id == user_id, Check.idempotency_key == idempotency_key)
        ).first()
        if earlier is not None:
            after_commit(session, lambda: recorder.record_now(purchase_record(earlier)))
            return check_views(session, [earlier])[0]
    shop = get_shop(session, shop_id)
    ids = sorted(item.product_id for item in items)
    products = {p.id: p for p in session.exec(select(Product).where(col(Product.id).in_(ids))).all()}
    for product_id in ids:
        product = products.get(product_id)
        if product is None or product.shop_id != shop_id:
            raise BadUserInput(f"Product {product_id} is not sold in this shop", field="items.productId")
    quantities = {item.product_id: item.quantity for item in items}
    total = sum(products[pid].price * quantity for pid, quantity in quantities.items())
    if total > MAX_INT:
        raise BadUserInput(f"A check's total may not exceed {MAX_INT}", field="items")
    for product_id in ids:  # a fixed order keeps concurrent buys from deadlocking on PostgreSQL
        _take_stock(session, product=products[product_id], quantity=quantities[product_id])
    check = Check(
        shop_id=shop_id,
        number=_next_check_number(session, shop_id),
        user_id=user_id,
        payment=payment.value,
        total=total,
        purchase_name=name,
        idempotency_key=idempotency_key,
    )
    session.add(check)
    session.flush()
    assert check.id is not None
    lines = [
        CheckLine(check_id=check.id, product_id=pid, quantity=quantities[pid], unit_price=products[pid].price)
        for pid in ids
    ]
    # The buy's own attempt has the row first: the relay's timer leaves it alone until that attempt is over,
    # so in the common case a purchase is sent once, not once by each.
    first_due = utcnow() + timedelta(seconds=2 * recorder.inline_seconds)
    session.add_all([*lines, Outbox(check_id=check.id, next_attempt_at=first_due, request_id=request_id)])
    session.flush()
    after_commit(session, lambda: recorder.record_now(purchase_record(check, request_id=request_id)))
    # The check as the buyer sees it, from the rows in hand (their categories are the one thing to read).
    category_ids = sorted({p.category_id for p in products.values() if p.category_id is not None})
    categories = rows.by_ids(session, Category, category_ids) if category_ids else {}
    return CheckView(
        check=check,
        shop=shop,
        lines=[
            (
                line,
                ProductView(
                    products[line.product_id],
                    shop,
                    categories.get(products[line.product_id].category_id or 0),
                ),
            )
            for line in lines
        ],
    )


@dataclass(frozen=True, slots=True)
class DeliveryOrder:
    """`count` units of a product to add to its stock, once per `key`."""

    product_id: int
    count: int
    key: str


def _order_problem(order: DeliveryOrder) -> BadUserInput | None:
    if not 1 <= len(order.key) <= 200:
        return BadUserInput("'key' must be 1 to 200 characters", field="key")
    if (problem := nul_problem(order.key, field="key")) is not None:
        return problem
    if not 1 <= order.count <= MAX_DELIVERY:
        return BadUserInput(f"'count' must be between 1 and {MAX_DELIVERY}", field="count")
    return None


@dataclass(frozen=True, slots=True)
class DeliveryRecord:
    """A delivery as stored (read and written with plain statements: a batch holds up to a thousand)."""

    id: int
    key: str
    product_id: int
    count: int
    delivered_at: datetime


_DELIVERY = Delivery.__table__  # type: ignore[attr-defined]
_OUTBOX = Outbox.__table__  # type: ignore[attr-defined]
_EARLIER = select(_DELIVERY).where(_DELIVERY.c.key.in_(bindparam("keys", expanding=True)))


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
    for product_id, count in sorted(added.items()):  # a fixed order keeps concurrent batches deadlock-free
        # Conditional, like a buy's: a concurrent writer on another replica cannot push stock past its bound.
        if (
            session.execute(
                update(Product)
                .where(col(Product.id) == product_id, col(Product.stock) + count <= MAX_STOCK)
                .values(stock=col(Product.stock) + count)
                .returning(col(Product.id))
            ).first()
            is None
        ):
            raise Conflict("Stock changed meanwhile; deliver again", field="count")
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


def deliver(session: Session, *, actor: Principal, product_id: int, count: int, key: str) -> DeliveryRecord:
    """Add `count` to a product's stock, once per `key`: the same key again returns the first delivery."""
    [result] = deliver_many(session, actor=actor, orders=[DeliveryOrder(product_id, count, key)])
    if isinstance(result, AppError):
        raise result
    return result


def get_check(session: Session, *, actor: Principal, check_id: int) -> CheckView | None:
    """One check, for its buyer or an admin."""
    check = session.get(Check, check_id)
    return check_views(session, [visible_check(actor, check)])[0] if check is not None else None


_SHOP_CHECKS = Listing(
    select(Check).where(col(Check.shop_id) == bindparam("shop")), order=(Sort(col(Check.id)),)
)


def shop_checks(
    session: Session, *, actor: Principal, shop_id: int, first: int | None, after: str | None
) -> Page[CheckView]:
    """A shop's checks in number order (ADMIN)."""
    actor.require(Role.ADMIN)
    page = _SHOP_CHECKS.page(session, first=first, after=after, shop=shop_id)
    return replace(page, rows=check_views(session, page.rows))


def purchase_record(check: Check, *, request_id: str | None = None) -> PurchaseRecord:
    """What the purchase subgraph is told about `check` (bought in request `request_id`)."""
    assert check.id is not None
    return PurchaseRecord(
        check_id=check.id,
        user_id=check.user_id,
        name=check.purchase_name,
        payment=check.payment,
        total=check.total,
        created_at=check.created_at,
        request_id=request_id,
    )


def claim_due_records(
    session: Session, *, due_by: datetime, lease_until: datetime, limit: int
) -> list[PurchaseRecord]:
    """Claim up to `limit` purchases whose recording is due by `due_by`, oldest first, for one attempt:
    they are not due again before `lease_until` (another relay, or the next round, leaves them alone)."""
    due = (
        select(_OUTBOX.c.id)
        .where(
            _OUTBOX.c.sent_at.is_(None), _OUTBOX.c.failed_at.is_(None), _OUTBOX.c.next_attempt_at <= due_by
        )
        .order_by(_OUTBOX.c.id)
        .limit(limit)
        .with_for_update(skip_locked=True)  # PostgreSQL: replicas claim disjoint rows; SQLite has one writer
    )
    claimed = session.execute(
        update(_OUTBOX)
        .where(_OUTBOX.c.id.in_(due.scalar_subquery()))
        .values(next_attempt_at=lease_until)
        .returning(_OUTBOX.c.check_id, _OUTBOX.c.request_id)
    ).all()
    origins: dict[int, str | None] = {row[0]: row[1] for row in claimed}
    if not origins:
        return []  # the common case of a timer round: nothing due, and no second statement
    checks = rows.by_ids(session, Check, sorted(origins))
    return [purchase_record(check, request_id=origins[check_id]) for check_id, check in checks.items()]


def mark_recorded(session: Session, *, check_ids: Sequence[int]) -> None:
    """The purchase subgraph has the purchases of `check_ids`."""
    session.execute(update(_OUTBOX).where(_OUTBOX.c.check_id.in_(check_ids)).values(sent_at=utcnow()))


def mark_failed(
    session: Session, *, check_id: int, error: str, permanent: bool, retry: float, max_backoff: float
) -> None:
    """Recording failed: try again with backoff for as long as the failure lasts, or, when the purchase
    subgraph refused it for good, stop and keep the error for an ADMIN."""
    row = session.exec(select(Outbox).where(Outbox.check_id == check_id)).one()
    row.attempts += 1
    row.last_error = error[:500]
    if permanent:
        row.failed_at = utcnow()
    else:
        row.next_attempt_at = next_attempt_at(row.attempts, first=retry, cap=max_backoff)
    session.add(row)


def recordings(session: Session, *, actor: Principal, check_ids: Sequence[int]) -> dict[int, Outbox]:
    """How recording each check's purchase went (ADMIN)."""
    actor.require(Role.ADMIN)
    return rows.by_ids(session, Outbox, check_ids, key="check_id")


def prune(session: Session, before: datetime, limit: int) -> int:
    """Delete at most `limit` deliveries, and at most `limit` sent outbox rows, older than `before`."""
    table = _OUTBOX
    old_deliveries = select(_DELIVERY.c.id).where(_DELIVERY.c.delivered_at < before).limit(limit)
    old_sent = select(table.c.id).where(table.c.sent_at < before).limit(limit)
    deleted = session.execute(
        delete(_DELIVERY)
        .where(_DELIVERY.c.id.in_(old_deliveries.scalar_subquery()))
        .returning(_DELIVERY.c.id)
    ).all()
    sent = session.execute(
        delete(table).where(table.c.id.in_(old_sent.scalar_subquery())).returning(table.c.id)
    ).all()
    return max(len(deleted), len(sent))
