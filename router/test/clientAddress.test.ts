import assert from 'node:assert/strict';
import { test } from 'node:test';

import { clientAddress, trustedProxies } from '../src/clientAddress.ts';

test("the client's address is the connection's, whatever X-Forwarded-For says, without trusted proxies", () => {
  const none = trustedProxies([]);
  assert.equal(clientAddress('203.0.113.9', '1.2.3.4', none), '203.0.113.9');
  assert.equal(clientAddress('::ffff:127.0.0.1', null, none), '127.0.0.1');
  assert.equal(clientAddress(undefined, '1.2.3.4', none), 'unknown');
});

test('behind a trusted proxy, the nearest untrusted hop of X-Forwarded-For', () => {
  const proxies = trustedProxies(['10.0.0.0/8', '192.168.1.7']);
  assert.equal(clientAddress('10.1.2.3', '198.51.100.1, 203.0.113.9', proxies), '203.0.113.9');
  assert.equal(clientAddress('10.1.2.3', '203.0.113.9, 192.168.1.7', proxies), '203.0.113.9');
  assert.equal(clientAddress('10.1.2.3', '', proxies), '10.1.2.3');
  assert.equal(clientAddress('172.16.0.1', '203.0.113.9', proxies), '172.16.0.1'); // not trusted: its header is not
});

test('a trusted proxy that is not an address or a range is refused', () => {
  assert.throws(() => trustedProxies(['ingress']), /^Error: ROUTER_TRUSTED_PROXIES: "ingress" is not an address or a CIDR range$/);
});
