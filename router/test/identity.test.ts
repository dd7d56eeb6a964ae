import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test, type TestContext } from 'node:test';

import { Registry } from 'prom-client';

import { startIdentity } from '../src/identity.ts';
import { claims, jwks, newKey, sign, type TestKey } from './tokens.ts';

/** The purchase subgraph's identity endpoints on a free port, serving `key` and the ended session "ended". */
async function purchase(t: TestContext, key: TestKey) {
  const asked: string[] = [];
  const server = createServer((request, response) => {
    asked.push(request.url!);
    const { pathname } = new URL(request.url!, 'http://purchase.test');
    const body =
      pathname === '/.well-known/jwks.json'
        ? jwks(key)
        : pathname === '/sessions/ended'
          ? { cursor: 'c1', ended: [{ sid: 'ended', reason: 'LOGOUT', until: Date.now() / 1000 + 600 }] }
          : undefined;
    response.writeHead(body ? 200 : 404, { 'content-type': 'application/json' }).end(JSON.stringify(body ?? {}));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => new Promise((resolve) => server.close(resolve)));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, asked };
}

async function until(condition: () => boolean): Promise<void> {
  for (let tries = 0; !condition(); tries++) {
    assert.ok(tries < 1000, 'the condition never held');
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

test("the router reads purchase's JWKS and ended sessions at start, and checks tokens with them", async (t) => {
  const key = await newKey('k1');
  const { url, asked } = await purchase(t, key);
  const registry = new Registry();
  const logged: string[] = [];
  const identity = startIdentity(
    { url, jwksMaxAgeMs: 60_000, endedSessionsPollMs: 60_000 },
    (message) => logged.push(message),
    registry,
  );
  t.after(() => identity.stop());
  await until(() => identity.keys.keys.size > 0 && identity.ended.answeredAt !== undefined);
  assert.deepEqual(asked.sort(), ['/.well-known/jwks.json', '/sessions/ended']);

  assert.deepEqual(await identity.tokens.check(`Bearer ${await sign(claims(), key)}`), { role: 'CUSTOMER' });
  const ended = await identity.tokens.check(`Bearer ${await sign({ ...claims(), sid: 'ended' }, key)}`);
  assert.equal(ended.problem, 'Session ended: you logged out');
  assert.match(await registry.metrics(), /service_tree_router_ended_sessions_age_seconds \d/);
  assert.deepEqual(logged, []);
});

test('an identity that cannot be reached is logged, and tokens are refused until it can', async (t) => {
  const key = await newKey('k1');
  const { url } = await purchase(t, key);
  const logged: string[] = [];
  const identity = startIdentity(
    { url: `${url}/nowhere`, jwksMaxAgeMs: 60_000, endedSessionsPollMs: 60_000 },
    (message) => logged.push(message),
    new Registry(),
  );
  t.after(() => identity.stop());
  await until(() => logged.length === 2);
  assert.deepEqual(logged.sort(), [
    `could not fetch the JWKS: ${url}/nowhere/.well-known/jwks.json answered 404`,
    `the ended-sessions feed cannot be read (${url}/nowhere/sessions/ended answered 404); keeping the last set`,
  ]);
  assert.deepEqual(await identity.tokens.check(`Bearer ${await sign(claims(), key)}`), { problem: 'Invalid token' });
});
