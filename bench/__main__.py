"""`make bench`: every performance figure in one run, each next to its ceiling and floor, repeated, optionally
against a baseline checkout; Markdown and PNG plots into bench/results/.

Usage: python -m bench [--repeats 3] [--seconds 8] [--only flagship,buy] [--baseline PATH] (see --help)
"""

import argparse
import json
import logging
import os
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any, NamedTuple

from bench import buy, ceilings, cost, data, ending, flagship, floors, lateness, live, plots, report
from bench.figures import Figures, Repeats
from bench.rss import Peaks
from bench.system import System, Tree, running

logger = logging.getLogger("bench")
ROOT = Path(__file__).resolve().parents[1]
SECTIONS = ("ceilings", "row", "flagship", "ending", "floors", "buy", "lateness", "live", "cost")
RSS_SECTION = "Peak RSS, MiB"
# Nothing may answer without doing the work: the router's in-flight deduplication is off. The customers'
# access tokens outlive a repeat (made at its start, used throughout; a tree before sessions ignores it).
TOKENS_ENV = {"PURCHASE_ACCESS_TOKEN_TTL_SECONDS": "7200"}
READ_ENV = {"ROUTER_DEDUPE": "0", "FACTORY_SCHEDULER_ENABLED": "false", **TOKENS_ENV}
LATENESS_ENV = {"ROUTER_DEDUPE": "0", **TOKENS_ENV}


def _numbers(text: str) -> list[int]:
    return [int(part) for part in text.split(",") if part.strip()]


def parse(argv: list[str]) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=3, help="repeats of every figure (default 3)")
    parser.add_argument("--seconds", type=float, default=8, help="length of each wrk run (default 8)")
    parser.add_argument(
        "--warmup", type=float, default=2, help="wrk warm-up before each operation (default 2)"
    )
    parser.add_argument(
        "--only",
        default=",".join(SECTIONS),
        help=f"comma-separated subset of {','.join(SECTIONS)} (default all)",
    )
    parser.add_argument(
        "--purchases", type=_numbers, default=[1, 10, 100, 1000], help="flagship customers' purchases"
    )
    parser.add_argument("--firsts", type=_numbers, default=[50, 100], help="flagship page sizes")
    parser.add_argument("--buy-concurrency", type=_numbers, default=[10, 50], help="buy's wrk connections")
    parser.add_argument("--crafts", type=_numbers, default=[100, 1000], help="lateness: crafts per run")
    parser.add_argument(
        "--lateness-seconds",
        type=float,
        default=60,
        help="lateness: seconds each craft delivers (default 60, ≤ 90)",
    )
    parser.add_argument(
        "--tree", type=Path, default=ROOT, help="the checkout measured as 'after' (default this one)"
    )
    parser.add_argument(
        "--baseline", type=Path, help="another checkout (with its .venv) measured as 'before'"
    )
    parser.add_argument("--results", type=Path, default=ROOT / "bench" / "results", help="where results go")
    args = parser.parse_args(argv)
    args.only = [name.strip() for name in args.only.split(",") if name.strip()]
    unknown = set(args.only) - set(SECTIONS)
    if unknown:
        parser.error(f"unknown section(s) {', '.join(sorted(unknown))}; choose from {', '.join(SECTIONS)}")
    if args.lateness_seconds > lateness.MAX_SECONDS:
        parser.error(f"--lateness-seconds is at most {lateness.MAX_SECONDS}")
    for tree in filter(None, (args.tree, args.baseline)):
        if not (tree / ".venv" / "bin" / "python").exists():
            parser.error(f"{tree} has no .venv: run `.tools/bin/uv sync --frozen` in it (bench/README.md)")
    return args


def _record_rss(figures: Figures, case: str, peaks: Peaks) -> None:
    for name, mib in peaks.per_process.items():
        figures.add(RSS_SECTION, case, name, mib)
    figures.add(RSS_SECTION, case, "all four at one instant", peaks.together)


def measure_reads(system: System, args: argparse.Namespace) -> Figures:
    """Ceilings, one row by id, the flagship and the floors, on one system."""
    figures = Figures()
    admin = data.admin(system)
    wanted = set(args.only)
    catalog = data.catalog(admin, "Flagship shop", flagship.LINES, 100_000)  # shop id 1
    customers = {}
    if wanted & {"flagship", "floors", "ending"}:
        customers = flagship.prepare(system, catalog, args.purchases)
    found = ceilings.measure(system, figures, seconds=args.seconds, warmup=args.warmup)
    if "row" in wanted:
        ceilings.measure_row(system, figures, found["shop"], seconds=args.seconds, warmup=args.warmup)
    if "flagship" in wanted:
        peaks = Peaks()
        flagship.measure(
            system,
            figures,
            customers,
            found["router"],
            firsts=args.firsts,
            seconds=args.seconds,
            warmup=args.warmup,
            peaks=peaks,
        )
        _record_rss(figures, "during the flagship at concurrency 10", peaks)
    if "ending" in wanted:
        # Under the load of the 50-check flagship (or the largest customer's, when there is no 100).
        loaded = customers.get(100) or customers[max(customers)]
        ending.measure(system, figures, loaded, first=min(args.firsts))
    if "floors" in wanted:
        most = max(customers)
        pages = sorted({min(first, most) for first in args.firsts})
        floors.measure(system.database_file("shop"), int(customers[most].user.id), pages, figures)
    return figures


def on_its_own(measure: Callable[..., None], **options: Any) -> Callable[[System], Figures]:
    """A step that runs `measure(system, figures, **options)` into figures of its own, on its own system."""

    def step(system: System) -> Figures:
        figures = Figures()
        measure(system, figures, **options)
        return figures

    return step


def measure_lateness(system: System, *, crafts: int, args: argparse.Namespace) -> Figures:
    """One lateness run, on its own system."""
    figures, peaks = Figures(), Peaks()
    lateness.measure(system, figures, crafts=crafts, seconds=args.lateness_seconds, peaks=peaks)
    _record_rss(figures, f"during {crafts} crafts x {args.lateness_seconds:g} s", peaks)
    return figures


class Step(NamedTuple):
    """One measurement of a repeat: its name, the system's environment and database, what it measures."""

    name: str
    environment: dict[str, str]
    measure: Callable[[System], Figures]
    postgres: bool = False


def plan(args: argparse.Namespace) -> list[Step]:
    """The measurements of one repeat."""
    steps: list[Step] = []
    if set(args.only) & {"ceilings", "row", "flagship", "ending", "floors"}:
        steps.append(Step("ceilings, flagship, floors", READ_ENV, lambda system: measure_reads(system, args)))
    if "buy" in args.only:
        measure = on_its_own(buy.measure, concurrencies=args.buy_concurrency, seconds=args.seconds)
        steps.append(Step("buy", READ_ENV, measure))
    if "lateness" in args.only:
        for count in args.crafts:
            steps.append(
                Step(
                    f"lateness, {count} crafts",
                    LATENESS_ENV,
                    partial(measure_lateness, crafts=count, args=args),
                )
            )
    if "live" in args.only:
        measure = on_its_own(live.measure, seconds=args.seconds, warmup=args.warmup)
        steps.append(Step("live", live.ENV, measure))
    if "cost" in args.only:
        for postgres in (False, True):
            backend = "PostgreSQL" if postgres else "SQLite"
            measure = on_its_own(cost.measure, postgres=postgres, seconds=args.seconds, warmup=args.warmup)
            steps.append(Step(f"cost, {backend}", READ_ENV, measure, postgres))
    return steps


def _cpu() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown CPU"


def _where(tree: Tree) -> str:
    """A tree as the report names it: never a path of the machine it ran on (reports are committed)."""
    return "`.` (this checkout)" if tree.root == ROOT else "another checkout"


def _command(arguments: list[str], trees: list[Tree], commits: dict[str, str]) -> str:
    """The command line, with the trees' paths replaced by what they were."""
    named = {str(tree.root): f"<checkout of {commits[tree.label]}>" for tree in trees if tree.root != ROOT}
    return " ".join(named.get(str(Path(argument).resolve()), argument) for argument in arguments)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; write and print the report."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    for noisy in ("httpx", "alembic"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    args = parse(sys.argv[1:] if argv is None else argv)
    trees = [Tree("after", args.tree.resolve())]
    if args.baseline:
        trees.append(Tree("before", args.baseline.resolve()))
    commits = {tree.label: tree.commit() for tree in trees}
    results = {tree.label: Repeats() for tree in trees}
    started, stamp, load = time.monotonic(), datetime.now(UTC), os.getloadavg()
    for repeat in range(1, args.repeats + 1):
        for step in plan(args):
            # Trees take turns going first, so neither always meets the machine in the same state.
            for tree in trees if repeat % 2 else trees[::-1]:
                logger.info(
                    "repeat %d/%d, %s, %s (%s)",
                    repeat,
                    args.repeats,
                    step.name,
                    tree.label,
                    commits[tree.label],
                )
                try:
                    with running(tree, postgres=step.postgres, **step.environment) as system:
                        results[tree.label].add(repeat, step.measure(system))
                except Exception as error:  # one failed measurement must not lose the others
                    logger.exception("%s failed on %s", step.name, tree.label)
                    failed = Figures(notes=[f"{step.name}: FAILED, not measured: {str(error)[:300]}"])
                    results[tree.label].add(repeat, failed)
    minutes = (time.monotonic() - started) / 60
    measured = [report.Measured(tree.label, commits[tree.label], results[tree.label]) for tree in trees]
    args.results.mkdir(parents=True, exist_ok=True)
    base = args.results / stamp.strftime("%Y-%m-%dT%H%M%SZ")
    pictures = []
    if "flagship" in args.only:
        pictures.append(
            plots.flagship_plot(
                measured, args.purchases, args.firsts, base.with_name(base.name + "-flagship.png")
            )
        )
    if "lateness" in args.only:
        pictures.append(
            plots.lateness_plot(
                measured, args.crafts, args.lateness_seconds, base.with_name(base.name + "-lateness.png")
            )
        )
    header = [
        f"# Benchmark, {stamp:%Y-%m-%d %H:%M} UTC",
        "",
        f"- machine: {os.cpu_count()} cores ({_cpu()}), load average {load[0]:.2f} when the run started",
        *(f"- {tree.label}: {_where(tree)} at commit {commits[tree.label]}" for tree in trees),
        f"- {args.repeats} repeat(s), each on freshly started systems; wrk runs of {args.seconds:g} s after "
        f"a {args.warmup:g} s warm-up; lateness runs of {args.lateness_seconds:g} s",
        f"- the whole run took {minutes:.0f} min",
        f"- command: `python -m bench {_command(sys.argv[1:] if argv is None else argv, trees, commits)}`",
        "- each cell: median of the repeats (min..max); ÷: ratio of the medians",
        *(f"- plot: [{picture.name}]({picture.name})" for picture in pictures),
        f"- every figure of every repeat: [{base.name}.json]({base.name}.json)",
    ]
    text = report.markdown(measured, header, report.targets(args.firsts, args.crafts, args.lateness_seconds))
    base.with_suffix(".md").write_text(text)
    base.with_suffix(".json").write_text(json.dumps(report.raw(measured), indent=1) + "\n")
    logger.info("results: %s", base.with_suffix(".md"))
    print(text)  # noqa: T201 - the report is this command's output
    return 0


if __name__ == "__main__":
    sys.exit(main())
