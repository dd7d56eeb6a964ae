"""A small block-style YAML writer for the generated config files (mappings, lists of scalars or of mappings,
scalars; a multi-line string as a literal block)."""

import json
import re
from collections.abc import Mapping, Sequence

Scalar = str | int | bool | None
Value = Scalar | Sequence[Scalar] | Sequence[Mapping[str, "Value"]] | Mapping[str, "Value"]

# Plain (unquoted) strings: no indicator first, no ": " or " #" inside, and nothing YAML reads as a number,
# a boolean or null. Everything else is written as a JSON string, which YAML reads back unchanged.
_PLAIN = re.compile(r"[A-Za-z_/$=.][^\n]*")
_SPECIAL = re.compile(r"(?i)(true|false|yes|no|on|off|y|n|null|~)")


def _scalar(value: Scalar) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    plain = (
        _PLAIN.fullmatch(value)
        and not _SPECIAL.fullmatch(value)
        and ": " not in value
        and " #" not in value
        and not value.endswith((":", " "))
    )
    return value if plain else json.dumps(value)


def _lines(mapping: Mapping[str, Value], indent: int) -> list[str]:
    lines = []
    pad = " " * indent
    for key, value in mapping.items():
        if isinstance(value, Mapping) and not value:
            lines.append(f"{pad}{key}: {{}}")  # an empty mapping, not null (`podSelector: {}` selects all)
        elif isinstance(value, Mapping):
            lines.append(f"{pad}{key}:")
            lines.extend(_lines(value, indent + 2))
        elif isinstance(value, Sequence) and not isinstance(value, str):
            blocks = [item for item in value if isinstance(item, Mapping)]
            if blocks:
                if len(blocks) != len(value):
                    raise ValueError(f"{key}: a list holds either mappings or scalars, not both")
                # A list of mappings, one "- " block each (Prometheus' scrape_configs, for instance).
                lines.append(f"{pad}{key}:")
                for block in (_lines(item, indent + 4) for item in blocks):
                    lines.extend([f"{pad}  - {block[0].lstrip()}", *block[1:]])
                continue
            scalars = [item for item in value if not isinstance(item, Mapping)]
            items = ", ".join(
                json.dumps(item) if isinstance(item, str) else _scalar(item) for item in scalars
            )
            lines.append(f"{pad}{key}: [{items}]")
        elif isinstance(value, str) and _is_block(value):
            # A script or a file's content reads as itself: `|` keeps its lines and its final newline.
            lines.append(f"{pad}{key}: |")
            lines.extend(f"{pad}  {line}".rstrip() for line in value.splitlines())
        else:
            lines.append(f"{pad}{key}: {_scalar(value)}".rstrip())
    return lines


def _is_block(value: str) -> bool:
    """True for a multi-line string a literal block reproduces exactly (one final newline, no trailing
    blanks, no line starting with a space, which would change the block's indentation)."""
    lines = value.splitlines()
    return (
        len(lines) > 1
        and value.endswith("\n")
        and not value.endswith("\n\n")
        and not lines[0].startswith((" ", "\t"))
        and all(line == line.rstrip() and "\t" not in line for line in lines)
    )


def dump(document: Mapping[str, Value], *, indent: int = 0) -> str:
    """`document` as block YAML, every line indented by `indent` spaces."""
    return "\n".join(_lines(document, indent)) + "\n"
