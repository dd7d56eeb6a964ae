// The public keys the router trusts: the JWKS of the purchase subgraph (the one signer), kept in memory, read
// again every max age (so a retired key is refused within it) and at once for a key id never seen, at most
// once per cooldown: a flood of made-up key ids costs one fetch per cooldown, not one per request. The router
// serves the same document at its own GET /.well-known/jwks.json.
import type { GatewayPlugin } from '@graphql-hive/gateway';
import { importJWK, type JWK, type KeyLike } from 'jose';

export const ALGORITHM = 'ES256';
export const JWKS_PATH = '/.well-known/jwks.json';

export interface JwksDocument {
  keys: JWK[];
}

/** The keys by id, fetched from `source`; `document` is what was fetched (its ES256 signing keys only). */
export class KeyRing {
  keys = new Map<string, KeyLike | Uint8Array>();
  document: JwksDocument = { keys: [] };
  private fetchedAt = -Infinity;
  private running: Promise<void> = Promise.resolve();

  constructor(
    private readonly source: () => Promise<JwksDocument>,
    private readonly cooldownMs: number,
    private readonly log: (message: string) => void = () => {},
  ) {}

  /** Fetch now (the periodic refresh); a failure keeps the keys already known. */
  refresh(): Promise<void> {
    this.running = this.running.then(() => this.fetch());
    return this.running;
  }

  /**
   * The key `kid`, fetching the JWKS again when it is unknown: coalesced (a request that arrived before a fetch
   * started takes that fetch's answer), at most once per cooldown (later requests wait for it).
   */
  async find(kid: string): Promise<KeyLike | Uint8Array | undefined> {
    const known = this.keys.get(kid);
    if (known) return known;
    const arrived = performance.now();
    this.running = this.running.then(async () => {
      if (this.fetchedAt >= arrived) return;
      const wait = this.fetchedAt + this.cooldownMs - performance.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      await this.fetch();
    });
    await this.running;
    return this.keys.get(kid);
  }

  private async fetch(): Promise<void> {
    this.fetchedAt = performance.now();
    let document: JwksDocument;
    try {
      document = await this.source();
    } catch (error) {
      this.log(`could not fetch the JWKS: ${(error as Error).message}`);
      return;
    }
    const keys = new Map<string, KeyLike | Uint8Array>();
    const published: JWK[] = [];
    for (const jwk of Array.isArray(document?.keys) ? document.keys : []) {
      // Only public P-256 signing keys: anything else in the set is never trusted.
      if (jwk?.kty !== 'EC' || jwk.crv !== 'P-256' || 'd' in jwk || typeof jwk.kid !== 'string' || !jwk.kid) continue;
      if ((jwk.alg ?? ALGORITHM) !== ALGORITHM || (jwk.use ?? 'sig') !== 'sig') continue;
      try {
        keys.set(jwk.kid, await importJWK(jwk, ALGORITHM));
        published.push(jwk);
      } catch {
        this.log(`ignoring a JWKS entry that is not a usable key: ${jwk.kid}`);
      }
    }
    this.keys = keys;
    this.document = { keys: published };
  }
}

/** The JWKS as fetched from `url` (purchase's /.well-known/jwks.json). */
export function remoteJwks(url: string, timeoutMs = 5_000): () => Promise<JwksDocument> {
  return async () => {
    const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    if (!response.ok) throw new Error(`${url} answered ${response.status}`);
    return (await response.json()) as JwksDocument;
  };
}

/** Serves the router's copy of the JWKS at GET /.well-known/jwks.json (public keys only). */
export function useJwks(ring: KeyRing): GatewayPlugin {
  return {
    async onRequest({ request, url, endResponse, fetchAPI }) {
      if (url.pathname !== JWKS_PATH || (request.method !== 'GET' && request.method !== 'HEAD')) return;
      if (ring.keys.size === 0) await ring.refresh(); // not fetched yet (purchase was down when asked)
      endResponse(
        new fetchAPI.Response(request.method === 'HEAD' ? null : JSON.stringify(ring.document), {
          status: 200,
          headers: { 'content-type': 'application/json', 'cache-control': 'max-age=60' },
        }),
      );
    },
  };
}
