// Live subscriptions: one graphql-ws client per access token, on the router's /graphql over WebSocket (the token
// in `connection_init`, where a browser can put it), each operation sent by its persisted-document hash as
// `request` sends queries. The client reconnects after a lost connection (a router restart) and subscribes
// again; while it is away the pages say so, and once it is back they reload what events may have changed
// meanwhile. Access tokens are short-lived: a subscription that its token's expiry ends (UNAUTHENTICATED) starts
// again with a renewed token on a new connection; when the session itself has ended, the renewal is refused and
// the page goes to the login page with the reason.
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { createClient, type Client, type FormattedExecutionResult } from 'graphql-ws';
import { useEffect, useRef, useState } from 'react';

import { ApiError, ENDPOINT } from './api';
import { credentials } from './credentials';
import { useSession } from './session';

/** What a page shows of its live updates. */
export type LiveState = 'connecting' | 'live' | 'reconnecting';

/** Codes that end a subscription whose events may have been missed: subscribe again, and reload. */
const RESUMABLE = new Set(['SUBSCRIPTION_INTERRUPTED', 'SUBSCRIBER_TOO_SLOW', 'SERVICE_UNAVAILABLE', 'NETWORK']);
const RETRY_MS = [250, 500, 1000, 2000, 4000];

interface Connection {
  client: Client;
  /** Called each time the socket (re)connects. */
  connected: Set<() => void>;
  /** Called each time the socket closes. */
  closed: Set<() => void>;
  /** Whether the socket is open and acknowledged now. */
  open: boolean;
}

const connections = new Map<string, Connection>();

function retryDelay(retries: number): number {
  return RETRY_MS[Math.min(retries, RETRY_MS.length - 1)]!;
}

function socketUrl(): string {
  const { protocol, host } = window.location;
  return `${protocol === 'https:' ? 'wss' : 'ws'}://${host}${ENDPOINT}`;
}

/** The client of `token` (anonymous when null), made on first use; it closes when nothing is subscribed (so the
 * connection of a replaced token goes once its subscriptions have moved to the new one). */
function connectionOf(token: string | null): Connection {
  const key = token ?? '';
  let connection = connections.get(key);
  if (!connection) {
    const connected = new Set<() => void>();
    const closed = new Set<() => void>();
    const client = createClient({
      url: socketUrl(),
      connectionParams: token ? { Authorization: `Bearer ${token}` } : {},
      lazy: true,
      lazyCloseTimeout: 2_000,
      keepAlive: 10_000,
      retryAttempts: Infinity,
      shouldRetry: () => true, // a router restart: keep trying, the page says it is reconnecting
      retryWait: (retries) => new Promise((resolve) => window.setTimeout(resolve, retryDelay(retries))),
      on: {
        connected: () => {
          opened.open = true;
          connected.forEach((listener) => listener());
        },
        closed: () => {
          opened.open = false;
          closed.forEach((listener) => listener());
        },
      },
    });
    const opened: Connection = { client, connected, closed, open: false };
    connection = opened;
    connections.set(key, connection);
  }
  return connection;
}

function persistedHash(document: TypedDocumentNode<unknown, unknown>): string {
  const hash = (document as { __meta__?: { hash?: unknown } }).__meta__?.hash;
  if (typeof hash !== 'string') throw new Error('document without a persisted hash: run codegen');
  return hash;
}

function nameOf(document: TypedDocumentNode<unknown, unknown>): string | undefined {
  const operation = document.definitions.find((definition) => definition.kind === 'OperationDefinition');
  return operation?.kind === 'OperationDefinition' ? operation.name?.value : undefined;
}

function apiError(result: FormattedExecutionResult<unknown, unknown>): ApiError | null {
  const first = result.errors?.[0];
  if (!first) return null;
  const code = typeof first.extensions?.code === 'string' ? first.extensions.code : 'INTERNAL_SERVER_ERROR';
  return new ApiError(first.message, code, (first.extensions ?? {}) as Record<string, unknown>);
}

/**
 * Subscribes to `document` with `variables` (compared as JSON) while mounted, calling `onData` with each event.
 * A subscription ended because events may have been missed is started again after a short wait, and so is one
 * whose connection was lost; `onResume` is called then (reload what the events would have changed). A refused
 * token is renewed and the subscription started again; a session that has ended logs the user out, as a refused
 * query does. The state to show: connecting, live, reconnecting.
 */
export function useSubscription<TResult, TVariables>(
  document: TypedDocumentNode<TResult, TVariables>,
  variables: TVariables,
  onData: (data: TResult) => void,
  options: { skip?: boolean; onResume?: () => void } = {},
): { state: LiveState; error: ApiError | null } {
  const { user } = useSession();
  const [state, setState] = useState<LiveState>('connecting');
  const [error, setError] = useState<ApiError | null>(null);
  const handlers = useRef({ onData, onResume: options.onResume });
  handlers.current = { onData, onResume: options.onResume };
  const key = JSON.stringify(variables);

  useEffect(() => {
    if (options.skip) return;
    let connection: Connection | null = null;
    let token: string | null = null;
    let stopped = false;
    let retries = 0;
    let everLive = false; // live once: a later connection may have missed events
    let resumed = false; // started again after an error: events may have been missed
    let unsubscribe: (() => void) | null = null;
    let timer: number | undefined;

    const resume = () => {
      resumed = true;
      setState('reconnecting');
      unsubscribe?.();
      unsubscribe = null;
      window.clearTimeout(timer);
      timer = window.setTimeout(() => void start(), retryDelay(retries++));
    };
    const detach = () => {
      connection?.connected.delete(onConnected);
      connection?.closed.delete(onClosed);
    };
    // Live once the socket is acknowledged with the subscription on it (a subscription such as purchases sends
    // nothing until something happens); back after a lost connection, events may have been missed: reload.
    const onConnected = () => {
      if (stopped) return;
      const back = everLive || resumed;
      everLive = true;
      resumed = false;
      setState('live');
      if (back) handlers.current.onResume?.();
    };
    const onClosed = () => {
      if (!stopped && everLive) setState('reconnecting');
    };

    async function start() {
      if (stopped) return;
      let current: string | null;
      try {
        current = await credentials.liveToken();
      } catch {
        if (!stopped) resume(); // the session ended (the page is going to log in) or the network failed
        return;
      }
      if (stopped) return;
      if (!connection || current !== token) {
        detach();
        token = current;
        connection = connectionOf(current);
        connection.connected.add(onConnected);
        connection.closed.add(onClosed);
      }
      const used = current;
      const payload = {
        query: '', // sent by hash: the router knows the document (trusted documents)
        operationName: nameOf(document as TypedDocumentNode<unknown, unknown>),
        variables: JSON.parse(key) as Record<string, unknown>,
        extensions: { persistedQuery: { version: 1, sha256Hash: persistedHash(document as TypedDocumentNode<unknown, unknown>) } },
      };
      let first = true;
      unsubscribe = connection.client.subscribe<TResult>(payload, {
        next: (result) => {
          const failure = apiError(result);
          if (failure) {
            if (failure.code === 'UNAUTHENTICATED' && used) {
              // Its token expired or its session ended: renewed, it starts again; refused, the session is over.
              first = true; // the server ends it: no `complete` restart too
              void credentials
                .renewed(used)
                .catch(() => undefined)
                .then(() => {
                  if (!stopped) resume();
                });
            } else if (RESUMABLE.has(failure.code)) {
              resume();
            } else {
              setError(failure);
            }
            return;
          }
          first = false;
          everLive = true;
          retries = 0;
          setState('live');
          setError(null);
          if (result.data) handlers.current.onData(result.data as TResult);
        },
        error: () => {
          if (!stopped) resume();
        },
        complete: () => {
          if (!stopped && !first) resume(); // the router ended it (after a coded error): start again
        },
      });
      if (connection.open) onConnected(); // on a socket already open: no `connected` to wait for
    }

    setState('connecting');
    void start();
    return () => {
      stopped = true;
      window.clearTimeout(timer);
      detach();
      unsubscribe?.();
    };
  }, [document, key, user?.id, options.skip]);

  return { state, error };
}

/** Says whether a page's live updates are on, announced to screen readers when that changes. */
export function LiveStatus({ state }: { state: LiveState }) {
  const text =
    state === 'live' ? 'Live: updates appear as they happen'
    : state === 'reconnecting' ? 'Reconnecting… updates are paused'
    : 'Connecting…';
  return (
    <p role="status" className={`live ${state}`} data-live={state}>
      {text}
    </p>
  );
}
