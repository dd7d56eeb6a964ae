import assert from 'node:assert/strict';
import { test } from 'node:test';

import { Logger, MemoryLogWriter } from '@graphql-hive/gateway';

import { createLogger, useRequestLog } from '../src/logging.ts';
import { startGateway } from './gateway.ts';

test('one line per answered GraphQL request, with its request id, method, status and time', async (t) => {
  const memory = new MemoryLogWriter();
  const router = startGateway(t, { logging: new Logger({ writers: [memory] }), plugins: () => [useRequestLog()] });
  await router.post({ query: '{ hello }' });
  await router.fetch('/graphql?query=%7B%20hello%20%7D', { headers: { accept: 'application/json' } });
  await router.fetch('/healthcheck');
  await router.fetch('/favicon.ico'); // not worth a line either

  const lines = memory.logs.filter((line) => line.msg === 'graphql request answered');
  assert.deepEqual(
    lines.map((line) => [line.level, (line.attrs as { method: string }).method, (line.attrs as { status: number }).status]),
    [['info', 'POST', 200], ['info', 'GET', 200]],
  );
  for (const line of lines) {
    const attrs = line.attrs as { requestId?: string; ms?: number };
    assert.match(attrs.requestId ?? '', /^[0-9a-f-]{36}$/);
    assert.ok(Number.isInteger(attrs.ms) && attrs.ms! >= 0);
  }
});

test('LOG_FORMAT=json writes JSON lines at the level and above', (t) => {
  const written = t.mock.method(console, 'log', () => undefined);
  const log = createLogger({ level: 'warn', json: true });
  log.info('not written');
  log.warn({ subgraph: 'shop' }, 'written');
  assert.equal(written.mock.callCount(), 1);
  const line = JSON.parse(String(written.mock.calls[0]!.arguments[0]));
  assert.deepEqual({ ...line, timestamp: undefined }, { subgraph: 'shop', level: 'warn', msg: 'written', timestamp: undefined });
});

test('otherwise readable lines, not JSON', (t) => {
  const written = t.mock.method(console, 'info', () => undefined);
  createLogger({ level: 'info', json: false }).info({ subgraph: 'shop' }, 'written');
  assert.equal(written.mock.callCount(), 1);
  const line = written.mock.calls[0]!.arguments.join(' ');
  assert.match(line, /written/);
  assert.throws(() => JSON.parse(line));
});
