"""One checkout's whole system, started for one measurement through bench/driver.py and stopped after it."""

import json
import logging
import os
import signal
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tools.processes import stop

logger = logging.getLogger(__name__)
DRIVER = Path(__file__).resolve().with_name("driver.py")
ADMIN_LOGIN = "bench-admin"
ADMIN_PASSWORD = "bench-admin-password"


@dataclass(frozen=True)
class Tree:
    """A checkout to measure: its folder, its own Python, and the name the report gives it."""

    label: str
    root: Path

    @property
    def python(self) -> Path:
        return self.root / ".venv" / "bin" / "python"

    def commit(self) -> str:
        """The checked-out commit (short hash, `+dirty` when tracked files differ from it)."""
        head = self._git("rev-parse", "--short", "HEAD")
        return f"{head}+dirty" if self._git("status", "--porcelain", "--untracked-files=no") else head

    def _git(self, *args: str) -> str:
        result = subprocess.run(["git", *args], cwd=self.root, capture_output=True, text=True, check=False)
        return result.stdout.strip()


@dataclass(frozen=True)
class System:
    """A running system: where each process answers, its PIDs, databases and logs, and its data folder."""

    tree: Tree
    data_dir: Path
    urls: dict[str, str]
    pids: dict[str, int]
    databases: dict[str, str]
    logs: dict[str, str]

    @property
    def router_url(self) -> str:
        return self.urls["router"]

    def database_file(self, name: str) -> Path:
        """The SQLite file of subgraph `name`."""
        return Path(self.databases[name].removeprefix("sqlite:///"))

    def log_mentions(self, text: str) -> int:
        """How many lines of all the processes' logs contain `text`."""
        found = 0
        for path in self.logs.values():
            try:
                with open(path, errors="replace") as log:
                    found += sum(text in line for line in log)
            except OSError:
                continue
        return found


def _description(driver: subprocess.Popen[str]) -> dict[str, Any]:
    assert driver.stdout is not None
    for line in driver.stdout:
        if line.startswith("{"):
            try:
                description: dict[str, Any] = json.loads(line)
            except json.JSONDecodeError:
                continue
            if "urls" in description:
                return description
    raise RuntimeError("the driver exited before the system was up")


@contextmanager
def running(tree: Tree, *, postgres: bool = False, **environment: str) -> Iterator[System]:
    """The tree's system on free ports, with fresh databases in a temporary folder (or, with `postgres`, on a
    PostgreSQL cluster of its own, two processes per subgraph), during the block."""
    with tempfile.TemporaryDirectory(prefix="bench-") as folder:
        data_dir = Path(folder)
        env = {**os.environ, "PYTHONPATH": str(tree.root), "PYTHONUNBUFFERED": "1"}
        env.pop("VIRTUAL_ENV", None)
        argv = [str(tree.python), str(DRIVER), str(data_dir), ADMIN_LOGIN, ADMIN_PASSWORD]
        argv += [f"{name}={value}" for name, value in environment.items()]
        argv += ["--postgres"] if postgres else []
        with open(data_dir / "driver.log", "w") as driver_log:
            driver = subprocess.Popen(
                argv,
                cwd=tree.root,
                env=env,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=driver_log,
                text=True,
            )
        try:
            try:
                description = _description(driver)
            except BaseException:
                logger.error("driver log:\n%s", (data_dir / "driver.log").read_text(errors="replace")[-3000:])
                raise
            system = System(
                tree=tree,
                data_dir=data_dir,
                urls=description["urls"],
                pids={name: int(pid) for name, pid in description["pids"].items()},
                databases=description["databases"],
                logs=description["logs"],
            )
            logger.info("%s up: router %s, PIDs %s", tree.label, system.router_url, system.pids)
            yield system
        finally:
            _stop(driver)


def _stop(driver: subprocess.Popen[str]) -> None:
    """Close the driver's standard input (it stops what it started); signal it by PID if it does not."""
    if driver.stdin is not None:
        with suppress(OSError):
            driver.stdin.close()
    with suppress(subprocess.TimeoutExpired):
        driver.wait(timeout=60)
    stop(driver, signal.SIGTERM)  # the driver's SIGTERM handler still stops the stack
    if driver.stdout is not None:
        driver.stdout.close()
