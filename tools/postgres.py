"""A PostgreSQL cluster of our own (Debian's server binaries): throwaway for tests, or under var/ for
`make run-postgres`. initdb and the server run as the `postgres` user when we are root (it refuses root).

Authentication is `trust` on 127.0.0.1 only: a development and test cluster, never a production server.
"""

import os
import shutil
import signal
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import create_engine, text

from subgraphs._common.db import sync_url
from tools.polling import poll
from tools.processes import ending_with_parent, stop

BIN_DIRS = ("/usr/lib/postgresql/15/bin", "/usr/lib/postgresql/16/bin", "/usr/lib/postgresql/17/bin")
# A throwaway cluster keeps nothing after a crash, so it need not pay for durability.
FAST = ("-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off")


def binaries() -> Path:
    """The folder of initdb and pg_ctl."""
    for folder in BIN_DIRS:
        if (Path(folder) / "pg_ctl").exists():
            return Path(folder)
    found = shutil.which("pg_ctl")
    if found:
        return Path(found).parent
    raise RuntimeError("PostgreSQL server binaries not found: install Debian's postgresql package")


def _as_server_user(argv: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *argv] if os.geteuid() == 0 else argv


def reachable_by_server(folder: Path) -> bool:
    """Whether the server's user can reach `folder` (the cluster's own folder in it is made theirs); a
    checkout under a 0700 home folder is not."""
    if os.geteuid() != 0:
        return True
    probe = subprocess.run(_as_server_user(["test", "-x", str(folder)]), check=False)
    return probe.returncode == 0


@dataclass
class Cluster:
    """One server on 127.0.0.1:`port` over the data folder `data_dir`."""

    data_dir: Path
    port: int
    fast: bool = False
    _server: subprocess.Popen[bytes] | None = field(default=None, init=False, repr=False)

    @property
    def log(self) -> Path:
        return self.data_dir.parent / f"{self.data_dir.name}.log"

    def url(self, database: str) -> str:
        """The SQLAlchemy URL of one database of this cluster (the subgraphs map it to psycopg)."""
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def init(self) -> None:
        """Create the cluster unless it exists."""
        if (self.data_dir / "PG_VERSION").exists():
            return
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(self.data_dir, "postgres", "postgres")
        self.data_dir.chmod(0o700)
        command = [
            str(binaries() / "initdb"),
            "-D",
            str(self.data_dir),
            "-U",
            "postgres",
            "-A",
            "trust",
            "-E",
            "UTF8",
        ]
        subprocess.run(_as_server_user(command), check=True, capture_output=True)

    def start(self, timeout: float = 60.0) -> None:
        """Start the server (initialising the cluster if needed); return once it accepts connections. The
        server is a child of this process, ended with it however it ends (a fast shutdown)."""
        self.init()
        options = ["-p", str(self.port), "-c", "listen_addresses=127.0.0.1", "-k", str(self.data_dir)]
        options += ["-c", "max_connections=300", *(FAST if self.fast else ())]
        argv = [str(binaries() / "postgres"), "-D", str(self.data_dir), *options]
        user = "postgres" if os.geteuid() == 0 else None
        with self.log.open("ab") as log:
            server = subprocess.Popen(
                ending_with_parent(argv, signal.SIGINT, user=user),
                cwd=self.data_dir,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # Ctrl-C reaches the launcher, which stops the server last
            )
        self._server = server
        poll(lambda: server.poll() is not None or self._accepts(), bool, within=timeout)
        if server.poll() is not None or not self._accepts():
            self.stop()
            raise RuntimeError(f"PostgreSQL did not start; see {self.log}")

    def stop(self) -> None:
        """Stop the server quickly (open connections are closed)."""
        if self._server is not None:
            stop(self._server, signal.SIGINT, timeout=60)
            self._server = None

    def create_database(self, name: str, template: str | None = None) -> str:
        """Create database `name` (a copy of `template` when given) unless it exists; its URL."""
        engine = create_engine(sync_url(self.url("postgres")), isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as connection:
                exists = connection.execute(
                    text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}
                ).first()
                if exists is None:
                    copy = f' TEMPLATE "{template}"' if template else ""
                    connection.execute(text(f'CREATE DATABASE "{name}"{copy}'))
        finally:
            engine.dispose()
        return self.url(name)

    def _accepts(self) -> bool:
        engine = create_engine(sync_url(self.url("postgres")))
        try:
            with engine.connect() as connection:
                connection.execute(text("SELECT 1"))
            return True
        except Exception:  # not up yet
            return False
        finally:
            engine.dispose()
