import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';

import type { GatewayPlugin } from '@graphql-hive/gateway';
import type { ExecutionResult } from 'graphql';
import { WebSocket, WebSocketServer } from 'ws';

import { bounded, Counts, limitWebSockets, TOO_MANY_CONNECTIONS_CLOSE, useLiveLimits, type LiveLimits } from '../src/liveLimits.ts';
import { codes } from './gateway.ts';

const LIMITS: LiveLimits = {
  subscriptions: 4,
  subscriptionsPerConnection: 2,
  connectionsPerAddress: 2,
  maxMessageBytes: 100,
  backlog: 3,
};

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

/** What subscribing through the plugin came to: its refusal, or the stream it gave and how to end it. */
interface Subscribed {
  refused?: ExecutionResult & { errors: { extensions: { http?: { status: number } } }[] };
  stream?: unknown;
  end?: () => void;
}

/** Subscribes through `plugin` as the gateway does, from an operation of `context`, its result `result`. */
function subscribe(plugin: GatewayPlugin, context: object, result: unknown = source(1).results): Subscribed {
  const subscribed: Subscribed = {};
  const hooks = (plugin.onSubscribe as (payload: object) => { onSubscribeResult(payload: object): { onEnd(): void } | void } | void)({
    args: { contextValue: context },
    setResultAndStopExecution: (refusal: Subscribed['refused']) => (subscribed.refused = refusal),
  });
  if (!hooks) return subscribed;
  const ended = hooks.onSubscribeResult({ result, setResult: (stream: unknown) => (subscribed.stream = stream) });
  if (ended) subscribed.end = ended.onEnd;
  return subscribed;
}

const refusal = ({ refused }: Subscribed) => [codes(refused as never), refused?.errors[0]?.extensions.http?.status];

test('subscriptions per WebSocket connection: past the limit TOO_MANY_SUBSCRIPTIONS (429), one ended frees a place', () => {
  const plugin = useLiveLimits(LIMITS, new Counts(LIMITS.connectionsPerAddress));
  const [a, b] = [{ socket: {} }, { socket: {} }];
  const first = subscribe(plugin, a);
  assert.equal(subscribe(plugin, a).refused, undefined);
  assert.deepEqual(refusal(subscribe(plugin, a)), [['TOO_MANY_SUBSCRIPTIONS'], 429]);
  assert.equal(subscribe(plugin, b).refused, undefined); // another connection has its own
  first.end!();
  first.end!(); // ending twice frees one place, once
  assert.equal(subscribe(plugin, a).refused, undefined);
  assert.deepEqual(refusal(subscribe(plugin, a)), [['TOO_MANY_SUBSCRIPTIONS'], 429]);
});

test('subscriptions in all: past the limit TOO_MANY_SUBSCRIPTIONS, whatever the connection', () => {
  const plugin = useLiveLimits(LIMITS, new Counts(LIMITS.connectionsPerAddress));
  for (let n = 0; n < LIMITS.subscriptions; n++) assert.equal(subscribe(plugin, { socket: {} }).refused, undefined);
  assert.deepEqual(refusal(subscribe(plugin, { socket: {} })), [['TOO_MANY_SUBSCRIPTIONS'], 429]);
});

test("an SSE subscription counts as a connection of its address, with the address's WebSockets: past it TOO_MANY_CONNECTIONS (429)", () => {
  const connections = new Counts<string>(LIMITS.connectionsPerAddress);
  const plugin = useLiveLimits(LIMITS, connections);
  const sse = (address: string) => ({ req: { socket: { remoteAddress: address } } });
  assert.ok(connections.take('10.0.0.1')); // a WebSocket of that address
  const stream = subscribe(plugin, sse('10.0.0.1'));
  assert.equal(connections.open('10.0.0.1'), 2);
  assert.deepEqual(refusal(subscribe(plugin, sse('10.0.0.1'))), [['TOO_MANY_CONNECTIONS'], 429]);
  assert.equal(subscribe(plugin, sse('10.0.0.2')).refused, undefined);
  stream.end!();
  assert.equal(connections.open('10.0.0.1'), 1);
  // The refused one holds no subscription of the limit in all: three more fit beside 10.0.0.2's, not four.
  assert.equal(subscribe(plugin, sse('10.0.0.3')).refused, undefined);
  assert.equal(subscribe(plugin, sse('10.0.0.3')).refused, undefined);
  assert.equal(subscribe(plugin, sse('10.0.0.4')).refused, undefined);
  assert.deepEqual(refusal(subscribe(plugin, sse('10.0.0.5'))), [['TOO_MANY_SUBSCRIPTIONS'], 429]);
});

test("a subscriber's stream is bounded by its backlog; a result that is no stream frees its places at once", async () => {
  const plugin = useLiveLimits({ ...LIMITS, subscriptions: 1 }, new Counts(LIMITS.connectionsPerAddress));
  const { results, state } = source(10);
  const { stream, end } = subscribe(plugin, { socket: {} }, results);
  const read = stream as AsyncIterableIterator<ExecutionResult>;
  assert.deepEqual((await read.next()).value, { data: { n: 0 } });
  await until(() => state.stopped);
  assert.ok(state.produced <= LIMITS.backlog + 3, `read ahead ${state.produced}: not bounded`);
  end!();
  const refused = subscribe(plugin, { socket: {} }, { errors: [{ message: 'no' }] }); // e.g. a validation error
  assert.equal(refused.refused, undefined);
  assert.equal(refused.end, undefined);
  assert.equal(subscribe(plugin, { socket: {} }).refused, undefined); // its place was freed
});

test('WebSockets: past the per-address limit closed with 4429 TOO_MANY_CONNECTIONS, a message over the size limit with 1009', async (t) => {
  const original = WebSocketServer.prototype.shouldHandle;
  t.after(() => void (WebSocketServer.prototype.shouldHandle = original)); // every ws server of this process had it
  const connections = limitWebSockets({ ...LIMITS, connectionsPerAddress: 1 });
  const server = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  server.on('connection', (socket) => {
    socket.on('message', (message) => socket.send(message)); // an echo
    socket.on('error', () => undefined); // a message too large, as the gateway's server (graphql-ws) takes it
  });
  await once(server, 'listening');
  t.after(() => new Promise((resolve) => server.close(resolve)));
  const url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const first = new WebSocket(url);
  await once(first, 'open');
  await until(() => connections.open('127.0.0.1') === 1);
  const second = new WebSocket(url);
  const [code, reason] = await once(second, 'close');
  assert.equal(code, TOO_MANY_CONNECTIONS_CLOSE);
  assert.equal(String(reason), 'TOO_MANY_CONNECTIONS: at most 1 per address');
  assert.equal(connections.open('127.0.0.1'), 1);

  first.send('x'.repeat(LIMITS.maxMessageBytes + 1));
  const [tooLarge] = await once(first, 'close');
  assert.equal(tooLarge, 1009);
  await until(() => connections.open('127.0.0.1') === 0); // its place is free again
  const third = new WebSocket(url);
  await once(third, 'open');
  third.send('x'.repeat(LIMITS.maxMessageBytes)); // at the limit: it passes
  const [echo] = await once(third, 'message');
  assert.equal(String(echo).length, LIMITS.maxMessageBytes);
  third.close();
});
