// How the router reaches a subgraph for a subscription: a graphql-transport-ws WebSocket (Strawberry's own
// protocol; it multiplexes every subscription of one caller on one connection), the caller's token in
// `connection_init`. Queries and mutations stay on HTTP.
//
// The gateway's stock `ws` transport reconnects a lost connection and subscribes again without telling the
// client, which would hide the events missed meanwhile; this one never retries: a lost connection (a subgraph
// restarting, crashing) ends each of its subscriptions with SUBSCRIPTION_INTERRUPTED, and the client subscribes
// again (a new stockChanged starts with the products as they are now).
import type { Transport } from '@graphql-mesh/transport-common';
import { makeAsyncDisposable } from '@graphql-mesh/utils';
import { buildGraphQLWSExecutor } from '@graphql-tools/executor-graphql-ws';
import { getOperationASTFromRequest, type ExecutionRequest, type ExecutionResult } from '@graphql-tools/utils';
import { GraphQLError } from 'graphql';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';

import { authorizationOf } from './connectionAuth.ts';

/** The transport kind the gateway's `transportEntries` name for subscriptions. */
export const SUBGRAPH_SOCKETS = 'subgraph-socket';
/** Pings on the router's WebSockets to subgraphs, as on clients' (graphql-ws). */
export const SUBGRAPH_KEEP_ALIVE_MS = 12_000;

export interface SubgraphSocketOptions {
  /** Milliseconds between pings on an open connection (graphql-ws keep-alive). */
  keepAliveMs: number;
  /** The Authorization to pass on for an operation's caller. */
  authorization(request: ExecutionRequest): string | undefined;
}

/** Whether a request to a subgraph is a subscription (which stays open: no upstream timeout applies). */
export function isSubscription(request: ExecutionRequest): boolean {
  return (request.operationType ?? getOperationASTFromRequest(request).operation) === 'subscription';
}

/**
 * The gateway's `upstreamTimeout`: a hung subgraph gets an answer (an error for its part) after `timeoutMs`
 * instead of holding the client forever; a subscription is meant to stay open (its events' entity fetches,
 * queries, still have the timeout).
 */
export function upstreamTimeout(timeoutMs: number) {
  return ({ executionRequest }: { executionRequest?: ExecutionRequest }): number | undefined =>
    executionRequest && isSubscription(executionRequest) ? undefined : timeoutMs;
}

export function interruption(): GraphQLError {
  return new GraphQLError('The connection to a subgraph was lost; events may have been missed: subscribe again', {
    extensions: { code: 'SUBSCRIPTION_INTERRUPTED' },
  });
}

/** Errors a subgraph sent for an operation (a list) pass through; anything else is a lost connection. */
function asResult(error: unknown): ExecutionResult {
  if (Array.isArray(error) && error.every((item) => item && typeof item.message === 'string')) {
    return { errors: error.map((item) => new GraphQLError(item.message, { extensions: item.extensions })) };
  }
  return { errors: [interruption()] };
}

/**
 * `source` with a lost connection turned into a last result with SUBSCRIPTION_INTERRUPTED. Not an async
 * generator: a generator's `return` waits for its pending `next`, which for an idle subscription never comes,
 * so a client going away would leave the subgraph's subscription open; this one passes `return` on at once.
 */
export function coded(source: AsyncIterable<ExecutionResult>): AsyncIterableIterator<ExecutionResult> {
  const iterator = source[Symbol.asyncIterator]();
  let ended = false;
  const done = { done: true, value: undefined } as const;
  return {
    [Symbol.asyncIterator]() {
      return this;
    },
    async next() {
      if (ended) return done;
      try {
        const next = await iterator.next();
        if (next.done) ended = true;
        return next;
      } catch (error) {
        ended = true;
        return { done: false, value: asResult(error) };
      }
    },
    async return() {
      ended = true;
      await iterator.return?.();
      return done;
    },
  };
}

/**
 * `ws` without permessage-deflate, which it offers by default (and Strawberry's uvicorn accepts): a subgraph's
 * messages are small JSON on the local network, and inflating each one was a third of the router's CPU in a
 * fan-out, every message a trip through zlib's thread pool, a few at a time, which also delayed the events.
 */
export class UncompressedWebSocket extends WebSocket {
  constructor(address: string | URL, protocols?: string | string[]) {
    super(address, protocols, { perMessageDeflate: false });
  }
}

function socketUrl(location: string): string {
  return location.replace(/^http(s?):\/\//, 'ws$1://');
}

/** The gateway transport of kind SUBGRAPH_SOCKETS: one lazy connection per subgraph and caller token. */
export function subgraphSockets(options: SubgraphSocketOptions): Transport {
  return {
    getSubgraphExecutor({ transportEntry }) {
      if (!transportEntry.location) throw new Error(`subgraph ${transportEntry.subgraph} has no location`);
      const url = socketUrl(transportEntry.location);
      const connections = new Map<string, { client: Client; execute: ReturnType<typeof buildGraphQLWSExecutor> }>();
      const connectionFor = (authorization: string) => {
        let connection = connections.get(authorization);
        if (!connection) {
          const client = createClient({
            url,
            webSocketImpl: UncompressedWebSocket,
            lazy: true,
            lazyCloseTimeout: 3_000,
            retryAttempts: 0,
            keepAlive: options.keepAliveMs,
            connectionParams: authorization ? { Authorization: authorization } : {},
            on: {
              closed: () => {
                if (connections.get(authorization)?.client === client) connections.delete(authorization);
              },
            },
          });
          connection = { client, execute: buildGraphQLWSExecutor(client) };
          connections.set(authorization, connection);
        }
        return connection;
      };
      const execute = (request: ExecutionRequest) => {
        const result = connectionFor(options.authorization(request) ?? '').execute(request);
        if (result && typeof result === 'object' && Symbol.asyncIterator in result) {
          return coded(result as AsyncIterable<ExecutionResult>);
        }
        return Promise.resolve(result).catch(asResult);
      };
      return makeAsyncDisposable(execute, async () => {
        await Promise.all([...connections.values()].map((connection) => connection.client.dispose()));
        connections.clear();
      });
    },
  };
}

/**
 * The gateway's `transports`: SUBGRAPH_SOCKETS are these sockets, each operation's caller's token from its
 * request or its own WebSocket's `connection_init` (src/connectionAuth.ts); any other kind (http) is the
 * gateway's own package for it, as without this option.
 */
export function subgraphTransports(kind: string): Transport | Promise<{ default: Transport }> {
  return kind === SUBGRAPH_SOCKETS
    ? subgraphSockets({
        keepAliveMs: SUBGRAPH_KEEP_ALIVE_MS,
        authorization: (request) => authorizationOf(request.context?.request, request.context),
      })
    : import(`@graphql-mesh/transport-${kind}`);
}
