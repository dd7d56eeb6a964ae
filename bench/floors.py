"""Floors, in this process: the rows of the flagship's shop part read with one SQL statement per table, and
the same answer built by Strawberry from objects already in memory."""

import asyncio
import logging
import sqlite3
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import sqlalchemy
import strawberry

from bench.figures import Figures

logger = logging.getLogger(__name__)
SECTION = "Floors: the flagship's shop part, in process"
MIN_SECONDS = 1.0
MIN_ROUNDS = 5

# One statement per table, as the shop's part of the flagship needs them (check, check_line, product,
# category, shop); `{ids}` is a list of placeholders.
STATEMENTS = {
    "check": 'SELECT id, shop_id, number, created_at FROM "check" WHERE id IN ({ids})',
    "check_line": (
        "SELECT check_id, product_id, quantity, unit_price FROM check_line WHERE check_id IN ({ids})"
    ),
    "product": "SELECT id, name, category_id FROM product WHERE id IN ({ids})",
    "category": "SELECT id, name FROM category WHERE id IN ({ids})",
    "shop": "SELECT id, name, address FROM shop WHERE id IN ({ids})",
}
# The shop part of MyPurchases, asked of a plain schema of the same shape.
SHOP_PART = """{ checks { number createdAt shop { name address }
  lines { quantity unitPrice product { name category { name } } } } }"""

Rows = dict[str, list[tuple[Any, ...]]]


def _placeholders(values: list[Any]) -> str:
    return ", ".join("?" for _ in values)


def read_rows(execute: Callable[[str, list[Any]], list[tuple[Any, ...]]], check_ids: list[int]) -> Rows:
    """The rows for `check_ids`: five statements, each one's ids taken from the rows before it."""
    rows: Rows = {"check": execute(STATEMENTS["check"], check_ids)}
    rows["check_line"] = execute(STATEMENTS["check_line"], check_ids)
    product_ids = sorted({line[1] for line in rows["check_line"]})
    rows["product"] = execute(STATEMENTS["product"], product_ids)
    category_ids = sorted({product[2] for product in rows["product"] if product[2] is not None})
    rows["category"] = execute(STATEMENTS["category"], category_ids)
    shop_ids = sorted({check[1] for check in rows["check"]})
    rows["shop"] = execute(STATEMENTS["shop"], shop_ids)
    return rows


@strawberry.type(name="Category")
class CategoryNode:
    name: str


@strawberry.type(name="Product")
class ProductNode:
    name: str
    category: CategoryNode | None


@strawberry.type(name="Shop")
class ShopNode:
    name: str
    address: str


@strawberry.type(name="CheckLine")
class LineNode:
    quantity: int
    unit_price: int
    product: ProductNode


@strawberry.type(name="Check")
class CheckNode:
    number: int
    created_at: datetime
    shop: ShopNode
    lines: list[LineNode]


@strawberry.type
class Query:
    checks: list[CheckNode]


SCHEMA = strawberry.Schema(query=Query)


def objects(rows: Rows) -> list[CheckNode]:
    """The checks of `rows` as plain objects, linked."""
    categories = {row[0]: CategoryNode(name=row[1]) for row in rows["category"]}
    products = {row[0]: ProductNode(name=row[1], category=categories.get(row[2])) for row in rows["product"]}
    shops = {row[0]: ShopNode(name=row[1], address=row[2]) for row in rows["shop"]}
    lines: dict[int, list[LineNode]] = {}
    for check_id, product_id, quantity, unit_price in rows["check_line"]:
        line = LineNode(quantity=quantity, unit_price=unit_price, product=products[product_id])
        lines.setdefault(check_id, []).append(line)
    return [
        CheckNode(
            number=row[2],
            created_at=datetime.fromisoformat(str(row[3])),
            shop=shops[row[1]],
            lines=lines.get(row[0], []),
        )
        for row in rows["check"]
    ]


def _ms_per_call(call: Callable[[], object]) -> float:
    """Median wall time of `call` in ms, over at least MIN_ROUNDS calls and MIN_SECONDS."""
    call()  # warm
    times: list[float] = []
    started = time.perf_counter()
    while len(times) < MIN_ROUNDS or time.perf_counter() - started < MIN_SECONDS:
        begin = time.perf_counter()
        call()
        times.append(time.perf_counter() - begin)
    return statistics.median(times) * 1000


@dataclass(frozen=True)
class Floor:
    """The floors for one page of checks, in ms per operation."""

    checks: int
    sqlite3_ms: float
    sqlalchemy_ms: float
    strawberry_ms: float


def measure_page(database: Path, check_ids: list[int]) -> Floor:
    """The three floors for the checks `check_ids` of the shop database `database`."""
    connection = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    engine = sqlalchemy.create_engine(f"sqlite:///{database}")
    try:

        def with_sqlite3(statement: str, values: list[Any]) -> list[tuple[Any, ...]]:
            return connection.execute(statement.format(ids=_placeholders(values)), values).fetchall()

        def with_sqlalchemy() -> Rows:
            with engine.connect() as conn:

                def execute(statement: str, values: list[Any]) -> list[tuple[Any, ...]]:
                    names = {f"v{n}": value for n, value in enumerate(values)}
                    text = statement.format(ids=", ".join(f":{name}" for name in names))
                    return [tuple(row) for row in conn.execute(sqlalchemy.text(text), names)]

                return read_rows(execute, check_ids)

        rows = read_rows(with_sqlite3, check_ids)
        if len(rows["check"]) != len(check_ids) or not rows["check_line"]:
            raise RuntimeError(f"the shop database holds {len(rows['check'])} of {len(check_ids)} checks")
        checks = objects(rows)

        async def build() -> None:
            result = await SCHEMA.execute(SHOP_PART, root_value=Query(checks=checks))
            if result.errors:
                raise RuntimeError(f"floor schema: {result.errors}")

        loop = asyncio.new_event_loop()
        try:
            strawberry_ms = _ms_per_call(lambda: loop.run_until_complete(build()))
        finally:
            loop.close()
        return Floor(
            checks=len(check_ids),
            sqlite3_ms=_ms_per_call(lambda: read_rows(with_sqlite3, check_ids)),
            sqlalchemy_ms=_ms_per_call(with_sqlalchemy),
            strawberry_ms=strawberry_ms,
        )
    finally:
        connection.close()
        engine.dispose()


def newest_checks(database: Path, user_id: int, count: int) -> list[int]:
    """The ids of the user's `count` newest checks."""
    connection = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    try:
        rows = connection.execute(
            'SELECT id FROM "check" WHERE user_id = ? ORDER BY id DESC LIMIT ?', (user_id, count)
        ).fetchall()
    finally:
        connection.close()
    return [int(row[0]) for row in rows]


def measure(database: Path, user_id: int, pages: list[int], figures: Figures) -> None:
    """The floors for the user's newest `page` checks, for each page size, recorded in `figures`."""
    for page in pages:
        floor = measure_page(database, newest_checks(database, user_id, page))
        case = f"{floor.checks} checks"
        figures.add(SECTION, case, "SQL, 5 statements (sqlite3), ms", floor.sqlite3_ms)
        figures.add(SECTION, case, "SQL, 5 statements (SQLAlchemy Core), ms", floor.sqlalchemy_ms)
        figures.add(SECTION, case, "Strawberry from memory (schema.execute), ms", floor.strawberry_ms)
        logger.info(
            "  floors, %d checks: sqlite3 %.2f ms, SQLAlchemy %.2f ms, Strawberry %.2f ms",
            floor.checks,
            floor.sqlite3_ms,
            floor.sqlalchemy_ms,
            floor.strawberry_ms,
        )
