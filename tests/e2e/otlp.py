"""An OTLP/HTTP trace receiver of the tests' own: it keeps every span the processes export to it (protobuf from
the subgraphs, JSON from the router), so a test can look for one trace across them."""

import gzip
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest


@dataclass(frozen=True)
class Span:
    service: str
    name: str
    trace_id: str
    span_id: str
    parent_id: str


@dataclass
class Receiver:
    url: str
    spans: list[Span] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def traces(self) -> dict[str, list[Span]]:
        """The spans received so far, by trace id."""
        with self.lock:
            spans = list(self.spans)
        by_trace: dict[str, list[Span]] = {}
        for span in spans:
            by_trace.setdefault(span.trace_id, []).append(span)
        return by_trace


def _service(attributes: list[Any], value_of: Any) -> str:
    for attribute in attributes:
        if attribute_key(attribute) == "service.name":
            return str(value_of(attribute))
    return "?"


def attribute_key(attribute: Any) -> str:
    return str(attribute["key"] if isinstance(attribute, dict) else attribute.key)


def _from_protobuf(body: bytes) -> list[Span]:
    request = ExportTraceServiceRequest()
    request.ParseFromString(body)
    spans = []
    for resource_spans in request.resource_spans:
        service = _service(list(resource_spans.resource.attributes), lambda a: a.value.string_value)
        for scope_spans in resource_spans.scope_spans:
            for span in scope_spans.spans:
                spans.append(
                    Span(
                        service, span.name, span.trace_id.hex(), span.span_id.hex(), span.parent_span_id.hex()
                    )
                )
    return spans


def _from_json(body: bytes) -> list[Span]:
    # OTLP's JSON encoding writes trace and span ids as hex strings.
    spans = []
    for resource_spans in json.loads(body).get("resourceSpans", []):
        attributes = resource_spans.get("resource", {}).get("attributes", [])
        service = _service(attributes, lambda a: a["value"].get("stringValue"))
        for scope_spans in resource_spans.get("scopeSpans", []):
            for span in scope_spans.get("spans", []):
                spans.append(
                    Span(
                        service,
                        span["name"],
                        span["traceId"].lower(),
                        span["spanId"].lower(),
                        (span.get("parentSpanId") or "").lower(),
                    )
                )
    return spans


@contextmanager
def receiving() -> Iterator[Receiver]:
    """A receiver on a free port of 127.0.0.1 for the duration of the block."""
    received: list[Receiver] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self._body()
            if self.headers.get("content-encoding") == "gzip":
                body = gzip.decompress(body)
            parse = _from_json if "json" in (self.headers.get("content-type") or "") else _from_protobuf
            spans = parse(body) if self.path.endswith("/v1/traces") else []
            with received[0].lock:
                received[0].spans.extend(spans)
            self.send_response(200)
            self.send_header("content-type", self.headers.get("content-type") or "application/x-protobuf")
            self.send_header("content-length", "0")
            self.end_headers()

        def _body(self) -> bytes:
            if self.headers.get("transfer-encoding") != "chunked":
                return self.rfile.read(int(self.headers.get("content-length") or 0))
            chunks = []
            while size := int(self.rfile.readline().split(b";")[0].strip() or b"0", 16):
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            self.rfile.readline()
            return b"".join(chunks)

        def log_message(self, *_args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    received.append(Receiver(url=f"http://127.0.0.1:{server.server_address[1]}"))
    thread = threading.Thread(target=server.serve_forever, name="otlp-receiver", daemon=True)
    thread.start()
    try:
        yield received[0]
    finally:
        server.shutdown()
        server.server_close()
