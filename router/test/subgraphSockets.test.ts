import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { test, type TestContext } from 'node:test';

import type { Transport } from '@graphql-mesh/transport-common';
import type { ExecutionRequest } from '@graphql-tools/utils';
import { buildSchema, parse, type ExecutionResult } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer } from 'ws';

import {
  coded,
  isSubscription,
  SUBGRAPH_SOCKETS,
  subgraphSockets,
  subgraphTransports,
  upstreamTimeout,
} from '../src/subgraphSockets.ts';
import { codes } from './gateway.ts';

/** A graphql-transport-ws server over a schema with one subscription, on a free port; its open sockets. */
async function subgraph(t: TestContext) {
  const schema = buildSchema('type Query { a: Int } type Subscription { ticks: Int }');
  const seen: Record<string, unknown>[] = [];
  // A server willing to compress, as uvicorn is: the router's sockets must not ask it to.
  const server = new WebSocketServer({ port: 0, host: '127.0.0.1', perMessageDeflate: true });
  const roots = {
    ticks: async function* () {
      for (let n = 1; ; n++) {
        yield { ticks: n };
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    },
  };
  useServer({ schema, roots: { subscription: roots }, onConnect: (ctx) => void seen.push(ctx.connectionParams ?? {}) }, server);
  await new Promise((resolve) => server.once('listening', resolve));
  t.after(() => new Promise((resolve) => server.close(resolve)));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/graphql`, server, seen };
}

/** The executor of `transport` for the subgraph at `url`, disposed when the test `t` ends. */
async function executorOf(t: TestContext, transport: Transport, url: string) {
  const execute = await transport.getSubgraphExecutor({
    transportEntry: { kind: SUBGRAPH_SOCKETS, subgraph: 'tiny', location: url },
  } as never);
  t.after(() => (execute as unknown as { [Symbol.asyncDispose]?: () => Promise<void> })[Symbol.asyncDispose]?.());
  return execute;
}

const TICKS = { document: parse('subscription { ticks }'), operationType: 'subscription' } as ExecutionRequest;

test("a subscription reaches the subgraph by WebSocket with the caller's token, and a lost connection ends it with SUBSCRIPTION_INTERRUPTED", async (t) => {
  const { url, server, seen } = await subgraph(t);
  const transport = subgraphSockets({ keepAliveMs: 60_000, authorization: () => 'Bearer caller' });
  const execute = await executorOf(t, transport, url);
  const results = (await execute(TICKS)) as AsyncIterable<ExecutionResult>;
  const iterator = results[Symbol.asyncIterator]();
  assert.deepEqual((await iterator.next()).value, { data: { ticks: 1 } });
  assert.deepEqual(seen, [{ Authorization: 'Bearer caller' }]);
  const extensions = [...server.clients].map((client) => client.extensions);
  for (const client of server.clients) client.terminate(); // the subgraph goes away mid-subscription
  let last = await iterator.next();
  while (!last.done && !last.value.errors) last = await iterator.next();
  assert.deepEqual(codes(last.value as never), ['SUBSCRIPTION_INTERRUPTED']);
  assert.equal((await iterator.next()).done, true); // and it ends: no silent reconnection
  assert.deepEqual(extensions, ['']); // and it asked for no permessage-deflate
});

test("the gateway's transports: sockets for subscriptions with the token of the caller's connection_init, the gateway's own package for http", async (t) => {
  const { url, seen } = await subgraph(t);
  const execute = await executorOf(t, (await subgraphTransports(SUBGRAPH_SOCKETS)) as Transport, url);
  const context = { connectionParams: { Authorization: 'Bearer from-init' }, request: new Request('http://router.test/') };
  const results = (await execute({ ...TICKS, context })) as AsyncIterableIterator<ExecutionResult>;
  assert.deepEqual((await results.next()).value, { data: { ticks: 1 } });
  await results.return?.();
  assert.deepEqual(seen, [{ Authorization: 'Bearer from-init' }]);
  const http = (await subgraphTransports('http')) as { default: Transport };
  assert.equal(http.default, (await import('@graphql-mesh/transport-http')).default);
});

test('a subscription is told from a query by its operation type, else by its document', () => {
  assert.ok(isSubscription(TICKS));
  assert.ok(isSubscription({ document: parse('subscription S { ticks }') }));
  assert.equal(isSubscription({ document: parse('{ a }') }), false);
  assert.equal(isSubscription({ document: parse('mutation { a }'), operationType: 'mutation' } as ExecutionRequest), false);
});

test('the upstream timeout applies to every request to a subgraph but a subscription', () => {
  const timeout = upstreamTimeout(30_000);
  assert.equal(timeout({ executionRequest: { document: parse('{ a }') } }), 30_000);
  assert.equal(timeout({ executionRequest: TICKS }), undefined);
  assert.equal(timeout({}), 30_000);
});

test("a subscription the client leaves is returned to its source at once, though the source's next event never comes", async () => {
  let returned = 0;
  const idle: AsyncIterableIterator<ExecutionResult> = {
    [Symbol.asyncIterator]() {
      return this;
    },
    next: () => new Promise(() => undefined), // no event, ever
    return: async () => (returned++, { done: true, value: undefined }),
  };
  const results = coded(idle);
  void results.next(); // the subscriber waits for an event
  assert.deepEqual(await results.return!(), { done: true, value: undefined });
  assert.equal(returned, 1);
  assert.deepEqual(await results.next(), { done: true, value: undefined });
});
