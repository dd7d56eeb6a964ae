"""Validation of input values, answering BAD_USER_INPUT that names the field."""

from subgraphs._common.errors import BadUserInput


def text(value: str, *, field: str, max_length: int, allow_empty: bool = False) -> str:
    """`value` trimmed, refused when empty (unless allowed) or too long."""
    cleaned = value.strip()
    if (not cleaned and not allow_empty) or len(cleaned) > max_length:
        low = 0 if allow_empty else 1
        raise BadUserInput(f"'{field}' must be {low} to {max_length} characters", field=field)
    return without_nul(cleaned, field=field)


def without_nul(value: str, *, field: str) -> str:
    """`value`, refused when it holds a NUL character (PostgreSQL cannot store one in text)."""
    problem = nul_problem(value, field=field)
    if problem is not None:
        raise problem
    return value


def nul_problem(value: str, *, field: str) -> BadUserInput | None:
    """Why `value` cannot be stored when it holds a NUL character, for checks that collect problems."""
    return BadUserInput(f"'{field}' may not contain NUL characters", field=field) if "\x00" in value else None


def bounded(value: int, *, field: str, low: int, high: int) -> int:
    """`value`, refused outside low..high."""
    if not low <= value <= high:
        raise BadUserInput(f"'{field}' must be between {low} and {high}", field=field)
    return value
