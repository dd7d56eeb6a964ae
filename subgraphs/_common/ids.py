"""GraphQL IDs are decimal strings of integer keys."""

from collections.abc import Iterable

import strawberry

from subgraphs._common.errors import BadUserInput

# Keys are INTEGER columns, 32-bit on PostgreSQL: a larger ID names no row, and the database would refuse it.
MAX_KEY = 2**31 - 1


def parse_id(value: str | int, *, field: str) -> int:
    """The integer key behind an ID, or BAD_USER_INPUT naming `field`."""
    text = str(value).strip()
    # Thousands of digits are no key either, and int() would refuse them with an error of its own.
    if not (text.isdecimal() and len(text) <= 32) or not 0 < int(text) <= MAX_KEY:
        raise BadUserInput(f"'{field}' is not a valid id", field=field)
    return int(text)


def parse_ids(values: Iterable[str | int], *, field: str) -> list[int]:
    """Parse every ID in `values`, keeping order."""
    return [parse_id(value, field=field) for value in values]


def to_id(key: int | None) -> strawberry.ID:
    """The GraphQL ID of an integer key (a stored row always has one)."""
    if key is None:
        raise ValueError("a row without a key has no ID yet")
    return strawberry.ID(str(key))
