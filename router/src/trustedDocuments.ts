// Trusted documents: the web app's operations (its codegen writes the manifest), sent by hash.
import { existsSync, readFileSync } from 'node:fs';

import type { Tokens } from './tokenCheck.ts';

export interface TrustedDocumentSettings {
  /** The manifest (hash -> document), the web app's codegen output. */
  file: string;
  /** Whether only trusted documents run (production). */
  enforced: boolean;
}

/** The manifest of trusted documents: hash -> document text. Missing is an error only when it is enforced. */
export function loadTrustedDocuments(file: string, enforced: boolean): Map<string, string> {
  if (!existsSync(file)) {
    if (enforced) throw new Error(`trusted documents are enforced but ${file} does not exist`);
    return new Map();
  }
  const manifest = JSON.parse(readFileSync(file, 'utf8')) as Record<string, string>;
  return new Map(Object.entries(manifest));
}

const refusal = (message: string, code: string) => ({ message, extensions: { code, http: { status: 400, spec: false } } });

/**
 * The gateway's persisted-documents option: a known hash runs its document; any other document runs only when
 * `allowArbitrary` says so (always, or for the request at hand), else it is refused with the contract's codes.
 */
export function trustedDocuments(
  documents: Map<string, string>,
  allowArbitrary: boolean | ((request: Request) => boolean | Promise<boolean>),
) {
  return {
    getPersistedOperation: (key: string) => documents.get(key) ?? null,
    allowArbitraryDocuments: allowArbitrary,
    customErrors: {
      notFound: refusal('Unknown document: this router accepts only the documents it knows', 'PERSISTED_QUERY_NOT_FOUND'),
      persistedQueryOnly: refusal('Only trusted documents are accepted: send a known document hash', 'PERSISTED_QUERY_ONLY'),
      keyNotFound: refusal('No query and no document hash in the request', 'BAD_REQUEST'),
    },
  };
}

/**
 * The persisted-documents option for `settings`: when enforced, only trusted documents run, besides any document
 * sent with a SERVICE token (the factory's deliveries); otherwise any document does, for the playground.
 */
export function persistedDocuments(settings: TrustedDocumentSettings, tokens: Tokens) {
  return trustedDocuments(
    loadTrustedDocuments(settings.file, settings.enforced),
    settings.enforced
      ? async (request) => (await tokens.check(request.headers.get('authorization'))).role === 'SERVICE'
      : true,
  );
}
