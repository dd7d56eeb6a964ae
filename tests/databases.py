"""Where the tests' databases live: SQLite files (the default), or a throwaway PostgreSQL cluster of the
test run (`pytest --backend postgresql`), in which every test or stack gets fresh, migrated databases."""

import itertools
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from subgraphs import registry
from subgraphs._common.migrations import upgrade
from tools.postgres import Cluster
from tools.stack import free_port

BACKENDS = ("sqlite", "postgresql")


@dataclass
class Databases:
    """Fresh migrated databases on one backend."""

    backend: str
    cluster: Cluster | None = None
    _templates: set[str] = field(default_factory=set)
    _serial: "itertools.count[int]" = field(default_factory=lambda: itertools.count(1))

    @classmethod
    def start(cls, backend: str) -> "Databases":
        """Databases on `backend`; for PostgreSQL, a cluster started in a folder the server's user can reach
        (not under the checkout, which may sit in a 0700 home folder)."""
        if backend == "sqlite":
            return cls(backend)
        folder = Path(tempfile.mkdtemp(prefix="service-tree-pg-"))
        folder.chmod(0o755)
        cluster = Cluster(folder / "data", free_port(), fast=True)
        cluster.start()
        return cls(backend, cluster)

    def stop(self) -> None:
        """Stop the cluster, if there is one, and delete its temporary folder (a few GB after a run)."""
        if self.cluster is not None:
            self.cluster.stop()
            shutil.rmtree(self.cluster.data_dir.parent, ignore_errors=True)

    def fresh(self, subgraph: str, folder: Path) -> str:
        """The URL of a new database of `subgraph`, migrated to the newest revision."""
        if self.cluster is None:
            url = f"sqlite:///{folder / f'{subgraph}.db'}"
            upgrade(subgraph, url)
            return url
        template = f"template_{subgraph}"
        if template not in self._templates:  # migrated once per run; each database is a copy of it
            upgrade(subgraph, self.cluster.create_database(template))
            self._templates.add(template)
        return self.cluster.create_database(f"{subgraph}_{next(self._serial)}", template=template)

    def for_stack(self, folder: Path) -> dict[str, str]:
        """A fresh database of every subgraph, for one stack."""
        return {name: self.fresh(name, folder) for name in registry.NAMES}
