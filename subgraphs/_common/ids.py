"""GraphQL IDs are decimal strings of integer keys."""

from collections.abc import Iterable

from subgraphs._common.errors import BadUserInput

_MAX_KEY = 2**63 - 1


def parse_id(value: str | int, *, field: str) -> int:
    """The integer key behind an ID, or BAD_USER_INPUT naming `field`."""
    text = str(value).strip()
    if not text.isdecimal() or not 0 < int(text) <= _MAX_KEY:
        raise BadUserInput(f"'{field}' is not a valid id", field=field)
    return int(text)


def parse_ids(values: Iterable[str | int], *, field: str) -> list[int]:
    """Parse every ID in `values`, keeping order."""
    return [parse_id(value, field=field) for value in values]
