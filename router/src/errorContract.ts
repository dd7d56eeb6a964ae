// The error contract (docs/api.md, Conventions): every refused request gets a 4xx status and every error an
// `extensions.code`, whatever the client's Accept header.
import type { GatewayPlugin } from '@graphql-hive/gateway';
import { GraphQLError } from 'graphql';

/** A GraphQL error that answers the whole request with `status` and carries `code`. */
export function requestError(
  message: string,
  status: number,
  code: string,
  headers?: Record<string, string>,
): GraphQLError {
  // spec: false -> the status is used whatever media type the client accepts.
  return new GraphQLError(message, { extensions: { code, http: { status, spec: false, headers } } });
}

/** Keeps a 4xx status for Yoga's own refusals and gives every error in an answer a code. */
function fix(error: GraphQLError): void {
  const extensions = error.extensions as Record<string, any> | undefined;
  if (!extensions || Object.isFrozen(extensions)) return;
  const http = extensions.http as { status?: number; spec?: boolean } | undefined;
  const status = http?.status;
  // Yoga marks its own 4xx errors (bad JSON, validation) as "spec" statuses, which it drops to 200 for
  // `Accept: application/json`; the contract promises a 4xx for them, so they are kept.
  if (http && status !== undefined && status >= 400 && status < 500) http.spec = false;
  if (!extensions.code) {
    extensions.code =
      status === 413 ? 'PAYLOAD_TOO_LARGE'
      : status !== undefined && status >= 400 && status < 500 ? 'BAD_REQUEST'
      : 'INTERNAL_SERVER_ERROR';
  }
}

/** The plugin that holds the router's answers to the error contract. */
export function useErrorContract(): GatewayPlugin {
  return {
    onRequestParse({ request, requestParser }) {
      // Yoga answers an unknown content type with a bare 415; give it a GraphQL error body.
      if (!requestParser) {
        throw requestError(
          `Unsupported content type "${request.headers.get('content-type') ?? ''}"; send application/json`,
          415,
          'BAD_REQUEST',
        );
      }
    },
    onResultProcess({ result }) {
      if (!result || typeof result !== 'object' || Symbol.asyncIterator in result) return;
      for (const single of Array.isArray(result) ? result : [result]) {
        for (const error of single?.errors ?? []) {
          if (error instanceof GraphQLError) fix(error);
        }
      }
    },
  };
}

/** An operation's context, when it came on a WebSocket (the gateway puts the `connection_init` payload there). */
function onSocket(context: unknown): boolean {
  return typeof context === 'object' && context !== null && 'connectionParams' in context;
}

/**
 * A refusal thrown before an operation sent on a WebSocket runs (an untrusted document, a missing hash) is that
 * operation's coded error, as it is a request's over HTTP: the gateway's WebSocket server would otherwise close
 * the whole connection (4500), ending every other subscription on it.
 */
export function useSocketRefusals(): GatewayPlugin {
  return {
    onYogaInit({ yoga }) {
      const run = yoga.getResultForParams;
      yoga.getResultForParams = (args, context) => {
        if (!onSocket(context)) return run(args, context);
        const refused = (error: unknown) => ({
          errors: [
            error instanceof GraphQLError
              ? error
              : new GraphQLError('Internal error', { extensions: { code: 'INTERNAL_SERVER_ERROR' } }),
          ],
        });
        try {
          return Promise.resolve(run(args, context)).catch(refused);
        } catch (error) {
          return refused(error);
        }
      };
    },
  };
}
