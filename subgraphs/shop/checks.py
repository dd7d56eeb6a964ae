"""Reading checks: a check with everything it shows, for its buyer, ADMINs and services."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import Table, bindparam
from sqlalchemy import select as core_select  # sqlmodel's select types ORM entities, not tables
from sqlmodel import Session, col, select

from subgraphs._common import rows
from subgraphs._common.auth import Principal, Role
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


# The router's hot read (a page of purchases asks for their checks) as Core statements on the session's
# connection, built once: their rows go straight to the GraphQL types, with no ORM objects, no identity map.
# Each row is unpacked by position, in the order its statement names the columns: reading a Row's column by
# name costs ten times reading it by index.
_CHECK: Table = Check.__table__  # type: ignore[attr-defined]
_LINE: Table = CheckLine.__table__  # type: ignore[attr-defined]
_PRODUCT: Table = Product.__table__  # type: ignore[attr-defined]
_CATEGORY: Table = Category.__table__  # type: ignore[attr-defined]
_SHOP: Table = Shop.__table__  # type: ignore[attr-defined]
_CHECK_ROWS = core_select(
    _CHECK.c.id,
    _CHECK.c.user_id,
    _CHECK.c.shop_id,
    _CHECK.c.number,
    _CHECK.c.payment,
    _CHECK.c.total,
    _CHECK.c.created_at,
).where(_CHECK.c.id.in_(bindparam("ids", expanding=True)))
_LINE_ROWS = (
    core_select(
        _LINE.c.check_id,
        _LINE.c.quantity,
        _LINE.c.unit_price,
        _PRODUCT.c.id,
        _PRODUCT.c.shop_id,
        _PRODUCT.c.name,
        _PRODUCT.c.description,
        _PRODUCT.c.price,
        _PRODUCT.c.stock,
        _CATEGORY.c.id,
        _CATEGORY.c.name,
    )
    .join(_PRODUCT, _PRODUCT.c.id == _LINE.c.product_id)
    .outerjoin(_CATEGORY, _CATEGORY.c.id == _PRODUCT.c.category_id)
    .where(_LINE.c.check_id.in_(bindparam("ids", expanding=True)))
    .order_by(_LINE.c.id)
)
_SHOP_ROWS = core_select(_SHOP.c.id, _SHOP.c.name, _SHOP.c.address, _SHOP.c.phone).where(
    _SHOP.c.id.in_(bindparam("ids", expanding=True))
)


AnyRow = Sequence[Any]  # a Row, or a tuple of the same columns (a buy's check, made from the rows in hand)


@dataclass(frozen=True, slots=True)
class CheckRecords:
    """Checks as plain rows, for the ids asked in order: each check's row (None when missing, FORBIDDEN when
    the actor may not see it), the lines of the visible ones (each with its product and category) and the
    shops of both. Their columns are those of _CHECK_ROWS, _LINE_ROWS and _SHOP_ROWS, in order."""

    checks: Sequence[AnyRow | Forbidden | None]
    lines: Mapping[int, Sequence[AnyRow]]
    shops: Mapping[int, AnyRow]


def check_records(session: Session, *, actor: Principal, ids: Sequence[int]) -> CheckRecords:
    """What `check_references` answers, as rows: three statements whatever the number of checks."""
    connection = session.connection()
    found: dict[int, AnyRow | Forbidden] = {}
    lines: dict[int, list[AnyRow]] = {}  # of the visible checks
    shop_ids: set[int] = set()
    for check in connection.execute(_CHECK_ROWS, {"ids": list(ids)}).all():
        check_id, user_id, shop_id, *_ = check
        refused = _forbidden(actor, user_id)
        found[check_id] = check if refused is None else refused
        if refused is None:
            lines[check_id] = []
            shop_ids.add(shop_id)
    if lines:
        for line in connection.execute(_LINE_ROWS, {"ids": list(lines)}).all():
            check_id, _, _, _, product_shop_id, *_ = line
            lines[check_id].append(line)
            shop_ids.add(product_shop_id)
    shops = {}
    if shop_ids:
        shops = {shop[0]: shop for shop in connection.execute(_SHOP_ROWS, {"ids": sorted(shop_ids)}).all()}
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
