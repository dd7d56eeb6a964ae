"""The results as Markdown: one table per section, each figure as the median of the repeats with its spread,
before and after side by side when a baseline was measured, and the performance targets."""

import math
import statistics
from collections.abc import Callable
from dataclasses import dataclass

from bench import buy, ceilings, cost, flagship, lateness, live
from bench.figures import Repeats

Key = tuple[str, str, str]


@dataclass(frozen=True)
class Measured:
    """One tree's repeats, with the name and commit the report gives it."""

    label: str
    commit: str
    repeats: Repeats


def _number(value: float) -> str:
    if math.isnan(value):
        return "-"
    magnitude = abs(value)
    if magnitude >= 100 or value == int(value):
        return f"{value:,.0f}"
    if magnitude >= 10:
        return f"{value:.1f}"
    if magnitude >= 1:
        return f"{value:.2f}"
    return f"{value:.3f}"


def is_question(key: Key) -> bool:
    """True for yes/no figures (1 = yes)."""
    return key[2].endswith("?")


def cell(key: Key, values: list[float] | None) -> str:
    """`median (min..max)` of a figure's repeats; `yes` / `no (k of n)` for a yes/no figure."""
    if not values:
        return "-"
    if is_question(key):
        yes = sum(value == 1 for value in values)
        return "yes" if yes == len(values) else f"**no** ({len(values) - yes} of {len(values)})"
    real = [value for value in values if not math.isnan(value)]
    if not real:
        return "-"
    middle = _number(statistics.median(real))
    if len(real) == 1 or min(real) == max(real):
        return middle
    return f"{middle} ({_number(min(real))}..{_number(max(real))})"


def median(values: list[float] | None) -> float:
    """The median of a figure's repeats (NaN when there are none)."""
    real = [value for value in values or [] if not math.isnan(value)]
    return statistics.median(real) if real else math.nan


def ratio(after: list[float] | None, before: list[float] | None) -> str:
    """after ÷ before, of the medians."""
    top, bottom = median(after), median(before)
    if math.isnan(top) or math.isnan(bottom) or bottom == 0:
        return "-"
    return f"{top / bottom:.2f}x"


def _sections(measured: list[Measured]) -> dict[str, list[Key]]:
    sections: dict[str, list[Key]] = {}
    for tree in measured:
        for key in tree.repeats.values:
            if key not in sections.setdefault(key[0], []):
                sections[key[0]].append(key)
    return sections


def section_table(keys: list[Key], measured: list[Measured]) -> list[str]:
    """One section's table: case, figure, each tree's cell, and after ÷ before when there are two trees."""
    header = ["case", "figure", *(f"{tree.label} ({tree.commit})" for tree in measured)]
    if len(measured) == 2:
        header.append(f"{measured[0].label} ÷ {measured[1].label}")
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for key in keys:
        row = [key[1], key[2], *(cell(key, tree.repeats.values.get(key)) for tree in measured)]
        if len(measured) == 2:
            after, before = (tree.repeats.values.get(key) for tree in measured)
            row.append("" if is_question(key) else ratio(after, before))
        lines.append("| " + " | ".join(row) + " |")
    return lines


@dataclass(frozen=True)
class Target:
    """One performance target: the figure it reads and the test on its median."""

    text: str
    key: Key
    met: Callable[[float], bool]


def targets(firsts: list[int], crafts: list[int], seconds: float) -> list[Target]:
    """The performance targets, on the figures this run can have."""
    fc = flagship.case
    small, big = fc(1, 50, 10), fc(100, 50, 10)
    many = f"{max(crafts)} crafts x {seconds:g} s" if crafts else ""
    lat = lateness.SECTION
    rss = "Peak RSS, MiB"
    found = [
        Target(
            "flagship, 1 purchase, c10: requests/s ≥ 0.11 x router ceiling",
            (flagship.SECTION, small, "requests/s ÷ router ceiling"),
            lambda v: v >= 0.11,
        ),
        Target(
            "flagship, 50 checks (100 purchases, first 50), c10: ≥ 0.015 x ceiling",
            (flagship.SECTION, big, "requests/s ÷ router ceiling"),
            lambda v: v >= 0.015,
        ),
        Target(
            "flagship, 1 purchase, c1: p50 ≤ 15 x ceiling p50",
            (flagship.SECTION, fc(1, 50, 1), "p50 ÷ router ceiling p50"),
            lambda v: v <= 15,
        ),
        Target(
            "flagship, 50 checks, c1: p50 ≤ 70 x ceiling p50",
            (flagship.SECTION, fc(100, 50, 1), "p50 ÷ router ceiling p50"),
            lambda v: v <= 70,
        ),
        Target(
            "one row by id: p50 within 1.5 ms of { __typename }",
            (
                ceilings.ROW_SECTION,
                'shop subgraph, { shop(id: "1") { name } }, concurrency 1',
                "p50 - { __typename } p50, ms",
            ),
            lambda v: v <= 1.5,
        ),
        Target(f"{many}: lateness p99 < 1 s", (lat, many, "lateness p99 s"), lambda v: v < 1),
        Target(f"{many}: no slot skipped", (lat, many, "slots skipped"), lambda v: v == 0),
        Target(
            f"{many}: every run DELIVERED, once", (lat, many, "every run DELIVERED, once?"), lambda v: v == 1
        ),
        Target(
            f"{many}: stock = count x DELIVERED runs",
            (lat, many, "stock = count x DELIVERED runs?"),
            lambda v: v == 1,
        ),
        Target("buy, c10: ≥ 100 checks/s", (buy.SECTION, "concurrency 10", "checks/s"), lambda v: v >= 100),
        Target(
            "buy, c50: no errors but INSUFFICIENT_STOCK",
            (buy.SECTION, "concurrency 50", "errors other than INSUFFICIENT_STOCK"),
            lambda v: v == 0,
        ),
        Target(
            "buy, c50: no 'database is locked'",
            (buy.SECTION, "concurrency 50", "answers saying 'database is locked'"),
            lambda v: v == 0,
        ),
        Target(
            f"all four processes < 600 MB at peak ({many})",
            (rss, f"during {many}", "all four at one instant"),
            lambda v: v < 600 * 1e6 / 2**20,
        ),
        Target(
            f"live: one delivery to {live.FANOUT_SUBSCRIBERS} subscribers, commit to last event p99 < 500 ms",
            (live.SECTION, live.FANOUT_CASE, "commit to last subscriber p99 ms"),
            lambda v: v < 500,
        ),
        Target(
            f"live: {live.IDLE_SUBSCRIPTIONS} idle subscriptions add < 250 MB (all four processes)",
            (live.SECTION, live.IDLE_CASE, "memory added, all four processes, MiB"),
            lambda v: v < 250 * 1e6 / 2**20,
        ),
        Target(
            f"live: flagship requests/s with {live.IDLE_SUBSCRIPTIONS} open within 10% of none open",
            (live.SECTION, live.IDLE_CASE, "flagship requests/s open ÷ none"),
            lambda v: v >= 0.9,
        ),
        Target(
            "all four processes < 600 MB at peak (flagship, c10)",
            (rss, "during the flagship at concurrency 10", "all four at one instant"),
            lambda v: v < 600 * 1e6 / 2**20,
        ),
    ]
    del firsts
    return found


def targets_table(measured: list[Measured], found: list[Target]) -> list[str]:
    """The performance targets with each tree's figure and whether its median meets it."""
    header = ["target", *(f"{tree.label} ({tree.commit})" for tree in measured)]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for target in found:
        if not any(target.key in tree.repeats.values for tree in measured):
            continue
        row = [target.text]
        for tree in measured:
            values = tree.repeats.values.get(target.key)
            value = median(values)
            verdict = "" if math.isnan(value) else (" ✅" if target.met(value) else " ❌")
            row.append(cell(target.key, values) + verdict)
        lines.append("| " + " | ".join(row) + " |")
    return lines


def raw(measured: list[Measured]) -> dict[str, object]:
    """Every figure of every repeat, for JSON (NaN as null): per tree its commit, notes and figures."""
    return {
        tree.label: {
            "commit": tree.commit,
            "figures": {
                " | ".join(key): [None if math.isnan(value) else value for value in values]
                for key, values in tree.repeats.values.items()
            },
            "notes": tree.repeats.notes,
        }
        for tree in measured
    }


def markdown(measured: list[Measured], header: list[str], found: list[Target]) -> str:
    """The whole report."""
    lines = list(header)
    met = targets_table(measured, found)
    if len(met) > 2:  # a run of parts that have no target (--only cost) has none to show
        lines += ["", "## Targets (median of the repeats; ✅ met, ❌ missed)", "", *met]
    for tree in measured:
        table = cost.summary(tree.repeats.values)
        if table:
            lines += ["", f"## CPU per request, {tree.label} ({tree.commit})", *table]
    for section, keys in _sections(measured).items():
        lines += ["", f"## {section}", "", *section_table(keys, measured)]
    notes = [f"- {tree.label}, {note}" for tree in measured for note in tree.repeats.notes]
    lines += ["", "## Notes", "", *(notes or ["- every answer measured was a 200 without GraphQL errors"])]
    return "\n".join(lines) + "\n"
