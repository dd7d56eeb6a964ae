// The caller's token on a WebSocket: browsers cannot set headers on one, so a graphql-transport-ws client sends
// it in `connection_init`'s payload (`{"Authorization": "Bearer <token>"}`); the router reads it there, checks it
// with the same `Tokens` as a request's header, and passes it on to the subgraphs.
import type { GatewayPlugin } from '@graphql-hive/gateway';
import { GraphQLError } from 'graphql';

import type { Check, Tokens } from './tokenCheck.ts';

/** What an operation's context holds of its transport: the WebSocket's `connection_init` payload, if any. */
interface TransportContext {
  connectionParams?: Record<string, unknown>;
  request?: Request;
}

/** The Authorization the caller sent: its request's header, else its WebSocket's `connection_init` payload. */
export function authorizationOf(request: Request | undefined, context: unknown): string | undefined {
  const params = (context as TransportContext | undefined)?.connectionParams;
  const fromParams = params?.Authorization ?? params?.authorization;
  if (typeof fromParams === 'string' && fromParams) return fromParams;
  return request?.headers.get('authorization') ?? undefined;
}

/**
 * An operation sent on a WebSocket whose `connection_init` token is bad (malformed, expired, forged) is refused
 * with UNAUTHENTICATED, as a request with that header is (`useTokenCheck`, which WebSocket operations bypass).
 */
export function useConnectionTokenCheck(tokens: Tokens): GatewayPlugin {
  return {
    // Not async: an HTTP request (no connection_init) passes without a promise of its own.
    onParams({ context, setResult }) {
      const params = (context as TransportContext | undefined)?.connectionParams;
      if (!params) return;
      const refuse = ({ problem }: Check) => {
        if (problem) setResult({ errors: [new GraphQLError(problem, { extensions: { code: 'UNAUTHENTICATED' } })] });
      };
      const checked = tokens.check(authorizationOf(undefined, context) ?? null);
      return checked instanceof Promise ? checked.then(refuse) : refuse(checked);
    },
  };
}
