"""Starts the whole system as real processes: migrated subgraphs on their ports and the router over them.

Used by `make run` and by the end-to-end tests, so both exercise the same wiring.
"""

import os
import random
import shutil
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from subgraphs import registry
from subgraphs._common.migrations import upgrade
from tools import identity
from tools.polling import poll
from tools.processes import ending_with_parent, run_module, stop

ROOT = Path(__file__).resolve().parents[1]
SUBGRAPHS = registry.NAMES
DEFAULT_PORTS = {registry.ROUTER: registry.ROUTER_PORT, **{sub.name: sub.port for sub in registry.SUBGRAPHS}}
# Hive Gateway's CLI, its playground loaded on first use (router/serve.mjs).
ROUTER_SERVE = ROOT / "router" / "serve.mjs"
# The built web app (`make web`), which the router serves from its own origin when a stack asks for it.
WEB_DIST = ROOT / "web" / "dist"
# V8 would let the router's heap grow to a quarter of the machine's memory before collecting hard; 256 MB
# keeps it near 300 MB resident under load at the same throughput (bench/README.md).
ROUTER_NODE_OPTIONS = "--max-old-space-size=256"


def _ephemeral_ports() -> range:
    """The ports the kernel gives outgoing connections (and binds to port 0)."""
    try:
        low, high = map(int, Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split())
    except (OSError, ValueError):
        low, high = 32768, 60999  # Linux's default
    return range(low, high + 1)


def free_port() -> int:
    """A TCP port nobody listens on right now, outside the ephemeral range: a port the kernel hands out
    (binding to port 0) can become the local end of any outgoing connection before our server binds it,
    which parallel tests making thousands of connections did."""
    ephemeral = _ephemeral_ports()
    while True:
        port = random.randint(10_000, 65_535)
        # Never the same twice in one process: a port handed out may not be bound yet.
        if port not in ephemeral and port not in _handed_out and port_is_free(port):
            _handed_out.add(port)
            return port


_handed_out: set[int] = set()


def port_is_free(port: int) -> bool:
    """True when nothing listens on 127.0.0.1:`port`."""
    with socket.socket() as sock:
        # As the servers bind: a port whose last connections linger in TIME_WAIT (a restart) is free.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


@dataclass
class Process:
    name: str
    argv: list[str]
    env: dict[str, str]
    port: int
    health_path: str
    log_path: Path
    cwd: Path = ROOT
    popen: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            # A session of its own: Ctrl-C in the terminal reaches the runner, which stops everything in
            # order; and it ends with the runner if the runner is killed or crashes (no orphans on the ports).
            self.popen = subprocess.Popen(
                ending_with_parent(self.argv),
                cwd=self.cwd,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def _health(self) -> str:
        if not self.alive():
            return "exited"
        try:
            return "healthy" if httpx.get(self.url + self.health_path, timeout=1.0).status_code == 200 else ""
        except httpx.HTTPError:
            return ""

    def wait_healthy(self, timeout: float = 60.0) -> None:
        state = poll(self._health, bool, within=timeout)
        if state == "exited":
            raise RuntimeError(f"{self.name} exited; see {self.log_path}:\n{self.tail()}")
        if state != "healthy":
            raise RuntimeError(
                f"{self.name} not healthy after {timeout:.0f}s; see {self.log_path}:\n{self.tail()}"
            )

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 10.0) -> None:
        """Stop the process (SIGTERM for a clean stop, SIGKILL to simulate a crash)."""
        if self.popen is not None:
            stop(self.popen, sig, timeout)

    def tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


@dataclass
class Stack:
    """The router and the subgraphs, each on its own port, with their logs (and SQLite files, unless
    `databases` names other databases) under `data_dir`. Each subgraph runs `workers` processes (uvicorn
    workers sharing its port: replicas on one machine)."""

    data_dir: Path
    ports: dict[str, int]
    environment: dict[str, str] = field(default_factory=dict)
    processes: dict[str, Process] = field(default_factory=dict)
    databases: dict[str, str] = field(default_factory=dict)
    workers: int = 1
    # The built web app the router serves at `web_url` (its own origin, so the app needs no CORS), if any.
    web_dir: Path | None = None
    # The signing key and service credentials (made when missing): `identity` under `data_dir` by default.
    identity_dir: Path | None = None

    @classmethod
    def on_free_ports(cls, data_dir: Path, **environment: str) -> "Stack":
        """A stack for tests: every process on a port that is free now."""
        ports = {name: free_port() for name in DEFAULT_PORTS}
        return cls(data_dir=data_dir, ports=ports, environment=environment)

    @property
    def identity(self) -> Path:
        """The folder of this stack's signing keys and service credentials (tools/identity.py)."""
        return self.identity_dir or self.data_dir / "identity"

    @property
    def identity_url(self) -> str:
        """Where the identity subgraph serves its JWKS, token endpoint and ended-sessions feed."""
        return f"http://127.0.0.1:{self.ports[registry.IDENTITY]}"

    def database_url(self, subgraph: str) -> str:
        """The database of `subgraph`: the one named in `databases`, else a SQLite file under `data_dir`."""
        return self.databases.get(subgraph) or f"sqlite:///{self.data_dir / f'{subgraph}.db'}"

    @property
    def router_url(self) -> str:
        return self.subgraph_url(registry.ROUTER)

    @property
    def web_url(self) -> str:
        """Where the router serves the web app (when `web_dir` is set)."""
        return f"http://127.0.0.1:{self.ports[registry.ROUTER]}/"

    def subgraph_url(self, name: str) -> str:
        """The /graphql URL of the process `name` (a subgraph or the router)."""
        return f"http://127.0.0.1:{self.ports[name]}/graphql"

    def metrics_url(self, name: str) -> str:
        """The Prometheus /metrics URL of the process `name` (a subgraph or the router)."""
        return f"http://127.0.0.1:{self.ports[name]}/metrics"

    def process_environment(self) -> dict[str, str]:
        """The environment every process of this stack starts with (a replica started by hand too)."""
        env = {**os.environ, **self.environment, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"}
        for subgraph in registry.SUBGRAPHS:
            env[f"{subgraph.env_prefix}DATABASE_URL"] = self.database_url(subgraph.name)
            env[subgraph.url_env] = self.subgraph_url(subgraph.name)
            for setting, target in subgraph.calls.items():
                env[f"{subgraph.env_prefix}{setting.upper()}"] = self.subgraph_url(target)
        env.update(identity.ensure(self.identity))
        env["SERVICE_TREE_IDENTITY_URL"] = self.identity_url
        env["ROUTER_PORT"] = str(self.ports[registry.ROUTER])
        env["ROUTER_SUPERGRAPH"] = str(ROOT / "schema" / "supergraph.graphql")
        if self.web_dir is not None:
            env["ROUTER_WEB_DIR"] = str(self.web_dir)
        return env

    def create_admin(self, login: str, password: str) -> str:
        """Create an ADMIN in this stack's purchase database with the operator command, as an operator would;
        what the command said."""
        env = {**os.environ, "PURCHASE_DATABASE_URL": self.database_url("purchase"), "PYTHONPATH": str(ROOT)}
        command = ["subgraphs.purchase.cli", "create-admin", "--login", login, "--password-stdin"]
        return run_module(ROOT, env, *command, stdin=password + "\n", timeout=60)

    def migrate(self) -> None:
        """Bring every subgraph's database to the newest migration (and make the identity files missing)."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        identity.ensure(self.identity)
        for name in SUBGRAPHS:
            upgrade(name, self.database_url(name))

    def _process(self, name: str) -> Process:
        if name in self.processes:
            return self.processes[name]
        logs = self.data_dir / "logs"
        if name == registry.ROUTER:
            # Started directly, not through npm, so that stopping this PID stops the gateway itself.
            argv = ["node", str(ROUTER_SERVE), "supergraph"]
            env = {
                key: value for key, value in self.process_environment().items() if key not in ("PORT", "HOST")
            }
            env.setdefault("NODE_OPTIONS", ROUTER_NODE_OPTIONS)
            env["OTEL_SERVICE_NAME"] = name
            process = Process(
                name, argv, env, self.ports[name], "/readiness", logs / "router.log", cwd=ROOT / "router"
            )
        else:
            argv = [
                sys.executable,
                "-m",
                "uvicorn",
                registry.get(name).app,
                "--factory",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.ports[name]),
                # Longer than the router keeps an idle connection to a subgraph: with uvicorn's 5 s, a request
                # the router sends on a connection just as uvicorn closes it fails ("socket hang up").
                "--timeout-keep-alive",
                "30",
                *(("--workers", str(self.workers)) if self.workers > 1 else ()),
            ]
            # Its processes' counters, summed by /metrics: one folder per subgraph, emptied before it starts.
            metrics = self.data_dir / "metrics" / name
            shutil.rmtree(metrics, ignore_errors=True)
            metrics.mkdir(parents=True)
            env = {
                **self.process_environment(),
                "PROMETHEUS_MULTIPROC_DIR": str(metrics),
                "OTEL_SERVICE_NAME": name,
            }
            process = Process(name, argv, env, self.ports[name], "/health", logs / f"{name}.log")
        self.processes[name] = process
        return process

    def start(self, *names: str) -> None:
        """Start the named processes (all, when none are named) and wait until each is healthy."""
        wanted = names or (*SUBGRAPHS, registry.ROUTER)
        for name in wanted:
            self._process(name).start()
        for name in wanted:
            self.processes[name].wait_healthy()

    def stop(self, *names: str, sig: int = signal.SIGTERM) -> None:
        """Stop the named processes (all, router first, when none are named)."""
        for name in names or (registry.ROUTER, *reversed(SUBGRAPHS)):
            if name in self.processes:
                self.processes[name].stop(sig)

    @contextmanager
    def running(self) -> Iterator["Stack"]:
        """Migrated and started for the duration of the block; everything is stopped afterwards."""
        self.migrate()
        try:
            self.start()
            yield self
        finally:
            self.stop()
