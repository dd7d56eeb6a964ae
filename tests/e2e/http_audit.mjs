// Runs graphql-http's GraphQL-over-HTTP server audit against each URL given and prints the results as JSON:
// {"<url>": [{"id", "name", "status": "ok" | "notice" | "warn" | "error", "reason"?, "response"?}]}.
// Usage: node tests/e2e/http_audit.mjs http://127.0.0.1:4000/graphql ...
import { createRequire } from 'node:module';

// graphql-http is a dev dependency of the router (router/package.json), installed with its packages.
const require = createRequire(new URL('../../router/package.json', import.meta.url));
const { auditServer } = require('graphql-http');

/** What a failed audit saw: the status and the start of the body. */
async function seen(response) {
  if (!response) return undefined;
  let body = '';
  try {
    body = (await response.clone().text()).slice(0, 300);
  } catch {
    body = '<unreadable>';
  }
  return { status: response.status, contentType: response.headers.get('content-type'), body };
}

const results = {};
for (const url of process.argv.slice(2)) {
  const audits = await auditServer({ url });
  results[url] = await Promise.all(
    audits.map(async (result) => ({
      id: result.id,
      name: result.name,
      status: result.status,
      ...(result.status === 'ok' ? {} : { reason: result.reason, response: await seen(result.response) }),
    })),
  );
}
process.stdout.write(JSON.stringify(results));
