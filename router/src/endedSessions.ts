// Sessions ended while access tokens of theirs may still be live, as the router knows them: a map in memory,
// kept current by polling the purchase subgraph's feed (GET /sessions/ended?after=<cursor>) once a second, so
// a request costs one lookup and purchase one small query per second, whatever the request rate. An entry is
// dropped once every token of its session has expired. While the feed cannot be reached the last map stays
// (purchase down must not stop the shop selling), and the router says so in its log and in its metrics.
import { Gauge, register, type Registry } from 'prom-client';

/** Why a session ended (the feed's reason), as the refusal of its tokens says it. */
const REASONS: Record<string, string> = {
  LOGOUT: 'you logged out',
  LOGOUT_EVERYWHERE: 'you logged out everywhere',
  PASSWORD_CHANGED: 'the password was changed',
  ENDED: 'it was ended from another session',
  DISABLED: 'the account is disabled',
  REUSE: 'its refresh token was used twice',
  MISUSE: 'its refresh token was presented by another user',
};

/** The message that refuses a token of a session ended for `reason` (the subgraphs say the same). */
export function sessionEnded(reason: string): string {
  return `Session ended: ${REASONS[reason] ?? 'it was ended'}`;
}

export interface Ended {
  reason: string;
  /** Epoch seconds after which no token of the session can be live. */
  until: number;
}

interface FeedAnswer {
  cursor?: string;
  ended?: { sid: string; reason: string; until: number }[];
}

export class EndedSessions {
  private ended = new Map<string, Ended>();
  private cursor: string | undefined;
  private failing = false;
  /** When the feed last answered (epoch milliseconds), if ever. */
  answeredAt: number | undefined;

  constructor(
    private readonly source: (cursor: string | undefined) => Promise<FeedAnswer>,
    private readonly log: (message: string) => void = () => {},
  ) {}

  /** The ended session `sid`, if it has ended (as far as the router knows). */
  get(sid: string): Ended | undefined {
    return this.ended.get(sid);
  }

  /** Ask the feed what ended since the last answer; forget what can no longer have live tokens. */
  async poll(): Promise<void> {
    let answer: FeedAnswer;
    try {
      answer = await this.source(this.cursor);
    } catch (error) {
      if (!this.failing) this.log(`the ended-sessions feed cannot be read (${(error as Error).message}); keeping the last set`);
      this.failing = true;
      return;
    }
    if (this.failing) this.log('the ended-sessions feed answers again');
    this.failing = false;
    for (const entry of answer.ended ?? []) this.ended.set(String(entry.sid), { reason: String(entry.reason), until: Number(entry.until) });
    this.cursor = answer.cursor ?? this.cursor;
    this.answeredAt = Date.now();
    const now = this.answeredAt / 1000;
    for (const [sid, entry] of this.ended) if (entry.until < now) this.ended.delete(sid);
  }
}

/** The feed at `url` (purchase's /sessions/ended). */
export function remoteFeed(url: string, timeoutMs = 5_000): (cursor: string | undefined) => Promise<FeedAnswer> {
  return async (cursor) => {
    const target = new URL(url);
    if (cursor) target.searchParams.set('after', cursor);
    const response = await fetch(target, { signal: AbortSignal.timeout(timeoutMs) });
    if (!response.ok) throw new Error(`${url} answered ${response.status}`);
    return (await response.json()) as FeedAnswer;
  };
}

/** Run `round` every `intervalMs` (the next one only once the last has finished); the returned function stops. */
export function every(intervalMs: number, round: () => Promise<void>): () => void {
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const loop = async () => {
    await round();
    if (!stopped) timer = setTimeout(loop, intervalMs).unref();
  };
  void loop();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}

/** `service_tree_router_ended_sessions_age_seconds`: how long ago the feed last answered (NaN: never yet). */
export function feedAgeGauge(ended: EndedSessions, registry: Registry = register): Gauge {
  return new Gauge({
    name: 'service_tree_router_ended_sessions_age_seconds',
    help: "Seconds since the purchase subgraph's ended-sessions feed last answered the router",
    registers: [registry],
    collect() {
      this.set(ended.answeredAt === undefined ? Number.NaN : (Date.now() - ended.answeredAt) / 1000);
    },
  });
}
