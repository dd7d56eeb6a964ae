"""Which factory process holds the scheduler: a process that died is not counted (prometheus-client's
multiprocess mode keeps its gauge until told; the factory tells it)."""

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry
from prometheus_client.multiprocess import MultiProcessCollector

from subgraphs.factory.metrics import forget_dead_processes
from tools.polling import poll

pytestmark = pytest.mark.db_agnostic

# A factory process as far as the gauge goes: it holds the scheduler, says so, then lives until stdin closes.
_HOLDER = (
    "import sys; from subgraphs.factory.metrics import SCHEDULER_HELD; SCHEDULER_HELD.set(1); "
    "print('held', flush=True); sys.stdin.read()"
)


def holders(folder: Path) -> dict[str, float]:
    """The scheduler_held series a scrape shows, by pid."""
    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=str(folder))
    return {
        sample.labels["pid"]: sample.value
        for metric in registry.collect()
        if metric.name == "service_tree_scheduler_held"
        for sample in metric.samples
    }


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    return tmp_path


@pytest.fixture
def processes() -> Iterator[list[subprocess.Popen[str]]]:
    """Holder processes a test starts; each is ended and reaped after it."""
    started: list[subprocess.Popen[str]] = []
    yield started
    for process in started:
        process.kill()
        process.communicate()  # reaps it and closes its pipes


def holder(folder: Path, processes: list[subprocess.Popen[str]]) -> subprocess.Popen[str]:
    """A process that holds the scheduler (its gauge written before this returns)."""
    process = subprocess.Popen(
        [sys.executable, "-c", _HOLDER],
        env={**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(folder)},
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    processes.append(process)
    assert process.stdout is not None and process.stdout.readline() == "held\n"
    return process


def zombie(process: subprocess.Popen[str]) -> None:
    """Kill `process` without reaping it, as a supervisor that has not looked yet leaves it."""
    os.kill(process.pid, signal.SIGKILL)
    stat = Path(f"/proc/{process.pid}/stat")
    state = poll(
        lambda: stat.read_text().rsplit(")", 1)[1].split()[0],
        lambda state: state == "Z",
        within=10,
        interval=0.01,
    )
    assert state == "Z", "the killed process never became a zombie"


def test_the_gauges_of_dead_processes_are_forgotten(
    folder: Path, processes: list[subprocess.Popen[str]]
) -> None:
    alive, killed, unreaped = (holder(folder, processes) for _ in range(3))
    assert holders(folder) == {str(p.pid): 1.0 for p in (alive, killed, unreaped)}
    killed.kill()
    killed.wait()
    zombie(unreaped)
    assert forget_dead_processes() == sorted([killed.pid, unreaped.pid])
    assert holders(folder) == {str(alive.pid): 1.0}
    assert forget_dead_processes() == []  # nothing more to forget; the live holder stays


def test_without_multiprocess_mode_there_is_nothing_to_forget(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)
    assert forget_dead_processes() == []
