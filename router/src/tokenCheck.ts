// The router's check of bearer tokens: ES256 signatures by a key of the purchase subgraph's JWKS only (never
// `none`, never HS*: a token signed with a published key as an HMAC secret is refused), claims of the shape
// purchase gives them, sessions not ended. Verified with `jose`; a token checked once is remembered until it
// expires, so a hot token costs two map lookups rather than a signature check, and a remembered token is still
// refused once its key is retired or its session ends.
//
// Hive Gateway's own JWT support (the `jwt` option: @graphql-yoga/plugin-jwt over jsonwebtoken and jwks-rsa)
// was the first choice and does not meet the contract: a malformed token is a 400 there, an unknown key id a
// 500 ("Authentication is not available"), every refusal says "Unauthenticated" (never "Token expired" or why
// a session ended), each request pays a signature check, and ended sessions would need a plugin of their own.
import type { GatewayPlugin } from '@graphql-hive/gateway';
import { decodeProtectedHeader, errors, jwtVerify, type JWTPayload } from 'jose';

import { requestError } from './errorContract.ts';
import { type EndedSessions, sessionEnded } from './endedSessions.ts';
import { ALGORITHM, type KeyRing } from './keyRing.ts';

export const ISSUER = 'service-tree';
export const INVALID = 'Invalid token';
export const EXPIRED = 'Token expired';
export const BAD_SCHEME = "Authorization must be 'Bearer <token>'";
const ROLES = new Set(['CUSTOMER', 'ADMIN', 'SERVICE']);
const MAX_USER_ID = 2 ** 31 - 1;
/** Tokens remembered at most; past it the oldest are forgotten (and checked again if they come back). */
const REMEMBERED = 10_000;

/** What a request's Authorization header comes to: no problem (and the role of a good token), or why not. */
export interface Check {
  problem?: string;
  role?: string;
}

/** What the router asks of a request's Authorization header. */
export interface Tokens {
  check(authorization: string | null): Promise<Check>;
}

interface Verified {
  role: string;
  kid: string;
  /** Epoch seconds. */
  exp: number;
  sid: string | undefined;
}

/** The role of claims shaped as purchase signs them, or undefined. */
function roleOf(claims: JWTPayload): string | undefined {
  const { sub, role, sid } = claims as JWTPayload & { role?: unknown; sid?: unknown };
  if (typeof sub !== 'string' || typeof role !== 'string' || !ROLES.has(role)) return undefined;
  if (role === 'SERVICE') return sub.startsWith('service:') && sub.length > 8 && sid === undefined ? role : undefined;
  if (!/^[0-9]+$/.test(sub) || Number(sub) < 1 || Number(sub) > MAX_USER_ID) return undefined;
  return typeof sid === 'string' && sid ? role : undefined;
}

/** Tokens signed by a key of `ring` (the JWKS of the purchase subgraph) whose session has not `ended`. */
export function jwksTokens(ring: KeyRing, ended: EndedSessions): Tokens {
  const remembered = new Map<string, Verified>();

  const problem = (verified: Verified): string | undefined => {
    if (verified.exp * 1000 <= Date.now()) return EXPIRED;
    if (!ring.keys.has(verified.kid)) return INVALID; // its key was retired
    const gone = verified.sid === undefined ? undefined : ended.get(verified.sid);
    return gone ? sessionEnded(gone.reason) : undefined;
  };

  const verify = async (token: string): Promise<Verified | string> => {
    let kid: unknown;
    try {
      const header = decodeProtectedHeader(token);
      if (header.alg !== ALGORITHM) return INVALID;
      kid = header.kid;
    } catch {
      return INVALID;
    }
    if (typeof kid !== 'string' || !kid) return INVALID;
    const key = await ring.find(kid);
    if (!key) return INVALID;
    try {
      const { payload } = await jwtVerify(token, key, {
        algorithms: [ALGORITHM],
        issuer: ISSUER,
        requiredClaims: ['exp', 'iat', 'sub'],
      });
      const role = roleOf(payload);
      if (!role || typeof payload.exp !== 'number') return INVALID;
      return { role, kid, exp: payload.exp, sid: typeof payload.sid === 'string' ? payload.sid : undefined };
    } catch (error) {
      return error instanceof errors.JWTExpired ? EXPIRED : INVALID;
    }
  };

  return {
    async check(authorization) {
      if (!authorization) return {};
      const [scheme = '', token = ''] = authorization.trim().split(/\s+/, 2);
      if (scheme.toLowerCase() !== 'bearer' || !token) return { problem: BAD_SCHEME };
      let verified = remembered.get(token);
      if (!verified || !ring.keys.has(verified.kid)) {
        const outcome = await verify(token);
        if (typeof outcome === 'string') return { problem: outcome };
        if (remembered.size >= REMEMBERED) remembered.delete(remembered.keys().next().value!);
        remembered.set(token, outcome);
        verified = outcome;
      }
      const why = problem(verified);
      return why ? { problem: why } : { role: verified.role };
    },
  };
}

/**
 * A request with a bad token (malformed, expired, signed by a key not in the JWKS or with another algorithm, of
 * an unknown role, of an ended session) is refused here with 401 and UNAUTHENTICATED, before anything runs: a
 * bad token is not "no token", even for what the router answers alone. The subgraphs apply the same rule when
 * called directly.
 */
export function useTokenCheck(tokens: Tokens): GatewayPlugin {
  return {
    async onRequestParse({ request }) {
      const { problem } = await tokens.check(request.headers.get('authorization'));
      if (problem) {
        throw requestError(problem, 401, 'UNAUTHENTICATED', { 'www-authenticate': 'Bearer' });
      }
    },
  };
}
