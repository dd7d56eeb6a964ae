// Limits of live subscriptions at the router, each refusal a coded error: subscriptions per WebSocket
// connection, connections (WebSockets and SSE streams) per client address, the size of a WebSocket message,
// and the events one subscriber may leave unread before it is dropped (SUBSCRIBER_TOO_SLOW) instead of
// buffered without bound. The depth, alias and token limits of queries apply to subscriptions as they are
// (the same plugins validate every operation), and so do trusted documents.
//
// Keep-alive: the gateway's WebSocket server (graphql-ws over `ws`) pings every connection every 12 s and drops
// one that does not answer; an SSE stream gets a keep-alive comment every 12 s (GraphQL Yoga).
import type { IncomingMessage } from 'node:http';

import type { GatewayPlugin } from '@graphql-hive/gateway';
import { FixedBuffer, Repeater } from '@repeaterjs/repeater';
import { GraphQLError, type ExecutionResult } from 'graphql';
import { WebSocketServer, type WebSocket } from 'ws';

export interface LiveLimits {
  /** Subscriptions open at once in all (each holds tens of KB of the router's heap). */
  subscriptions: number;
  /** Subscriptions open at once on one WebSocket connection. */
  subscriptionsPerConnection: number;
  /** WebSocket connections and SSE subscriptions open at once from one client address. */
  connectionsPerAddress: number;
  /** The largest WebSocket message a client may send, in bytes (larger: the connection is closed, 1009). */
  maxMessageBytes: number;
  /** Events one subscriber may leave unread; past that it is ended with SUBSCRIBER_TOO_SLOW. */
  backlog: number;
}

/** The close code of a WebSocket refused for its address (graphql-ws clients do not retry it). */
export const TOO_MANY_CONNECTIONS_CLOSE = 4429;

function refusal(message: string, code: string, status: number): GraphQLError {
  return new GraphQLError(message, { extensions: { code, http: { status, spec: false } } });
}

/** Counts of open things by key, for one limit. */
export class Counts<K> {
  private readonly counts = new Map<K, number>();

  constructor(private readonly limit: number) {}

  /** Count one more for `key` when under the limit; false (and nothing counted) when at it. */
  take(key: K): boolean {
    const count = this.counts.get(key) ?? 0;
    if (count >= this.limit) return false;
    this.counts.set(key, count + 1);
    return true;
  }

  release(key: K): void {
    const count = (this.counts.get(key) ?? 1) - 1;
    if (count > 0) this.counts.set(key, count);
    else this.counts.delete(key);
  }

  open(key: K): number {
    return this.counts.get(key) ?? 0;
  }
}

/**
 * `source` read ahead into a buffer of `backlog` results: a subscriber slower than its events gets
 * SUBSCRIBER_TOO_SLOW and its subscription ends, so the router holds at most `backlog` events for it.
 */
export function bounded(
  source: AsyncIterable<ExecutionResult>,
  backlog: number,
): AsyncIterableIterator<ExecutionResult> {
  const buffer = new FixedBuffer(backlog);
  return new Repeater<ExecutionResult>(async (push, stop) => {
    const iterator = source[Symbol.asyncIterator]();
    // Each wait for the source's next result also ends when the subscriber stops. Not a Promise.race against
    // `stop` per event: each race left a reaction on `stop` until the subscription's end, per event.
    let stopped = false;
    let wake = () => {};
    void stop.then(() => {
      stopped = true;
      wake();
    });
    const nextOrStop = () =>
      new Promise<IteratorResult<ExecutionResult> | undefined>((resolve, reject) => {
        wake = () => resolve(undefined);
        iterator.next().then(resolve, reject);
      });
    try {
      while (!stopped) {
        const next = await nextOrStop();
        if (next === undefined || next.done) break;
        if (buffer.full) {
          // Dropped: the source stops now (nothing more is read for it), and the subscriber gets the code
          // after the events already waiting for it.
          void push({
            errors: [
              new GraphQLError(`More than ${backlog} events waited for this subscriber; subscribe again`, {
                extensions: { code: 'SUBSCRIBER_TOO_SLOW' },
              }),
            ],
          });
          break;
        }
        void push(next.value);
      }
    } finally {
      void iterator.return?.();
      stop();
    }
  }, buffer);
}

/** The client address of an operation's connection (Node's socket; a proxy in front is one address). */
function addressOf(context: { req?: IncomingMessage }): string {
  return context.req?.socket?.remoteAddress ?? 'unknown';
}

/**
 * WebSocket connections per client address and the WebSocket message size limit, on the gateway's own
 * WebSocket server (which its CLI creates from `ws` without these options): through `shouldHandle`, the method
 * `ws` documents as the one to override, every `ws` server of this process gets them at its first handshake.
 * A connection over the limit is accepted, then closed at once with 4429 and TOO_MANY_CONNECTIONS as its
 * reason, which a browser can read (a refused handshake shows only as a failed connection).
 *
 * Answers the open connections by client address, a count SSE subscriptions share (give it to `useLiveLimits`).
 */
export function limitWebSockets(limits: LiveLimits): Counts<string> {
  const connections = new Counts<string>(limits.connectionsPerAddress);
  const configured = new WeakSet<WebSocketServer>();
  const original = WebSocketServer.prototype.shouldHandle;
  WebSocketServer.prototype.shouldHandle = function shouldHandle(this: WebSocketServer, request: IncomingMessage) {
    if (!configured.has(this)) {
      configured.add(this);
      (this.options as { maxPayload?: number }).maxPayload = limits.maxMessageBytes;
      this.on('connection', (socket: WebSocket, upgrade: IncomingMessage) => {
        const address = upgrade.socket.remoteAddress ?? 'unknown';
        if (!connections.take(address)) {
          socket.close(TOO_MANY_CONNECTIONS_CLOSE, `TOO_MANY_CONNECTIONS: at most ${limits.connectionsPerAddress} per address`);
          return;
        }
        socket.once('close', () => connections.release(address));
      });
    }
    return original.call(this, request);
  };
  return connections;
}

/** One count to take for an operation, the refusal when it is full. */
interface Hold {
  take(): boolean;
  release(): void;
  refusal(): GraphQLError;
}

function hold<K>(counts: Counts<K>, key: K, refused: () => GraphQLError): Hold {
  return { take: () => counts.take(key), release: () => counts.release(key), refusal: refused };
}

/**
 * The per-operation limits: subscriptions in all and per WebSocket connection (TOO_MANY_SUBSCRIPTIONS), SSE
 * subscriptions per address counted with its WebSockets (429 TOO_MANY_CONNECTIONS), and the bounded backlog of
 * every subscriber, whatever its transport.
 */
export function useLiveLimits(limits: LiveLimits, connections: Counts<string>): GatewayPlugin {
  const perSocket = new Counts<object>(limits.subscriptionsPerConnection);
  const all = new Counts<'all'>(limits.subscriptions);
  const tooMany = (message: string) => refusal(message, 'TOO_MANY_SUBSCRIPTIONS', 429);
  return {
    onSubscribe({ args, setResultAndStopExecution }) {
      const context = args.contextValue as { socket?: object; req?: IncomingMessage };
      const holds = [
        hold(all, 'all', () => tooMany('This router holds as many subscriptions as it can; try again later')),
        context.socket
          ? hold(perSocket, context.socket, () =>
              tooMany(`At most ${limits.subscriptionsPerConnection} subscriptions per connection`),
            )
          : hold(connections, addressOf(context), () =>
              refusal(`At most ${limits.connectionsPerAddress} connections per address`, 'TOO_MANY_CONNECTIONS', 429),
            ),
      ];
      const taken: Hold[] = [];
      for (const each of holds) {
        if (!each.take()) {
          taken.forEach((held) => held.release());
          setResultAndStopExecution({ errors: [each.refusal()] });
          return;
        }
        taken.push(each);
      }
      let released = false;
      const release = () => {
        if (!released) {
          released = true;
          taken.forEach((held) => held.release());
        }
      };
      return {
        onSubscribeResult({ result, setResult }) {
          if (!(Symbol.asyncIterator in Object(result))) {
            release();
            return;
          }
          setResult(bounded(result as AsyncIterable<ExecutionResult>, limits.backlog));
          return { onEnd: release };
        },
      };
    },
  };
}
