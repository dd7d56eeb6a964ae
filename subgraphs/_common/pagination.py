"""Cursor pagination: `first` (default 20, max 100) and an opaque `after` cursor."""

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from subgraphs._common.errors import BadUserInput

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
