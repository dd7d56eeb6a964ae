"""`make run` killed hard (SIGKILL, as a crash): every process it started, subgraphs with their workers, the
router and PostgreSQL with its own, ends with it and frees its port; and `make admin` finds either demo's
purchase database."""

import os
import shutil
import signal
from pathlib import Path

import pytest

from tests.e2e.helpers import launched, launcher_env, make_admin
from tools.polling import poll
from tools.processes import alive, descendants
from tools.stack import DEFAULT_PORTS, ROOT, SUBGRAPHS, free_port, port_is_free

pytestmark = [pytest.mark.e2e, pytest.mark.db_agnostic]


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_a_killed_launcher_takes_every_process_it_started_with_it(tmp_path: Path, backend: str) -> None:
    ports = {name: free_port() for name in DEFAULT_PORTS}
    env = launcher_env(ROOT, tmp_path / "var", ports, POSTGRES_PORT=str(free_port()))
    options = ("--postgres",) if backend == "postgresql" else ()
    started: set[int] = set()
    try:
        with launched(ROOT, env, *options) as (runner, output):
            assert "Ctrl-C stops everything" in output, output
            started |= descendants(runner.pid)  # subgraphs, their workers, the router, PostgreSQL and its own
            assert len(started) >= len(DEFAULT_PORTS) + (len(SUBGRAPHS) * 2 + 1 if options else 0), started
            # `make admin` reaches this demo's purchase database, SQLite file or PostgreSQL cluster alike.
            assert make_admin(f"http://127.0.0.1:{ports['router']}/graphql", tmp_path / "var", "boss")
            runner.kill()  # no handler runs: as a crash, or kill -9
            runner.wait(timeout=30)
            left = poll(lambda: {pid for pid in started if alive(pid)}, lambda left: not left, within=30)
            assert not left, [Path(f"/proc/{pid}/cmdline").read_bytes() for pid in left]
            assert all(port_is_free(port) for port in ports.values()), ports
    finally:
        for pid in filter(alive, started):  # a failure above leaves no orphan behind either
            os.kill(pid, signal.SIGKILL)
        shutil.rmtree(Path(env["SERVICE_TREE_DATA"], "postgres").resolve(), ignore_errors=True)
