// What each subgraph is told of the caller, the headers the router sets on every call to it: the caller's token,
// since each subgraph checks it itself (a WebSocket's caller sends it in `connection_init`, src/connectionAuth.ts),
// and the client's address, which a subgraph learns from the router alone (src/clientAddress.ts).
import type { BlockList } from 'node:net';

import { clientAddress } from './clientAddress.ts';
import { authorizationOf } from './connectionAuth.ts';

/** What the gateway tells of a client's request: the request, and the context holding its Node request. */
interface Caller {
  request: Request;
  context: unknown;
}

/** The gateway's `propagateHeaders.fromClientToSubgraphs`, believing X-Forwarded-For from `proxies` only. */
export function callerHeaders(proxies: BlockList) {
  return ({ request, context }: Caller): Record<string, string | undefined> => ({
    authorization: authorizationOf(request, context),
    'x-forwarded-for': clientAddress(
      (context as { req?: { socket?: { remoteAddress?: string } } } | undefined)?.req?.socket?.remoteAddress,
      request.headers.get('x-forwarded-for'),
      proxies,
    ),
  });
}
