"""The web app's generated code (web/src/gql/: typed documents and the trusted-document manifest) is what
GraphQL Code Generator makes now from schema/api.graphql and web/src/operations/, as the drift tests check
the schema files."""

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from graphql import build_schema, parse, validate

pytestmark = pytest.mark.db_agnostic

ROOT = Path(__file__).resolve().parents[1]
WEB = ROOT / "web"
CODEGEN = WEB / "node_modules" / ".bin" / "graphql-codegen"


def test_the_generated_web_client_is_current() -> None:
    node = shutil.which("node")
    assert node, "node is required to run the code generator"
    assert CODEGEN.exists(), "web/node_modules is missing: run `make install`"
    result = subprocess.run(
        [node, str(CODEGEN), "--config", "codegen.ts", "--check"],
        cwd=WEB,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, (
        "web/src/gql/ is stale: run `make codegen` (or `make schema`)\n" + result.stdout + result.stderr
    )


def test_every_trusted_document_is_a_named_operation_valid_against_the_public_schema() -> None:
    manifest: dict[str, str] = json.loads((WEB / "src" / "gql" / "persisted-documents.json").read_text())
    schema = build_schema((ROOT / "schema" / "api.graphql").read_text())
    assert len(manifest) >= 20
    for key, document in manifest.items():
        assert key.startswith("sha256:"), key
        parsed = parse(document)
        assert validate(schema, parsed) == [], document
        names = [getattr(d, "name", None) for d in parsed.definitions if d.kind == "operation_definition"]
        assert len(names) == 1 and names[0] is not None, document
