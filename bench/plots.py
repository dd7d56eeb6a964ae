"""PNG plots of the results: flagship latency against purchases, lateness against crafts."""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, no display

import matplotlib.pyplot as plt
from matplotlib.axes import Axes
from matplotlib.ticker import FuncFormatter, NullFormatter

from bench import flagship, lateness
from bench.report import Measured, median

STYLES = ["-", "--", ":"]  # one per tree: after, before
COLORS = ["tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple", "tab:brown"]  # one per series


def _plain_ticks(axes: Axes) -> None:
    """Log axes labelled 1, 10, 100 rather than powers of ten; on y, 2 and 5 between them too."""
    for axis in (axes.xaxis, axes.yaxis):
        axis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
        axis.set_minor_formatter(NullFormatter())
    axes.yaxis.set_minor_formatter(
        FuncFormatter(lambda value, _: f"{value:g}" if f"{value:g}"[0] in "25" else "")
    )


def _spread(values: list[float]) -> tuple[float, float, float]:
    middle = median(values)
    return middle, middle - min(values), max(values) - middle


# One line of a plot: its legend, line style, colour, and its points (x, the values of every repeat at x).
Line = tuple[str, str, str, list[tuple[int, list[float]]]]


def _log_plot(lines: list[Line], path: Path, *, xlabel: str, ylabel: str, title: str) -> Path:
    """Each line's median per x on log axes, with min..max bars, saved as a PNG at `path`."""
    figure, axes = plt.subplots(figsize=(11, 5))
    for label, style, color, points in lines:
        if not points:
            continue
        spreads = [_spread(values) for _, values in points]
        axes.errorbar(
            [x for x, _ in points],
            [middle for middle, _, _ in spreads],
            yerr=[[low for _, low, _ in spreads], [high for _, _, high in spreads]],
            linestyle=style,
            color=color,
            marker="o",
            capsize=3,
            label=label,
        )
    axes.set_xscale("log")
    axes.set_yscale("log")
    axes.set_xlabel(xlabel)
    axes.set_ylabel(ylabel)
    axes.set_title(title)
    axes.grid(True, which="both", alpha=0.3)
    _plain_ticks(axes)
    axes.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1.0))
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path


def _points(tree: Measured, keys: dict[int, tuple[str, str, str]]) -> list[tuple[int, list[float]]]:
    """The repeats of `tree`'s figure `keys[x]` at each x that has them."""
    return [(x, values) for x, key in keys.items() if (values := tree.repeats.values.get(key))]


def flagship_plot(measured: list[Measured], purchases: list[int], firsts: list[int], path: Path) -> Path:
    """p50 latency of MyPurchases against the customer's purchases: one line per concurrency and page size."""
    series = [(concurrency, first) for concurrency in (1, 10) for first in firsts]
    lines: list[Line] = [
        (
            f"{tree.label} ({tree.commit}): concurrency {concurrency}, first {first}",
            style,
            color,
            _points(
                tree,
                {n: (flagship.SECTION, flagship.case(n, first, concurrency), "p50 ms") for n in purchases},
            ),
        )
        for style, tree in zip(STYLES, measured, strict=False)
        for color, (concurrency, first) in zip(COLORS, series, strict=False)
    ]
    return _log_plot(
        lines,
        path,
        xlabel="purchases of the customer",
        ylabel="p50 latency, ms (median of repeats, bars: min..max)",
        title="MyPurchases through the router",
    )


def lateness_plot(measured: list[Measured], crafts: list[int], seconds: float, path: Path) -> Path:
    """Delivery lateness (median and p99) against the number of crafts delivering every second."""
    lines: list[Line] = [
        (
            f"{tree.label} ({tree.commit}): {figure.split()[1]}",
            style,
            color,
            _points(tree, {n: (lateness.SECTION, f"{n} crafts x {seconds:g} s", figure) for n in crafts}),
        )
        for style, tree in zip(STYLES, measured, strict=False)
        for color, figure in zip(COLORS, ("lateness median s", "lateness p99 s"), strict=False)
    ]
    return _log_plot(
        lines,
        path,
        xlabel="crafts, each delivering every second",
        ylabel="lateness, s (finishedAt - scheduledAt)",
        title=f"Scheduled deliveries, {seconds:g} s",
    )
