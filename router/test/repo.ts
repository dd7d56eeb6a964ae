// Files of the repository the router's tests read: the contract's schemas and the web app's manifest.
import path from 'node:path';

/** The repository's root. */
export const REPO = path.resolve(import.meta.dirname, '../..');
export const SUPERGRAPH_FILE = path.join(REPO, 'schema', 'supergraph.graphql');
export const API_SCHEMA_FILE = path.join(REPO, 'schema', 'api.graphql');
export const WEB_MANIFEST = path.join(REPO, 'web', 'src', 'gql', 'persisted-documents.json');
