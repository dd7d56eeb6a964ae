// Traces: OpenTelemetry spans sent to an OTLP/HTTP endpoint. The gateway's `openTelemetry: { traces: true }`
// option makes the spans; this sets up where they go, once per process.
import { openTelemetrySetup } from '@graphql-hive/gateway/opentelemetry/setup';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';

export interface TracingSettings {
  /** The OTLP/HTTP base URL (`OTEL_EXPORTER_OTLP_ENDPOINT`); spans go to its /v1/traces. */
  endpoint: string;
  serviceName: string;
}

/** Sends this process's spans to `settings.endpoint`, batched, under `settings.serviceName`. */
export function startTracing(settings: TracingSettings): void {
  openTelemetrySetup({
    contextManager: new AsyncLocalStorageContextManager(),
    resource: { serviceName: settings.serviceName },
    traces: {
      exporter: new OTLPTraceExporter({ url: `${settings.endpoint}/v1/traces` }),
      batching: { scheduledDelayMillis: 500 },
    },
  });
}
