"""The federation schema every subgraph builds: Federation 2.9, the shared limits, error codes."""

from collections.abc import Iterable, Iterator
from typing import Any

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
from strawberry.types import ExecutionContext

from subgraphs._common import live
from subgraphs._common.errors import ErrorCodes
from subgraphs._common.metrics import RequestMetrics, declare
from subgraphs._common.shared_answers import SharedAnswers
from subgraphs._common.strawberry_adapter import BatchedEntities, check_supported, graphql_schema

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


class SubgraphSchema(BatchedEntities):
    """Pinned to Federation 2.9, the newest version the gateway's composition knows."""

    def __init__(
        self, *, query: type, mutation: type, subscription: type | None = None, types: Iterable[type] = ()
    ) -> None:
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
            query=query,
            mutation=mutation,
            subscription=subscription,
            types=types,
            federation_version="2.9",
            extensions=extensions,
            execution_context_class=SharedAnswers,  # an event's answer once for all who get the same one
        )
        check_supported(self)
        built = graphql_schema(self)
        declare(built)
        live.declare(list(built.subscription_type.fields) if built.subscription_type else [])

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        # Client errors are answers, not incidents; ErrorCodes logs the unexpected ones before masking them.
        return None
