"""Prometheus metrics of a subgraph: requests, latency and errors by operation, SQL statements per request,
and what the subgraph's own database says at scrape time (backlogs, runs by status).

Several processes of one subgraph (uvicorn --workers) each count their own: with PROMETHEUS_MULTIPROC_DIR set
(the launcher sets it, one folder per subgraph, emptied at start) /metrics of any of them sums them all.
"""

import os
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from graphql import FieldNode, GraphQLSchema, OperationType
from graphql.utilities import get_operation_ast
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from sqlalchemy import Engine, event
from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import Response
from strawberry.extensions import SchemaExtension

from subgraphs._common.db import Database
from subgraphs._common.errors import fallback_code
from subgraphs._common.strawberry_adapter import graphql_schema

OTHER = "other"  # the label of an operation that is not one known root field

REQUESTS = Counter(
    "service_tree_graphql_requests_total",
    "GraphQL requests answered, by operation (its root field, else 'other')",
    ["operation"],
)
DURATION = Histogram(
    "service_tree_graphql_request_duration_seconds",
    "Time to answer a GraphQL request, by operation",
    ["operation"],
    buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
ERRORS = Counter(
    "service_tree_graphql_errors_total",
    "Errors in GraphQL answers, by operation and extensions.code",
    ["operation", "code"],
)
STATEMENTS = Histogram(
    "service_tree_sql_statements_per_request",
    "SQL statements one GraphQL request ran, by operation",
    ["operation"],
    buckets=(0, 1, 2, 3, 5, 8, 13, 21, 34, 55, 100),
)

# The statements of the request being served: one list its threads share (Database copies the context).
_statements: ContextVar[list[int] | None] = ContextVar("sql_statements", default=None)


def _count_statement(*_args: Any) -> None:
    counted = _statements.get()
    if counted is not None:
        counted[0] += 1


def count_statements(engine: Engine) -> None:
    """Count the statements `engine` runs into the request being served (the engines the subgraph opens,
    not every engine of the process: a test's or a tool's own are not the subgraph's work)."""
    if not event.contains(engine, "before_cursor_execute", _count_statement):
        event.listen(engine, "before_cursor_execute", _count_statement)


@contextmanager
def counting() -> Iterator[list[int]]:
    """The statements of the block, counted in a one-item list its threads share (Database copies context)."""
    counted = [0]
    token = _statements.set(counted)
    try:
        yield counted
    finally:
        _statements.reset(token)


def operation_label(schema: GraphQLSchema, document: Any, operation_name: str | None) -> str:
    """The root field an operation asks for when it asks for one known root field (aliased or not), else
    "other": a label bounded by the schema, whatever clients name their operations."""
    operation = get_operation_ast(document, operation_name) if document is not None else None
    if operation is None:
        return OTHER
    root = {
        OperationType.MUTATION: schema.mutation_type,
        OperationType.SUBSCRIPTION: schema.subscription_type,
    }.get(operation.operation, schema.query_type)
    names = {
        selection.name.value
        for selection in operation.selection_set.selections
        if isinstance(selection, FieldNode) and selection.name.value != "__typename"
    }
    if root is None or len(names) != 1:
        return OTHER
    name = names.pop()
    return name if name in root.fields else OTHER


def declare(schema: GraphQLSchema) -> None:
    """Create every operation's series (each root field, and "other") at zero, with its errors' series for
    INTERNAL_SERVER_ERROR (the failures an alert watches; the codes of client errors appear with the first):
    a scrape before the first request shows zeros, not nothing (a rate over no series is no data)."""
    roots = [
        root
        for root in (schema.query_type, schema.mutation_type, schema.subscription_type)
        if root is not None
    ]
    for operation in [*(name for root in roots for name in root.fields), OTHER]:
        REQUESTS.labels(operation)
        DURATION.labels(operation)
        STATEMENTS.labels(operation)
        ERRORS.labels(operation, "INTERNAL_SERVER_ERROR")


class RequestMetrics(SchemaExtension):
    """Counts each GraphQL request, its duration, its statements and its errors' codes."""

    def on_operation(self) -> Iterator[None]:
        started = time.perf_counter()
        with counting() as counted:
            try:
                yield
            finally:
                context = self.execution_context
                operation = operation_label(
                    graphql_schema(context.schema), context.graphql_document, context.operation_name
                )
                REQUESTS.labels(operation).inc()
                DURATION.labels(operation).observe(time.perf_counter() - started)
                STATEMENTS.labels(operation).observe(counted[0])
                for error in (context.result.errors if context.result else None) or ():
                    code = (error.extensions or {}).get("code") or fallback_code(error.message)
                    ERRORS.labels(operation, str(code)).inc()


Gauges = Callable[[Session], Sequence[Metric]]  # read in one transaction of the subgraph's database


class _Values(Collector):
    def __init__(self, metrics: Sequence[Metric]) -> None:
        self._metrics = metrics

    def collect(self) -> Iterator[Metric]:
        yield from self._metrics


def endpoint(gauges: Gauges | None) -> Callable[[Request], Awaitable[Response]]:
    """The /metrics handler: this subgraph's counters (every process's, in multiprocess mode), then the
    `gauges` read from its database at scrape time (the same whichever process answers)."""

    async def metrics(request: Request) -> Response:
        database: Database = request.app.state.db
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            counters = CollectorRegistry()
            MultiProcessCollector(counters)  # type: ignore[no-untyped-call]
        else:
            counters = REGISTRY
        read = CollectorRegistry()
        if gauges is not None:
            read.register(_Values(await database.read(gauges)))
        return Response(generate_latest(counters) + generate_latest(read), media_type=CONTENT_TYPE_LATEST)

    return metrics
