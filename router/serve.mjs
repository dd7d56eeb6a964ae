// Starts Hive Gateway's CLI (`node serve.mjs supergraph`, from router/; the same arguments as `hive-gateway`)
// with the playground's package loaded on first use instead of at start (src/laboratoryOnDemand.mjs says why).
import { register } from 'node:module';

register('./src/laboratoryOnDemand.mjs', import.meta.url);
// The CLI's own entry (its package exports only the library); what `node_modules/.bin/hive-gateway` links to.
await import('./node_modules/@graphql-hive/gateway/dist/bin.js');
