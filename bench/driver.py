"""Starts one checkout's whole system and holds it up until standard input closes.

Run by the benchmark as a subprocess with the checkout under test as working directory and PYTHONPATH, and
that checkout's own Python, so nothing of it is imported into the benchmark's process. It uses only the part
of `tools.stack` common to every commit the benchmark compares: `Stack.on_free_ports(data_dir, **env)`,
`.migrate()`, `.start()`, `.stop()`, `.router_url`, `.subgraph_url(name)`, `.database_url(name)`,
`.create_admin(login, password)` and `.processes[name].popen`.

With `--postgres` (last), the subgraphs' databases are on a PostgreSQL cluster of the driver's own, with two
processes of each subgraph, as `make run-postgres` runs them (`tools.postgres.Cluster`, `Stack.databases` and
`Stack.workers`: a tree that has them); its postmaster's PID is described as process `postgres`.

Prints one JSON line once everything is healthy (URLs, PIDs, database files, logs), then waits.
Usage: python bench/driver.py DATA_DIR ADMIN_LOGIN ADMIN_PASSWORD [NAME=VALUE ...] [--postgres]
"""

import json
import os
import shutil
import signal
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from types import FrameType

from tools.stack import Stack

POSTGRES_WORKERS = 2


def _stop_on_term(signum: int, _frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)


@contextmanager
def _postgres(stack: Stack) -> Iterator[int]:
    """A cluster of our own, a database per subgraph of `stack`, during the block; its postmaster's PID."""
    from tools.postgres import Cluster  # only a tree that has it is run with --postgres
    from tools.stack import free_port

    # Beside the data folder, which is private to us: the server runs as the postgres user when we are root.
    folder = Path(tempfile.mkdtemp(prefix="bench-postgres-"))
    folder.chmod(0o755)
    cluster = Cluster(folder / "data", free_port())
    try:
        cluster.start()
        stack.databases = {name: cluster.create_database(name) for name in stack.ports if name != "router"}
        stack.workers = POSTGRES_WORKERS
        yield int((cluster.data_dir / "postmaster.pid").read_text().split()[0])
    finally:
        cluster.stop()
        shutil.rmtree(folder, ignore_errors=True)


def main(argv: list[str]) -> int:
    """Start, describe, wait for standard input to close, stop."""
    postgres = argv[-1] == "--postgres"
    data_dir, login, password, *assignments = argv[:-1] if postgres else argv
    environment = dict(assignment.split("=", 1) for assignment in assignments)
    signal.signal(signal.SIGTERM, _stop_on_term)
    # The processes get /dev/null as standard input: the router (node) would otherwise share this pipe and
    # make it non-blocking under us. The pipe is kept on a descriptor they do not inherit.
    watched = os.dup(0)
    os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
    stack = Stack.on_free_ports(Path(data_dir), **environment)
    with _postgres(stack) if postgres else nullcontext() as postmaster:
        return _serve(stack, login, password, watched, postmaster)


def _serve(stack: Stack, login: str, password: str, watched: int, postmaster: int | None) -> int:
    """Migrate, start, describe the stack; hold it up until `watched` closes; stop it."""
    try:
        stack.migrate()
        stack.start()
        stack.create_admin(login, password)
        names = list(stack.processes)
        pids = {name: process.popen.pid for name, process in stack.processes.items() if process.popen}
        if postmaster is not None:
            pids["postgres"] = postmaster
        description = {
            "urls": {name: stack.subgraph_url(name) for name in names},
            "router_url": stack.router_url,
            "pids": pids,
            "databases": {name: stack.database_url(name) for name in names if name != "router"},
            "logs": {name: str(process.log_path) for name, process in stack.processes.items()},
        }
        sys.stdout.write(json.dumps(description) + "\n")
        sys.stdout.flush()
        while os.read(watched, 4096):  # until the benchmark closes it (or exits)
            pass
    finally:
        stack.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
