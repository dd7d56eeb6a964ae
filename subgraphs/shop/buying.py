"""Buying: stock taken, a numbered check with its lines, and the outbox row of its purchase, in one
transaction."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import update
from sqlmodel import Session, col, select

from subgraphs._common.auth import Principal, Role
from subgraphs._common.db import after_commit, utcnow
from subgraphs._common.errors import BadUserInput, InsufficientStock, NotFound
from subgraphs._common.inputs import text
from subgraphs._common.payment import Payment
from subgraphs.shop.checks import CheckView, check_views
from subgraphs.shop.models import Category, Check, CheckLine, Outbox, Product, Shop
from subgraphs.shop.outbox import Recorder, purchase_record
from subgraphs.shop.services import MAX_INT, ProductView, stock_changed

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


def _take_stock(session: Session, *, product: Product, quantity: int) -> tuple[int, int, int]:
    # One conditional UPDATE: it can never drive stock below zero, and no concurrent buy's update is lost. It
    # bumps the version in the same statement, so the versions of one product follow the order of its changes.
    taken = session.execute(
        update(Product)
        .where(col(Product.id) == product.id, col(Product.stock) >= quantity)
        .values(stock=col(Product.stock) - quantity, version=col(Product.version) + 1)
        .returning(col(Product.id), col(Product.stock), col(Product.version))
    ).first()
    if taken is None:
        available = session.exec(select(Product.stock).where(Product.id == product.id)).one()
        raise InsufficientStock(product_id=product.id or 0, available=available)
    return taken[0], taken[1], taken[2]


def _next_check_number(session: Session, shop_id: int) -> Shop:
    # One UPDATE ... RETURNING: concurrent buys in one shop queue on the shop's row and never share a number.
    # It returns the whole row, so the same statement also finds the shop (none: no such shop). Every buy
    # locks its shop before its products, one order for all, so buys cannot deadlock on PostgreSQL.
    shop = session.scalars(
        update(Shop)
        .where(col(Shop.id) == shop_id)
        .values(last_check_number=col(Shop.last_check_number) + 1)
        .returning(Shop)
    ).first()
    if shop is None:
        raise NotFound("No such shop", field="shopId")
    return shop


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
    shop = _next_check_number(session, shop_id)
    ids = sorted(item.product_id for item in items)
    # The products with their categories in one statement: the check as the buyer sees it needs both.
    found = session.exec(
        select(Product, Category)
        .outerjoin(Category, col(Category.id) == col(Product.category_id))
        .where(col(Product.id).in_(ids))
    ).all()
    products = {p.id: p for p, _ in found}
    categories = {c.id: c for _, c in found if c is not None}
    for product_id in ids:
        product = products.get(product_id)
        if product is None or product.shop_id != shop_id:
            raise BadUserInput(f"Product {product_id} is not sold in this shop", field="items.productId")
    quantities = {item.product_id: item.quantity for item in items}
    total = sum(products[pid].price * quantity for pid, quantity in quantities.items())
    if total > MAX_INT:
        raise BadUserInput(f"A check's total may not exceed {MAX_INT}", field="items")
    # A fixed order keeps concurrent buys from deadlocking on PostgreSQL.
    taken = [_take_stock(session, product=products[pid], quantity=quantities[pid]) for pid in ids]
    stock_changed(session, taken)
    check = Check(
        shop_id=shop_id,
        number=shop.last_check_number,
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
    # The check as the buyer sees it, from the rows in hand.
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
