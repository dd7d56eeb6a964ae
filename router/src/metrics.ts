// Prometheus metrics: every series is labelled by the operation's one root field (as the subgraphs label
// theirs), else "other", never by the client's operation name: the label set stays bounded by the schema.
import { createCounter, createHistogram, type GatewayPlugin } from '@graphql-hive/gateway';
import { getOperationAST, Kind, type DocumentNode, type GraphQLError } from 'graphql';
import { Counter, Gauge, register, type Registry } from 'prom-client';

type Phase = 'execute' | 'subscribe';
type ErrorPhase = 'parse' | 'validate' | 'context' | Phase;

/** The operation's one root field when it is one of `rootFields`, else "other". */
export function operationLabel(
  document: DocumentNode | undefined,
  operationName: string | undefined,
  rootFields: Set<string>,
): string {
  // An unnamed operation arrives here named "Anonymous": then the document's only operation is the one.
  const operation = document ? (getOperationAST(document, operationName) ?? getOperationAST(document)) : null;
  if (!operation) return 'other';
  const names = new Set(
    operation.selectionSet.selections
      .filter((selection) => selection.kind === Kind.FIELD && selection.name.value !== '__typename')
      .map((selection) => (selection.kind === Kind.FIELD ? selection.name.value : '')),
  );
  const [name] = [...names];
  return names.size === 1 && name !== undefined && rootFields.has(name) ? name : 'other';
}

/**
 * The gateway's `prometheus` option: /metrics, with the router's operation series labelled by root field (of
 * `rootFields`, the supergraph's) and the built-in per-subgraph series without operation names.
 */
export function prometheus(rootFields: Set<string>, registry: Registry = register) {
  // The gateway keeps one parsed document per query text, so a document's label is worked out once, not for
  // each series of each request.
  const labels = new WeakMap<DocumentNode, Map<string | undefined, string>>();
  const label = ({ document, operationName }: { document?: DocumentNode; operationName?: string }) => {
    if (!document) return 'other';
    let byName = labels.get(document);
    if (!byName) labels.set(document, (byName = new Map()));
    let found = byName.get(operationName);
    if (found === undefined) byName.set(operationName, (found = operationLabel(document, operationName, rootFields)));
    return found;
  };
  return {
    endpoint: '/metrics',
    registry,
    labels: { subgraphName: true, operationName: false },
    metrics: {
      graphql_envelop_request: createCounter<Phase, 'operation'>({
        registry,
        counter: {
          name: 'service_tree_router_requests_total',
          help: 'GraphQL operations the router executed, by operation (its root field, else "other")',
          labelNames: ['operation'],
        },
        fillLabelsFn: (params) => ({ operation: label(params) }),
      }),
      graphql_envelop_request_duration: createHistogram<Phase, 'operation'>({
        registry,
        histogram: {
          name: 'service_tree_router_request_duration_seconds',
          help: 'Time the router spent executing an operation (planning and subgraph calls), by operation',
          labelNames: ['operation'],
          buckets: [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
        },
        fillLabelsFn: (params) => ({ operation: label(params) }),
      }),
      graphql_envelop_error_result: createCounter<ErrorPhase, 'operation' | 'code'>({
        registry,
        counter: {
          name: 'service_tree_router_errors_total',
          help: "Errors in the router's answers, by operation and extensions.code",
          labelNames: ['operation', 'code'],
        },
        fillLabelsFn: (params) => ({
          operation: label(params),
          // Parse and validation failures are counted once per request, before any code is given.
          code:
            params.errorPhase === 'parse' ? 'GRAPHQL_PARSE_FAILED'
            : params.errorPhase === 'validate' ? 'GRAPHQL_VALIDATION_FAILED'
            : String((params.error as GraphQLError | undefined)?.extensions?.code ?? 'INTERNAL_SERVER_ERROR'),
        }),
      }),
      // Built in: time per subgraph call, labelled by subgraph (operation names are left out).
      graphql_gateway_subgraph_execute_duration: true,
      graphql_gateway_subgraph_execute_errors: true,
      // The other built-in series are on unless switched off, and each costs every request its share (the
      // deprecated-field counter walks each document, the time summary keeps quantiles): the series above say
      // what the dashboards ask, the phases' times are the traces' job.
      graphql_envelop_deprecated_field: false,
      graphql_envelop_request_time_summary: false,
      graphql_envelop_phase_parse: false,
      graphql_envelop_phase_validate: false,
      graphql_envelop_phase_context: false,
      graphql_envelop_phase_execute: false,
      graphql_envelop_phase_subscribe: false,
      graphql_envelop_schema_change: false,
      graphql_yoga_http_duration: false,
      graphql_gateway_fetch_duration: false,
    },
  } as const;
}

/**
 * Live subscriptions in /metrics: those open and the events sent to subscribers, by root field (of
 * `subscriptionFields`, the supergraph's, else "other"), each series at zero from the start.
 */
export function useSubscriptionMetrics(
  subscriptionFields: Set<string>,
  registry: Registry = register,
): GatewayPlugin {
  const open = new Gauge({
    name: 'service_tree_router_subscriptions_open',
    help: 'Subscriptions open at the router, by operation (its root field, else "other")',
    labelNames: ['operation'],
    registers: [registry],
  });
  const sent = new Counter({
    name: 'service_tree_router_subscription_events_total',
    help: 'Events the router sent to subscribers, by operation',
    labelNames: ['operation'],
    registers: [registry],
  });
  for (const field of [...subscriptionFields, 'other']) {
    open.labels(field).set(0);
    sent.labels(field).inc(0);
  }
  return {
    onSubscribe({ args }) {
      const operation = operationLabel(args.document, args.operationName ?? undefined, subscriptionFields);
      return {
        onSubscribeResult({ result }) {
          if (!(Symbol.asyncIterator in Object(result))) return;
          open.labels(operation).inc();
          const sentHere = sent.labels(operation); // looked up once, not on every event
          return {
            onNext: ({ result }) => {
              if ((result as { data?: unknown }).data != null) sentHere.inc(); // events, not errors
            },
            onEnd: () => open.labels(operation).dec(),
          };
        },
      };
    },
  };
}
