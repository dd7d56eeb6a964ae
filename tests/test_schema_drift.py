"""The committed SDL, supergraph and generated config files are what the code, the subgraph registry and the
composition produce now."""

import shutil
import subprocess
from pathlib import Path

import pytest
from graphql import parse, print_ast

from subgraphs import registry
from tests.sdl import named_types
from tools import pyclient
from tools.generated import FILES
from tools.schema import sdl

pytestmark = pytest.mark.db_agnostic

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("name", registry.NAMES)
def test_exported_sdl_is_current(name: str) -> None:
    committed = (ROOT / "schema" / f"{name}.graphql").read_text()
    assert committed == sdl(registry.get(name)), f"schema/{name}.graphql is stale: run `make schema`"


@pytest.mark.parametrize("path", sorted(FILES))
def test_generated_file_is_current(path: str) -> None:
    committed = (ROOT / path).read_text()
    assert committed == FILES[path](), (
        f"{path} is stale: run `make schema` (it is generated from the registry)"
    )


def test_the_supergraph_composes_every_registered_subgraph() -> None:
    composed = (ROOT / "schema" / "supergraph.graphql").read_text()
    for name in registry.NAMES:
        assert f'@join__graph(name: "{name}"' in composed, name


def test_supergraph_is_current() -> None:
    node = shutil.which("node")
    assert node, "node is required to compose the supergraph"
    result = subprocess.run(
        [
            node,
            "router/compose.mjs",
            "--check",
            "--config",
            "supergraph.yaml",
            "--out",
            "schema/supergraph.graphql",
            "--api-out",
            "schema/api.graphql",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_api_schema_is_what_clients_see() -> None:
    """schema/api.graphql, which typed clients are generated from, holds no federation plumbing."""
    api = (ROOT / "schema" / "api.graphql").read_text()
    fields = _fields(api)
    assert ("Query", "me") in fields and ("User", "purchases") in fields
    assert ("Mutation", "recordPurchase") not in fields  # @inaccessible: services only, through the subgraph
    assert "join__" not in api and "@inaccessible" not in api and "_entities" not in api


def test_the_python_client_is_current() -> None:
    """client/service_tree_client is what ariadne-codegen makes of schema/api.graphql and client/operations."""
    assert pyclient.stale() == [], "the typed Python client is stale: run `make schema`"


def _fields(document: str) -> dict[tuple[str, str], str]:
    """(type, field or field(arg) or enum value) -> printed type, for every object, input and enum type."""
    found: dict[tuple[str, str], str] = {}
    for definition in named_types(parse(document)):
        type_name = definition.name.value
        for value in getattr(definition, "values", None) or ():
            found[(type_name, value.name.value)] = "enum value"
        for field in getattr(definition, "fields", None) or ():
            found[(type_name, field.name.value)] = print_ast(field.type)
            for argument in getattr(field, "arguments", None) or ():
                found[(type_name, f"{field.name.value}({argument.name.value})")] = print_ast(argument.type)
    return found


CONTRACTS = ROOT / "tests" / "contract"


@pytest.mark.parametrize("subgraph", sorted(path.stem for path in CONTRACTS.glob("*.graphql")))
def test_the_api_contract_is_in_the_supergraph(subgraph: str) -> None:
    """Every field, argument and enum value of the design contract exists with the same type."""
    contract = _fields((CONTRACTS / f"{subgraph}.graphql").read_text())
    supergraph = _fields((ROOT / "schema" / "supergraph.graphql").read_text())
    missing = {key: kind for key, kind in contract.items() if supergraph.get(key) != kind}
    assert missing == {}
