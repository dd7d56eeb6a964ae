"""The GraphQL shape of a page: `{ nodes, pageInfo { hasNextPage endCursor }, totalCount }`."""

from collections.abc import Callable
from typing import Generic, Self, TypeVar

import strawberry

from subgraphs._common.pagination import Page

Node = TypeVar("Node")
Row = TypeVar("Row")


@strawberry.federation.type(shareable=True)
class PageInfo:
    has_next_page: bool
    end_cursor: str | None


@strawberry.type
class Connection(Generic[Node]):
    """Named after its node type by Strawberry: Connection[Shop] is ShopConnection."""

    nodes: list[Node]
    page_info: PageInfo
    total_count: int

    @classmethod
    def of(cls, page: Page[Row], node: Callable[[Row], Node]) -> Self:
        """The connection of a page of rows, each mapped to its GraphQL node."""
        return cls(
            nodes=[node(row) for row in page.rows],
            page_info=PageInfo(has_next_page=page.has_next, end_cursor=page.end_cursor),
            total_count=page.total,
        )
