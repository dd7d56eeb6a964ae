"""docs/api.md, the API contract of record, stays true to the schema and the code: every root field of
schema/api.graphql is documented once, with its signature, under the subgraph that owns it, with who may call it
and only error codes the code defines; every root field the supergraph hides is in its internal section; the
fields it names exist; its example documents are valid."""

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from graphql import (
    DocumentNode,
    FieldDefinitionNode,
    NullValueNode,
    StringValueNode,
    build_schema,
    parse,
    print_ast,
    validate,
)

from subgraphs._common import errors
from subgraphs._common.auth import Role
from tests.sdl import enum_type, object_types

pytestmark = pytest.mark.db_agnostic

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "api.md"
API = ROOT / "schema" / "api.graphql"
SUPERGRAPH = ROOT / "schema" / "supergraph.graphql"
# Third-level headings that hold one table row per root field of that type.
ROOT_SECTIONS = {"Queries": "Query", "Mutations": "Mutation", "Subscriptions": "Subscription"}
INTERNAL_SECTION = "Internal"
# Fields every federation subgraph answers, never composed into the supergraph.
FEDERATION_FIELDS = {"Query._entities", "Query._service"}
CODE = re.compile(r"[A-Z]+(?:_[A-Z]+)*")


@dataclass(frozen=True)
class Row:
    """One row of a table of the doc: where it is, and its cells by column name."""

    line: int
    heading: tuple[str, str]  # the ## and ### headings above it
    cells: dict[str, str]


def rows(text: str) -> Iterator[Row]:
    """Every body row of every table, with the headings it sits under."""
    h2 = h3 = ""
    header: list[str] | None = None
    for number, line in enumerate(text.splitlines(), start=1):
        if line.startswith("## "):
            h2, h3, header = line[3:].strip(), "", None
        elif line.startswith("### "):
            h3, header = line[4:].strip(), None
        elif not line.startswith("|"):
            header = None
        else:
            cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
            if header is None:
                header = cells
            elif not all(set(cell) <= set("-: ") for cell in cells):
                yield Row(number, (h2, h3), dict(zip(header, cells, strict=True)))


def backticked(cell: str) -> list[str]:
    return re.findall(r"`([^`]+)`", cell)


def signature(field: FieldDefinitionNode) -> str:
    """`name(arg: Type = default, ...): Type`, as the doc writes it (no `= null`, no directives)."""
    arguments = [
        f"{arg.name.value}: {print_ast(arg.type)}"
        + (
            f" = {print_ast(arg.default_value)}"
            if arg.default_value and not isinstance(arg.default_value, NullValueNode)
            else ""
        )
        for arg in field.arguments or ()
    ]
    listed = f"({', '.join(arguments)})" if arguments else ""
    return f"{field.name.value}{listed}: {print_ast(field.type)}"


def root_fields(document: DocumentNode) -> dict[str, FieldDefinitionNode]:
    """`Root.name` -> field, for Query, Mutation and Subscription."""
    found: dict[str, FieldDefinitionNode] = {}
    for definition in object_types(document):
        if definition.name.value in ROOT_SECTIONS.values():
            for field in definition.fields or ():
                found[f"{definition.name.value}.{field.name.value}"] = field
    return found


def _directive_argument(field: FieldDefinitionNode, directive: str, argument: str) -> str | None:
    for used in field.directives or ():
        if used.name.value == directive:
            for given in used.arguments or ():
                if given.name.value == argument:
                    return print_ast(given.value).strip('"')
    return None


def owners(supergraph: DocumentNode) -> dict[str, str]:
    """`Root.name` -> the name of the subgraph that resolves it, from the supergraph's join directives."""
    graphs: dict[str, str] = {}
    join_graph = enum_type(supergraph, "join__Graph")
    assert join_graph is not None, "the supergraph has no join__Graph enum"
    for value in join_graph.values or ():
        for used in value.directives or ():
            name = next(a.value for a in used.arguments or () if a.name.value == "name")
            assert isinstance(name, StringValueNode)
            graphs[value.name.value] = name.value
    found = {}
    for key, field in root_fields(supergraph).items():
        graph = _directive_argument(field, "join__field", "graph")
        assert graph is not None, f"{key} has no @join__field(graph:) in the supergraph"
        found[key] = graphs[graph]
    return found


def inaccessible(supergraph: DocumentNode) -> set[str]:
    """The supergraph's root fields hidden from the public graph."""
    return {
        key
        for key, field in root_fields(supergraph).items()
        if any(used.name.value == "inaccessible" for used in field.directives or ())
    }


def python_codes() -> set[str]:
    """The codes the subgraphs answer: their error classes', and those errors.py and the app factory give."""
    classes, found = [errors.AppError], set()
    while classes:
        cls = classes.pop()
        found.add(cls.code)
        classes += cls.__subclasses__()
    tree = ast.parse((ROOT / "subgraphs" / "_common" / "errors.py").read_text())
    found |= {
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and CODE.fullmatch(node.value)
    }
    app = ast.parse((ROOT / "subgraphs" / "_common" / "app.py").read_text())
    for node in ast.walk(app):
        if isinstance(node, ast.Call) and ast.unparse(node.func) == "_error_body":
            code = node.args[1]
            assert isinstance(code, ast.Constant) and isinstance(code.value, str), ast.unparse(node)
            found.add(code.value)
    return found


def router_strings() -> set[str]:
    """Every quoted constant-like string of the router's sources (its own, not its dependencies)."""
    found: set[str] = set()
    for path in (ROOT / "router").rglob("*"):
        if path.suffix in (".ts", ".mts", ".mjs", ".js") and "node_modules" not in path.parts:
            found |= set(re.findall(r"""['"]([A-Z]+(?:_[A-Z]+)*)['"]""", path.read_text()))
    return found


@pytest.fixture(scope="module")
def doc_rows() -> list[Row]:
    return list(rows(DOC.read_text()))


@pytest.fixture(scope="module")
def documented(doc_rows: list[Row]) -> dict[str, Row]:
    """`Root.name` -> its row, from the root field tables under "## <name> subgraph"."""
    found: dict[str, Row] = {}
    for row in doc_rows:
        root = ROOT_SECTIONS.get(row.heading[1])
        if root is None or not row.heading[0].endswith(" subgraph"):
            continue
        [written] = backticked(row.cells["field"]) or [row.cells["field"]]
        key = f"{root}.{re.split(r'[(:]', written)[0]}"
        assert key not in found, f"docs/api.md:{row.line}: {key} is documented twice"
        found[key] = row
    return found


def test_every_root_field_is_documented_once(documented: dict[str, Row]) -> None:
    public = set(root_fields(parse(API.read_text())))
    missing, gone = sorted(public - set(documented)), sorted(set(documented) - public)
    assert (missing, gone) == ([], []), (
        f"docs/api.md does not document {missing}; it documents {gone}, which schema/api.graphql lacks"
    )


def test_signatures_and_owners_are_the_schemas(documented: dict[str, Row]) -> None:
    public = root_fields(parse(API.read_text()))
    owner = owners(parse(SUPERGRAPH.read_text()))
    wrong = []
    for key, row in documented.items():
        if key not in public:
            continue
        written, expected = backticked(row.cells["field"]), signature(public[key])
        if written != [expected]:
            wrong.append(f"docs/api.md:{row.line}: write `{expected}`")
        if row.heading[0] != f"{owner[key]} subgraph":
            wrong.append(f"docs/api.md:{row.line}: {key} belongs under '## {owner[key]} subgraph'")
    assert not wrong, "\n".join(wrong)


def test_every_field_says_who_may_call_it(documented: dict[str, Row]) -> None:
    roles = {role.value for role in Role}
    wrong = []
    for key, row in documented.items():
        named = {word for word in backticked(row.cells["who"]) if CODE.fullmatch(word)}
        if not (named or "anyone" in row.cells["who"]) or not named <= roles:
            wrong.append(f"docs/api.md:{row.line}: {key}: 'anyone' or roles of {sorted(roles)}")
    assert not wrong, "\n".join(wrong)


def test_every_code_named_is_one_the_code_defines(doc_rows: list[Row]) -> None:
    defined = python_codes() | router_strings()
    wrong = []
    for row in doc_rows:
        cell = row.cells.get("codes", row.cells.get("code", ""))
        named = backticked(cell)
        if "codes" in row.cells and not named and cell != "none":
            wrong.append(f"docs/api.md:{row.line}: codes are `CODE` ... or none")
        wrong += [f"docs/api.md:{row.line}: no code {code}" for code in named if code not in defined]
    assert not wrong, "\n".join(wrong)


def test_the_error_code_table_lists_every_code_of_the_subgraphs(doc_rows: list[Row]) -> None:
    table = {code for row in doc_rows if "code" in row.cells for code in backticked(row.cells["code"])}
    assert sorted(python_codes() - table) == []


def test_the_internal_section_lists_every_hidden_root_field(doc_rows: list[Row]) -> None:
    supergraph = parse(SUPERGRAPH.read_text())
    hidden = inaccessible(supergraph)
    internal = {
        re.split(r"[(:]", written)[0]: written
        for row in doc_rows
        if row.heading[0].startswith(INTERNAL_SECTION)
        for written in backticked(row.cells["field"])[:1]
    }
    assert hidden <= set(internal), f"docs/api.md, {INTERNAL_SECTION}: add {sorted(hidden - set(internal))}"
    public = set(root_fields(parse(API.read_text())))
    assert set(internal) <= hidden | FEDERATION_FIELDS and not set(internal) & public
    fields = root_fields(supergraph)
    for key in hidden:
        assert internal[key] == f"{key.split('.')[0]}.{signature(fields[key])}"


def test_the_fields_named_exist(doc_rows: list[Row]) -> None:
    schema = build_schema(API.read_text())
    wrong = []
    for row in doc_rows:
        for written in backticked(row.cells.get("field", "")):
            found = re.match(r"([A-Z]\w*)\.(\w+)", written)
            if found is None or found.group(1) in ROOT_SECTIONS.values():
                continue
            type_ = schema.get_type(found.group(1))
            if type_ is None or found.group(2) not in getattr(type_, "fields", {}):
                wrong.append(f"docs/api.md:{row.line}: no field {found.group(0)} in schema/api.graphql")
    assert not wrong, "\n".join(wrong)


def test_the_example_documents_are_valid() -> None:
    schema = build_schema(API.read_text())
    blocks = re.findall(r"```graphql\n(.*?)```", DOC.read_text(), flags=re.DOTALL)
    assert blocks, "docs/api.md shows the flagship query"
    for block in blocks:
        assert validate(schema, parse(block)) == [], block
