import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { test, type TestContext } from 'node:test';

import type { ExecutionRequest } from '@graphql-tools/utils';
import { buildSchema, parse, type ExecutionResult } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { Registry } from 'prom-client';
import { WebSocketServer } from 'ws';

import { authorizationOf, useConnectionTokenCheck } from '../src/connectionAuth.ts';
import { bounded, Counts } from '../src/liveLimits.ts';
import { useSubscriptionMetrics } from '../src/metrics.ts';
import { subgraphSockets } from '../src/subgraphSockets.ts';
import { EndedSessions } from '../src/endedSessions.ts';
import { KeyRing } from '../src/keyRing.ts';
import { jwksTokens } from '../src/tokenCheck.ts';
import { codes } from './gateway.ts';
import { claims, jwks, newKey, sign } from './tokens.ts';

/** A source of `count` results that says how many it produced and whether it was stopped. */
function source(count: number) {
  const state = { produced: 0, stopped: false };
  async function* results(): AsyncGenerator<ExecutionResult> {
    try {
      for (let n = 0; n < count; n++) {
        state.produced++;
        yield { data: { n } };
      }
      await new Promise(() => undefined); // then no more events, and no end: a live subscription
    } finally {
      state.stopped = true;
    }
  }
  return { results: results(), state };
}

async function until(condition: () => boolean): Promise<void> {
  for (let tries = 0; !condition(); tries++) {
    assert.ok(tries < 1000, 'the condition never held');
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

test('a subscriber that keeps up gets every event', async () => {
  const { results } = source(5);
  const read = bounded(results, 2);
  for (let n = 0; n < 5; n++) assert.deepEqual((await read.next()).value, { data: { n } });
  await read.return?.();
});

test('a subscriber that falls behind its backlog gets the backlog, then SUBSCRIBER_TOO_SLOW, and the source stops', async () => {
  const { results, state } = source(10);
  const read = bounded(results, 3);
  const first = await read.next(); // the subscriber starts, then stops reading while events keep coming
  assert.deepEqual(first.value, { data: { n: 0 } });
  await until(() => state.stopped);
  assert.ok(state.produced <= 6, `read ahead ${state.produced}: not bounded`);
  const rest: ExecutionResult[] = [];
  for await (const result of read) rest.push(result);
  assert.deepEqual(rest.slice(0, 3), [1, 2, 3].map((n) => ({ data: { n } })));
  assert.deepEqual(codes(rest[3] as never), ['SUBSCRIBER_TOO_SLOW']);
  assert.equal(rest.length, 4);
});

test('counts hold up to their limit, per key, and free a place on release', () => {
  const counts = new Counts<string>(2);
  assert.ok(counts.take('a') && counts.take('a'));
  assert.equal(counts.take('a'), false);
  assert.ok(counts.take('b'));
  counts.release('a');
  assert.equal(counts.open('a'), 1);
  assert.ok(counts.take('a'));
});

test("a WebSocket caller's token is its connection_init payload's, else its request's header", () => {
  const request = new Request('http://router.test/graphql', { headers: { authorization: 'Bearer from-header' } });
  assert.equal(authorizationOf(request, { connectionParams: { Authorization: 'Bearer from-init' } }), 'Bearer from-init');
  assert.equal(authorizationOf(request, { connectionParams: { authorization: 'Bearer lower' } }), 'Bearer lower');
  assert.equal(authorizationOf(request, { connectionParams: {} }), 'Bearer from-header');
  assert.equal(authorizationOf(undefined, {}), undefined);
});

test('an operation on a WebSocket with a bad token in connection_init is refused with UNAUTHENTICATED', async () => {
  const key = await newKey('k1');
  const ring = new KeyRing(async () => jwks(key), 1_000);
  await ring.refresh();
  const sessions = new EndedSessions(async () => ({ cursor: 'c', ended: [{ sid: 'ended', reason: 'LOGOUT', until: Date.now() / 1000 + 600 }] }));
  await sessions.poll();
  const plugin = useConnectionTokenCheck(jwksTokens(ring, sessions));
  const run = async (context: object) => {
    let result: ExecutionResult | undefined;
    await (plugin.onParams as (payload: object) => Promise<void>)({ context, setResult: (r: ExecutionResult) => (result = r) });
    return result;
  };
  const init = (token: string) => ({ connectionParams: { Authorization: `Bearer ${token}` } });
  assert.deepEqual(codes((await run(init('forged'))) as never), ['UNAUTHENTICATED']);
  const ended = await run(init(await sign({ ...claims(), sid: 'ended' }, key)));
  assert.deepEqual(codes(ended as never), ['UNAUTHENTICATED']);
  assert.match(ended!.errors![0]!.message, /Session ended/);
  assert.equal(await run(init(await sign(claims(), key))), undefined); // a good token: on it goes
  assert.equal(await run({ connectionParams: {} }), undefined); // anonymous: its operations decide
  assert.equal(await run({}), undefined); // not a WebSocket: the header check (useTokenCheck) applies
});

test('subscription series are declared at zero for each subscription field', async () => {
  const registry = new Registry();
  useSubscriptionMetrics(new Set(['stockChanged']), registry);
  const text = await registry.metrics();
  assert.match(text, /service_tree_router_subscriptions_open\{operation="stockChanged"\} 0/);
  assert.match(text, /service_tree_router_subscription_events_total\{operation="other"\} 0/);
});

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

test("a subscription reaches the subgraph by WebSocket with the caller's token, and a lost connection ends it with SUBSCRIPTION_INTERRUPTED", async (t) => {
  const { url, server, seen } = await subgraph(t);
  const transport = subgraphSockets({ keepAliveMs: 60_000, authorization: () => 'Bearer caller' });
  const execute = await transport.getSubgraphExecutor({
    transportEntry: { kind: 'subgraph-socket', subgraph: 'tiny', location: url },
  } as never);
  t.after(() => (execute as unknown as { [Symbol.asyncDispose]?: () => Promise<void> })[Symbol.asyncDispose]?.());
  const request = { document: parse('subscription { ticks }'), operationType: 'subscription' } as ExecutionRequest;
  const results = (await execute(request)) as AsyncIterable<ExecutionResult>;
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
