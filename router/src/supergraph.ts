// What the router derives from the supergraph it serves: the subgraphs' names and the root fields.
import { readFileSync } from 'node:fs';

import { Kind, parse, type DocumentNode } from 'graphql';

import { SUBGRAPH_SOCKETS } from './subgraphSockets.ts';

export interface Supergraph {
  /** The subgraphs it joins, by the names their `<NAME>_URL` settings use. */
  subgraphs: string[];
  /** Its root fields (Query, Mutation and Subscription): the bounded set metrics label by. */
  rootFields: Set<string>;
  /** Its Subscription fields. */
  subscriptionFields: Set<string>;
}

/**
 * The names of the subgraphs the supergraph joins (its `join__Graph` enum), so that a new subgraph needs no
 * change in the router.
 */
export function subgraphNames(document: DocumentNode): string[] {
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

/** The names of the supergraph's root fields (of Query, Mutation and Subscription, or of `types`). */
export function rootFields(document: DocumentNode, types = ['Query', 'Mutation', 'Subscription']): Set<string> {
  const names = new Set<string>();
  for (const definition of document.definitions) {
    if (
      (definition.kind === Kind.OBJECT_TYPE_DEFINITION || definition.kind === Kind.OBJECT_TYPE_EXTENSION) &&
      types.includes(definition.name.value)
    ) {
      for (const field of definition.fields ?? []) names.add(field.name.value);
    }
  }
  return names;
}

/** Reads and parses the supergraph `file` once (at start-up) for what the router derives from it. */
export function readSupergraph(file: string): Supergraph {
  const document = parse(readFileSync(file, 'utf8'));
  return {
    subgraphs: subgraphNames(document),
    rootFields: rootFields(document),
    subscriptionFields: rootFields(document, ['Subscription']),
  };
}

/**
 * The gateway's per-subgraph transport overrides, merged over what the supergraph's @join__graph says: the URL
 * of each subgraph in `urls`, subscriptions on WebSockets, and, unless `dedupe`, no deduplication of identical
 * in-flight subgraph queries.
 */
export function transportEntries(urls: Record<string, string>, dedupe: boolean) {
  const entries: Record<string, { location?: string; options?: Record<string, unknown> }> = {};
  for (const [subgraph, location] of Object.entries(urls)) entries[subgraph] = { location };
  // Subscriptions go to every subgraph on its own WebSocket transport, at the subgraph's /graphql URL.
  entries['*'] = { options: { subscriptions: { kind: SUBGRAPH_SOCKETS } } };
  // Deduplication is on by default (its key includes the forwarded headers, so users never share a response);
  // benchmarks switch it off.
  if (!dedupe) entries['*.http'] = { options: { deduplicateInflightRequests: false } };
  return entries;
}
