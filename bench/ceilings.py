"""Ceilings: the router and each subgraph answering `{ __typename }` (no data reached), and one row by id on
the shop subgraph next to its own ceiling."""

import logging
from dataclasses import dataclass

from bench.figures import Figures
from bench.load import Load, wrk
from bench.system import System

logger = logging.getLogger(__name__)
TYPENAME = "{ __typename }"
ONE_ROW = '{ shop(id: "1") { name } }'
SECTION = "Ceilings: { __typename }"
ROW_SECTION = "One row by id"


@dataclass(frozen=True)
class Ceiling:
    """One process answering `{ __typename }` at concurrency 1 and 10."""

    one: Load
    ten: Load


def measure(system: System, figures: Figures, *, seconds: float, warmup: float) -> dict[str, Ceiling]:
    """Every process's ceiling at concurrency 1 and 10 (router first), recorded in `figures`."""
    ceilings: dict[str, Ceiling] = {}
    names = ["router", *(name for name in system.urls if name != "router")]
    for name in names:
        url = system.urls[name]
        if warmup:
            wrk(url, TYPENAME, connections=10, seconds=warmup)
        ceiling = Ceiling(
            one=wrk(url, TYPENAME, connections=1, seconds=seconds),
            ten=wrk(url, TYPENAME, connections=10, seconds=seconds),
        )
        figures.add_load(SECTION, f"{name}, concurrency 1", ceiling.one, latency_only=True)
        figures.add_load(SECTION, f"{name}, concurrency 10", ceiling.ten)
        ceilings[name] = ceiling
    return ceilings


def measure_row(system: System, figures: Figures, shop: Ceiling, *, seconds: float, warmup: float) -> None:
    """`{ shop(id: "1") { name } }` on the shop subgraph at concurrency 1, against its `{ __typename }`."""
    url = system.urls["shop"]
    if warmup:
        wrk(url, ONE_ROW, connections=1, seconds=warmup)
    row = wrk(url, ONE_ROW, connections=1, seconds=seconds)
    case = 'shop subgraph, { shop(id: "1") { name } }, concurrency 1'
    figures.add_load(ROW_SECTION, case, row, latency_only=True)
    figures.add(ROW_SECTION, case, "p50 - { __typename } p50, ms", row.p50_ms - shop.one.p50_ms)
