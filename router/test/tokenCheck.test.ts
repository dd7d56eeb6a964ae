import assert from 'node:assert/strict';
import { test } from 'node:test';

import { useErrorContract } from '../src/errorContract.ts';
import { DEVELOPMENT_SECRET, hs256Tokens, useTokenCheck } from '../src/tokenCheck.ts';
import { codes, startGateway } from './gateway.ts';
import { claims, jwt } from './tokens.ts';

const SECRET = 'a-secret-of-at-least-thirty-two-characters';
const tokens = hs256Tokens(SECRET);
const bearer = (token: string) => `Bearer ${token}`;

test('a good token has no problem and gives its role', () => {
  for (const role of ['CUSTOMER', 'ADMIN', 'SERVICE']) {
    const header = bearer(jwt(claims(role), SECRET));
    assert.equal(tokens.problem(header), undefined);
    assert.equal(tokens.role(header), role);
  }
});

test('no Authorization header is no problem and no role', () => {
  assert.equal(tokens.problem(null), undefined);
  assert.equal(tokens.role(null), undefined);
});

test('bad tokens are refused, each for its reason, and give no role', () => {
  const good = claims();
  const bad: Record<string, [string, string]> = {
    'alg none': [bearer(jwt(good, SECRET, { header: { alg: 'none' }, signature: '' })), 'Invalid token'],
    'another algorithm': [bearer(jwt(good, SECRET, { header: { alg: 'HS512' } })), 'Invalid token'],
    'wrong signature': [bearer(jwt(good, 'another-secret-of-at-least-thirty-two-chars')), 'Invalid token'],
    'the development secret': [bearer(jwt(good, DEVELOPMENT_SECRET)), 'Invalid token'],
    expired: [bearer(jwt({ ...good, exp: Math.floor(Date.now() / 1000) - 1 }, SECRET)), 'Token expired'],
    'unknown role': [bearer(jwt(claims('ROOT'), SECRET)), 'Invalid token'],
    'no subject': [bearer(jwt({ role: 'CUSTOMER', exp: good.exp }, SECRET)), 'Invalid token'],
    'no expiry': [bearer(jwt({ role: 'CUSTOMER', sub: '1' }, SECRET)), 'Invalid token'],
    'two parts': [bearer('abc.def'), 'Invalid token'],
    'not JSON': [bearer('abc.def.ghi'), 'Invalid token'],
    'another scheme': [`Basic ${jwt(good, SECRET)}`, "Authorization must be 'Bearer <token>'"],
    'no token': ['Bearer', "Authorization must be 'Bearer <token>'"],
  };
  for (const [name, [header, problem]] of Object.entries(bad)) {
    assert.equal(tokens.problem(header), problem, name);
    assert.equal(tokens.role(header), undefined, name);
  }
});

test('the scheme is read whatever its case and spacing', () => {
  assert.equal(tokens.role(`  bearer   ${jwt(claims('ADMIN'), SECRET)} `), 'ADMIN');
});

test('the plugin refuses a bad token with 401 UNAUTHENTICATED before anything runs', async (t) => {
  const gateway = startGateway(t, { plugins: () => [useTokenCheck(tokens), useErrorContract()] });
  const expired = jwt({ ...claims(), exp: Math.floor(Date.now() / 1000) - 60 }, SECRET);
  for (const [header, message] of [
    [bearer(expired), 'Token expired'],
    [bearer(jwt(claims(), SECRET, { header: { alg: 'none' }, signature: '' })), 'Invalid token'],
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
  const gateway = startGateway(t, { plugins: () => [useTokenCheck(tokens), useErrorContract()] });
  for (const headers of [{}, { authorization: bearer(jwt(claims(), SECRET)) }] as Record<string, string>[]) {
    const response = await gateway.post({ query: '{ hello }' }, headers);
    assert.equal(response.status, 200);
    assert.deepEqual(await response.json(), { data: { hello: 'world' } });
  }
});
