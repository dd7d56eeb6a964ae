// The request body limit: Hive Gateway does not expose Yoga's `maxRequestBodySize`, whose 25 MB default
// still applies behind this plugin.
import type { GatewayPlugin } from '@graphql-hive/gateway';

import { requestError } from './errorContract.ts';

/** The contract's limit of a request body (docs/api.md, Conventions): 1 MB, as each subgraph's default. */
export const MAX_BODY_BYTES = 1_000_000;
/** Refused bodies up to this size are read to the end first (`useRequestBodyLimit` says why). */
export const MAX_DRAINED_BYTES = 16_000_000;

/** Reads and drops the rest of a body; true when it ended within `drainLimit` bytes in all. */
async function drain(reader: ReadableStreamDefaultReader<Uint8Array>, seen: number, drainLimit: number) {
  let size = seen;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return true;
    size += value.byteLength;
    if (size > drainLimit) {
      await reader.cancel().catch(() => undefined);
      return false;
    }
  }
}

/**
 * Refuses request bodies over `limit` bytes with 413 PAYLOAD_TOO_LARGE, by Content-Length when present and by
 * counting while reading otherwise (chunked uploads).
 *
 * A refused body up to `drainLimit` bytes is read to its end and dropped before the answer: a client that is
 * still sending then gets its 413 instead of a reset connection, and may reuse the connection. A larger one is
 * not read; the answer closes the connection.
 */
export function useRequestBodyLimit(limit: number, drainLimit: number): GatewayPlugin {
  const tooLarge = (drained: boolean) =>
    requestError(
      `Request body is larger than the limit of ${limit} bytes`,
      413,
      'PAYLOAD_TOO_LARGE',
      drained ? undefined : { connection: 'close' },
    );
  return {
    // Not async: most requests pass at once, without a promise of their own.
    onRequestParse({ request, requestParser, setRequestParser, fetchAPI }) {
      const declared = request.headers.get('content-length');
      if (declared !== null) {
        if (!/^\d+$/.test(declared)) throw requestError('Invalid Content-Length header', 400, 'BAD_REQUEST');
        if (Number(declared) > limit) {
          if (Number(declared) > drainLimit || request.body === null) throw tooLarge(false);
          return drain(request.body.getReader(), 0, drainLimit).then((drained) => {
            throw tooLarge(drained);
          });
        }
        // Node's HTTP parser ends a body at its Content-Length: a declared size within the limit is the size, and
        // the body needs no counting (nor a copy).
        return;
      }
      if (!requestParser || !request.body) return;
      const parse = requestParser;
      setRequestParser(async (req) => {
        if (!req.body) return parse(req);
        const reader = req.body.getReader();
        const chunks: Uint8Array[] = [];
        let size = 0;
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          size += value.byteLength;
          if (size > limit) throw tooLarge(await drain(reader, size, drainLimit));
          chunks.push(value);
        }
        const headers = new fetchAPI.Headers(req.headers);
        headers.delete('transfer-encoding');
        headers.set('content-length', String(size));
        return parse(
          new fetchAPI.Request(req.url, { method: req.method, headers, body: Buffer.concat(chunks) }),
        );
      });
    },
  };
}
