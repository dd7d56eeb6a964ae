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
from strawberry.federation.schema import FederationAny
from strawberry.types import ExecutionContext, Info

from subgraphs._common.errors import BadUserInput, ErrorCodes

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

    def entities_resolver(self, info: Info, representations: list[FederationAny]) -> list[FederationAny]:
        # Refuse what no entity of this subgraph can be (unknown type, no key) as input, not as a crash.
        entities = self._schema.get_type("_Entity")
        known = {member.name for member in getattr(entities, "types", ())}
        for representation in representations:
            if not isinstance(representation, dict) or representation.get("__typename") not in known:
                raise BadUserInput(
                    "Not a representation of an entity of this subgraph", field="representations"
                )
            if "id" not in representation:
                raise BadUserInput("A representation needs its key field 'id'", field="representations")
        return super().entities_resolver(info, representations)

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        # Client errors are answers, not incidents; ErrorCodes logs the unexpected ones before masking them.
        return None
