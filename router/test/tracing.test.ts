import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';

import { Logger } from '@graphql-hive/gateway';
import { useOpenTelemetry } from '@graphql-hive/gateway/opentelemetry';
import { disable } from '@graphql-hive/gateway/opentelemetry/setup';

import { startTracing } from '../src/tracing.ts';
import { startGateway } from './gateway.ts';

interface ExportedSpan {
  traceId: string;
  name: string;
}
interface Export {
  resourceSpans: { resource: { attributes: { key: string; value: { stringValue?: string } }[] }; scopeSpans: { spans: ExportedSpan[] }[] }[];
}

/** An OTLP/HTTP receiver on a free local port: `received` resolves with the first export of spans. */
async function receiver(t: Parameters<typeof startGateway>[0]) {
  let resolve: (body: Export) => void;
  const received = new Promise<Export>((done) => (resolve = done));
  const server = createServer((request, response) => {
    let text = '';
    request.on('data', (chunk) => (text += chunk));
    request.on('end', () => {
      response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      if (request.url === '/v1/traces') resolve(JSON.parse(text));
    });
  });
  await new Promise<void>((listening) => server.listen(0, '127.0.0.1', listening));
  t.after(() => new Promise<void>((closed) => server.close(() => closed())));
  return { endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, received };
}

const SPANS_WITHIN = { timeout: 15_000 }; // spans that never arrive fail the test rather than hold it

test("the router's spans go to the OTLP endpoint under its service name, and its subgraph calls carry the trace", SPANS_WITHIN, async (t) => {
  const otlp = await receiver(t);
  startTracing({ endpoint: otlp.endpoint, serviceName: 'router-under-test' });
  t.after(disable);
  const router = startGateway(t, {
    plugins: () => [useOpenTelemetry({ traces: true, log: new Logger({ level: false }) })],
  });

  assert.deepEqual(await (await router.post({ query: '{ hello }' })).json(), { data: { hello: 'world' } });
  const traceparent = router.subgraphRequests[0]?.headers.traceparent ?? '';
  const [, traceId] = /^00-([0-9a-f]{32})-[0-9a-f]{16}-01$/.exec(traceparent) ?? [];
  assert.ok(traceId, `traceparent: ${traceparent}`);

  // Spans are sent in batches, every 500 ms: the first export arrives, or the test times out.
  const exported = await otlp.received;
  const [resource] = exported.resourceSpans;
  const serviceName = resource?.resource.attributes.find((attribute) => attribute.key === 'service.name');
  assert.equal(serviceName?.value.stringValue, 'router-under-test');
  const spans = exported.resourceSpans.flatMap((r) => r.scopeSpans.flatMap((scope) => scope.spans));
  assert.ok(spans.some((span) => span.traceId === traceId), JSON.stringify(spans.map((span) => span.name)));
});
