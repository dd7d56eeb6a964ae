import assert from 'node:assert/strict';
import { test } from 'node:test';

import { useRequestBodyLimit } from '../src/bodyLimit.ts';
import { useErrorContract } from '../src/errorContract.ts';
import { codes, startGateway } from './gateway.ts';

const LIMIT = 1_000;
const DRAIN_LIMIT = 4_000;

/** A JSON request body of about `size` bytes: a query padded with an unused variable. */
function body(size: number): string {
  const text = JSON.stringify({ query: '{ hello }', variables: { pad: '' } });
  return text.replace('"pad":""', `"pad":"${'x'.repeat(size - text.length)}"`);
}

/** A body sent in chunks, without Content-Length, that counts how many bytes were read from it. */
function streamed(text: string, chunk = 100) {
  const bytes = new TextEncoder().encode(text);
  const sent = { bytes: 0 };
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (sent.bytes >= bytes.length) return controller.close();
      const next = bytes.subarray(sent.bytes, sent.bytes + chunk);
      sent.bytes += next.length;
      controller.enqueue(next);
    },
  });
  return { stream, sent, size: bytes.length };
}

function gateway(t: Parameters<typeof startGateway>[0]) {
  return startGateway(t, { plugins: () => [useRequestBodyLimit(LIMIT, DRAIN_LIMIT), useErrorContract()] });
}

test('a body at the limit is answered', async (t) => {
  const response = await gateway(t).fetch('/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: body(LIMIT),
  });
  assert.equal(response.status, 200);
  assert.deepEqual(await response.json(), { data: { hello: 'world' } });
});

test('a body over the limit by Content-Length is refused with 413 PAYLOAD_TOO_LARGE and read to its end', async (t) => {
  const { stream, sent, size } = streamed(body(LIMIT + 1));
  const response = await gateway(t).fetch('/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'content-length': String(size) },
    body: stream,
    duplex: 'half',
  } as RequestInit);
  assert.equal(response.status, 413);
  assert.deepEqual(codes(await response.json()), ['PAYLOAD_TOO_LARGE']);
  assert.equal(sent.bytes, size); // drained: the client may go on using the connection
  assert.equal(response.headers.get('connection'), null);
});

test('a chunked body is counted while read and refused once over the limit', async (t) => {
  const { stream, sent, size } = streamed(body(2 * LIMIT));
  const response = await gateway(t).fetch('/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: stream,
    duplex: 'half',
  } as RequestInit);
  assert.equal(response.status, 413);
  assert.deepEqual(codes(await response.json()), ['PAYLOAD_TOO_LARGE']);
  assert.equal(sent.bytes, size);
});

test('a chunked body under the limit is answered', async (t) => {
  const { stream } = streamed(body(LIMIT - 10));
  const response = await gateway(t).fetch('/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: stream,
    duplex: 'half',
  } as RequestInit);
  assert.equal(response.status, 200);
  assert.deepEqual(await response.json(), { data: { hello: 'world' } });
});

test('a body over the drain limit is not read, and the answer closes the connection', async (t) => {
  const { stream, sent, size } = streamed(body(DRAIN_LIMIT + 1_000));
  const response = await gateway(t).fetch('/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'content-length': String(size) },
    body: stream,
    duplex: 'half',
  } as RequestInit);
  assert.equal(response.status, 413);
  assert.deepEqual(codes(await response.json()), ['PAYLOAD_TOO_LARGE']);
  assert.equal(response.headers.get('connection'), 'close');
  assert.ok(sent.bytes < size, `${sent.bytes} of ${size} bytes read`);
});

test('a chunked body over the drain limit is read no further than that', async (t) => {
  const { stream, sent, size } = streamed(body(10 * DRAIN_LIMIT));
  const response = await gateway(t).fetch('/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: stream,
    duplex: 'half',
  } as RequestInit);
  assert.equal(response.status, 413);
  assert.equal(response.headers.get('connection'), 'close');
  assert.ok(sent.bytes < 2 * DRAIN_LIMIT, `${sent.bytes} of ${size} bytes read`);
});

test('a malformed Content-Length is refused with 400 BAD_REQUEST', async (t) => {
  const response = await gateway(t).fetch('/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'content-length': '12abc' },
    body: body(100),
  });
  assert.equal(response.status, 400);
  assert.deepEqual(codes(await response.json()), ['BAD_REQUEST']);
});
