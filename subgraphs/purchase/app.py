"""The purchase subgraph's ASGI app."""

from starlette.applications import Starlette

from subgraphs._common.app import create_subgraph_app
from subgraphs.purchase.context import build_context
from subgraphs.purchase.schema import schema
from subgraphs.purchase.settings import Settings


def create_app(settings: Settings | None = None) -> Starlette:
    """Build the app; the database is opened in the lifespan, not at import."""
    return create_subgraph_app(schema=schema, settings=settings or Settings(), build_context=build_context)
