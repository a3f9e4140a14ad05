import { type Store, withStore } from './store.ts';

/** The outcome of asking for one more answer: allowed, or refused with when to come back. */
export type RateDecision = { allowed: true } | { allowed: false; retryAfterSeconds: number };

/** Per-user question budget, shared by every adapter so a user can't double it by switching platforms. */
export interface RateLimiter {
  take(userKey: string): Promise<RateDecision>;
}

const windowMs = 60_000;

/**
 * A sliding one-minute window of question timestamps per user, kept in the store. `perMinute: 0`
 * disables limiting.
 */
export function createRateLimiter(
  store: Store,
  perMinute: number,
  now: () => number = Date.now,
): RateLimiter {
  return {
    async take(userKey) {
      if (perMinute === 0) return { allowed: true };
      const key = `ratelimit:${userKey}`;
      const time = now();
      const recent = ((await withStore('read', () => store.get<number[]>(key))) ?? []).filter(
        (at) => at > time - windowMs,
      );
      if (recent.length >= perMinute) {
        const oldest = recent[0] as number;
        return {
          allowed: false,
          retryAfterSeconds: Math.max(1, Math.ceil((oldest + windowMs - time) / 1000)),
        };
      }
      recent.push(time);
      await withStore('write', () => store.set(key, recent, windowMs));
      return { allowed: true };
    },
  };
}
