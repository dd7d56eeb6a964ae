"""The federation schema every subgraph builds: Federation 2.9, the shared limits, error codes."""

from collections.abc import Iterable
from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.extensions import (
    AddValidationRules,
    MaxAliasesLimiter,
    ParserCache,
    QueryDepthLimiter,
    ValidationCache,
)
from strawberry.types import ExecutionContext

from subgraphs._common.errors import ErrorCodes

MAX_DEPTH = 15
MAX_ALIASES = 100
# The limit rules are built once: validation results are cached per (document, rules), which only hits when
# every request carries the very same rule classes. Strawberry counts the top-level field as depth 0, the
# contract as level 1.
_LIMIT_RULES = [
    *QueryDepthLimiter(max_depth=MAX_DEPTH - 1).validation_rules,
    *MaxAliasesLimiter(max_alias_count=MAX_ALIASES).validation_rules,
]


class SubgraphSchema(strawberry.federation.Schema):
    """Pinned to Federation 2.9, the newest version the gateway's composition knows."""

    def __init__(self, *, query: type, mutation: type, types: Iterable[type] = ()) -> None:
        extensions: list[Any] = [
            lambda: AddValidationRules(_LIMIT_RULES),
            ErrorCodes,
            # The router sends the same few operation shapes over and over: parse and validate each once.
            lambda: ParserCache(maxsize=512),
            lambda: ValidationCache(maxsize=512),
        ]
        super().__init__(
            query=query, mutation=mutation, types=types, federation_version="2.9", extensions=extensions
        )

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        # Client errors are answers, not incidents; ErrorCodes logs the unexpected ones before masking them.
        return None
