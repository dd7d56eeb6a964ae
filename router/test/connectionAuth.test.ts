import assert from 'node:assert/strict';
import { test } from 'node:test';

import type { ExecutionResult } from 'graphql';

import { authorizationOf, useConnectionTokenCheck } from '../src/connectionAuth.ts';
import { EndedSessions } from '../src/endedSessions.ts';
import { KeyRing } from '../src/keyRing.ts';
import { jwksTokens } from '../src/tokenCheck.ts';
import { codes } from './gateway.ts';
import { claims, jwks, newKey, sign } from './tokens.ts';

test("a WebSocket caller's token is its connection_init payload's, else its request's header", () => {
  const request = new Request('http://router.test/graphql', { headers: { authorization: 'Bearer from-header' } });
  assert.equal(authorizationOf(request, { connectionParams: { Authorization: 'Bearer from-init' } }), 'Bearer from-init');
  assert.equal(authorizationOf(request, { connectionParams: { authorization: 'Bearer lower' } }), 'Bearer lower');
  assert.equal(authorizationOf(request, { connectionParams: {} }), 'Bearer from-header');
  assert.equal(authorizationOf(undefined, {}), undefined);
});

/** The plugin over a key ring of one key and the ended session "ended"; `run` checks an operation's context. */
async function connectionCheck() {
  const key = await newKey('k1');
  const ring = new KeyRing(async () => jwks(key), 1_000);
  await ring.refresh();
  const sessions = new EndedSessions(async () => ({ cursor: 'c', ended: [{ sid: 'ended', reason: 'LOGOUT', until: Date.now() / 1000 + 600 }] }));
  await sessions.poll();
  const plugin = useConnectionTokenCheck(jwksTokens(ring, sessions));
  const onParams = (context: object, setResult: (result: ExecutionResult) => void) =>
    (plugin.onParams as (payload: object) => Promise<void> | void)({ context, setResult });
  const run = async (context: object) => {
    let result: ExecutionResult | undefined;
    await onParams(context, (r: ExecutionResult) => (result = r));
    return result;
  };
  return { key, onParams, run };
}

test('an operation on a WebSocket with a bad token in connection_init is refused with UNAUTHENTICATED', async () => {
  const { key, run } = await connectionCheck();
  const init = (token: string) => ({ connectionParams: { Authorization: `Bearer ${token}` } });
  assert.deepEqual(codes((await run(init('forged'))) as never), ['UNAUTHENTICATED']);
  const ended = await run(init(await sign({ ...claims(), sid: 'ended' }, key)));
  assert.deepEqual(codes(ended as never), ['UNAUTHENTICATED']);
  assert.match(ended!.errors![0]!.message, /Session ended/);
  assert.equal(await run(init(await sign(claims(), key))), undefined); // a good token: on it goes
  assert.equal(await run({ connectionParams: {} }), undefined); // anonymous: its operations decide
  assert.equal(await run({}), undefined); // not a WebSocket: the header check (useTokenCheck) applies
});

test('an HTTP operation, and a WebSocket operation with a token already checked, pass without a promise', async () => {
  const { key, onParams, run } = await connectionCheck();
  const refused = () => assert.fail('refused');
  assert.equal(onParams({}, refused), undefined);
  const init = { connectionParams: { Authorization: `Bearer ${await sign(claims(), key)}` } };
  assert.equal(await run(init), undefined); // checked once, remembered
  assert.equal(onParams(init, refused), undefined);
});
