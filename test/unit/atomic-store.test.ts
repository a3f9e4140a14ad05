import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StoreError } from '../../src/core/errors.ts';
import { openStore } from '../../src/store/open-store.ts';
import type { OpenedStore } from '../../src/store/opened-store.ts';
import { type RedisServer, startRedisServer, withoutRedis } from '../servers/redis-server.ts';

/**
 * The `Store` contract, the same for every backend: claims, sliding windows, counters and lists. (Across
 * processes on one SQLite file: test/e2e/sqlite-shared-file.test.ts.)
 */

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let dir: string;
let redis: RedisServer | undefined;
let files = 0;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'poquan-atomic-'));
  if (!withoutRedis) redis = await startRedisServer();
});
afterAll(async () => {
  await redis?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const backends: Array<[string, () => Promise<OpenedStore>]> = [
  ['memory', () => openStore('memory://', 'atomic-test')],
  ['SQLite', () => openStore(`sqlite://${join(dir, `store-${files++}.sqlite`)}`, 'atomic-test')],
  ['Redis', () => openStore((redis as RedisServer).url, `atomic-test-${files++}`)],
];

for (const [name, open] of backends) {
  describe.skipIf(name === 'Redis' && withoutRedis)(`the ${name} store`, () => {
    const withStore = async (run: (store: OpenedStore) => Promise<void>) => {
      const store = await open();
      try {
        await run(store);
      } finally {
        await store.close();
      }
    };

    it('lets exactly one of many concurrent callers claim a key, and others claim other keys', () =>
      withStore(async (store) => {
        const claims = await Promise.all(Array.from({ length: 10 }, () => store.claimOnce('u:1', 60_000)));
        expect(claims.filter(Boolean)).toHaveLength(1);
        expect(await store.claimOnce('u:2', 60_000)).toBe(true);
      }));

    it('lets a claim be taken again once it has expired', () =>
      withStore(async (store) => {
        expect(await store.claimOnce('short', 50)).toBe(true);
        await delay(120);
        expect(await store.claimOnce('short', 60_000)).toBe(true);
        expect(await store.claimOnce('short', 60_000)).toBe(false);
      }));

    it('admits at most the limit into a window and says when the oldest event leaves it', () =>
      withStore(async (store) => {
        const now = Date.now();
        const decisions = await Promise.all(
          Array.from({ length: 5 }, () => store.takeFromWindow('w', 3, 60_000, now)),
        );
        expect(decisions.filter((d) => d.allowed)).toHaveLength(3);
        expect(await store.takeFromWindow('w', 3, 60_000, now + 1000)).toEqual({
          allowed: false,
          retryAfterMs: 59_000,
        });
        expect(await store.takeFromWindow('w', 3, 60_000, now + 60_001)).toEqual({ allowed: true });
      }));

    it('adds to a counter atomically and returns each new total', () =>
      withStore(async (store) => {
        const totals = await Promise.all(
          Array.from({ length: 20 }, (_, i) => store.incrementBy('tokens', i + 1, 60_000)),
        );
        expect(Math.max(...totals)).toBe(210);
        expect(new Set(totals).size).toBe(20);
        expect(await store.incrementBy('tokens', -10, 60_000)).toBe(200);
        expect(await store.incrementBy('other', 7, 60_000)).toBe(7);
      }));

    it('starts a counter at zero with the expiry of its first increment, which later increments keep', () =>
      withStore(async (store) => {
        const started = Date.now();
        expect(await store.incrementBy('budget', 5, 1000)).toBe(5);
        // A later, longer TTL must not push the expiry out.
        expect(await store.incrementBy('budget', 3, 3_600_000)).toBe(8);
        await delay(started + 1500 - Date.now());
        expect(await store.incrementBy('budget', 2, 3_600_000)).toBe(2);
      }));

    it('refuses an amount that is not a whole number, as a StoreError, leaving the total alone', () =>
      withStore(async (store) => {
        await store.incrementBy('n', 1, 60_000);
        await expect(store.incrementBy('n', 1.5, 60_000)).rejects.toThrow(StoreError);
        expect(await store.incrementBy('n', 1, 60_000)).toBe(2);
      }));

    it('keeps every entry appended at once to a list, in order per writer, until the list expires', () =>
      withStore(async (store) => {
        await Promise.all(
          Array.from({ length: 30 }, (_, i) => store.appendToList('day', `entry-${i}`, 60_000)),
        );
        await store.appendToList('brief', 'gone soon', 50);
        const list = await store.readList('day');
        expect([...list].sort()).toEqual(Array.from({ length: 30 }, (_, i) => `entry-${i}`).sort());
        await store.appendToList('day', 'last', 60_000);
        expect((await store.readList('day')).at(-1)).toBe('last');
        await delay(120);
        expect(await store.readList('brief')).toEqual([]);
        expect(await store.readList('missing')).toEqual([]);
      }));

    it('keeps every member that concurrent writers add to a set, once each, until it is removed', () =>
      withStore(async (store) => {
        expect(await store.membersOf('work')).toEqual([]);
        const names = Array.from({ length: 12 }, (_, i) => `job-${i}`);
        await Promise.all([...names, 'job-0', 'job-1'].map((name) => store.addToSet('work', name)));
        expect((await store.membersOf('work')).sort()).toEqual([...names].sort());
        await Promise.all(names.slice(0, 6).map((name) => store.removeFromSet('work', name)));
        await store.removeFromSet('work', 'never-added');
        expect((await store.membersOf('work')).sort()).toEqual(names.slice(6).sort());
        expect(await store.membersOf('other')).toEqual([]);
      }));

    it('keeps keyed values with their TTL next to the atomic keys', () =>
      withStore(async (store) => {
        await store.set('memory:chat', [{ question: 'q' }], 60_000);
        await store.set('salt', 'forever');
        await store.set('brief', 'gone soon', 50);
        await delay(120);
        expect(await store.get('memory:chat')).toEqual([{ question: 'q' }]);
        expect(await store.getMany(['salt', 'brief', 'missing'])).toEqual(['forever', undefined, undefined]);
        expect(await store.delete('salt')).toBe(true);
        expect(await store.get('salt')).toBeUndefined();
        await store.ping();
      }));
  });
}
