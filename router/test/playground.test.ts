import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';

import { buildSchema, parse, validate } from 'graphql';

import { playground } from '../src/playground.ts';
import { API_SCHEMA_FILE } from './repo.ts';

const api = buildSchema(readFileSync(API_SCHEMA_FILE, 'utf8'));
const settings = { login: 'demo', password: 'demo-password', token: 'the-demo-token' };

function operations() {
  const options = playground(settings);
  assert.equal(options.title, 'Service Tree');
  const [collection, ...others] = options.defaultCollections;
  assert.equal(others.length, 0);
  assert.equal(collection?.name, 'Service Tree: start here');
  return Object.fromEntries(collection!.operations.map((operation) => [operation.id, operation]));
}

test('the collection logs in as the demo customer, asks the flagship query with its token, and subscribes to stock', () => {
  const { login, 'my-purchases': purchases, 'live-stock': live, ...others } = operations();
  assert.deepEqual(Object.keys(others), []);
  assert.match(login!.query, /^mutation Login\(\$login: String!, \$password: String!\) \{\n {2}login\(/);
  assert.deepEqual(JSON.parse(login!.variables), { login: 'demo', password: 'demo-password' });
  assert.deepEqual(JSON.parse(login!.headers), {});
  assert.deepEqual(JSON.parse(purchases!.headers), { Authorization: 'Bearer the-demo-token' });
  // The flagship: the caller's purchases with each check's shop, lines, products and categories.
  const flagship = purchases!.query.replace(/\s+/g, ' ');
  assert.match(flagship, /me \{ login purchases\(first: 10\) \{ totalCount nodes \{ name total check \{ number /);
  assert.match(flagship, /shop \{ name address \} lines \{ quantity unitPrice product \{ name category \{ name \} \} \}/);
  // Anyone may watch stock: no token needed.
  assert.match(live!.query, /^subscription LiveStock \{\n {2}stockChanged\(productIds: \["1", "2", "3"\]\)/);
  assert.deepEqual(JSON.parse(live!.headers), {});
});

test("every operation is valid against the API's schema", () => {
  for (const operation of Object.values(operations())) {
    assert.deepEqual(validate(api, parse(operation.query)).map(String), [], operation.id);
  }
});
