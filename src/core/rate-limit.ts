import type { AtomicStore } from './store.ts';
import { storeKeys } from './store-keys.ts';

/**
 * The outcome of asking for one more answer: allowed, or refused with when to come back. `firstRefusal` is true
 * for the first refusal until the user may ask again: the one that deserves a notice. The later ones in that
 * stretch are better ignored, so a user (or a whole group) hammering the bot gets one notice, not one per message.
 */
export type RateDecision =
  | { allowed: true }
  | { allowed: false; retryAfterSeconds: number; firstRefusal: boolean };

/** Per-user question budget, shared by every adapter (and every instance on a shared store). */
export interface RateLimiter {
  take(userKey: string): Promise<RateDecision>;
}

const windowMs = 60_000;

/**
 * A sliding one-minute window of questions per user, counted atomically in the store so that a user
 * hitting two instances is counted once. `perMinute: 0` disables limiting. Of the refusals until the user may ask
 * again, exactly one (across instances) is `firstRefusal`; if the store can't tell, every refusal is.
 */
export function createRateLimiter(
  atomic: AtomicStore,
  perMinute: number,
  now: () => number = Date.now,
): RateLimiter {
  return {
    async take(userKey) {
      if (perMinute === 0) return { allowed: true };
      const at = now();
      const decision = await atomic.takeFromWindow(storeKeys.rateWindow(userKey), perMinute, windowMs, at);
      if (decision.allowed) return decision;
      // Every refusal until the oldest question leaves the window shares that moment, and so this key.
      const reopensAt = at + decision.retryAfterMs;
      const ttlMs = Math.max(1, decision.retryAfterMs);
      const firstRefusal = await atomic
        .claimOnce(storeKeys.rateLimitNotice(userKey, reopensAt), ttlMs)
        .catch(() => true);
      return {
        allowed: false,
        retryAfterSeconds: Math.max(1, Math.ceil(decision.retryAfterMs / 1000)),
        firstRefusal,
      };
    },
  };
}
