"""Starts one checkout's whole system and holds it up until standard input closes.

Run by the benchmark as a subprocess with the checkout under test as working directory and PYTHONPATH, and
that checkout's own Python, so nothing of it is imported into the benchmark's process. It uses only the part
of `tools.stack` common to every commit the benchmark compares: `Stack.on_free_ports(data_dir, **env)`,
`.migrate()`, `.start()`, `.stop()`, `.router_url`, `.subgraph_url(name)`, `.database_url(name)`,
`.create_admin(login, password)` and `.processes[name].popen`.

Prints one JSON line once everything is healthy (URLs, PIDs, database files, logs), then waits.
Usage: python bench/driver.py DATA_DIR ADMIN_LOGIN ADMIN_PASSWORD [NAME=VALUE ...]
"""

import json
import os
import signal
import sys
from pathlib import Path
from types import FrameType

from tools.stack import Stack


def _stop_on_term(signum: int, _frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)


def main(argv: list[str]) -> int:
    """Start, describe, wait for standard input to close, stop."""
    data_dir, login, password, *assignments = argv
    environment = dict(assignment.split("=", 1) for assignment in assignments)
    signal.signal(signal.SIGTERM, _stop_on_term)
    # The processes get /dev/null as standard input: the router (node) would otherwise share this pipe and
    # make it non-blocking under us. The pipe is kept on a descriptor they do not inherit.
    watched = os.dup(0)
    os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
    stack = Stack.on_free_ports(Path(data_dir), **environment)
    try:
        stack.migrate()
        stack.start()
        stack.create_admin(login, password)
        names = list(stack.processes)
        description = {
            "urls": {name: stack.subgraph_url(name) for name in names},
            "router_url": stack.router_url,
            "pids": {name: process.popen.pid for name, process in stack.processes.items() if process.popen},
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
