import { StoreError } from './errors.ts';

/** The outcome of taking one unit from a sliding window. */
export type WindowDecision = { allowed: true } | { allowed: false; retryAfterMs: number };

/**
 * The shared state every piece of Poquan keeps (memory, answer cache, feedback, counters, platform message
 * mappings), as the port the core owns; `src/store` implements it on memory, SQLite and Redis. Keys are the
 * families listed in `store-keys.ts`; values are anything JSON can hold. An entry given `ttlMs` is gone after
 * that many milliseconds; without it, it stays. Every operation fails with a `StoreError` (the backend's error
 * as its cause), never by returning a wrong value.
 *
 * The atomic operations hold across every process sharing the store (several instances on one Redis, or the
 * bot and `poquan chat` on one SQLite file).
 */
export interface Store {
  get<T>(key: string): Promise<T | undefined>;
  /** The values of `keys`, in order; `undefined` for a missing or expired key. */
  getMany<T>(keys: string[]): Promise<Array<T | undefined>>;
  set(key: string, value: unknown, ttlMs?: number): Promise<void>;
  /** True when the key existed. */
  delete(key: string): Promise<boolean>;
  /** True for the first caller to claim `key` within `ttlMs`, false for every later one. */
  claimOnce(key: string, ttlMs: number): Promise<boolean>;
  /** Records one event in a sliding window unless `limit` events already happened in the last `windowMs`. */
  takeFromWindow(key: string, limit: number, windowMs: number, now: number): Promise<WindowDecision>;
  /**
   * Adds the whole number `amount` to the counter at `key` and returns the new total. A missing (or expired)
   * counter starts at 0 and expires `ttlMs` after that first increment; later increments keep that expiry.
   */
  incrementBy(key: string, amount: number, ttlMs: number): Promise<number>;
  /**
   * Appends `value` to the list at `key`, which then expires `ttlMs` after this append. Two processes
   * appending at once both keep their entry; the list keeps the order the store received them in.
   */
  appendToList(key: string, value: string, ttlMs: number): Promise<void>;
  /** The list at `key`, oldest first; empty when missing or expired. */
  readList(key: string): Promise<string[]>;
  /** Adds `member` to the set at `key`; a set never expires, its members are removed one by one. */
  addToSet(key: string, member: string): Promise<void>;
  /** Removes `member` from the set at `key` (nothing happens if it is not there). */
  removeFromSet(key: string, member: string): Promise<void>;
  /** The members of the set at `key`, in no particular order; empty if there is no such set. */
  membersOf(key: string): Promise<string[]>;
}

/** The atomic operations alone, for the modules that need nothing else (rate limits, budgets, claims). */
export type AtomicStore = Pick<Store, 'claimOnce' | 'takeFromWindow' | 'incrementBy'>;

/** Runs a store operation, turning whatever the backend throws into a `StoreError` (one already is stays as it is). */
export async function withStore<T>(what: string, operation: () => Promise<T>): Promise<T> {
  try {
    return await operation();
  } catch (error) {
    if (error instanceof StoreError) throw error;
    throw new StoreError(`store ${what} failed: ${(error as Error).message}`, { cause: error });
  }
}
