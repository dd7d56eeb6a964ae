"""`make schema`: export every registered subgraph's SDL, regenerate the files derived from the registry,
compose schema/supergraph.graphql (and the public schema/api.graphql) from supergraph.yaml, then generate the
typed Python client from schema/api.graphql."""

import importlib
import logging
import shutil
import subprocess
import sys
from pathlib import Path

from strawberry import Schema
from strawberry.printer import print_schema

from subgraphs import registry
from subgraphs.registry import Subgraph
from tools import pyclient
from tools.generated import FILES

logger = logging.getLogger("schema")

ROOT = Path(__file__).resolve().parents[1]


def sdl(subgraph: Subgraph) -> str:
    """The subgraph's SDL, as `strawberry export-schema` prints it."""
    module, _, attribute = subgraph.schema.partition(":")
    schema = getattr(importlib.import_module(module), attribute)
    if not isinstance(schema, Schema):
        raise TypeError(f"{subgraph.schema} is not a Strawberry schema")
    return print_schema(schema) + "\n"


def _write(path: Path, content: str) -> None:
    if path.exists() and path.read_text() == content:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(content)
    logger.info("wrote %s", path.relative_to(ROOT))


def main() -> int:
    """Write every exported and generated file, compose, then generate the client; 0 when all went well."""
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    for subgraph in registry.SUBGRAPHS:
        _write(ROOT / "schema" / f"{subgraph.name}.graphql", sdl(subgraph))
    for relative, render in FILES.items():
        _write(ROOT / relative, render())
    node = shutil.which("node")
    if node is None:
        logger.error("node is needed to compose the supergraph (Node 20 or newer)")
        return 2
    # compose.mjs reads supergraph.yaml and writes schema/supergraph.graphql beside it by default.
    composed = subprocess.run([node, str(ROOT / "router" / "compose.mjs")], cwd=ROOT, check=False).returncode
    return composed or pyclient.main([])


if __name__ == "__main__":
    sys.exit(main())
