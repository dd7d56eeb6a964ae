"""What a measurement yields: named figures (section, case, figure -> number), and notes in words."""

from collections import defaultdict
from dataclasses import dataclass, field

from bench.load import Load


@dataclass
class Figures:
    """The figures of one measurement of one tree, in the order they were taken."""

    values: dict[tuple[str, str, str], float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def add(self, section: str, case: str, figure: str, value: float) -> None:
        """Record one figure."""
        self.values[(section, case, figure)] = value

    def add_load(self, section: str, case: str, load: Load, *, latency_only: bool = False) -> None:
        """Record what wrk measured (requests/s, p50, p99), noting answers that were not clean."""
        if not latency_only:
            self.add(section, case, "requests/s", load.per_second)
        self.add(section, case, "p50 ms", load.p50_ms)
        if not latency_only:
            self.add(section, case, "p99 ms", load.p99_ms)
        if not load.clean:
            self.notes.append(
                f"{section}, {case}: {load.requests} answers, {load.not_ok} not 200, {load.with_errors} with "
                f"GraphQL errors {load.codes or ''}, {load.socket_errors} socket errors"
            )

    def update(self, other: "Figures") -> None:
        """Take in another measurement's figures and notes."""
        self.values.update(other.values)
        self.notes += other.notes


@dataclass
class Repeats:
    """The figures of every repeat of one tree: each figure's values, in the order first seen."""

    values: dict[tuple[str, str, str], list[float]] = field(default_factory=lambda: defaultdict(list))
    notes: list[str] = field(default_factory=list)

    def add(self, repeat: int, figures: Figures) -> None:
        """Take one repeat's figures."""
        for key, value in figures.values.items():
            self.values[key].append(value)
        self.notes += [f"repeat {repeat}: {note}" for note in figures.notes]
