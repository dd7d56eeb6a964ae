// The router's check of bearer tokens: HS256 with the secret the subgraphs sign with, written by hand. What the
// rest of the router needs of it is the `Tokens` interface and `useTokenCheck`; a verifier of another kind
// (keys from a JWKS endpoint, say) replaces `hs256Tokens` and nothing else.
import { createHmac, timingSafeEqual } from 'node:crypto';

import type { GatewayPlugin } from '@graphql-hive/gateway';

import { requestError } from './errorContract.ts';

// The subgraphs' default signing secret in development (subgraphs/_common/settings.py; a test keeps the two
// equal). Outside development SERVICE_TREE_JWT_SECRET must be set, here as for the subgraphs.
export const DEVELOPMENT_SECRET = 'development-only-secret-change-me-0123456789';
const ROLES = new Set(['CUSTOMER', 'ADMIN', 'SERVICE']);

/** What the router asks of a request's Authorization header. */
export interface Tokens {
  /** Why the header cannot be trusted, or undefined when it is absent or good. */
  problem(authorization: string | null): string | undefined;
  /** The role of a good bearer token, or undefined when there is none or it is bad. */
  role(authorization: string | null): string | undefined;
}

function decodePart(part: string): any {
  return JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
}

/** Why `authorization` is not a good token signed with `secret`, or undefined when it is one. */
function claimsProblem(authorization: string, secret: string): string | undefined {
  const [scheme = '', token = ''] = authorization.trim().split(/\s+/, 2);
  if (scheme.toLowerCase() !== 'bearer' || !token) return "Authorization must be 'Bearer <token>'";
  const parts = token.split('.');
  if (parts.length !== 3) return 'Invalid token';
  const [header, payload, signed] = parts as [string, string, string];
  try {
    if (decodePart(header).alg !== 'HS256') return 'Invalid token'; // never alg "none", nor another key type
    const expected = createHmac('sha256', secret).update(`${header}.${payload}`).digest();
    const signature = Buffer.from(signed, 'base64url');
    if (signature.length !== expected.length || !timingSafeEqual(signature, expected)) return 'Invalid token';
    const claims = decodePart(payload);
    if (typeof claims.exp !== 'number' || typeof claims.sub !== 'string') return 'Invalid token';
    if (claims.exp * 1000 <= Date.now()) return 'Token expired';
    if (!ROLES.has(claims.role)) return 'Invalid token';
  } catch {
    return 'Invalid token';
  }
  return undefined;
}

/** Tokens signed with HS256 and `secret` (as the purchase subgraph issues them), of a known role. */
export function hs256Tokens(secret: string): Tokens {
  return {
    problem: (authorization) => (authorization ? claimsProblem(authorization, secret) : undefined),
    role(authorization) {
      if (!authorization || claimsProblem(authorization, secret)) return undefined;
      const claims = decodePart(authorization.trim().split(/\s+/, 2)[1]!.split('.')[1]!);
      return typeof claims.role === 'string' ? claims.role : undefined;
    },
  };
}

/**
 * A request with a bad token (malformed, expired, signed with another key or another algorithm, of an unknown
 * role) is refused here with 401 and UNAUTHENTICATED, before anything runs: a bad token is not "no token",
 * even for what the router answers alone. The subgraphs apply the same rule when called directly.
 */
export function useTokenCheck(tokens: Tokens): GatewayPlugin {
  return {
    onRequestParse({ request }) {
      const problem = tokens.problem(request.headers.get('authorization'));
      if (problem) {
        throw requestError(problem, 401, 'UNAUTHENTICATED', { 'www-authenticate': 'Bearer' });
      }
    },
  };
}
