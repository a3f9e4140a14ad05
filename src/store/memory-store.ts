import Keyv from 'keyv';
import { createKeyedQueue } from '../core/keyed-queue.ts';
import { withStore } from '../core/store.ts';
import { assertWholeAmount, keyvEntries } from './keyv-entries.ts';
import { createMemoryWorkQueue } from './memory-queue.ts';
import type { OpenedStore } from './opened-store.ts';

/**
 * A store only this process can see (tests, throwaway runs). A per-key promise chain serializes every
 * read-modify-write, which is all the atomicity one process needs.
 */
export function openMemoryStore(namespace: string): OpenedStore {
  const kv = new Keyv({ namespace, throwOnErrors: true });
  kv.on('error', () => {});
  // One process sees this store, so serializing each key's read-modify-write here is all the atomicity it needs.
  const serialized = createKeyedQueue();
  return {
    kind: 'memory',
    ...keyvEntries(kv),
    claimOnce: (key, ttlMs) =>
      serialized(key, () =>
        withStore('claim', async () => {
          if ((await kv.get(key)) !== undefined) return false;
          await kv.set(key, 1, ttlMs);
          return true;
        }),
      ),
    takeFromWindow: (key, limit, windowMs, now) =>
      serialized(key, () =>
        withStore('rate window', async () => {
          const recent = ((await kv.get<number[]>(key)) ?? []).filter((at) => at > now - windowMs);
          if (recent.length >= limit) {
            return { allowed: false, retryAfterMs: (recent[0] as number) + windowMs - now } as const;
          }
          recent.push(now);
          await kv.set(key, recent, windowMs);
          return { allowed: true } as const;
        }),
      ),
    incrementBy: (key, amount, ttlMs) =>
      serialized(key, () =>
        withStore('increment', async () => {
          assertWholeAmount(amount);
          const current = await kv.getRaw<number>(key);
          const total = (typeof current?.value === 'number' ? current.value : 0) + amount;
          const remainingMs = typeof current?.expires === 'number' ? current.expires - Date.now() : ttlMs;
          await kv.set(key, total, Math.max(remainingMs, 1));
          return total;
        }),
      ),
    appendToList: (key, value, ttlMs) =>
      serialized(key, () =>
        withStore('append', async () => {
          const list = (await kv.get<string[]>(key)) ?? [];
          await kv.set(key, [...list, value], ttlMs);
        }),
      ),
    readList: (key) => withStore('read list', async () => (await kv.get<string[]>(key)) ?? []),
    addToSet: (key, member) =>
      serialized(key, () =>
        withStore('set add', async () => {
          const members = (await kv.get<string[]>(key)) ?? [];
          if (!members.includes(member)) await kv.set(key, [...members, member]);
        }),
      ),
    removeFromSet: (key, member) =>
      serialized(key, () =>
        withStore('set remove', async () => {
          const members = (await kv.get<string[]>(key)) ?? [];
          if (members.includes(member))
            await kv.set(
              key,
              members.filter((m) => m !== member),
            );
        }),
      ),
    membersOf: (key) => withStore('set read', async () => (await kv.get<string[]>(key)) ?? []),
    openQueue: (_name, options) => createMemoryWorkQueue(options),
    ping: async () => {},
    close: () => kv.disconnect(),
  };
}
