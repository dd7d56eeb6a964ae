// The error contract (docs/api.md, Conventions): every refused request gets a 4xx status and every error an
// `extensions.code`, whatever the client's Accept header.
import type { GatewayPlugin } from '@graphql-hive/gateway';
import {
  getOperationAST,
  GraphQLError,
  isNonNullType,
  Kind,
  type DocumentNode,
  type GraphQLSchema,
} from 'graphql';

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

/**
 * What the gateway may put in an error's extensions that is the inside of the system, not the client's business:
 * its upstream timeout names the subgraph's URL and the document sent to it (`request`), as debugging does with
 * the subgraph's answer (`response`).
 */
const INTERNAL_EXTENSIONS = ['request', 'response'];

/** Keeps a 4xx status for Yoga's own refusals, gives every error in an answer a code and drops internals. */
function fix(error: GraphQLError): void {
  const extensions = error.extensions as Record<string, any> | undefined;
  if (!extensions || Object.isFrozen(extensions)) return;
  for (const key of INTERNAL_EXTENSIONS) delete extensions[key];
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

/**
 * The answer to an operation whose root fields all failed (a subgraph down), as GraphQL answers it: a nullable
 * root field that fails is null beside its error, so `{ me { id } }` with purchase down is `{"data":{"me":null}}`
 * and its error, a 200. Hive Router's query planner drops `data` altogether when every root field failed (with
 * two root fields it keeps the other's), and the gateway then answers 500. A non-null root field that fails
 * makes `data` null (`{"data":null}` and its error, a 200 too).
 */
export function useNullableRootsOnError(): GatewayPlugin {
  return {
    onExecute({ args }) {
      return {
        onExecuteDone({ result, setResult }) {
          if (!result || Symbol.asyncIterator in result) return;
          const { data, errors } = result;
          if (data != null || !errors?.length || !errors.every((error) => error.path?.length)) return;
          const nulled = nulledRoots(args.schema, args.document, args.operationName ?? undefined);
          if (nulled !== undefined) setResult({ ...result, data: nulled });
        },
      };
    },
  };
}

/** Every root field of the operation as null; null when one of them may not be null; undefined when the
 * operation is not found or a root selection is not a plain field. */
export function nulledRoots(
  schema: GraphQLSchema,
  document: DocumentNode,
  operationName: string | undefined,
): Record<string, null> | null | undefined {
  const operation = getOperationAST(document, operationName);
  const root = operation && schema.getRootType(operation.operation);
  if (!operation || !root) return undefined;
  const fields = root.getFields();
  const nulled: Record<string, null> = {};
  for (const selection of operation.selectionSet.selections) {
    if (selection.kind !== Kind.FIELD) return undefined;
    const field = fields[selection.name.value];
    if (!field) return undefined;
    if (isNonNullType(field.type)) return null;
    nulled[selection.alias?.value ?? selection.name.value] = null;
  }
  return nulled;
}
