import type { AtomicStore } from './store.ts';

/** The outcome of asking for one more answer: allowed, or refused with when to come back. */
export type RateDecision = { allowed: true } | { allowed: false; retryAfterSeconds: number };

/** Per-user question budget, shared by every adapter (and every instance on a shared store). */
export interface RateLimiter {
  take(userKey: string): Promise<RateDecision>;
}

const windowMs = 60_000;

/**
 * A sliding one-minute window of questions per user, counted atomically in the store so that a user
 * hitting two instances is counted once. `perMinute: 0` disables limiting.
 */
export function createRateLimiter(
  atomic: AtomicStore,
  perMinute: number,
  now: () => number = Date.now,
): RateLimiter {
  return {
    async take(userKey) {
      if (perMinute === 0) return { allowed: true };
      const decision = await atomic.takeFromWindow(`ratelimit:${userKey}`, perMinute, windowMs, now());
      return decision.allowed
        ? decision
        : { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil(decision.retryAfterMs / 1000)) };
    },
  };
}
