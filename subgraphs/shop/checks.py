"""Reading checks: a check with everything it shows, for its buyer, ADMINs and services."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import bindparam
from sqlmodel import Session, col, select

from subgraphs._common import rows
from subgraphs._common.auth import Principal, Role
from subgraphs._common.driver_sql import rows_by_ids
from subgraphs._common.errors import Forbidden
from subgraphs._common.pagination import Listing, Page, Sort
from subgraphs.shop.models import Category, Check, CheckLine, Product, Shop
from subgraphs.shop.services import ProductView


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


def _forbidden(actor: Principal, user_id: int) -> Forbidden | None:
    """Who may see a check of the user `user_id`: its buyer, admins and services."""
    return None if actor.can_read(user_id) else Forbidden("That check is not yours")


def check_references(
    session: Session, *, actor: Principal, ids: Sequence[int]
) -> list[CheckView | Forbidden | None]:
    """Each check's view in order: None when missing, FORBIDDEN when the actor may not see it."""
    found = rows.by_ids(session, Check, ids)
    visible = [check for check in found.values() if _forbidden(actor, check.user_id) is None]
    views = {view.check.id: view for view in check_views(session, visible)}
    return [
        views.get(check_id) or (_forbidden(actor, found[check_id].user_id) if check_id in found else None)
        for check_id in ids
    ]


# The router's hot read (a page of purchases asks for their checks) in the driver's SQL, written once
# (driver_sql.rows_by_ids): the same three statements in Core, with their expanding IN lists rendered per call
# and SQLAlchemy's result processing, cost 0.5 ms more of the shop's CPU per request for 50 checks. Their rows
# go straight to the GraphQL types, with no ORM objects, no identity map. Each row is unpacked by position, in
# the order its statement names the columns: reading a Row's column by name costs ten times reading it by
# index.
_CHECK_ROWS = 'SELECT id, user_id, shop_id, number, payment, total, created_at FROM "check" WHERE id {ids}'
_LINE_ROWS = """SELECT check_line.check_id, check_line.quantity, check_line.unit_price,
  product.id, product.shop_id, product.name, product.description, product.price, product.stock,
  category.id, category.name
FROM check_line JOIN product ON product.id = check_line.product_id
  LEFT OUTER JOIN category ON category.id = product.category_id
WHERE check_line.check_id {ids} ORDER BY check_line.id"""
_SHOP_ROWS = "SELECT id, name, address, phone FROM shop WHERE id {ids}"


AnyRow = Sequence[Any]  # a Row, or a tuple of the same columns (a buy's check, made from the rows in hand)


@dataclass(frozen=True, slots=True)
class CheckRecords:
    """Checks as plain rows, for the ids asked in order: each check's row (None when missing, FORBIDDEN when
    the actor may not see it), the lines of the visible ones (each with its product and category) and the
    shops of both. Their columns are those of _CHECK_ROWS, _LINE_ROWS and _SHOP_ROWS, in order, as the driver
    hands them (a check's created_at: `driver_sql.stored_datetime`)."""

    checks: Sequence[AnyRow | Forbidden | None]
    lines: Mapping[int, Sequence[AnyRow]]
    shops: Mapping[int, AnyRow]


def check_records(session: Session, *, actor: Principal, ids: Sequence[int]) -> CheckRecords:
    """What `check_references` answers, as rows: three statements whatever the number of checks."""
    found: dict[int, AnyRow | Forbidden] = {}
    lines: dict[int, list[AnyRow]] = {}  # of the visible checks
    shop_ids: set[int] = set()
    for check in rows_by_ids(session, _CHECK_ROWS, ids):
        check_id, user_id, shop_id, *_ = check
        refused = _forbidden(actor, user_id)
        found[check_id] = check if refused is None else refused
        if refused is None:
            lines[check_id] = []
            shop_ids.add(shop_id)
    if lines:
        for line in rows_by_ids(session, _LINE_ROWS, list(lines)):
            check_id, _, _, _, product_shop_id, *_ = line
            lines[check_id].append(line)
            shop_ids.add(product_shop_id)
    shops = {}
    if shop_ids:
        shops = {shop[0]: shop for shop in rows_by_ids(session, _SHOP_ROWS, sorted(shop_ids))}
    return CheckRecords(checks=[found.get(check_id) for check_id in ids], lines=lines, shops=shops)


def checks_by_ids(session: Session, *, actor: Principal, ids: Sequence[int]) -> list[CheckView | None]:
    """The checks with these ids, in order; None for a missing one or one the actor may not see."""
    return [
        view if isinstance(view, CheckView) else None
        for view in check_references(session, actor=actor, ids=ids)
    ]


def get_check(session: Session, *, actor: Principal, check_id: int) -> CheckView | None:
    """One check, for its buyer or an admin (FORBIDDEN for anyone else)."""
    [view] = check_references(session, actor=actor, ids=[check_id])
    if isinstance(view, Forbidden):
        raise view
    return view


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
