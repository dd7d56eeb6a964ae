import assert from 'node:assert/strict';
import { test } from 'node:test';

import { parse } from 'graphql';

import { SUBGRAPH_SOCKETS } from '../src/subgraphSockets.ts';
import { readSupergraph, rootFields, subgraphNames, transportEntries } from '../src/supergraph.ts';
import { SUPERGRAPH } from './gateway.ts';
import { SUPERGRAPH_FILE } from './repo.ts';

test("the committed supergraph's subgraphs and root fields", () => {
  const supergraph = readSupergraph(SUPERGRAPH_FILE);
  assert.deepEqual([...supergraph.subgraphs].sort(), ['factory', 'purchase', 'shop']);
  for (const field of ['me', 'shops', 'login', 'buy']) assert.ok(supergraph.rootFields.has(field), field);
  assert.ok(!supergraph.rootFields.has('_entities') && !supergraph.rootFields.has('_service'));
});

test('subgraph names come from @join__graph(name:), else the enum value in lower case', () => {
  assert.deepEqual(subgraphNames(parse(SUPERGRAPH)), ['tiny']);
  const document = parse(`enum join__Graph { SHOP @join__graph(name: "shop-v2", url: "http://x") PURCHASE }`);
  assert.deepEqual(subgraphNames(document), ['shop-v2', 'purchase']);
  assert.deepEqual(subgraphNames(parse('type Query { a: Int }')), []);
});

test('root fields are those of Query, Mutation and Subscription, extensions included', () => {
  const document = parse(`
    type Query { a: Int } extend type Query { b: Int } type Mutation { c: Int } type Other { d: Int }
    type Subscription { e: Int }
  `);
  assert.deepEqual([...rootFields(document)].sort(), ['a', 'b', 'c', 'e']);
  assert.deepEqual([...rootFields(document, ['Subscription'])], ['e']);
});

test("the committed supergraph's subscription fields", () => {
  const { subscriptionFields } = readSupergraph(SUPERGRAPH_FILE);
  assert.deepEqual([...subscriptionFields].sort(), ['craftRunChanged', 'purchaseRecorded', 'stockChanged']);
});

test('transport entries set the URL of each subgraph given, subscriptions on WebSockets, and switch deduplication off when asked', () => {
  const sockets = { '*': { options: { subscriptions: { kind: SUBGRAPH_SOCKETS } } } };
  const urls = { shop: 'http://127.0.0.1:5001/graphql' };
  assert.deepEqual(transportEntries(urls, true), { shop: { location: 'http://127.0.0.1:5001/graphql' }, ...sockets });
  assert.deepEqual(transportEntries({}, false), {
    ...sockets,
    '*.http': { options: { deduplicateInflightRequests: false } },
  });
});
