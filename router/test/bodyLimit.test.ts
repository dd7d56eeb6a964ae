import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';

import { useRequestBodyLimit } from '../src/bodyLimit.ts';
import { useErrorContract } from '../src/errorContract.ts';
import { refusal, startGateway } from './gateway.ts';

const LIMIT = 1_000;
const DRAIN_LIMIT = 4_000;

/** A JSON request body of `size` bytes: a query padded with an unused variable. */
function body(size: number): string {
  const text = JSON.stringify({ query: '{ hello }', variables: { pad: '' } });
  return text.replace('"pad":""', `"pad":"${'x'.repeat(size - text.length)}"`);
}

/**
 * POSTs a body of `size` bytes in chunks of 100, with its Content-Length when `declared` (else as a chunked
 * upload); `sent` is how many bytes the router read of it.
 */
async function post(t: TestContext, size: number, { declared }: { declared: boolean }) {
  const router = startGateway(t, { plugins: () => [useRequestBodyLimit(LIMIT, DRAIN_LIMIT), useErrorContract()] });
  const bytes = new TextEncoder().encode(body(size));
  let sent = 0;
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (sent >= bytes.length) return controller.close();
      const chunk = bytes.subarray(sent, sent + 100);
      sent += chunk.length;
      controller.enqueue(chunk);
    },
  });
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (declared) headers['content-length'] = String(size);
  const response = await router.fetch('/graphql', { method: 'POST', headers, body: stream, duplex: 'half' } as RequestInit);
  return { response, sent };
}

async function assertAnswered(response: Response) {
  assert.equal(response.status, 200);
  assert.deepEqual(await response.json(), { data: { hello: 'world' } });
}

async function assertTooLarge(response: Response) {
  await refusal(response, 413, ['PAYLOAD_TOO_LARGE']);
}

test('a body at the limit is answered, declared or chunked', async (t) => {
  await assertAnswered((await post(t, LIMIT, { declared: true })).response);
  await assertAnswered((await post(t, LIMIT, { declared: false })).response);
});

test('a body over the limit by Content-Length is refused with 413 PAYLOAD_TOO_LARGE and read to its end', async (t) => {
  const { response, sent } = await post(t, LIMIT + 1, { declared: true });
  await assertTooLarge(response);
  assert.equal(sent, LIMIT + 1); // drained: the client may go on using the connection
  assert.equal(response.headers.get('connection'), null);
});

test('a chunked body is counted while read and refused once over the limit, read to its end', async (t) => {
  const { response, sent } = await post(t, 2 * LIMIT, { declared: false });
  await assertTooLarge(response);
  assert.equal(sent, 2 * LIMIT);
  assert.equal(response.headers.get('connection'), null);
});

test('a body over the drain limit is not read, and the answer closes the connection', async (t) => {
  const { response, sent } = await post(t, DRAIN_LIMIT + 1, { declared: true });
  await assertTooLarge(response);
  assert.equal(response.headers.get('connection'), 'close');
  assert.ok(sent < DRAIN_LIMIT, `${sent} bytes read`);
});

test('a chunked body over the drain limit is read no further than about that', async (t) => {
  const { response, sent } = await post(t, 10 * DRAIN_LIMIT, { declared: false });
  await assertTooLarge(response);
  assert.equal(response.headers.get('connection'), 'close');
  assert.ok(sent < 2 * DRAIN_LIMIT, `${sent} bytes read`);
});

test('a malformed Content-Length is refused with 400 BAD_REQUEST', async (t) => {
  const router = startGateway(t, { plugins: () => [useRequestBodyLimit(LIMIT, DRAIN_LIMIT), useErrorContract()] });
  const response = await router.fetch('/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'content-length': '12abc' },
    body: body(100),
  });
  await refusal(response, 400, ['BAD_REQUEST']);
});
