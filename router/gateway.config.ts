// Hive Gateway configuration for the Service Tree router.
// Loaded by `hive-gateway supergraph` from the current directory (run it from router/,
// e.g. `npm start`) or explicitly with `hive-gateway supergraph -c router/gateway.config.ts`.
// Everything is configured from the environment; see README.md.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createHmac, timingSafeEqual } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { blockFieldSuggestionsPlugin } from '@escape.tech/graphql-armor-block-field-suggestions';
import { maxAliasesPlugin } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthPlugin } from '@escape.tech/graphql-armor-max-depth';
import { maxTokensPlugin } from '@escape.tech/graphql-armor-max-tokens';
import {
  ConsoleLogWriter,
  createCounter,
  createHistogram,
  defineConfig,
  JSONLogWriter,
  Logger,
  type GatewayPlugin,
} from '@graphql-hive/gateway';
import { openTelemetrySetup } from '@graphql-hive/gateway/opentelemetry/setup';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { DocumentNode, getOperationAST, GraphQLError, Kind, parse } from 'graphql';
import { register } from 'prom-client';

const env = process.env;
const routerDir = path.dirname(fileURLToPath(import.meta.url));

/** Limits from the API contract (API.md, Conventions). */
const MAX_DEPTH = 15;
const MAX_ALIASES = 100;
const MAX_TOKENS = 1_000;
const MAX_BODY_BYTES = 1_000_000; // 1 MB
const MAX_DRAINED_BYTES = 16_000_000; // refused bodies up to this size are read to the end first

const supergraphPath = env.ROUTER_SUPERGRAPH
  ? path.resolve(env.ROUTER_SUPERGRAPH)
  : path.resolve(routerDir, '../schema/supergraph.graphql');
// Read once at start-up for what this file derives from it (subgraph names, root fields).
const supergraphDocument = parse(readFileSync(supergraphPath, 'utf8'));

/**
 * The names of the subgraphs the supergraph joins (its `join__Graph` enum), so that a new subgraph
 * needs no change here: `<NAME>_URL` overrides the routing_url of subgraph `<name>`.
 */
function subgraphNames(document: DocumentNode): string[] {
  const graphs = document.definitions.find(
    (definition) => definition.kind === Kind.ENUM_TYPE_DEFINITION && definition.name.value === 'join__Graph',
  );
  if (graphs?.kind !== Kind.ENUM_TYPE_DEFINITION) return [];
  return (graphs.values ?? []).map((value) => {
    const joinGraph = value.directives?.find((directive) => directive.name.value === 'join__graph');
    const name = joinGraph?.arguments?.find((argument) => argument.name.value === 'name')?.value;
    return name?.kind === Kind.STRING ? name.value : value.name.value.toLowerCase();
  });
}

/** The names of the supergraph's root fields (Query and Mutation): the bounded set metrics label by. */
function rootFields(document: DocumentNode): Set<string> {
  const names = new Set<string>();
  for (const definition of document.definitions) {
    if (
      (definition.kind === Kind.OBJECT_TYPE_DEFINITION || definition.kind === Kind.OBJECT_TYPE_EXTENSION) &&
      (definition.name.value === 'Query' || definition.name.value === 'Mutation')
    ) {
      for (const field of definition.fields ?? []) names.add(field.name.value);
    }
  }
  return names;
}

function envInt(name: string, fallback: number, max = 65535): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0 || value > max) {
    throw new Error(`${name} must be a whole number from 0 to ${max}, got "${raw}"`);
  }
  return value;
}

function envFlag(name: string, fallback: boolean): boolean {
  const raw = env[name]?.trim().toLowerCase();
  if (raw === undefined || raw === '') return fallback;
  return !['0', 'false', 'no', 'off'].includes(raw);
}

function envUrl(name: string): string | undefined {
  const raw = env[name]?.trim();
  if (!raw) return undefined;
  try {
    return new URL(raw).toString();
  } catch {
    throw new Error(`${name} must be an absolute URL, got "${raw}"`);
  }
}

// Per-subgraph transport overrides: merged over what the supergraph's @join__graph says.
const transportEntries: Record<string, { location?: string; options?: Record<string, unknown> }> = {};
for (const subgraph of subgraphNames(supergraphDocument)) {
  const location = envUrl(`${subgraph.toUpperCase()}_URL`);
  if (location) transportEntries[subgraph] = { location };
}
// Identical in-flight subgraph queries are deduplicated by default (the key includes the
// forwarded headers, so users never share a response); benchmarks switch it off.
if (!envFlag('ROUTER_DEDUPE', true)) {
  transportEntries['*.http'] = { options: { deduplicateInflightRequests: false } };
}

function requestError(
  message: string,
  status: number,
  code: string,
  headers?: Record<string, string>,
): GraphQLError {
  // spec: false -> the status is used whatever media type the client accepts.
  return new GraphQLError(message, { extensions: { code, http: { status, spec: false, headers } } });
}

/**
 * Refuses request bodies over `limit` bytes with 413, by Content-Length when present and
 * by counting while reading otherwise (chunked uploads). Hive Gateway does not expose
 * Yoga's `maxRequestBodySize`, whose 25 MB default still applies behind this.
 *
 * A refused body up to `drainLimit` bytes is read to its end and dropped before the answer: a client
 * that is still sending then gets its 413 instead of a reset connection, and may reuse the connection.
 * A larger one is not read; the answer closes the connection.
 */
function useRequestBodyLimit(limit: number, drainLimit: number): GatewayPlugin {
  const tooLarge = (drained: boolean) =>
    requestError(
      `Request body is larger than the limit of ${limit} bytes`,
      413,
      'PAYLOAD_TOO_LARGE',
      drained ? undefined : { connection: 'close' },
    );
  /** Reads and drops the rest of a body; true when it ended within `drainLimit` bytes in all. */
  const drain = async (reader: ReadableStreamDefaultReader<Uint8Array>, seen: number) => {
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
  };
  return {
    async onRequestParse({ request, requestParser, setRequestParser, fetchAPI }) {
      const declared = request.headers.get('content-length');
      if (declared !== null) {
        if (!/^\d+$/.test(declared)) throw requestError('Invalid Content-Length header', 400, 'BAD_REQUEST');
        if (Number(declared) > limit) {
          const small = Number(declared) <= drainLimit && request.body !== null;
          throw tooLarge(small ? await drain(request.body!.getReader(), 0) : false);
        }
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
          if (size > limit) throw tooLarge(await drain(reader, size));
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

// Metrics: every series is labelled by the operation's one root field (as the subgraphs label theirs), else
// "other", never by the client's operation name: the label set stays bounded by the schema.
const KNOWN_ROOT_FIELDS = rootFields(supergraphDocument);

function operationLabel(document: DocumentNode | undefined, operationName: string | undefined): string {
  // An unnamed operation arrives here named "Anonymous": then the document's only operation is the one.
  const operation = document ? (getOperationAST(document, operationName) ?? getOperationAST(document)) : null;
  if (!operation) return 'other';
  const names = new Set(
    operation.selectionSet.selections
      .filter((selection) => selection.kind === Kind.FIELD && selection.name.value !== '__typename')
      .map((selection) => (selection.kind === Kind.FIELD ? selection.name.value : '')),
  );
  const [name] = [...names];
  return names.size === 1 && KNOWN_ROOT_FIELDS.has(name) ? name : 'other';
}

const prometheusMetrics = {
  graphql_envelop_request: createCounter({
    registry: register,
    counter: {
      name: 'service_tree_router_requests_total',
      help: 'GraphQL operations the router executed, by operation (its root field, else "other")',
      labelNames: ['operation'],
    },
    fillLabelsFn: (params) => ({ operation: operationLabel(params.document, params.operationName) }),
  }),
  graphql_envelop_request_duration: createHistogram({
    registry: register,
    histogram: {
      name: 'service_tree_router_request_duration_seconds',
      help: 'Time the router spent executing an operation (planning and subgraph calls), by operation',
      labelNames: ['operation'],
      buckets: [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    },
    fillLabelsFn: (params) => ({ operation: operationLabel(params.document, params.operationName) }),
  }),
  graphql_envelop_error_result: createCounter({
    registry: register,
    counter: {
      name: 'service_tree_router_errors_total',
      help: 'Errors in the router\'s answers, by operation and extensions.code',
      labelNames: ['operation', 'code'],
    },
    fillLabelsFn: (params) => ({
      operation: operationLabel(params.document, params.operationName),
      // Parse and validation failures are counted once per request, before any code is given.
      code:
        params.errorPhase === 'parse' ? 'GRAPHQL_PARSE_FAILED'
        : params.errorPhase === 'validate' ? 'GRAPHQL_VALIDATION_FAILED'
        : String((params.error as GraphQLError | undefined)?.extensions?.code ?? 'INTERNAL_SERVER_ERROR'),
    }),
  }),
  // Built in: time per subgraph call and per fetch, labelled by subgraph (operation names are left out).
  graphql_gateway_subgraph_execute_duration: true,
  graphql_gateway_subgraph_execute_errors: true,
} as const;

/** One line per answered request, under the request id the gateway gives it (and passes to subgraphs). */
function useRequestLog(): GatewayPlugin {
  const started = new WeakMap<Request, number>();
  return {
    onRequest({ request }) {
      started.set(request, performance.now());
    },
    onResponse({ request, response, serverContext }) {
      const since = started.get(request);
      if (since === undefined) return;
      const url = new URL(request.url);
      if (url.pathname !== '/graphql') return; // health checks and metrics scrapes are not worth a line
      const log = (serverContext as { log?: Logger }).log;
      log?.info(
        { method: request.method, status: response.status, ms: Math.round(performance.now() - since) },
        'graphql request answered',
      );
    },
  };
}

// Traces: OpenTelemetry, off unless an OTLP endpoint is configured (the standard variable, as for the
// subgraphs). Spans of the router's subgraph calls carry the trace context to the subgraphs.
const otlpEndpoint = env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim().replace(/\/$/, '');
if (otlpEndpoint) {
  openTelemetrySetup({
    contextManager: new AsyncLocalStorageContextManager(),
    resource: { serviceName: env.OTEL_SERVICE_NAME || 'router' },
    traces: { exporter: new OTLPTraceExporter({ url: `${otlpEndpoint}/v1/traces` }), batching: { scheduledDelayMillis: 500 } },
  });
}

/**
 * The playground (Hive Laboratory) opens ready in development: a "Service Tree: start here" collection with a
 * query that logs in as the demo customer (`make run` seeds it) and the flagship query, holding that customer's
 * token when the launcher passes one (ROUTER_PLAYGROUND_TOKEN), else a placeholder for the token the first
 * answers.
 */
function playground() {
  const login = `mutation Login($login: String!, $password: String!) {
  login(login: $login, password: $password) {
    token
    expiresAt
    user { id login role }
  }
}
`;
  const purchases = `query MyPurchases {
  me {
    login
    purchases(first: 10) {
      totalCount
      nodes {
        name
        total
        check {
          number
          shop { name address }
          lines { quantity unitPrice product { name category { name } } }
        }
      }
    }
  }
}
`;
  const credentials = {
    login: env.ROUTER_PLAYGROUND_LOGIN || 'demo',
    password: env.ROUTER_PLAYGROUND_PASSWORD || 'demo-password',
  };
  const token = env.ROUTER_PLAYGROUND_TOKEN || '<the token Login answers>';
  const createdAt = new Date().toISOString();
  const operation = (id: string, name: string, description: string, query: string, variables: object, headers: object) => ({
    id,
    name,
    description,
    query,
    variables: JSON.stringify(variables, null, 2),
    headers: JSON.stringify(headers, null, 2),
    extensions: '{}',
    createdAt,
  });
  return {
    title: 'Service Tree',
    defaultCollections: [
      {
        id: 'service-tree',
        name: 'Service Tree: start here',
        description: 'Log in as the demo customer, then ask for its purchases with their checks in one request.',
        createdAt,
        operations: [
          operation('login', '1. Log in as the demo customer', 'Answers a token for the Authorization header.', login, credentials, {}),
          operation(
            'my-purchases',
            '2. My purchases (the flagship query)',
            "The caller's purchases, each with its check's shop, lines, products and categories.",
            purchases,
            {},
            { Authorization: `Bearer ${token}` },
          ),
        ],
      },
    ],
  };
}

// The subgraphs' default signing secret in development (subgraphs/_common/settings.py; a test keeps the two
// equal). Outside development SERVICE_TREE_JWT_SECRET must be set, here as for the subgraphs.
const DEVELOPMENT_SECRET = 'development-only-secret-change-me-0123456789';
const ROLES = new Set(['CUSTOMER', 'ADMIN', 'SERVICE']);

function decodePart(part: string): any {
  return JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
}

/** Why the Authorization header cannot be trusted, or undefined when it is absent or good. */
function tokenProblem(authorization: string | null, secret: string): string | undefined {
  return verifiedClaims(authorization, secret).problem;
}

/** The role of a good bearer token, or undefined when there is none or it is bad. */
function tokenRole(authorization: string | null, secret: string): string | undefined {
  const { claims } = verifiedClaims(authorization, secret);
  return typeof claims?.role === 'string' ? claims.role : undefined;
}

function verifiedClaims(authorization: string | null, secret: string): { problem?: string; claims?: any } {
  if (!authorization) return {};
  const problem = claimsProblem(authorization, secret);
  if (problem) return { problem };
  return { claims: decodePart(authorization.trim().split(/\s+/, 2)[1]!.split('.')[1]!) };
}

function claimsProblem(authorization: string, secret: string): string | undefined {
  const [scheme, token = ''] = authorization.trim().split(/\s+/, 2);
  if (scheme.toLowerCase() !== 'bearer' || !token) return "Authorization must be 'Bearer <token>'";
  const parts = token.split('.');
  if (parts.length !== 3) return 'Invalid token';
  try {
    if (decodePart(parts[0]).alg !== 'HS256') return 'Invalid token'; // never alg "none", nor another key type
    const expected = createHmac('sha256', secret).update(`${parts[0]}.${parts[1]}`).digest();
    const signature = Buffer.from(parts[2], 'base64url');
    if (signature.length !== expected.length || !timingSafeEqual(signature, expected)) return 'Invalid token';
    const claims = decodePart(parts[1]);
    if (typeof claims.exp !== 'number' || typeof claims.sub !== 'string') return 'Invalid token';
    if (claims.exp * 1000 <= Date.now()) return 'Token expired';
    if (!ROLES.has(claims.role)) return 'Invalid token';
  } catch {
    return 'Invalid token';
  }
  return undefined;
}

/**
 * A request with a bad token (malformed, expired, signed with another key or another algorithm, of an unknown
 * role) is refused here with 401 and UNAUTHENTICATED, before anything runs: a bad token is not "no token",
 * even for what the router answers alone. The subgraphs apply the same rule when called directly.
 */
function useTokenCheck(secret: string): GatewayPlugin {
  return {
    onRequestParse({ request }) {
      const problem = tokenProblem(request.headers.get('authorization'), secret);
      if (problem) {
        throw requestError(problem, 401, 'UNAUTHENTICATED', { 'www-authenticate': 'Bearer' });
      }
    },
  };
}

/**
 * Every refused request gets a 4xx status and every error an `extensions.code`.
 * Yoga marks its own 4xx errors (bad JSON, validation) as "spec" statuses that are dropped
 * to 200 for `Accept: application/json`; the API promises a 4xx for them, so they are kept.
 */
function useErrorContract(): GatewayPlugin {
  const fix = (error: GraphQLError) => {
    const extensions = error.extensions as Record<string, any>;
    if (!extensions || Object.isFrozen(extensions)) return;
    const http = extensions.http as { status?: number; spec?: boolean } | undefined;
    const status = http?.status;
    if (http && status !== undefined && status >= 400 && status < 500) http.spec = false;
    if (!extensions.code) {
      extensions.code =
        status === 413 ? 'PAYLOAD_TOO_LARGE'
        : status !== undefined && status >= 400 && status < 500 ? 'BAD_REQUEST'
        : 'INTERNAL_SERVER_ERROR';
    }
  };
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

/** Armor's limits throw "Syntax Error: ..." from validation; give them a code and a 400. */
const rejectWithCode = (_ctx: unknown, error: GraphQLError) => {
  error.message = error.message.replace(/^Syntax Error: /, '');
  const extensions = error.extensions as Record<string, any>;
  extensions.code ??= 'GRAPHQL_VALIDATION_FAILED';
  extensions.http ??= { status: 400, spec: false };
};

/** The manifest of trusted documents: hash -> document text. Missing is an error only when it is enforced. */
function loadPersistedDocuments(file: string, required: boolean): Map<string, string> {
  if (!existsSync(file)) {
    if (required) throw new Error(`trusted documents are enforced but ${file} does not exist`);
    return new Map();
  }
  const manifest = JSON.parse(readFileSync(file, 'utf8')) as Record<string, string>;
  return new Map(Object.entries(manifest));
}

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
};

/**
 * Serves the built web app from `dir` on GET and HEAD of any path but the router's own: a file when it exists
 * (hashed assets cached for good), index.html for a path without an extension (the app routes in the browser).
 */
function useStaticSite(dir: string, reserved: string[]): GatewayPlugin {
  const root = path.resolve(dir);
  const headers = (file: string): Record<string, string> => ({
    'content-type': CONTENT_TYPES[path.extname(file)] ?? 'application/octet-stream',
    'cache-control': file.includes(`${path.sep}assets${path.sep}`) ? 'public, max-age=31536000, immutable' : 'no-cache',
    'x-content-type-options': 'nosniff',
    'content-security-policy':
      "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'",
  });
  const isFile = (file: string) => existsSync(file) && statSync(file).isFile();
  return {
    async onRequest({ request, url, endResponse, fetchAPI }) {
      if ((request.method !== 'GET' && request.method !== 'HEAD') || reserved.includes(url.pathname)) return;
      let file: string;
      try {
        file = path.resolve(root, `.${decodeURIComponent(url.pathname)}`);
      } catch {
        return endResponse(new fetchAPI.Response('Bad path', { status: 400 }));
      }
      if (file !== root && !file.startsWith(root + path.sep)) {
        return endResponse(new fetchAPI.Response('Not found', { status: 404 }));
      }
      if (!isFile(file)) {
        if (path.extname(file)) return endResponse(new fetchAPI.Response('Not found', { status: 404 }));
        file = path.join(root, 'index.html');
        if (!isFile(file)) return endResponse(new fetchAPI.Response('The web app is not built', { status: 404 }));
      }
      const body = request.method === 'HEAD' ? null : await readFile(file);
      endResponse(new fetchAPI.Response(body, { status: 200, headers: headers(file) }));
    },
  };
}

// Production (SERVICE_TREE_ENV, as for the subgraphs) hides the schema from strangers: no introspection and
// no "did you mean" suggestions, unless ROUTER_INTROSPECTION says otherwise. Development keeps both, for the
// playground.
const production = (env.SERVICE_TREE_ENV ?? 'development') !== 'development';
const introspection = envFlag('ROUTER_INTROSPECTION', !production);
// Browsers may call the router from these origins only (comma-separated); none by default: same origin only.
const jwtSecret = env.SERVICE_TREE_JWT_SECRET || (production ? '' : DEVELOPMENT_SECRET);
if (jwtSecret.length < 32) {
  throw new Error('SERVICE_TREE_JWT_SECRET must be set (32 characters or more) outside development');
}
// Trusted documents: the web app's operations (web/src/gql/persisted-documents.json, written by its codegen),
// sent by hash. In production only they are accepted, besides any document sent with a SERVICE token (the
// factory's deliveries); in development any document is, for the playground. ROUTER_TRUSTED_DOCUMENTS overrides.
const trustedDocumentsOnly = envFlag('ROUTER_TRUSTED_DOCUMENTS', production);
const persistedDocumentsPath = env.ROUTER_PERSISTED_DOCUMENTS
  ? path.resolve(env.ROUTER_PERSISTED_DOCUMENTS)
  : path.resolve(routerDir, '../web/src/gql/persisted-documents.json');
const persistedDocuments = loadPersistedDocuments(persistedDocumentsPath, trustedDocumentsOnly);
// The built web app (web/dist), served from this origin so that it needs no CORS; not served when unset.
const webDir = env.ROUTER_WEB_DIR ? path.resolve(env.ROUTER_WEB_DIR) : undefined;
const corsOrigins = (env.ROUTER_CORS_ORIGINS ?? '')
  .split(',')
  .map((origin) => origin.trim())
  .filter(Boolean);

export const gatewayConfig = defineConfig({
  supergraph: supergraphPath,
  host: env.ROUTER_HOST || '127.0.0.1',
  port: envInt('ROUTER_PORT', 4000),
  // JSON lines with LOG_FORMAT=json (as for the subgraphs), readable lines otherwise; each request's lines
  // carry its requestId.
  logging: new Logger({
    level: (env.ROUTER_LOG_LEVEL as 'debug' | 'info' | 'warn' | 'error' | undefined) || 'info',
    writers: [env.LOG_FORMAT === 'json' ? new JSONLogWriter() : new ConsoleLogWriter({ noColor: !process.stdout.isTTY })],
  }),

  transportEntries,
  // A hung subgraph gets an answer (an error for its part) instead of holding the client forever.
  upstreamTimeout: envInt('ROUTER_UPSTREAM_TIMEOUT_MS', 30_000, 600_000),
  propagateHeaders: {
    fromClientToSubgraphs: ({ request }) => ({
      authorization: request.headers.get('authorization') ?? undefined,
    }),
  },

  persistedDocuments: {
    getPersistedOperation: (key: string) => persistedDocuments.get(key) ?? null,
    allowArbitraryDocuments: trustedDocumentsOnly
      ? (request: Request) => tokenRole(request.headers.get('authorization'), jwtSecret) === 'SERVICE'
      : true,
    customErrors: {
      notFound: { message: 'Unknown document: this router accepts only the documents it knows', extensions: { code: 'PERSISTED_QUERY_NOT_FOUND', http: { status: 400, spec: false } } },
      persistedQueryOnly: { message: 'Only trusted documents are accepted: send a known document hash', extensions: { code: 'PERSISTED_QUERY_ONLY', http: { status: 400, spec: false } } },
      keyNotFound: { message: 'No query and no document hash in the request', extensions: { code: 'BAD_REQUEST', http: { status: 400, spec: false } } },
    },
  },

  cors: corsOrigins.length ? { origin: corsOrigins, credentials: true } : false,
  disableIntrospection: introspection ? undefined : { disableIf: () => true },

  // The built-in metrics drop the client's operation name (unbounded); ours label by root field instead.
  prometheus: {
    endpoint: '/metrics',
    metrics: prometheusMetrics,
    labels: { subgraphName: true, operationName: false },
  },
  openTelemetry: otlpEndpoint ? { traces: true } : undefined,

  graphqlEndpoint: '/graphql',
  graphiql: production ? { title: 'Service Tree' } : playground(),
  healthCheckEndpoint: '/healthcheck',
  readinessCheckEndpoint: '/readiness',

  plugins: () => [
    ...(webDir ? [useStaticSite(webDir, ['/graphql', '/healthcheck', '/readiness'])] : []),
    useRequestBodyLimit(MAX_BODY_BYTES, MAX_DRAINED_BYTES),
    useTokenCheck(jwtSecret),
    // The built-in `maxDepth` option counts fragment spreads as levels; flattening them
    // matches the subgraphs' depth rule (field nesting only).
    maxDepthPlugin({ n: MAX_DEPTH, flattenFragments: true, onReject: [rejectWithCode] }),
    // allowList: [] counts __typename aliases too (armor exempts them by default; the contract does not).
    maxAliasesPlugin({ n: MAX_ALIASES, allowList: [], onReject: [rejectWithCode] }),
    maxTokensPlugin({ n: MAX_TOKENS, onReject: [rejectWithCode] }),
    ...(introspection ? [] : [blockFieldSuggestionsPlugin()]),
    useErrorContract(),
    useRequestLog(),
  ],
});
