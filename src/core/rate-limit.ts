import type { Store } from './store.ts';
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
  /**
   * Takes one of the user's questions this minute. With `turnId` (see `Turn.id`), a turn is counted once: the
   * same turn taken again (a replay after a stopped process) is allowed without taking another, however full
   * the window is by then.
   */
  take(userKey: string, turnId?: string): Promise<RateDecision>;
}

const windowMs = 60_000;
/** As long as a turn can be replayed: Telegram keeps an update a day, a Discord answer in flight is kept a day. */
const turnClaimTtlMs = 24 * 3_600_000;

/**
 * A sliding one-minute window of questions per user, counted atomically in the store so that a user
 * hitting two instances is counted once. `perMinute: 0` disables limiting. Of the refusals until the user may ask
 * again, exactly one (across instances) is `firstRefusal`; if the store can't tell, every refusal is.
 *
 * A turn with an id claims it before taking from the window (`storeKeys.rateLimitTurn`), so whichever process
 * handles the turn again finds it counted. A refused turn gives its claim back: replayed, it is a question like
 * any other (a claim the store fails to give back lets that one replay through, never refuses one).
 */
export function createRateLimiter(
  atomic: Pick<Store, 'claimOnce' | 'takeFromWindow' | 'delete'>,
  perMinute: number,
  now: () => number = Date.now,
): RateLimiter {
  return {
    async take(userKey, turnId) {
      if (perMinute === 0) return { allowed: true };
      const turnKey = turnId === undefined ? undefined : storeKeys.rateLimitTurn(turnId);
      if (turnKey && !(await atomic.claimOnce(turnKey, turnClaimTtlMs))) return { allowed: true };
      const at = now();
      const decision = await atomic.takeFromWindow(storeKeys.rateWindow(userKey), perMinute, windowMs, at);
      if (decision.allowed) return decision;
      if (turnKey) await atomic.delete(turnKey).catch(() => false);
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
