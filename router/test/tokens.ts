// Tokens for tests, signed here with node's HMAC as the purchase subgraph signs them (HS256).
import { createHmac } from 'node:crypto';

const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** A JWT of `claims` under `header`, signed with `secret` (or carrying `signature` as given). */
export function jwt(
  claims: object,
  secret: string,
  { header = { alg: 'HS256', typ: 'JWT' } as object, signature = undefined as string | undefined } = {},
): string {
  const signed = `${part(header)}.${part(claims)}`;
  return `${signed}.${signature ?? createHmac('sha256', secret).update(signed).digest('base64url')}`;
}

/** Good claims of `role`, expiring in an hour. */
export function claims(role = 'CUSTOMER', sub = '1'): { sub: string; role: string; exp: number } {
  return { sub, role, exp: Math.floor(Date.now() / 1000) + 3600 };
}
