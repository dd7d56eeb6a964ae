import assert from 'node:assert/strict';
import { test } from 'node:test';

import { KeyRing, useJwks } from '../src/keyRing.ts';
import { startGateway } from './gateway.ts';
import { jwks, newKey } from './tokens.ts';

const first = await newKey('k1');
const second = await newKey('k2');

test('an unknown kid fetches the JWKS again: a new key is found without a restart', async () => {
  let published = jwks(first);
  let fetches = 0;
  const ring = new KeyRing(async () => (fetches++, published), 0);
  await ring.refresh();
  assert.ok(await ring.find('k1'));
  assert.equal(await ring.find('k2'), undefined);
  published = jwks(first, second);
  assert.ok(await ring.find('k2'));
  assert.equal(fetches, 3);
});

test('a flood of unknown kids fetches once per cooldown, and each request is answered after that fetch', async () => {
  let fetches = 0;
  const ring = new KeyRing(async () => (fetches++, jwks(first)), 1_000);
  await ring.refresh(); // the cooldown starts now
  const flood = Array.from({ length: 50 }, (_, n) => ring.find(`made-up-${n}`));
  const early = await Promise.race([Promise.all(flood), new Promise((resolve) => setTimeout(resolve, 200, 'waiting'))]);
  assert.equal(early, 'waiting'); // within the cooldown nothing is fetched, and nobody is refused yet
  assert.equal(fetches, 1);
  assert.deepEqual(await Promise.all(flood), Array(50).fill(undefined)); // one fetch after it, for all fifty
  assert.equal(fetches, 2);
});

test('requests that arrived before a fetch started share its answer', async () => {
  let fetches = 0;
  let release: () => void = () => {};
  const gate = new Promise<void>((resolve) => (release = resolve));
  const ring = new KeyRing(async () => (fetches++, await gate, jwks(first, second)), 0);
  const asked = [ring.find('k1'), ring.find('k2'), ring.find('k3')];
  release();
  const found = await Promise.all(asked);
  assert.deepEqual(found.map(Boolean), [true, true, false]);
  assert.equal(fetches, 1);
});

test('a failed fetch keeps the keys known, and only public P-256 signing keys are kept', async () => {
  let answer: () => unknown = () => ({ keys: [first.jwk, { ...second.jwk, d: 'private' }, { ...second.jwk, kid: 'rsa', kty: 'RSA' }] });
  const ring = new KeyRing(async () => answer() as never, 0);
  await ring.refresh();
  assert.deepEqual([...ring.keys.keys()], ['k1']);
  answer = () => {
    throw new Error('purchase down');
  };
  await ring.refresh();
  assert.deepEqual([...ring.keys.keys()], ['k1']);
  assert.deepEqual(ring.document, { keys: [first.jwk] });
});

test('the router serves its copy of the JWKS at /.well-known/jwks.json', async (t) => {
  const ring = new KeyRing(async () => jwks(first, second), 0);
  const gateway = startGateway(t, { plugins: () => [useJwks(ring)] });
  const response = await gateway.fetch('/.well-known/jwks.json');
  assert.equal(response.status, 200);
  const body = await response.json();
  assert.deepEqual(body.keys.map((key: { kid: string }) => key.kid), ['k1', 'k2']);
  assert.ok(body.keys.every((key: object) => !('d' in key)));
});
