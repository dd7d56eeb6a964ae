"""docs/adding-a-subgraph.md, tried for real: a throwaway fourth subgraph `review` added to a copy of the tree
(a package and one registry entry), `make schema`'s tool, its first migration, `make run`'s program, and one
request through the router that spans the new subgraph and the existing ones."""

import os
import shutil
import signal
import subprocess
from pathlib import Path

import pytest

from tests.e2e.helpers import launched, launcher_env, post
from tools.processes import run_module
from tools.stack import DEFAULT_PORTS, ROOT, free_port

pytestmark = [pytest.mark.e2e, pytest.mark.db_agnostic]

# The throwaway subgraph, written as the guide says: settings, models, context, schema, app, migrations/env.py.
REVIEW: dict[str, str] = {
    "__init__.py": "",
    "settings.py": """
from pydantic_settings import SettingsConfigDict

from subgraphs._common.settings import SubgraphSettings


class Settings(SubgraphSettings):
    model_config = SettingsConfigDict(env_prefix="REVIEW_", extra="ignore", populate_by_name=True)

    database_url: str = "sqlite:///var/review.db"
""",
    "models.py": '''
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel


class Table(SQLModel, registry=registry()):
    """Base of this subgraph's tables: their own metadata."""


class Review(Table, table=True):
    id: int | None = Field(default=None, primary_key=True)
    product_id: int = Field(index=True)
    stars: int
    text: str = Field(max_length=2000)
''',
    "context.py": """
from dataclasses import dataclass

from starlette.requests import Request

from subgraphs._common.db import Database


@dataclass(frozen=True)
class Resources:
    db: Database


@dataclass
class Context:
    db: Database


def build_context(request: Request, resources: Resources) -> Context:
    return Context(db=resources.db)
""",
    "schema.py": '''
from typing import Self

import strawberry
from sqlmodel import Session, col, select

from subgraphs._common.entities import Extended
from subgraphs._common.ids import parse_id, to_id
from subgraphs._common.schema import SubgraphSchema
from subgraphs.review import models
from subgraphs.review.context import Context

Info = strawberry.Info[Context, None]


@strawberry.federation.type(keys=["id"])
class Product(Extended):
    """A shop's product; the review subgraph adds what customers said about it."""

    id: strawberry.ID

    @strawberry.field
    async def reviews(self, info: Info) -> list["Review"]:
        rows = await info.context.db.read(_reviews_of, parse_id(self.id, field="id"))
        return [Review.from_row(row) for row in rows]


@strawberry.type
class Review:
    id: strawberry.ID
    stars: int
    text: str
    product: Product

    @classmethod
    def from_row(cls, row: models.Review) -> Self:
        return cls(id=to_id(row.id), stars=row.stars, text=row.text, product=Product(id=to_id(row.product_id)))


def _reviews_of(session: Session, product_id: int) -> list[models.Review]:
    query = select(models.Review).where(models.Review.product_id == product_id)
    return list(session.exec(query.order_by(col(models.Review.id))))


def _add(session: Session, row: models.Review) -> models.Review:
    session.add(row)
    session.flush()
    return row


@strawberry.type
class Query:
    @strawberry.field
    async def review(self, info: Info, id: strawberry.ID) -> Review | None:
        key = parse_id(id, field="id")
        row = await info.context.db.read(lambda session: session.get(models.Review, key))
        return Review.from_row(row) if row else None


@strawberry.type
class Mutation:
    @strawberry.mutation
    async def add_review(self, info: Info, product_id: strawberry.ID, stars: int, text: str) -> Review:
        row = models.Review(product_id=parse_id(product_id, field="productId"), stars=stars, text=text)
        return Review.from_row(await info.context.db.write(_add, row))


schema = SubgraphSchema(query=Query, mutation=Mutation, types=[Product])
''',
    "app.py": """
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette

from subgraphs._common.app import create_subgraph_app
from subgraphs._common.db import Database
from subgraphs.review.context import Resources, build_context
from subgraphs.review.schema import schema
from subgraphs.review.settings import Settings


@asynccontextmanager
async def _resources(settings: Settings, db: Database) -> AsyncIterator[Resources]:
    yield Resources(db=db)


def create_app(settings: Settings | None = None) -> Starlette:
    return create_subgraph_app(
        schema=schema, settings=settings or Settings(), resources=_resources, build_context=build_context
    )
""",
    "migrations/env.py": """
from subgraphs._common.migrations import run_env
from subgraphs.review.models import Table
from subgraphs.review.settings import Settings

run_env(Table.metadata, Settings().database_url)
""",
}
ENTRY = 'Subgraph("review", port=4004),'

_FIND_MILK = '{ searchProducts(query: "Milk 1 l") { id name } }'
_ADD_REVIEW = """mutation($id: ID!) { addReview(productId: $id, stars: 5, text: "Fresh every morning") {
  id product { name } } }"""
# One request, three subgraphs: shop (name, stock), review (reviews), factory (crafts).
_PRODUCT = """query($id: ID!) { product(id: $id) { name stock reviews { stars text }
  crafts { countPerRun factory { name } } } }"""


def copy_tree(destination: Path) -> None:
    """The files a clone would have (tracked, or new and not ignored), with the router's installed packages
    and the environment `make schema` generates the typed client with."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.decode()
    for relative in filter(None, listed.split("\0")):
        source = ROOT / relative
        if source.is_file():  # skips files deleted in the working tree
            target = destination / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    (destination / "router" / "node_modules").symlink_to(ROOT / "router" / "node_modules")
    (destination / ".tools").mkdir()
    (destination / ".tools" / "codegen").symlink_to(ROOT / ".tools" / "codegen")


def add_review_subgraph(tree: Path) -> None:
    """The guide's steps 1 and 2: the package, then one registry entry."""
    package = tree / "subgraphs" / "review"
    for relative, source in REVIEW.items():
        (package / relative).parent.mkdir(parents=True, exist_ok=True)
        (package / relative).write_text(source.lstrip())
    shutil.copy2(
        tree / "subgraphs" / "purchase" / "migrations" / "script.py.mako",
        package / "migrations" / "script.py.mako",
    )
    (package / "migrations" / "versions").mkdir()
    registry = tree / "subgraphs" / "registry.py"
    text = registry.read_text()
    last = text.index("\n)\n", text.index("SUBGRAPHS: tuple[Subgraph, ...] = ("))
    registry.write_text(f"{text[:last]}\n    {ENTRY}{text[last:]}")


def test_a_fourth_subgraph_is_a_package_and_one_registry_entry(tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    copy_tree(tree)
    add_review_subgraph(tree)
    env = {
        **os.environ,
        "PYTHONPATH": str(tree),
        "PYTHONUNBUFFERED": "1",
        "REVIEW_DATABASE_URL": f"sqlite:///{tmp_path / 'scratch' / 'review.db'}",
    }
    (tmp_path / "scratch").mkdir()

    # Step 3: `make schema` exports the new SDL, regenerates the config files and composes.
    run_module(tree, env, "tools.schema")
    assert "reviews: [Review!]!" in (tree / "schema" / "review.graphql").read_text()
    assert '@join__graph(name: "review"' in (tree / "schema" / "supergraph.graphql").read_text()
    assert "[review]\nscript_location = subgraphs/review/migrations\n" in (tree / "alembic.ini").read_text()
    compose = (tree / "docker-compose.yml").read_text()
    assert "    command: review\n" in compose and "REVIEW_URL: http://review:8000/graphql" in compose
    assert "  - job_name: review\n" in (tree / "deploy" / "observability" / "prometheus.yml").read_text()

    # Step 4: the first migration, autogenerated from the models through the new alembic.ini section.
    run_module(tree, env, "alembic", "-n", "review", "revision", "--autogenerate", "-m", "reviews")
    (migration,) = (tree / "subgraphs" / "review" / "migrations" / "versions").glob("*_reviews.py")
    assert "op.create_table(" in migration.read_text()
    run_module(tree, env, "alembic", "-n", "review", "upgrade", "head")

    # Step 5: `make run` migrates, seeds and starts every registered subgraph and the router on free ports.
    ports = {name: free_port() for name in (*DEFAULT_PORTS, "review")}
    review_db = env["REVIEW_DATABASE_URL"]
    with launched(tree, launcher_env(tree, tmp_path / "var", ports, REVIEW_DATABASE_URL=review_db)) as (
        runner,
        output,
    ):
        url = f"http://127.0.0.1:{ports['router']}/graphql"
        assert f"review http://127.0.0.1:{ports['review']}/graphql" in output, output

        (milk,) = post(url, _FIND_MILK)["searchProducts"]
        added = post(url, _ADD_REVIEW, id=milk["id"])["addReview"]
        assert added["product"] == {"name": "Milk 1 l"}  # review -> shop
        product = post(url, _PRODUCT, id=milk["id"])["product"]  # shop -> review and factory
        assert product["name"] == "Milk 1 l"
        assert product["reviews"] == [{"stars": 5, "text": "Fresh every morning"}]
        assert product["crafts"] == [{"countPerRun": 3, "factory": {"name": "Dairy & Orchard Works"}}]

        runner.send_signal(signal.SIGINT)
        assert runner.wait(timeout=30) == 0
