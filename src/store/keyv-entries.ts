import type Keyv from 'keyv';
import { type Store, withStore } from '../core/store.ts';

/** The plain key-value part of `Store`, read and written through Keyv (so every backend keeps Keyv's format). */
export type KeyValueEntries = Pick<Store, 'get' | 'getMany' | 'set' | 'delete'>;

/**
 * `Store`'s key-value operations over a Keyv instance; `ttlMs` absent or 0 keeps the entry for good. Failures are
 * `StoreError`s.
 */
export function keyvEntries(kv: Keyv): KeyValueEntries {
  return {
    get: <T>(key: string) => withStore('read', async () => (await kv.get<T>(key)) as T | undefined),
    getMany: <T>(keys: string[]) =>
      withStore('read', async () => (await kv.getMany<T>(keys)) as Array<T | undefined>),
    set: (key, value, ttlMs) =>
      withStore('write', async () => {
        await kv.set(key, value, ttlMs);
      }),
    delete: (key) => withStore('delete', () => kv.delete(key)),
  };
}

/** Counters count whole units (tokens, questions); Redis's INCRBY accepts nothing else. */
export function assertWholeAmount(amount: number): void {
  if (!Number.isSafeInteger(amount)) throw new RangeError(`incrementBy needs a whole number, got ${amount}`);
}
