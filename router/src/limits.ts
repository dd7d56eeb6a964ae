// The contract's limits on an operation's shape (depth, aliases, tokens), by GraphQL Armor's plugins.
import { maxAliasesPlugin } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthPlugin } from '@escape.tech/graphql-armor-max-depth';
import { maxTokensPlugin } from '@escape.tech/graphql-armor-max-tokens';
import type { GraphQLError } from 'graphql';

export interface OperationLimits {
  /** Field levels, fragments not counted. */
  depth: number;
  /** Aliases, __typename ones included. */
  aliases: number;
  /** Tokens of the document. */
  tokens: number;
}

/** The limits of the API contract (docs/api.md, Conventions), the subgraphs' too. */
export const CONTRACT_LIMITS: OperationLimits = { depth: 15, aliases: 100, tokens: 1_000 };

/** Armor's limits throw "Syntax Error: ..." from validation; give them a code and a 400. */
export function rejectWithCode(_context: unknown, error: GraphQLError): void {
  error.message = error.message.replace(/^Syntax Error: /, '');
  const extensions = error.extensions as Record<string, any>;
  extensions.code ??= 'GRAPHQL_VALIDATION_FAILED';
  extensions.http ??= { status: 400, spec: false };
}

/** The plugins refusing operations over `limits` with 400 GRAPHQL_VALIDATION_FAILED. */
export function useOperationLimits(limits: OperationLimits) {
  return [
    // The built-in `maxDepth` option counts fragment spreads as levels; flattening them matches the subgraphs'
    // depth rule (field nesting only).
    maxDepthPlugin({ n: limits.depth, flattenFragments: true, onReject: [rejectWithCode] }),
    // allowList: [] counts __typename aliases too (armor exempts them by default; the contract does not).
    maxAliasesPlugin({ n: limits.aliases, allowList: [], onReject: [rejectWithCode] }),
    maxTokensPlugin({ n: limits.tokens, onReject: [rejectWithCode] }),
  ];
}
