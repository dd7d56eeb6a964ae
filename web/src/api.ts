// The one way the app talks to the router: a generated, typed document, sent by its persisted-document hash
// (the router knows the document from persisted-documents.json), never as a query string built here.
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';

export const ENDPOINT = '/graphql';

/** A GraphQL error of the API, with its stable `extensions.code` and the details some codes carry. */
export class ApiError extends Error {
  constructor(
    message: string,
    readonly code: string,
    readonly extensions: Record<string, unknown> = {},
    /** The HTTP status of the answer: 401 when the router or a subgraph refused the token itself. */
    readonly status?: number,
  ) {
    super(message);
    this.name = 'ApiError';
  }

  /** The input field a BAD_USER_INPUT names, if any. */
  get field(): string | undefined {
    const field = this.extensions.field;
    return typeof field === 'string' ? field : undefined;
  }
}

interface GraphQLErrorBody {
  message: string;
  extensions?: Record<string, unknown>;
}

function hashOf(document: TypedDocumentNode<unknown, unknown>): string {
  const meta = (document as { __meta__?: { hash?: unknown } }).__meta__;
  if (typeof meta?.hash !== 'string') throw new Error('document without a persisted hash: run codegen');
  return meta.hash;
}

function operationName(document: TypedDocumentNode<unknown, unknown>): string | undefined {
  for (const definition of document.definitions) {
    if (definition.kind === 'OperationDefinition') return definition.name?.value;
  }
  return undefined;
}

/** Runs one operation; its data, or an ApiError with the first error's code. */
export async function request<TResult, TVariables>(
  document: TypedDocumentNode<TResult, TVariables>,
  variables: TVariables,
  token: string | null,
): Promise<TResult> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  let response: Response;
  try {
    response = await fetch(ENDPOINT, {
      method: 'POST',
      headers,
      body: JSON.stringify({
        operationName: operationName(document as TypedDocumentNode<unknown, unknown>),
        variables,
        extensions: { persistedQuery: { version: 1, sha256Hash: hashOf(document as TypedDocumentNode<unknown, unknown>) } },
      }),
    });
  } catch {
    throw new ApiError('The shop cannot be reached. Check your connection and try again.', 'NETWORK');
  }
  let body: { data?: TResult | null; errors?: GraphQLErrorBody[] };
  try {
    body = (await response.json()) as typeof body;
  } catch {
    throw new ApiError(`The shop answered with status ${response.status}.`, 'INTERNAL_SERVER_ERROR');
  }
  const first = body.errors?.[0];
  if (first) {
    const code = typeof first.extensions?.code === 'string' ? first.extensions.code : 'INTERNAL_SERVER_ERROR';
    throw new ApiError(first.message, code, first.extensions ?? {}, response.status);
  }
  if (body.data == null) throw new ApiError('The shop sent no data.', 'INTERNAL_SERVER_ERROR');
  return body.data;
}
