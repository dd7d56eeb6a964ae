"""OpenTelemetry traces of a subgraph: off unless OTEL_EXPORTER_OTLP_ENDPOINT names a collector (OTLP over
HTTP). When on, each request is a span (continuing the router's trace from its `traceparent`), with its SQL
statements and its calls to other processes (httpx, which passes the trace on) as children."""

import os
from typing import TYPE_CHECKING, Any

from opentelemetry import trace
from opentelemetry.trace import SpanKind, Status, StatusCode
from sqlalchemy import Engine, event
from starlette.types import ASGIApp

# The SDK, the exporter and the instrumentations are imported when tracing is on, not before: httpx's
# instrumentation alone pulls in httpx's command line (click, rich, pygments), some 15 MB of every process.
if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider

_provider: "TracerProvider | None" = None
_tracer = trace.get_tracer(__name__)
_SPAN = "service_tree_span"  # where a statement's span waits for its end, on SQLAlchemy's execution context


def enabled() -> bool:
    """Whether a collector is configured (the standard OpenTelemetry variable)."""
    return bool(os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT"))


def configure() -> None:
    """Export spans to the configured collector and instrument httpx and SQLAlchemy; nothing when off.
    The service name comes from OTEL_SERVICE_NAME (the launcher sets the subgraph's name)."""
    global _provider
    if not enabled() or _provider is not None:
        return
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    _provider = TracerProvider(resource=Resource.create())
    # Sent in batches, off the request path; the exporter reads the endpoint from the environment.
    _provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(), schedule_delay_millis=500))
    trace.set_tracer_provider(_provider)
    HTTPXClientInstrumentor().instrument()


def instrument(engine: Engine) -> None:
    """A span per SQL statement of `engine`, when tracing is on. (OpenTelemetry's SQLAlchemy instrumentation
    stops at SQLAlchemy 2.0 and imports its asyncio part; these three events are all it would do here.)"""
    if _provider is None:
        return

    @event.listens_for(engine, "before_cursor_execute")
    def _start(_conn: Any, _cursor: Any, statement: str, _params: Any, context: Any, _many: bool) -> None:
        verb = statement.split(None, 1)[0].upper() if statement.strip() else "SQL"
        attributes = {"db.system": engine.dialect.name, "db.statement": statement[:2000]}
        setattr(context, _SPAN, _tracer.start_span(verb, kind=SpanKind.CLIENT, attributes=attributes))

    @event.listens_for(engine, "after_cursor_execute")
    def _end(_conn: Any, _cursor: Any, _statement: str, _params: Any, context: Any, _many: bool) -> None:
        span = getattr(context, _SPAN, None)
        if span is not None:
            span.end()

    @event.listens_for(engine, "handle_error")
    def _fail(failure: Any) -> None:
        span = getattr(failure.execution_context, _SPAN, None)
        if span is not None:
            span.set_status(Status(StatusCode.ERROR, type(failure.original_exception).__name__))
            span.end()


def middleware(app: ASGIApp) -> ASGIApp:
    """`app` with a server span per HTTP request when tracing is on (health checks and scrapes left out)."""
    if not enabled():
        return app
    from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware

    return OpenTelemetryMiddleware(app, excluded_urls="health,metrics")


def shutdown() -> None:
    """Send the spans still buffered (at the end of the app's lifespan)."""
    if _provider is not None:
        _provider.force_flush()
