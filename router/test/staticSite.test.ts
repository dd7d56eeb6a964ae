import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';

import { useStaticSite } from '../src/staticSite.ts';
import { startGateway } from './gateway.ts';

/** A built app in `<tmp>/site` (index.html, a hashed asset, a text file) beside a secret in `<tmp>`. */
function site(): string {
  const folder = mkdtempSync(path.join(tmpdir(), 'static-site-'));
  const root = path.join(folder, 'site');
  mkdirSync(path.join(root, 'assets'), { recursive: true });
  writeFileSync(path.join(root, 'index.html'), '<!doctype html><title>Service Tree</title>');
  writeFileSync(path.join(root, 'assets', 'app-1a2b3c.js'), 'console.log("app")');
  writeFileSync(path.join(root, 'robots.txt'), 'User-agent: *');
  writeFileSync(path.join(folder, 'secret.txt'), 'the secret');
  return root;
}

const gateway = (t: Parameters<typeof startGateway>[0], root = site()) =>
  startGateway(t, { plugins: () => [useStaticSite(root, ['/graphql', '/healthcheck', '/readiness'])] });

test('the app is served at / and at any path without an extension, never cached', async (t) => {
  const router = gateway(t);
  for (const where of ['/', '/shops/3', '/account']) {
    const response = await router.fetch(where);
    assert.equal(response.status, 200, where);
    assert.equal(await response.text(), '<!doctype html><title>Service Tree</title>');
    assert.equal(response.headers.get('content-type'), 'text/html; charset=utf-8');
    assert.equal(response.headers.get('cache-control'), 'no-cache');
    assert.equal(response.headers.get('x-content-type-options'), 'nosniff');
    assert.match(response.headers.get('content-security-policy') ?? '', /default-src 'self'.*frame-ancestors 'none'/);
  }
});

test('files are served with their type; hashed assets are cached for good', async (t) => {
  const router = gateway(t);
  const asset = await router.fetch('/assets/app-1a2b3c.js');
  assert.equal(asset.status, 200);
  assert.equal(await asset.text(), 'console.log("app")');
  assert.equal(asset.headers.get('content-type'), 'text/javascript; charset=utf-8');
  assert.equal(asset.headers.get('cache-control'), 'public, max-age=31536000, immutable');
  const text = await router.fetch('/robots.txt');
  assert.equal(text.headers.get('content-type'), 'text/plain; charset=utf-8');
  assert.equal(text.headers.get('cache-control'), 'no-cache');
});

test('a missing file is 404, not the app', async (t) => {
  const response = await gateway(t).fetch('/assets/missing.js');
  assert.equal(response.status, 404);
  assert.equal(await response.text(), 'Not found');
});

test('nothing outside the folder is served, however the path is written', async (t) => {
  const router = gateway(t);
  for (const where of ['/..%2fsecret.txt', '/assets/..%2f..%2fsecret.txt', '/%2e%2e%2fsecret.txt', '/..%5csecret.txt']) {
    const response = await router.fetch(where);
    const body = await response.text();
    assert.ok(response.status === 404, `${where}: ${response.status}`);
    assert.doesNotMatch(body, /the secret/, where);
  }
  // The URL parser itself folds plain dot segments into the folder.
  assert.equal((await router.fetch('/../secret.txt')).status, 404);
});

test('a path that does not decode is 400', async (t) => {
  const response = await gateway(t).fetch('/%E0%A4%A');
  assert.equal(response.status, 400);
});

test('HEAD answers the headers without the body', async (t) => {
  const response = await gateway(t).fetch('/assets/app-1a2b3c.js', { method: 'HEAD' });
  assert.equal(response.status, 200);
  assert.equal(response.headers.get('content-type'), 'text/javascript; charset=utf-8');
  assert.equal(await response.text(), '');
});

test("the router's own paths and other methods are left to the router", async (t) => {
  const router = gateway(t);
  const query = await router.fetch('/graphql?query=%7B%20hello%20%7D', { headers: { accept: 'application/json' } });
  assert.deepEqual(await query.json(), { data: { hello: 'world' } });
  assert.equal((await router.fetch('/healthcheck')).status, 200);
  const post = await router.fetch('/', { method: 'POST', body: 'x' });
  assert.equal(post.status, 404);
  assert.doesNotMatch(await post.text(), /Service Tree/);
});

test('an app that is not built is said so', async (t) => {
  const empty = mkdtempSync(path.join(tmpdir(), 'static-site-'));
  const response = await gateway(t, empty).fetch('/');
  assert.equal(response.status, 404);
  assert.equal(await response.text(), 'The web app is not built');
});
