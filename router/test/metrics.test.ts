import assert from 'node:assert/strict';
import { test } from 'node:test';

import { Logger, usePrometheus } from '@graphql-hive/gateway';
import { parse } from 'graphql';
import { Registry } from 'prom-client';

import { useErrorContract } from '../src/errorContract.ts';
import { operationLabel, prometheus, useSubscriptionMetrics } from '../src/metrics.ts';
import { readSupergraph } from '../src/supergraph.ts';
import { startGateway } from './gateway.ts';
import { SUPERGRAPH_FILE } from './repo.ts';

const { rootFields } = readSupergraph(SUPERGRAPH_FILE);
const label = (query: string, operationName?: string) => operationLabel(parse(query), operationName, rootFields);

test("an operation is labelled by its one root field, __typename aside", () => {
  assert.equal(label('{ me { id } }'), 'me');
  assert.equal(label('query MyPurchases { me { purchases(first: 10) { totalCount } } }', 'MyPurchases'), 'me');
  assert.equal(label('mutation { login(login: "a", password: "b") { token } }'), 'login');
  assert.equal(label('{ __typename shops { totalCount } }'), 'shops');
  assert.equal(label('{ a: shops { totalCount } b: shops { totalCount } }'), 'shops');
});

test('the named operation of several is the one labelled; "Anonymous" means the only one', () => {
  const document = 'query A { me { id } } query B { shops { totalCount } }';
  assert.equal(label(document, 'B'), 'shops');
  assert.equal(label(document, 'A'), 'me');
  assert.equal(label('{ me { id } }', 'Anonymous'), 'me');
  assert.equal(label(document, 'Anonymous'), 'other');
});

test('anything else is "other": several root fields, unknown fields, fragments, no document', () => {
  assert.equal(label('{ me { id } shops { totalCount } }'), 'other');
  assert.equal(label('{ myClientsOwnName }'), 'other');
  assert.equal(label('{ __typename }'), 'other');
  assert.equal(label('{ ...F } fragment F on Query { me { id } }'), 'other');
  assert.equal(operationLabel(undefined, 'Whatever', rootFields), 'other');
});

test('/metrics counts operations by root field and errors by code, never by operation name', async (t) => {
  const registry = new Registry();
  const router = startGateway(t, {
    plugins: () => [
      usePrometheus({ ...prometheus(new Set(['hello', 'node']), registry), log: new Logger({ level: false }) }),
      useErrorContract(),
    ],
  });
  await router.post({ query: 'query ClientChosenName { hello }' });
  await router.post({ query: '{ hello }' });
  await router.post({ query: '{ node { name } }' });
  await router.post({ query: '{ nope }' });
  await router.post({ query: '{ hello' });

  const metrics = await (await router.fetch('/metrics')).text();
  const series = (name: string) =>
    metrics.split('\n').filter((line) => line.startsWith(`${name}{`)).sort();
  assert.deepEqual(series('service_tree_router_requests_total'), [
    'service_tree_router_requests_total{operation="hello"} 2',
    'service_tree_router_requests_total{operation="node"} 1',
  ]);
  assert.deepEqual(series('service_tree_router_errors_total'), [
    'service_tree_router_errors_total{operation="other",code="GRAPHQL_PARSE_FAILED"} 1',
    'service_tree_router_errors_total{operation="other",code="GRAPHQL_VALIDATION_FAILED"} 1',
  ]);
  assert.ok(series('service_tree_router_request_duration_seconds_count').includes(
    'service_tree_router_request_duration_seconds_count{operation="hello"} 2',
  ));
  assert.doesNotMatch(metrics, /ClientChosenName/);
  assert.match(metrics, /^graphql_gateway_subgraph_execute_duration_count\{subgraphName="tiny",operationType="query"\} 3$/m);
  // The built-in series nobody reads are off: each would cost every request.
  assert.doesNotMatch(metrics, /^(graphql_envelop_|graphql_yoga_|graphql_gateway_fetch_)/m);
});

test('subscription series are declared at zero for each subscription field', async () => {
  const registry = new Registry();
  useSubscriptionMetrics(new Set(['stockChanged']), registry);
  const text = await registry.metrics();
  assert.match(text, /service_tree_router_subscriptions_open\{operation="stockChanged"\} 0/);
  assert.match(text, /service_tree_router_subscription_events_total\{operation="other"\} 0/);
});
