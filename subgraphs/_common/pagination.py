"""Cursor pagination: `first` (default 20, max 100), an opaque `after` cursor, and one keyset paginator."""

import base64
import binascii
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from sqlalchemy import DateTime, and_, bindparam, func, or_, select
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session

from subgraphs._common.errors import BadUserInput
from subgraphs._common.ids import MAX_KEY

DEFAULT_PAGE = 20
MAX_PAGE = 100
T = TypeVar("T")


def page_size(first: int | None, *, field: str = "first") -> int:
    """Validate `first`."""
    size = DEFAULT_PAGE if first is None else first
    if not 0 <= size <= MAX_PAGE:
        raise BadUserInput(f"'{field}' must be between 0 and {MAX_PAGE}", field=field)
    return size


def encode_cursor(*values: Any) -> str:
    """An opaque cursor holding the sort key of the last row."""
    return base64.urlsafe_b64encode(json.dumps(list(values)).encode()).decode()


def decode_cursor(cursor: str | None, *, arity: int, field: str = "after") -> list[Any] | None:
    """The sort key inside `cursor`, or a BAD_USER_INPUT error when it is not one of ours."""
    if cursor is None:
        return None
    try:
        values = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise BadUserInput("Invalid cursor", field=field) from None
    if not isinstance(values, list) or len(values) != arity:
        raise BadUserInput("Invalid cursor", field=field)
    return values


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of rows, whether more follow, the cursor after the last, and how many rows there are."""

    rows: list[T]
    has_next: bool
    end_cursor: str | None
    total: int


@dataclass(frozen=True, slots=True)
class Sort:
    """One column of a keyset order; the last one must make the order total (the primary key)."""

    column: Any
    descending: bool = False


def _to_json(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def _from_json(sort: Sort, raw: Any, field: str) -> Any:
    try:
        if isinstance(sort.column.expression.type, DateTime):
            return datetime.fromisoformat(raw)
        value = int(raw)  # OverflowError for a cursor holding Infinity
    except (TypeError, ValueError, OverflowError):
        raise BadUserInput("Invalid cursor", field=field) from None
    if not -MAX_KEY - 1 <= value <= MAX_KEY:  # what the INTEGER keys can hold; the database refuses more
        raise BadUserInput("Invalid cursor", field=field)
    return value


def _after(order: Sequence[Sort], values: Sequence[Any]) -> ColumnElement[bool]:
    """Rows strictly after `values` in `order`: (a > x) or (a = x and b > y) or ..."""
    branches = []
    for position, sort in enumerate(order):
        beyond = sort.column < values[position] if sort.descending else sort.column > values[position]
        equal = [order[i].column == values[i] for i in range(position)]
        branches.append(and_(*equal, beyond))
    return or_(*branches)


class Listing:
    """A paginated query, built once with bound parameters: its first page, a page after a cursor, and the
    count of its rows are statements reused (compiled once) whatever the parameters."""

    def __init__(self, query: Any, *, order: Sequence[Sort]) -> None:
        self._order = tuple(order)
        ordering = [sort.column.desc() if sort.descending else sort.column for sort in order]
        limit: Any = bindparam("page_limit")
        self._count = select(func.count()).select_from(query.subquery())
        self._first = query.order_by(*ordering).limit(limit)
        keys: list[Any] = [bindparam(f"after_{position}") for position in range(len(order))]
        self._after = query.where(_after(order, keys)).order_by(*ordering).limit(limit)

    def page(self, session: Session, *, first: int | None, after: str | None, **params: Any) -> Page[Any]:
        """One page (after the cursor `after`), and the total count of the rows, for these parameters."""
        size = page_size(first)
        cursor = decode_cursor(after, arity=len(self._order))
        total: int = session.execute(self._count, params).scalar_one()
        bound = {**params, "page_limit": size + 1}
        if cursor is None:
            statement = self._first
        else:
            statement = self._after
            for position, (sort, raw) in enumerate(zip(self._order, cursor, strict=True)):
                bound[f"after_{position}"] = _from_json(sort, raw, "after")
        rows = list(session.exec(statement, params=bound).all())
        has_next = len(rows) > size
        rows = rows[:size]
        end = (
            encode_cursor(*(_to_json(getattr(rows[-1], s.column.key)) for s in self._order)) if rows else None
        )
        return Page(rows=rows, has_next=has_next, end_cursor=end, total=total)
