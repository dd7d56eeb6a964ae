// Hive Gateway configuration for the Service Tree router: the wiring of the modules in src/, one per concern.
// Loaded by `node serve.mjs supergraph` (Hive Gateway's CLI; README.md) from the current directory (run it
// from router/, e.g. `npm start`) or explicitly with `-c router/gateway.config.ts`. Settings come from the
// environment (src/env.ts; README.md lists them).
import { blockFieldSuggestionsPlugin } from '@escape.tech/graphql-armor-block-field-suggestions';
import { defineConfig } from '@graphql-hive/gateway';
import { unifiedGraphHandler } from '@graphql-hive/router-runtime';

import { useRequestBodyLimit } from './src/bodyLimit.ts';
import { clientAddress, trustedProxies } from './src/clientAddress.ts';
import { authorizationOf, useConnectionTokenCheck } from './src/connectionAuth.ts';
import { EndedSessions, every, feedAgeGauge, remoteFeed } from './src/endedSessions.ts';
import { readSettings, subgraphUrls } from './src/env.ts';
import { useErrorContract, useNullableRootsOnError, useSocketRefusals } from './src/errorContract.ts';
import { useOperationLimits } from './src/limits.ts';
import { Counts, limitWebSockets, useLiveLimits } from './src/liveLimits.ts';
import { createLogger, useRequestLog } from './src/logging.ts';
import { prometheus, useSubscriptionMetrics } from './src/metrics.ts';
import { playground } from './src/playground.ts';
import { useStaticSite } from './src/staticSite.ts';
import { KeyRing, remoteJwks, useJwks } from './src/keyRing.ts';
import { isSubscription, SUBGRAPH_SOCKETS, subgraphSockets } from './src/subgraphSockets.ts';
import { readSupergraph, transportEntries } from './src/supergraph.ts';
import { jwksTokens, useTokenCheck } from './src/tokenCheck.ts';
import { startTracing } from './src/tracing.ts';
import { loadTrustedDocuments, trustedDocuments } from './src/trustedDocuments.ts';

/** Limits from the API contract (docs/api.md, Conventions). */
const MAX_DEPTH = 15;
const MAX_ALIASES = 100;
const MAX_TOKENS = 1_000;
const MAX_BODY_BYTES = 1_000_000; // 1 MB
const MAX_DRAINED_BYTES = 16_000_000; // refused bodies up to this size are read to the end first
const SUBGRAPH_KEEP_ALIVE_MS = 12_000; // pings on the router's WebSockets to subgraphs, as on clients' (graphql-ws)

const settings = readSettings(process.env);
const supergraph = readSupergraph(settings.supergraph);
const logger = createLogger(settings.log);
const warn = (message: string) => logger.warn(message);
// The purchase subgraph's public keys and ended sessions, kept current in the background (src/keyRing.ts,
// src/endedSessions.ts); an unknown key id is fetched at once, at most once a second.
const keys = new KeyRing(remoteJwks(`${settings.identity.url}/.well-known/jwks.json`), 1_000, warn);
const ended = new EndedSessions(remoteFeed(`${settings.identity.url}/sessions/ended`), warn);
every(settings.identity.jwksMaxAgeMs, () => keys.refresh());
every(settings.identity.endedSessionsPollMs, () => ended.poll());
feedAgeGauge(ended);
const tokens = jwksTokens(keys, ended);
const proxies = trustedProxies(settings.trustedProxies);
const documents = loadTrustedDocuments(settings.trustedDocuments.file, settings.trustedDocuments.enforced);
if (settings.tracing) startTracing(settings.tracing);
// WebSockets and SSE subscriptions open per client address, one count for both.
const connections = new Counts<string>(settings.live.connectionsPerAddress);
limitWebSockets(settings.live, connections);

export const gatewayConfig = defineConfig({
  supergraph: settings.supergraph,
  // The query planner in Rust (Hive Router's): a third less CPU per request than the JavaScript one.
  unifiedGraphHandler,
  host: settings.host,
  port: settings.port,
  logging: logger,

  transportEntries: transportEntries(subgraphUrls(process.env, supergraph.subgraphs), settings.dedupe),
  // Subscriptions reach subgraphs on WebSockets (src/subgraphSockets.ts says why); the rest stays on HTTP.
  transports: (kind) =>
    kind === SUBGRAPH_SOCKETS
      ? subgraphSockets({
          keepAliveMs: SUBGRAPH_KEEP_ALIVE_MS,
          authorization: (request) => authorizationOf(request.context?.request, request.context),
        })
      : import(`@graphql-mesh/transport-${kind}`),
  // A hung subgraph gets an answer (an error for its part) instead of holding the client forever; a
  // subscription is meant to stay open (its events' entity fetches, queries, still have the timeout).
  upstreamTimeout: ({ executionRequest }) =>
    executionRequest && isSubscription(executionRequest) ? undefined : settings.upstreamTimeoutMs,
  // Each subgraph checks the caller's token itself (a WebSocket's caller sends it in `connection_init`), and
  // learns the client's address from the router alone.
  propagateHeaders: {
    fromClientToSubgraphs: ({ request, context }) => ({
      authorization: authorizationOf(request, context),
      'x-forwarded-for': clientAddress(
        (context as { req?: { socket?: { remoteAddress?: string } } }).req?.socket?.remoteAddress,
        request.headers.get('x-forwarded-for'),
        proxies,
      ),
    }),
  },

  // When enforced, only trusted documents run, besides any document sent with a SERVICE token (the factory's
  // deliveries); otherwise any document does, for the playground.
  persistedDocuments: trustedDocuments(
    documents,
    settings.trustedDocuments.enforced
      ? async (request) => (await tokens.check(request.headers.get('authorization'))).role === 'SERVICE'
      : true,
  ),

  cors: settings.corsOrigins.length ? { origin: settings.corsOrigins, credentials: true } : false,
  disableIntrospection: settings.introspection ? undefined : { disableIf: () => true },

  prometheus: prometheus(supergraph.rootFields),
  openTelemetry: settings.tracing ? { traces: true } : undefined,

  graphqlEndpoint: '/graphql',
  graphiql: settings.production ? { title: 'Service Tree' } : playground(settings.playground),
  healthCheckEndpoint: '/healthcheck',
  readinessCheckEndpoint: '/readiness',

  plugins: () => [
    useJwks(keys),
    ...(settings.webDir ? [useStaticSite(settings.webDir, ['/graphql', '/healthcheck', '/readiness'])] : []),
    useRequestBodyLimit(MAX_BODY_BYTES, MAX_DRAINED_BYTES),
    useTokenCheck(tokens),
    useConnectionTokenCheck(tokens),
    useLiveLimits(settings.live, connections),
    useSubscriptionMetrics(supergraph.subscriptionFields),
    ...useOperationLimits({ depth: MAX_DEPTH, aliases: MAX_ALIASES, tokens: MAX_TOKENS }),
    // No "did you mean" suggestions where the schema is hidden.
    ...(settings.introspection ? [] : [blockFieldSuggestionsPlugin()]),
    useErrorContract(),
    useNullableRootsOnError(),
    useSocketRefusals(),
    useRequestLog(),
  ],
});
