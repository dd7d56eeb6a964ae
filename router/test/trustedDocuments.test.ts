import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';

import { parse } from 'graphql';

import { EndedSessions } from '../src/endedSessions.ts';
import { useErrorContract } from '../src/errorContract.ts';
import { KeyRing } from '../src/keyRing.ts';
import { jwksTokens } from '../src/tokenCheck.ts';
import { loadTrustedDocuments, persistedDocuments, trustedDocuments } from '../src/trustedDocuments.ts';
import { codes, refusal, startGateway } from './gateway.ts';
import { WEB_MANIFEST } from './repo.ts';
import { claims, jwks, newKey, sign } from './tokens.ts';

const HELLO = 'sha256:1111';
const documents = new Map([[HELLO, 'query Hello { hello }']]);
const byHash = (hash: string) => ({ extensions: { persistedQuery: { version: 1, sha256Hash: hash } } });

function gateway(t: Parameters<typeof startGateway>[0], allowArbitrary: Parameters<typeof trustedDocuments>[1]) {
  return startGateway(t, {
    persistedDocuments: trustedDocuments(documents, allowArbitrary),
    plugins: () => [useErrorContract()],
  });
}

test("the web app's manifest loads, every document in it parses", () => {
  const loaded = loadTrustedDocuments(WEB_MANIFEST, true);
  assert.ok(loaded.size > 10, `${loaded.size} documents`);
  for (const [hash, text] of loaded) {
    assert.match(hash, /^sha256:[0-9a-f]{64}$/);
    parse(text);
  }
});

test('a manifest is read as hash -> document', () => {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'trusted-')), 'manifest.json');
  writeFileSync(file, JSON.stringify({ [HELLO]: '{ hello }' }));
  assert.deepEqual([...loadTrustedDocuments(file, true)], [[HELLO, '{ hello }']]);
});

test('a missing manifest is refused when enforced, and is no documents otherwise', () => {
  const missing = path.join(mkdtempSync(path.join(tmpdir(), 'trusted-')), 'persisted-documents.json');
  assert.throws(
    () => loadTrustedDocuments(missing, true),
    /^Error: trusted documents are enforced but .*persisted-documents\.json does not exist$/,
  );
  assert.equal(loadTrustedDocuments(missing, false).size, 0);
});

test('enforced: a known hash runs its document; text and unknown hashes are refused with their codes', async (t) => {
  const router = gateway(t, false);
  const known = await router.post(byHash(HELLO));
  assert.equal(known.status, 200);
  assert.deepEqual(await known.json(), { data: { hello: 'world' } });

  const text = await router.post({ query: 'query Hello { hello }' });
  await refusal(text, 400, ['PERSISTED_QUERY_ONLY']);

  const unknown = await router.post(byHash(`sha256:${'0'.repeat(64)}`));
  await refusal(unknown, 400, ['PERSISTED_QUERY_NOT_FOUND']);

  const nothing = await router.post({ variables: {} });
  await refusal(nothing, 400, ['BAD_REQUEST']);
});

test('enforced: any document runs for a request the rule allows', async (t) => {
  const router = gateway(t, (request) => request.headers.get('x-role') === 'SERVICE');
  const allowed = await router.post({ query: '{ hello }' }, { 'x-role': 'SERVICE' });
  assert.equal(allowed.status, 200);
  assert.deepEqual(await allowed.json(), { data: { hello: 'world' } });
  const other = await router.post({ query: '{ hello }' }, { 'x-role': 'CUSTOMER' });
  assert.deepEqual(codes(await other.json()), ['PERSISTED_QUERY_ONLY']);
});

test('not enforced: any document runs, and a known hash still does', async (t) => {
  const router = gateway(t, true);
  assert.deepEqual(await (await router.post({ query: '{ hello }' })).json(), { data: { hello: 'world' } });
  assert.deepEqual(await (await router.post(byHash(HELLO))).json(), { data: { hello: 'world' } });
});

test("the router's rule: enforced, any document runs with a SERVICE token only; not enforced, any document runs", async (t) => {
  const directory = mkdtempSync(path.join(tmpdir(), 'trusted-'));
  const file = path.join(directory, 'manifest.json');
  writeFileSync(file, JSON.stringify({ [HELLO]: 'query Hello { hello }' }));
  const key = await newKey('k1');
  const ring = new KeyRing(async () => jwks(key), 1_000);
  await ring.refresh();
  const tokens = jwksTokens(ring, new EndedSessions(async () => ({})));
  const bearer = async (role: string) => ({ authorization: `Bearer ${await sign(claims(role), key)}` });
  const router = (enforced: boolean, manifest = file) =>
    startGateway(t, { persistedDocuments: persistedDocuments({ file: manifest, enforced }, tokens), plugins: () => [useErrorContract()] });

  const enforced = router(true);
  const service = await enforced.post({ query: '{ hello }' }, await bearer('SERVICE'));
  assert.deepEqual(await service.json(), { data: { hello: 'world' } });
  await refusal(await enforced.post({ query: '{ hello }' }, await bearer('ADMIN')), 400, ['PERSISTED_QUERY_ONLY']);
  await refusal(await enforced.post({ query: '{ hello }' }), 400, ['PERSISTED_QUERY_ONLY']);
  assert.deepEqual(await (await enforced.post(byHash(HELLO))).json(), { data: { hello: 'world' } });

  const open = router(false, path.join(directory, 'missing.json'));
  assert.deepEqual(await (await open.post({ query: '{ hello }' })).json(), { data: { hello: 'world' } });
  assert.throws(() => router(true, path.join(directory, 'missing.json')), /trusted documents are enforced but/);
});
