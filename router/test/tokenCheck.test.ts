import assert from 'node:assert/strict';
import { test } from 'node:test';

import { createPublicKey } from 'node:crypto';

import { EndedSessions } from '../src/endedSessions.ts';
import { useErrorContract } from '../src/errorContract.ts';
import { KeyRing } from '../src/keyRing.ts';
import { jwksTokens, useTokenCheck } from '../src/tokenCheck.ts';
import { codes, startGateway } from './gateway.ts';
import { claims, hmacJwt, jwks, newKey, sign } from './tokens.ts';

const key = await newKey('k1');
const stranger = await newKey('k1'); // another key under the same id
const bearer = (token: string) => `Bearer ${token}`;

/** Tokens checked against the JWKS of `key`, with `ended` as the feed's ended sessions. */
async function verifier(ended: { sid: string; reason: string; until: number }[] = []) {
  const ring = new KeyRing(async () => jwks(key), 1_000);
  await ring.refresh();
  const sessions = new EndedSessions(async () => ({ cursor: 'c', ended }));
  await sessions.poll();
  return jwksTokens(ring, sessions);
}

test('a good token has no problem and gives its role', async () => {
  const tokens = await verifier();
  for (const role of ['CUSTOMER', 'ADMIN', 'SERVICE']) {
    assert.deepEqual(await tokens.check(bearer(await sign(claims(role), key))), { role });
  }
});

test('no Authorization header is no problem and no role', async () => {
  assert.deepEqual(await (await verifier()).check(null), {});
});

test('bad tokens are refused, each for its reason', async () => {
  const tokens = await verifier();
  const good = claims();
  const now = Math.floor(Date.now() / 1000);
  const publicPem = createPublicKey({ key: key.jwk as never, format: 'jwk' }).export({ type: 'spki', format: 'pem' });
  const without = (name: string) => Object.fromEntries(Object.entries(good).filter(([claim]) => claim !== name));
  const bad: Record<string, [string, string]> = {
    'alg none': [bearer(hmacJwt(good, '', { header: { alg: 'none', kid: 'k1' }, signature: '' })), 'Invalid token'],
    'HS256 with the public key as its secret': [bearer(hmacJwt(good, publicPem, { header: { alg: 'HS256', kid: 'k1' } })), 'Invalid token'],
    'HS256 with the public JWK as its secret': [bearer(hmacJwt(good, JSON.stringify(key.jwk), { header: { alg: 'HS256', kid: 'k1' } })), 'Invalid token'],
    'another key under a known kid': [bearer(await sign(good, stranger)), 'Invalid token'],
    'an unknown kid': [bearer(await sign(good, key, 'k-unknown')), 'Invalid token'],
    'no kid': [bearer(hmacJwt(good, 'x', { header: { alg: 'ES256' }, signature: 'abc' })), 'Invalid token'],
    expired: [bearer(await sign({ ...good, exp: now - 1 }, key)), 'Token expired'],
    'unknown role': [bearer(await sign(claims('ROOT'), key)), 'Invalid token'],
    'a user without a session': [bearer(await sign(without('sid'), key)), 'Invalid token'],
    'a service with a session': [bearer(await sign({ ...claims('SERVICE'), sid: 's' }, key)), 'Invalid token'],
    'a service that names no service': [bearer(await sign(claims('SERVICE', '7'), key)), 'Invalid token'],
    'a user id that is no id': [bearer(await sign(claims('CUSTOMER', 'service:shop'), key)), 'Invalid token'],
    'another issuer': [bearer(await sign({ ...good, iss: 'elsewhere' }, key)), 'Invalid token'],
    'no subject': [bearer(await sign(without('sub'), key)), 'Invalid token'],
    'no expiry': [bearer(await sign(without('exp'), key)), 'Invalid token'],
    'two parts': [bearer('abc.def'), 'Invalid token'],
    'not JSON': [bearer('abc.def.ghi'), 'Invalid token'],
    'another scheme': [`Basic ${await sign(good, key)}`, "Authorization must be 'Bearer <token>'"],
    'no token': ['Bearer', "Authorization must be 'Bearer <token>'"],
  };
  for (const [name, [header, problem]] of Object.entries(bad)) {
    assert.deepEqual(await tokens.check(header), { problem }, name);
  }
});

test('the scheme is read whatever its case and spacing', async () => {
  assert.deepEqual(await (await verifier()).check(`  bearer   ${await sign(claims('ADMIN'), key)} `), { role: 'ADMIN' });
});

test('a token of an ended session is refused with the reason, a remembered one too', async () => {
  const until = Math.floor(Date.now() / 1000) + 600;
  let ended: { sid: string; reason: string; until: number }[] = [];
  const ring = new KeyRing(async () => jwks(key), 1_000);
  await ring.refresh();
  const sessions = new EndedSessions(async () => ({ cursor: 'c', ended }));
  const tokens = jwksTokens(ring, sessions);
  const token = bearer(await sign(claims(), key));
  assert.deepEqual(await tokens.check(token), { role: 'CUSTOMER' }); // now remembered
  ended = [{ sid: 'session-1', reason: 'PASSWORD_CHANGED', until }];
  await sessions.poll();
  assert.deepEqual(await tokens.check(token), { problem: 'Session ended: the password was changed' });
});

test('a remembered token of a retired key is refused once the JWKS no longer has it', async () => {
  let published = jwks(key);
  const ring = new KeyRing(async () => published, 0);
  await ring.refresh();
  const tokens = jwksTokens(ring, new EndedSessions(async () => ({})));
  const token = bearer(await sign(claims(), key));
  assert.deepEqual(await tokens.check(token), { role: 'CUSTOMER' });
  published = jwks();
  await ring.refresh();
  assert.deepEqual(await tokens.check(token), { problem: 'Invalid token' });
});

test('the plugin refuses a bad token with 401 UNAUTHENTICATED before anything runs', async (t) => {
  const tokens = await verifier();
  const gateway = startGateway(t, { plugins: () => [useTokenCheck(tokens), useErrorContract()] });
  const expired = await sign({ ...claims(), exp: Math.floor(Date.now() / 1000) - 60 }, key);
  for (const [header, message] of [
    [bearer(expired), 'Token expired'],
    [bearer(hmacJwt(claims(), '', { header: { alg: 'none', kid: 'k1' }, signature: '' })), 'Invalid token'],
    [bearer(await sign(claims(), key, 'k-unknown')), 'Invalid token'],
  ] as const) {
    const response = await gateway.post({ query: '{ __typename }' }, { authorization: header });
    assert.equal(response.status, 401);
    assert.equal(response.headers.get('www-authenticate'), 'Bearer');
    const body = await response.json();
    assert.deepEqual(codes(body), ['UNAUTHENTICATED']);
    assert.equal(body.errors[0].message, message);
  }
  assert.equal(gateway.subgraphRequests.length, 0);
});

test('the plugin lets a good token and no token through', async (t) => {
  const tokens = await verifier();
  const gateway = startGateway(t, { plugins: () => [useTokenCheck(tokens), useErrorContract()] });
  for (const headers of [{}, { authorization: bearer(await sign(claims(), key)) }] as Record<string, string>[]) {
    const response = await gateway.post({ query: '{ hello }' }, headers);
    assert.equal(response.status, 200);
    assert.deepEqual(await response.json(), { data: { hello: 'world' } });
  }
});
