// The router's log: JSON lines or readable lines, and one line per answered GraphQL request.
import { ConsoleLogWriter, JSONLogWriter, Logger, type GatewayPlugin, type LogLevel } from '@graphql-hive/gateway';

export interface LogSettings {
  level: LogLevel;
  /** JSON lines (as the subgraphs write with LOG_FORMAT=json), else readable ones. */
  json: boolean;
}

/** The gateway's logger; each request's lines carry its requestId. */
export function createLogger(settings: LogSettings): Logger {
  return new Logger({
    level: settings.level,
    writers: [settings.json ? new JSONLogWriter() : new ConsoleLogWriter({ noColor: !process.stdout.isTTY })],
  });
}

/** One line per answered request, under the request id the gateway gives it (and passes to subgraphs). */
export function useRequestLog(): GatewayPlugin {
  const started = new WeakMap<Request, number>();
  return {
    onRequest({ request, url }) {
      // Health checks and metrics scrapes are not worth a line. The server has parsed the URL already.
      if (url.pathname === '/graphql') started.set(request, performance.now());
    },
    onResponse({ request, response, serverContext }) {
      const since = started.get(request);
      if (since === undefined) return;
      const log = (serverContext as { log?: Logger }).log;
      log?.info(
        { method: request.method, status: response.status, ms: Math.round(performance.now() - since) },
        'graphql request answered',
      );
    },
  };
}
