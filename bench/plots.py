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


def flagship_plot(measured: list[Measured], purchases: list[int], firsts: list[int], path: Path) -> Path:
    """p50 latency of MyPurchases against the customer's purchases: one line per concurrency and page size."""
    figure, axes = plt.subplots(figsize=(11, 5))
    for style, tree in zip(STYLES, measured, strict=False):
        series = [(concurrency, first) for concurrency in (1, 10) for first in firsts]
        for color, (concurrency, first) in zip(COLORS, series, strict=False):
            points = [
                (count, values)
                for count in purchases
                if (
                    values := tree.repeats.values.get(
                        (flagship.SECTION, flagship.case(count, first, concurrency), "p50 ms")
                    )
                )
            ]
            if not points:
                continue
            spreads = [_spread(values) for _, values in points]
            axes.errorbar(
                [count for count, _ in points],
                [middle for middle, _, _ in spreads],
                yerr=[[low for _, low, _ in spreads], [high for _, _, high in spreads]],
                linestyle=style,
                color=color,
                marker="o",
                capsize=3,
                label=f"{tree.label} ({tree.commit}): concurrency {concurrency}, first {first}",
            )
    axes.set_xscale("log")
    axes.set_yscale("log")
    axes.set_xlabel("purchases of the customer")
    axes.set_ylabel("p50 latency, ms (median of repeats, bars: min..max)")
    axes.set_title("MyPurchases through the router")
    axes.grid(True, which="both", alpha=0.3)
    _plain_ticks(axes)
    axes.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1.0))
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path


def lateness_plot(measured: list[Measured], crafts: list[int], seconds: float, path: Path) -> Path:
    """Delivery lateness (median and p99) against the number of crafts delivering every second."""
    figure, axes = plt.subplots(figsize=(11, 5))
    for style, tree in zip(STYLES, measured, strict=False):
        for color, figure_name in zip(COLORS, ("lateness median s", "lateness p99 s"), strict=False):
            points = [
                (count, values)
                for count in crafts
                if (
                    values := tree.repeats.values.get(
                        (lateness.SECTION, f"{count} crafts x {seconds:g} s", figure_name)
                    )
                )
            ]
            if not points:
                continue
            spreads = [_spread(values) for _, values in points]
            axes.errorbar(
                [count for count, _ in points],
                [middle for middle, _, _ in spreads],
                yerr=[[low for _, low, _ in spreads], [high for _, _, high in spreads]],
                linestyle=style,
                color=color,
                marker="o",
                capsize=3,
                label=f"{tree.label} ({tree.commit}): {figure_name.split()[1]}",
            )
    axes.set_xscale("log")
    axes.set_yscale("log")
    axes.set_xlabel("crafts, each delivering every second")
    axes.set_ylabel("lateness, s (finishedAt - scheduledAt)")
    axes.set_title(f"Scheduled deliveries, {seconds:g} s")
    axes.grid(True, which="both", alpha=0.3)
    _plain_ticks(axes)
    axes.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1.0))
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path
