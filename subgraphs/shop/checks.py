"""Reading checks: a check with everything it shows, for its buyer, ADMINs and services."""

from collections.abc import Sequence
from dataclasses import dataclass, replace

from sqlalchemy import bindparam
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


def _forbidden(actor: Principal, check: Check) -> Forbidden | None:
    """Who may see a check: its buyer, admins and services."""
    return None if actor.can_read(check.user_id) else Forbidden("That check is not yours")


def check_references(
    session: Session, *, actor: Principal, ids: Sequence[int]
) -> list[CheckView | Forbidden | None]:
    """Each check's view in order: None when missing, FORBIDDEN when the actor may not see it."""
    found = rows.by_ids(session, Check, ids)
    visible = [check for check in found.values() if _forbidden(actor, check) is None]
    views = {view.check.id: view for view in check_views(session, visible)}
    return [
        views.get(check_id) or (_forbidden(actor, found[check_id]) if check_id in found else None)
        for check_id in ids
    ]


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
