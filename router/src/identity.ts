// The router's view of the identity the purchase subgraph (the one signer) keeps: its public keys and its ended
// sessions, kept current in the background (src/keyRing.ts, src/endedSessions.ts), and the token check made of
// them (src/tokenCheck.ts), which every check of a caller's token shares.
import { register, type Registry } from 'prom-client';

import { EndedSessions, every, feedAgeGauge, remoteFeed } from './endedSessions.ts';
import { JWKS_PATH, KeyRing, remoteJwks } from './keyRing.ts';
import { jwksTokens, type Tokens } from './tokenCheck.ts';

/** An unknown key id is fetched at once, at most once per this many milliseconds. */
const KEY_COOLDOWN_MS = 1_000;

export interface IdentitySettings {
  /** The purchase subgraph's base URL. */
  url: string;
  /** How often the JWKS is read again (a retired key's tokens are refused within it). */
  jwksMaxAgeMs: number;
  /** How often the ended sessions are asked for (an ended session's tokens are refused within it). */
  endedSessionsPollMs: number;
}

export interface Identity {
  keys: KeyRing;
  ended: EndedSessions;
  tokens: Tokens;
  /** Stops the background reads. */
  stop(): void;
}

/**
 * Reads the JWKS and the ended sessions of `settings.url` now and then every max age and poll interval,
 * `log` saying when either cannot be read; the feed's age is a metric of `registry`.
 */
export function startIdentity(
  settings: IdentitySettings,
  log: (message: string) => void,
  registry: Registry = register,
): Identity {
  const keys = new KeyRing(remoteJwks(`${settings.url}${JWKS_PATH}`), KEY_COOLDOWN_MS, log);
  const ended = new EndedSessions(remoteFeed(`${settings.url}/sessions/ended`), log);
  const stops = [
    every(settings.jwksMaxAgeMs, () => keys.refresh()),
    every(settings.endedSessionsPollMs, () => ended.poll()),
  ];
  feedAgeGauge(ended, registry);
  return { keys, ended, tokens: jwksTokens(keys, ended), stop: () => stops.forEach((stop) => stop()) };
}
