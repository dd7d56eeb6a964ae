"""The README's settings table names every environment variable the code reads, and nothing else: the subgraphs'
Settings classes (by introspection), and the reads of the router, the web app's dev server, the launcher and
tools, the subgraphs' own modules and the deployment files (by scanning their sources: tests/code_settings.py)."""

import re

import pytest

from subgraphs import registry
from tests.code_settings import (
    EACH,
    ROOT,
    _expand,
    deployment_reads,
    python_reads,
    read_by_code,
    script_reads,
    settings_fields,
)

pytestmark = pytest.mark.db_agnostic

README = ROOT / "README.md"
TABLE_HEADING = "## Settings"


def settings_table() -> dict[str, tuple[str, str]]:
    """The README's settings table: each variable it names (expanded) -> (its row's name cell, default cell)."""
    text = README.read_text()
    assert TABLE_HEADING in text, f"README.md has no {TABLE_HEADING!r} section"
    section = text.split(TABLE_HEADING, 1)[1].split("\n## ", 1)[0]
    rows: dict[str, tuple[str, str]] = {}
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if not line.startswith("|") or len(cells) < 3 or set(cells[0]) <= set("-: "):
            continue
        for name in re.findall(r"`([A-Z<][A-Z0-9_<>]*)`", cells[0]):
            for variable in _expand(name):
                assert variable not in rows, f"README.md lists {variable} twice"
                rows[variable] = (name, cells[1])
    assert rows, "README.md's settings table has no rows"
    return rows


def _shown(default: object) -> str:
    if isinstance(default, bool):
        return str(default).lower()
    if isinstance(default, float):
        return f"{default:g}"
    return str(default)


def test_every_setting_the_code_reads_is_in_the_readme() -> None:
    missing = sorted(read_by_code() - set(settings_table()))
    assert missing == [], f"add to the table under {TABLE_HEADING!r} in README.md: {', '.join(missing)}"


def test_the_readme_lists_only_settings_the_code_reads() -> None:
    unread = sorted(set(settings_table()) - read_by_code())
    assert unread == [], f"README.md lists settings that nothing reads: {', '.join(unread)}"


def test_the_defaults_the_readme_gives_are_the_settings_defaults() -> None:
    """A default cell that shows a value in backticks shows the field's default (prose is not checked)."""
    table = settings_table()
    wrong = []
    for variable, default in settings_fields().items():
        name, cell = table.get(variable, ("", ""))
        shown = re.search(r"`([^`]*)`", cell)
        if shown is None:
            continue
        subgraph = variable.removesuffix(name.removeprefix(EACH)).removesuffix("_").lower()
        value = shown.group(1).replace("<name>", subgraph)
        if value != _shown(default):
            wrong.append(f"{variable}: README says {value!r}, the code {_shown(default)!r}")
    assert wrong == []


def test_the_scan_finds_reads_of_each_kind() -> None:
    """The patterns above still match how the code reads its environment (a read of each kind is found)."""
    assert {"SERVICE_TREE_IDENTITY_URL", "SHOP_PURCHASE_URL"} <= set(settings_fields())
    assert {"LOG_FORMAT", "OTEL_EXPORTER_OTLP_ENDPOINT"} <= python_reads()
    assert {f"{name.upper()}_PORT" for name in registry.NAMES} <= python_reads()  # the launcher's _port
    assert {"ROUTER_PORT", "ROUTER_SUPERGRAPH", "ROUTER_DEDUPE"} <= script_reads()
    assert {sub.url_env for sub in registry.SUBGRAPHS} <= script_reads()  # `${subgraph.toUpperCase()}_URL`
    assert {"POSTGRES_PASSWORD", "PORT", "SERVICE_TREE_DATABASES"} <= deployment_reads()
