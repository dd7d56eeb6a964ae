"""The federation schema every subgraph builds: Federation 2.9, the shared limits, error codes."""

import asyncio
import functools
import inspect
from collections import defaultdict
from collections.abc import Iterable, Iterator
from typing import Any

import strawberry
from graphql import ExecutionResult, GraphQLError
from strawberry.extensions import (
    AddValidationRules,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    SchemaExtension,
    ValidationCache,
)
from strawberry.federation.schema import FederationAny
from strawberry.types import ExecutionContext, Info

from subgraphs._common.errors import BadUserInput, ErrorCodes
from subgraphs._common.metrics import RequestMetrics

MAX_DEPTH = 15
MAX_ALIASES = 100
MAX_TOKENS = 1_000
# The limit rules are built once: validation results are cached per (document, rules), which only hits when
# every request carries the very same rule classes. Strawberry counts the top-level field as depth 0, the
# contract as level 1.
_LIMIT_RULES = [
    *QueryDepthLimiter(max_depth=MAX_DEPTH - 1).validation_rules,
    *MaxAliasesLimiter(max_alias_count=MAX_ALIASES).validation_rules,
]


class RefuseBadTokens(SchemaExtension):
    """A request whose token is malformed, expired, forged or of an unknown role is refused whole, with
    UNAUTHENTICATED: a bad token is not "no token", even for operations open to anonymous callers."""

    def on_execute(self) -> Iterator[None]:
        auth = getattr(self.execution_context.context, "auth", None)
        if auth is not None and auth.principal is None and auth.problem is not None:
            error = GraphQLError(auth.problem, extensions={"code": "UNAUTHENTICATED"})
            self.execution_context.result = ExecutionResult(data=None, errors=[error])
        yield


async def _awaited(value: Any) -> Any:
    return await value if inspect.isawaitable(value) else value


class SubgraphSchema(strawberry.federation.Schema):
    """Pinned to Federation 2.9, the newest version the gateway's composition knows."""

    def __init__(self, *, query: type, mutation: type, types: Iterable[type] = ()) -> None:
        extensions: list[Any] = [
            RequestMetrics,  # first: it sees every other extension's work, and the codes they gave
            lambda: MaxTokensLimiter(max_token_count=MAX_TOKENS),
            lambda: AddValidationRules(_LIMIT_RULES),
            RefuseBadTokens,
            ErrorCodes,
            # The router sends the same few operation shapes over and over: parse and validate each once.
            lambda: ParserCache(maxsize=512),
            lambda: ValidationCache(maxsize=512),
        ]
        super().__init__(
            query=query, mutation=mutation, types=types, federation_version="2.9", extensions=extensions
        )

    # Async where Strawberry's is sync: the _entities field is built from this method, so it is awaited.
    async def entities_resolver(  # type: ignore[override]
        self, info: Info, representations: list[FederationAny]
    ) -> list[FederationAny]:
        # One batch per entity type: a type's `resolve_references(info, ids)` answers all its ids at once
        # (a value, None, or an Exception for that item), so a plan's 50 checks cost one read, not 50 awaits.
        # Types with only `resolve_reference` (Strawberry's, one call per id) work too.
        positions: dict[str, list[int]] = defaultdict(list)
        for index, representation in enumerate(representations):
            if not isinstance(representation, dict) or representation.get("__typename") not in self._entities:
                raise BadUserInput(
                    "Not a representation of an entity of this subgraph", field="representations"
                )
            if "id" not in representation:
                raise BadUserInput("A representation needs its key field 'id'", field="representations")
            positions[representation["__typename"]].append(index)
        results: list[Any] = [None] * len(representations)
        for type_name, indexes in positions.items():
            batch = getattr(self._entities[type_name], "resolve_references", None)
            if batch is not None:
                ids = [str(representations[index]["id"]) for index in indexes]  # type: ignore[index]
                found = await batch(info, ids)
            else:  # a type with only Strawberry's per-item resolve_reference: together, for its DataLoaders
                found = await asyncio.gather(
                    *(
                        _awaited(value)
                        for value in super().entities_resolver(info, [representations[i] for i in indexes])
                    ),
                    return_exceptions=True,
                )
            for index, value in zip(indexes, found, strict=True):
                results[index] = value
        return results

    @functools.cached_property
    def _entities(self) -> dict[str, Any]:
        """The entity types of this subgraph by GraphQL name."""
        union = self._schema.get_type("_Entity")
        names = [member.name for member in getattr(union, "types", ())]
        return {name: self.schema_converter.type_map[name].definition.origin for name in names}  # type: ignore[union-attr]

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        # Client errors are answers, not incidents; ErrorCodes logs the unexpected ones before masking them.
        return None
