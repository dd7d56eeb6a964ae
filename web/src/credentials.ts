// The session's credentials, outside React so that every component and hook shares one copy.
//
// The access token lives in memory only, never in storage. The refresh token (with the user it names) lives in
// this tab's sessionStorage rather than in memory: a reload keeps the user logged in (in memory, every reload
// would mean logging in again), and closing the tab forgets it. localStorage is never used: shared by every tab,
// one refresh token would be spent by two tabs, and the API ends the whole session when a spent one comes back
// (reuse means theft). So each tab logs in to a session of its own (the Sessions page lists them), and a tab
// copied with its sessionStorage ("Duplicate", window.open) finds the session held by the tab it came from (a Web
// Lock named for it) and leaves it alone. The cost of sessionStorage: a script injected into the page could read
// the refresh token (as it could use the access token in memory); rotation bounds that, since whichever of the
// thief and the tab refreshes second ends the session.
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';

import { ApiError, request } from './api';
import { readable, refusesToken } from './errors';
import { LogoutDocument, RefreshSessionDocument, type Role, type SessionPairFragment } from './gql/graphql';

export interface SessionUser {
  id: string;
  login: string;
  firstName: string;
  role: Role;
}

/** Logged in as `user`, or not, with why the user was sent to the login page (shown there once). */
export type SessionState = { user: SessionUser; notice: null } | { user: null; notice: string | null };

interface Stored {
  refreshToken: string;
  /** The name of the Web Lock the tab using this session holds. */
  holder: string;
  user: SessionUser;
}

const KEY = 'service-tree.session';
// Refreshed this long before the access token expires (a fifth of its life when that is shorter), so a request
// never leaves with a token about to expire; 10 minutes by default, so about every 9 minutes.
const MARGIN_MS = 60_000;
// After a refresh failed for a passing reason (the network), the next attempt this much later.
const RETRY_MS = 10_000;
// A reloaded page may start before the lock of the page it replaces is released: it waits this long for it.
const LOCK_WAIT_MS = 3_000;
const COPIED =
  'This tab was copied from a tab where you are logged in, which keeps that session. Log in here to use this tab too.';

function read(): Stored | null {
  try {
    const raw = sessionStorage.getItem(KEY);
    return raw ? (JSON.parse(raw) as Stored) : null;
  } catch {
    return null;
  }
}

/** How long an access token lives, by its own claims (exp - iat), which no difference between this clock and
 * the server's changes; by the answer's expiresAt if the claims cannot be read. */
function lifeOf(token: string, expiresAt: string): number {
  try {
    const payload = token.split('.')[1] ?? '';
    const claims = JSON.parse(atob(payload.replace(/-/g, '+').replace(/_/g, '/'))) as { exp?: unknown; iat?: unknown };
    if (typeof claims.exp === 'number' && typeof claims.iat === 'number') return (claims.exp - claims.iat) * 1000;
  } catch {
    // not a JWT we can read: the answer's expiry, by this clock
  }
  return Date.parse(expiresAt) - Date.now();
}

/** Holds the Web Lock `name` until the returned release is called (or the page goes); null when another tab
 * still holds it after `waitMs`. Without Web Locks (an insecure context) there is nothing to check. */
function hold(name: string, waitMs?: number): Promise<(() => void) | null> {
  if (!('locks' in navigator)) return Promise.resolve(() => undefined);
  return new Promise((resolve) => {
    let release: () => void = () => undefined;
    const held = new Promise<void>((done) => (release = done));
    const options = waitMs === undefined ? {} : { signal: AbortSignal.timeout(waitMs) };
    navigator.locks
      .request(name, options, () => {
        resolve(release);
        return held;
      })
      .catch(() => resolve(null)); // still held elsewhere when the wait ran out
  });
}

class Credentials {
  private state: SessionState = { user: null, notice: null };
  private readonly listeners = new Set<() => void>();
  private refreshToken: string | null = null;
  private access: { token: string; refreshAt: number } | null = null;
  /** The refresh under way: every caller that needs one joins it (one refresh token, spent once). */
  private refreshing: Promise<string> | null = null;
  /** Refreshes and pair-replacing operations (changePassword) run one after another, never side by side. */
  private tail: Promise<unknown> = Promise.resolve();
  private timer: number | undefined;
  private release: () => void = () => undefined;
  /** Until the tab knows the stored session is its own (the lock), nothing refreshes. */
  private ready: Promise<void> = Promise.resolve();
  /** Grows whenever the session is replaced or ended, so that a late answer about an older one is dropped. */
  private generation = 0;

  constructor() {
    const stored = read();
    if (!stored) return;
    this.state = { user: stored.user, notice: null };
    this.refreshToken = stored.refreshToken;
    const generation = this.generation;
    this.ready = hold(stored.holder, LOCK_WAIT_MS).then((release) => {
      if (generation !== this.generation) {
        release?.();
      } else if (release) {
        this.release = release;
      } else {
        // Another tab holds this session: spending its refresh token here would end it for both.
        this.refreshToken = null;
        this.end(COPIED);
      }
    });
    // At once rather than at the first request: a session that ended while the page was closed shows now.
    void this.token().catch(() => undefined);
  }

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  snapshot = (): SessionState => this.state;

  private set(state: SessionState): void {
    this.state = state;
    for (const listener of this.listeners) listener();
  }

  /** Start using a pair: after login or register (a new session) or changePassword (the same one renewed). */
  begin(pair: SessionPairFragment): void {
    const previous = this.refreshToken;
    // Logged in again over a session (the login page is open to all): the page keeps one, so that one ends.
    if (previous) void request(LogoutDocument, { refreshToken: previous }, null).catch(() => undefined);
    this.release();
    this.generation += 1;
    const generation = this.generation;
    const holder = `service-tree.session.${crypto.randomUUID()}`;
    void hold(holder).then((release) => {
      if (generation === this.generation && release) this.release = release;
      else release?.();
    });
    this.ready = Promise.resolve();
    this.accept(pair, holder);
    this.set({ user: pair.user, notice: null });
  }

  private accept(pair: SessionPairFragment, holder: string | undefined = read()?.holder): void {
    this.refreshToken = pair.refreshToken;
    sessionStorage.setItem(KEY, JSON.stringify({ refreshToken: pair.refreshToken, holder, user: pair.user }));
    const life = lifeOf(pair.token, pair.expiresAt);
    const refreshAt = Date.now() + life - Math.min(MARGIN_MS, life / 5);
    this.access = { token: pair.token, refreshAt };
    this.schedule(refreshAt - Date.now());
    if (this.state.user && JSON.stringify(this.state.user) !== JSON.stringify(pair.user)) {
      this.set({ user: pair.user, notice: null });
    }
  }

  private schedule(delay: number): void {
    window.clearTimeout(this.timer);
    const token = this.access?.token ?? null;
    this.timer = window.setTimeout(() => void this.refresh(token).catch(() => undefined), Math.max(0, delay));
  }

  /** Forget the session (the page goes to the login page, saying `notice`); the API is not told. */
  end(notice: string | null): void {
    this.generation += 1;
    window.clearTimeout(this.timer);
    this.release();
    this.release = () => undefined;
    this.refreshToken = null;
    this.access = null;
    sessionStorage.removeItem(KEY);
    this.set({ user: null, notice });
    window.location.hash = '#/login';
  }

  /** Log out: the page forgets the session at once, and the API ends it (with its refresh token). */
  async logOut(): Promise<void> {
    const refreshToken = this.refreshToken;
    this.end(null);
    // Whatever the answer: the page is logged out. The token of a refresh under way belongs to the same session.
    if (refreshToken) await request(LogoutDocument, { refreshToken }, null).catch(() => undefined);
  }

  /** An access token good for a while yet: the one in memory, or a new one. */
  private async token(): Promise<string> {
    await this.ready;
    if (this.access && Date.now() < this.access.refreshAt) return this.access.token;
    return this.refresh(this.access?.token ?? null);
  }

  /** The access token a live connection presents (null when logged out): the one in memory, or a new one. */
  async liveToken(): Promise<string | null> {
    if (!this.refreshToken) return null;
    return this.token();
  }

  /** A new access token in place of `stale`, which a live subscription had refused (it expired, or its session
   * ended elsewhere). When the session is over the page goes to the login page with the reason, and this throws. */
  renewed(stale: string): Promise<string> {
    return this.refresh(stale);
  }

  /** A new access token in place of `stale` (null: none yet). One refresh at a time, joined by every caller;
   * a caller whose stale token was already replaced gets the new one without another refresh. */
  private refresh(stale: string | null): Promise<string> {
    if (this.access && this.access.token !== stale) return Promise.resolve(this.access.token);
    if (!this.refreshing) {
      this.refreshing = this.exclusive(() => this.trade(stale)).finally(() => (this.refreshing = null));
    }
    return this.refreshing;
  }

  private async trade(stale: string | null): Promise<string> {
    if (this.access && this.access.token !== stale) return this.access.token; // renewed while this waited
    const refreshToken = this.refreshToken;
    if (!refreshToken) throw new ApiError('You are not logged in.', 'UNAUTHENTICATED');
    const generation = this.generation;
    let pair: SessionPairFragment;
    try {
      pair = (await request(RefreshSessionDocument, { refreshToken }, null)).refreshSession;
    } catch (error) {
      if (generation === this.generation) {
        // Refused: the session is over, and the refusal says why. Anything else (the network) passes.
        if (error instanceof ApiError && error.code === 'UNAUTHENTICATED') this.end(readable(error));
        else this.schedule(RETRY_MS);
      }
      throw error;
    }
    // Logged out or replaced meanwhile: this pair is of a session the page has left (logout ended it).
    if (generation !== this.generation) throw new ApiError('You are not logged in.', 'UNAUTHENTICATED');
    this.accept(pair);
    return pair.token;
  }

  private exclusive<T>(run: () => Promise<T>): Promise<T> {
    const result = this.tail.then(run, run);
    this.tail = result.catch(() => undefined);
    return result;
  }

  /** Runs `document` with the session's access token, if logged in. When the API refuses the token (expired
   * by its clock, or the session ended elsewhere), one refresh and one more try; refused again, the session
   * ends and the page goes to the login page with the reason. */
  async call<TResult, TVariables>(
    document: TypedDocumentNode<TResult, TVariables>,
    variables: TVariables,
  ): Promise<TResult> {
    if (!this.refreshToken) return request(document, variables, null);
    const generation = this.generation;
    const token = await this.token();
    try {
      return await request(document, variables, token);
    } catch (error) {
      if (!refusesToken(error) || generation !== this.generation) throw error;
      const renewed = await this.refresh(token); // refused too: the session has ended (refresh says why)
      try {
        return await request(document, variables, renewed);
      } catch (again) {
        if (refusesToken(again) && generation === this.generation) this.end(readable(again));
        throw again;
      }
    }
  }

  /** Runs an operation whose answer is this session's next pair (changePassword), with no refresh alongside:
   * the operation spends the session's refresh tokens, so one spent alongside would count as reuse. */
  async renew<TResult, TVariables>(
    document: TypedDocumentNode<TResult, TVariables>,
    variables: TVariables,
    pairOf: (result: TResult) => SessionPairFragment,
  ): Promise<TResult> {
    const generation = this.generation;
    const token = await this.token();
    return this.exclusive(async () => {
      let result: TResult;
      try {
        result = await request(document, variables, token);
      } catch (error) {
        if (refusesToken(error) && generation === this.generation) this.end(readable(error));
        throw error;
      }
      if (generation === this.generation) this.accept(pairOf(result));
      return result;
    });
  }
}

export const credentials = new Credentials();
