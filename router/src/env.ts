// The router's settings, all read from the environment here and nowhere else (router/README.md lists them).
// A bad value stops the router at start-up with the variable's name.
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import type { LogLevel } from '@graphql-hive/gateway';

import type { IdentitySettings } from './identity.ts';
import type { LiveLimits } from './liveLimits.ts';
import type { LogSettings } from './logging.ts';
import type { PlaygroundSettings } from './playground.ts';
import type { TracingSettings } from './tracing.ts';
import type { TrustedDocumentSettings } from './trustedDocuments.ts';

type Env = Record<string, string | undefined>;

const ROUTER_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const LOG_LEVELS: LogLevel[] = ['trace', 'debug', 'info', 'warn', 'error'];

export interface Settings {
  /** The supergraph file the gateway serves (and re-reads when it changes). */
  supergraph: string;
  host: string;
  port: number;
  log: LogSettings;
  /** How long a subgraph call may take before its part of the answer is an error. */
  upstreamTimeoutMs: number;
  /** Deduplicate identical in-flight subgraph queries. */
  dedupe: boolean;
  /** SERVICE_TREE_ENV is anything but "development". */
  production: boolean;
  introspection: boolean;
  /** The purchase subgraph's identity endpoints, how often its JWKS and ended sessions are read again. */
  identity: IdentitySettings;
  /** Proxies (addresses, CIDR ranges) whose X-Forwarded-For names the client. */
  trustedProxies: string[];
  /** The trusted documents' manifest, and whether only they are accepted. */
  trustedDocuments: TrustedDocumentSettings;
  /** A built web app to serve from this origin, if any. */
  webDir: string | undefined;
  /** Origins browsers may call from; none: same origin only. */
  corsOrigins: string[];
  /** Limits of live subscriptions (WebSocket and SSE). */
  live: LiveLimits;
  /** Where spans go, if anywhere. */
  tracing: TracingSettings | undefined;
  playground: PlaygroundSettings;
}

function envInt(env: Env, name: string, fallback: number, max = 65535): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0 || value > max) {
    throw new Error(`${name} must be a whole number from 0 to ${max}, got "${raw}"`);
  }
  return value;
}

function envSeconds(env: Env, name: string, fallback: number, max = 86_400): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback * 1000;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0 || value > max) {
    throw new Error(`${name} must be a number of seconds above 0 and at most ${max}, got "${raw}"`);
  }
  return value * 1000;
}

function envFlag(env: Env, name: string, fallback: boolean): boolean {
  const raw = env[name]?.trim().toLowerCase();
  if (raw === undefined || raw === '') return fallback;
  return !['0', 'false', 'no', 'off'].includes(raw);
}

function envUrl(env: Env, name: string): string | undefined {
  const raw = env[name]?.trim();
  if (!raw) return undefined;
  try {
    return new URL(raw).toString();
  } catch {
    throw new Error(`${name} must be an absolute URL, got "${raw}"`);
  }
}

function envChoice<T extends string>(env: Env, name: string, choices: readonly T[], fallback: T): T {
  const raw = env[name];
  if (!raw) return fallback;
  if (!(choices as readonly string[]).includes(raw)) {
    throw new Error(`${name} must be one of ${choices.join(', ')}, got "${raw}"`);
  }
  return raw as T;
}

/** A path setting: relative to the current directory when set, else `fallback` (relative to router/). */
function envPath(env: Env, name: string, fallback: string): string {
  const raw = env[name];
  return raw ? path.resolve(raw) : path.resolve(ROUTER_DIR, fallback);
}

/** The router's settings from `env`; throws, naming the variable, on a bad value. */
export function readSettings(env: Env): Settings {
  // Production (SERVICE_TREE_ENV, as for the subgraphs) hides the schema from strangers: no introspection and
  // no "did you mean" suggestions, unless ROUTER_INTROSPECTION says otherwise; it enforces trusted documents.
  const production = (env.SERVICE_TREE_ENV ?? 'development') !== 'development';
  // Outside development the purchase subgraph is not on this machine's default port.
  if (production && !env.SERVICE_TREE_IDENTITY_URL?.trim()) {
    throw new Error('SERVICE_TREE_IDENTITY_URL must be set outside development');
  }
  // Traces are off unless an OTLP endpoint is configured (the standard variables, as for the subgraphs).
  const otlpEndpoint = env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim().replace(/\/$/, '');
  return {
    supergraph: envPath(env, 'ROUTER_SUPERGRAPH', '../schema/supergraph.graphql'),
    host: env.ROUTER_HOST || '127.0.0.1',
    port: envInt(env, 'ROUTER_PORT', 4000),
    log: { level: envChoice(env, 'ROUTER_LOG_LEVEL', LOG_LEVELS, 'info'), json: env.LOG_FORMAT === 'json' },
    upstreamTimeoutMs: envInt(env, 'ROUTER_UPSTREAM_TIMEOUT_MS', 30_000, 600_000),
    dedupe: envFlag(env, 'ROUTER_DEDUPE', true),
    production,
    introspection: envFlag(env, 'ROUTER_INTROSPECTION', !production),
    // Tokens are checked with the purchase subgraph's public keys (the settings the subgraphs read too).
    identity: {
      url: (envUrl(env, 'SERVICE_TREE_IDENTITY_URL') ?? 'http://127.0.0.1:4001').replace(/\/$/, ''),
      jwksMaxAgeMs: envSeconds(env, 'SERVICE_TREE_JWKS_MAX_AGE_SECONDS', 60),
      endedSessionsPollMs: envSeconds(env, 'SERVICE_TREE_ENDED_SESSIONS_POLL_SECONDS', 1),
    },
    trustedProxies: (env.ROUTER_TRUSTED_PROXIES ?? '')
      .split(',')
      .map((entry) => entry.trim())
      .filter(Boolean),
    trustedDocuments: {
      file: envPath(env, 'ROUTER_PERSISTED_DOCUMENTS', '../web/src/gql/persisted-documents.json'),
      enforced: envFlag(env, 'ROUTER_TRUSTED_DOCUMENTS', production),
    },
    webDir: env.ROUTER_WEB_DIR ? path.resolve(env.ROUTER_WEB_DIR) : undefined,
    corsOrigins: (env.ROUTER_CORS_ORIGINS ?? '')
      .split(',')
      .map((origin) => origin.trim())
      .filter(Boolean),
    live: {
      subscriptions: envInt(env, 'ROUTER_MAX_SUBSCRIPTIONS', 4_000, 1_000_000),
      subscriptionsPerConnection: envInt(env, 'ROUTER_SUBSCRIPTIONS_PER_CONNECTION', 20, 10_000),
      connectionsPerAddress: envInt(env, 'ROUTER_CONNECTIONS_PER_ADDRESS', 100, 1_000_000),
      maxMessageBytes: envInt(env, 'ROUTER_WS_MAX_MESSAGE_BYTES', 1_000_000, 100_000_000),
      backlog: envInt(env, 'ROUTER_SUBSCRIBER_BACKLOG', 100, 1_000_000),
    },
    tracing: otlpEndpoint ? { endpoint: otlpEndpoint, serviceName: env.OTEL_SERVICE_NAME || 'router' } : undefined,
    playground: {
      login: env.ROUTER_PLAYGROUND_LOGIN || 'demo',
      password: env.ROUTER_PLAYGROUND_PASSWORD || 'demo-password',
      token: env.ROUTER_PLAYGROUND_TOKEN || '<the token Login answers>',
    },
  };
}

/** `<NAME>_URL` of each of `subgraphs` that is set: it overrides the routing_url of subgraph `<name>`. */
export function subgraphUrls(env: Env, subgraphs: string[]): Record<string, string> {
  const urls: Record<string, string> = {};
  for (const subgraph of subgraphs) {
    const location = envUrl(env, `${subgraph.toUpperCase()}_URL`);
    if (location) urls[subgraph] = location;
  }
  return urls;
}
