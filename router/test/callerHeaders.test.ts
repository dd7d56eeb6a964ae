import assert from 'node:assert/strict';
import { test } from 'node:test';

import { callerHeaders } from '../src/callerHeaders.ts';
import { trustedProxies } from '../src/clientAddress.ts';
import { startGateway } from './gateway.ts';

const request = (headers: Record<string, string> = {}) => new Request('http://router.test/graphql', { headers });
const peer = (remoteAddress: string) => ({ req: { socket: { remoteAddress } } });

test("a subgraph is told the caller's token, from its header or its WebSocket's connection_init", () => {
  const headers = callerHeaders(trustedProxies([]));
  const bearer = request({ authorization: 'Bearer from-header' });
  assert.equal(headers({ request: bearer, context: peer('203.0.113.9') }).authorization, 'Bearer from-header');
  const init = { ...peer('203.0.113.9'), connectionParams: { Authorization: 'Bearer from-init' } };
  assert.equal(headers({ request: bearer, context: init }).authorization, 'Bearer from-init');
  assert.equal(headers({ request: request(), context: peer('203.0.113.9') }).authorization, undefined);
});

test("a subgraph is told the client's address in X-Forwarded-For, the client's header believed from trusted proxies only", () => {
  const forwarded = request({ 'x-forwarded-for': '198.51.100.1' });
  const direct = callerHeaders(trustedProxies([]));
  assert.equal(direct({ request: forwarded, context: peer('203.0.113.9') })['x-forwarded-for'], '203.0.113.9');
  const behindIngress = callerHeaders(trustedProxies(['10.0.0.0/8']));
  assert.equal(behindIngress({ request: forwarded, context: peer('10.1.2.3') })['x-forwarded-for'], '198.51.100.1');
  assert.equal(behindIngress({ request: forwarded, context: peer('203.0.113.9') })['x-forwarded-for'], '203.0.113.9');
});

test('the headers reach the subgraph, whatever the client sent in their place', async (t) => {
  const router = startGateway(t, { propagateHeaders: { fromClientToSubgraphs: callerHeaders(trustedProxies([])) } });
  const response = await router.post({ query: '{ hello }' }, { authorization: 'Bearer caller', 'x-forwarded-for': '1.2.3.4' });
  assert.deepEqual(await response.json(), { data: { hello: 'world' } });
  const [sent] = router.subgraphRequests;
  assert.equal(sent?.headers.authorization, 'Bearer caller');
  assert.equal(sent?.headers['x-forwarded-for'], 'unknown'); // in process: no connection, so no address
});
