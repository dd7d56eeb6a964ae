import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';

import { readSettings, subgraphUrls } from '../src/env.ts';
import { REPO } from './repo.ts';

test('development defaults', () => {
  const settings = readSettings({});
  assert.deepEqual(settings, {
    supergraph: path.join(REPO, 'schema', 'supergraph.graphql'),
    host: '127.0.0.1',
    port: 4000,
    log: { level: 'info', json: false },
    upstreamTimeoutMs: 30_000,
    dedupe: true,
    production: false,
    introspection: true,
    identity: { url: 'http://127.0.0.1:4001', jwksMaxAgeMs: 60_000, endedSessionsPollMs: 1_000 },
    trustedProxies: [],
    trustedDocuments: { file: path.join(REPO, 'web', 'src', 'gql', 'persisted-documents.json'), enforced: false },
    webDir: undefined,
    corsOrigins: [],
    live: {
      subscriptions: 4_000,
      subscriptionsPerConnection: 20,
      connectionsPerAddress: 100,
      maxMessageBytes: 1_000_000,
      backlog: 100,
    },
    tracing: undefined,
    playground: { login: 'demo', password: 'demo-password', token: '<the token Login answers>' },
  });
});

test('production hides the schema and enforces trusted documents', () => {
  const identity = { SERVICE_TREE_IDENTITY_URL: 'http://purchase:8000' };
  const settings = readSettings({ SERVICE_TREE_ENV: 'production', ...identity });
  assert.equal(settings.production, true);
  assert.equal(settings.introspection, false);
  assert.equal(settings.trustedDocuments.enforced, true);
  const overridden = readSettings({
    SERVICE_TREE_ENV: 'production',
    ...identity,
    ROUTER_INTROSPECTION: '1',
    ROUTER_TRUSTED_DOCUMENTS: 'off',
  });
  assert.equal(overridden.introspection, true);
  assert.equal(overridden.trustedDocuments.enforced, false);
});

test('every setting is read from its variable', () => {
  const settings = readSettings({
    ROUTER_SUPERGRAPH: 'some/supergraph.graphql',
    ROUTER_HOST: '0.0.0.0',
    ROUTER_PORT: '4100',
    ROUTER_LOG_LEVEL: 'debug',
    LOG_FORMAT: 'json',
    ROUTER_UPSTREAM_TIMEOUT_MS: '600000',
    ROUTER_DEDUPE: '0',
    ROUTER_INTROSPECTION: 'no',
    SERVICE_TREE_IDENTITY_URL: 'http://purchase:8000/',
    SERVICE_TREE_JWKS_MAX_AGE_SECONDS: '30',
    SERVICE_TREE_ENDED_SESSIONS_POLL_SECONDS: '0.5',
    ROUTER_TRUSTED_PROXIES: '10.0.0.0/8, 192.168.1.7',
    ROUTER_TRUSTED_DOCUMENTS: 'yes',
    ROUTER_PERSISTED_DOCUMENTS: 'manifest.json',
    ROUTER_WEB_DIR: 'web/dist',
    ROUTER_CORS_ORIGINS: ' https://shop.example , ,https://admin.example',
    OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318/',
    OTEL_SERVICE_NAME: 'router-2',
    ROUTER_PLAYGROUND_LOGIN: 'ann',
    ROUTER_PLAYGROUND_PASSWORD: 'ann-password',
    ROUTER_PLAYGROUND_TOKEN: 'a.token.here',
    ROUTER_SUBSCRIPTIONS_PER_CONNECTION: '5',
    ROUTER_CONNECTIONS_PER_ADDRESS: '7',
    ROUTER_WS_MAX_MESSAGE_BYTES: '4096',
    ROUTER_SUBSCRIBER_BACKLOG: '9',
    ROUTER_MAX_SUBSCRIPTIONS: '11',
  });
  assert.deepEqual(settings, {
    supergraph: path.resolve('some/supergraph.graphql'), // relative to the current directory
    host: '0.0.0.0',
    port: 4100,
    log: { level: 'debug', json: true },
    upstreamTimeoutMs: 600_000,
    dedupe: false,
    production: false,
    introspection: false,
    identity: { url: 'http://purchase:8000', jwksMaxAgeMs: 30_000, endedSessionsPollMs: 500 },
    trustedProxies: ['10.0.0.0/8', '192.168.1.7'],
    trustedDocuments: { file: path.resolve('manifest.json'), enforced: true },
    webDir: path.resolve('web/dist'),
    corsOrigins: ['https://shop.example', 'https://admin.example'],
    live: { subscriptions: 11, subscriptionsPerConnection: 5, connectionsPerAddress: 7, maxMessageBytes: 4096, backlog: 9 },
    tracing: { endpoint: 'http://127.0.0.1:4318', serviceName: 'router-2' },
    playground: { login: 'ann', password: 'ann-password', token: 'a.token.here' },
  });
});

test('a bad value is refused with the variable it came from', () => {
  const refusals: [Record<string, string>, RegExp][] = [
    [{ ROUTER_PORT: 'http' }, /^ROUTER_PORT must be a whole number from 0 to 65535, got "http"$/],
    [{ ROUTER_PORT: '70000' }, /^ROUTER_PORT must be a whole number from 0 to 65535, got "70000"$/],
    [{ ROUTER_PORT: '-1' }, /^ROUTER_PORT must be/],
    [{ ROUTER_UPSTREAM_TIMEOUT_MS: '1.5' }, /^ROUTER_UPSTREAM_TIMEOUT_MS must be a whole number from 0 to 600000, got "1.5"$/],
    [{ ROUTER_UPSTREAM_TIMEOUT_MS: '600001' }, /^ROUTER_UPSTREAM_TIMEOUT_MS must be/],
    [{ ROUTER_LOG_LEVEL: 'verbose' }, /^ROUTER_LOG_LEVEL must be one of trace, debug, info, warn, error, got "verbose"$/],
    [{ SERVICE_TREE_ENV: 'production' }, /^SERVICE_TREE_IDENTITY_URL must be set outside development$/],
    [{ SERVICE_TREE_IDENTITY_URL: 'purchase 8000' }, /^SERVICE_TREE_IDENTITY_URL must be an absolute URL, got "purchase 8000"$/],
    [{ SERVICE_TREE_JWKS_MAX_AGE_SECONDS: '0' }, /^SERVICE_TREE_JWKS_MAX_AGE_SECONDS must be a number of seconds above 0/],
    [{ SERVICE_TREE_ENDED_SESSIONS_POLL_SECONDS: 'soon' }, /^SERVICE_TREE_ENDED_SESSIONS_POLL_SECONDS must be/],
  ];
  for (const [env, message] of refusals) {
    assert.throws(() => readSettings(env), (error: Error) => message.test(error.message), JSON.stringify(env));
  }
});

test("each subgraph's URL comes from <NAME>_URL when set, and must be absolute", () => {
  const env = { SHOP_URL: ' http://127.0.0.1:5001/graphql ', FACTORY_URL: '' };
  assert.deepEqual(subgraphUrls(env, ['purchase', 'shop', 'factory']), { shop: 'http://127.0.0.1:5001/graphql' });
  assert.throws(
    () => subgraphUrls({ PURCHASE_URL: '127.0.0.1:8000/graphql' }, ['purchase']),
    /^Error: PURCHASE_URL must be an absolute URL, got "127.0.0.1:8000\/graphql"$/,
  );
});
