// Tokens for tests, signed here as the purchase subgraph signs them (ES256 with a key of its JWKS), and the
// JWKS of the keys made here.
import { createHmac } from 'node:crypto';

import { exportJWK, generateKeyPair, SignJWT, type JWK, type KeyLike } from 'jose';

import type { JwksDocument } from '../src/keyRing.ts';

export interface TestKey {
  kid: string;
  privateKey: KeyLike;
  jwk: JWK;
}

/** A new ES256 key with id `kid`, and its public JWK as purchase publishes it. */
export async function newKey(kid: string): Promise<TestKey> {
  const { privateKey, publicKey } = await generateKeyPair('ES256');
  return { kid, privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' } };
}

/** The JWKS of `keys`. */
export const jwks = (...keys: TestKey[]): JwksDocument => ({ keys: keys.map((key) => key.jwk) });

/** Good claims of `role`, expiring in an hour (a user's with a session id). */
export function claims(role = 'CUSTOMER', sub = role === 'SERVICE' ? 'service:shop' : '1'): Record<string, unknown> {
  const now = Math.floor(Date.now() / 1000);
  return { iss: 'service-tree', sub, role, iat: now, exp: now + 3600, ...(role === 'SERVICE' ? {} : { sid: 'session-1' }) };
}

/** `claims` signed with `key` (under its kid, or `kid` when given). */
export function sign(claimsOf: Record<string, unknown>, key: TestKey, kid = key.kid): Promise<string> {
  return new SignJWT(claimsOf).setProtectedHeader({ alg: 'ES256', kid }).sign(key.privateKey);
}

const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** A JWT of `claims` under `header`, HMAC-signed with `secret` (or carrying `signature` as given): forgeries. */
export function hmacJwt(
  claimsOf: object,
  secret: string | Buffer,
  { header = { alg: 'HS256', typ: 'JWT' } as object, signature = undefined as string | undefined } = {},
): string {
  const signed = `${part(header)}.${part(claimsOf)}`;
  return `${signed}.${signature ?? createHmac('sha256', secret).update(signed).digest('base64url')}`;
}
