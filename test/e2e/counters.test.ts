import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/open-store.ts';
import type { OpenedStore } from '../../src/store/opened-store.ts';
import { type RedisServer, startRedisServer, withoutRedis } from '../servers/redis-server.ts';

/**
 * `AtomicStore.incrementBy`, the counter budgets are kept in, behaves alike on every store: concurrent
 * increments are never lost, a missing counter starts at 0, and its expiry is set once and never extended.
 */

let redis: RedisServer | undefined;
let dir: string;
const opened: OpenedStore[] = [];

beforeAll(async () => {
  if (!withoutRedis) redis = await startRedisServer();
  dir = await mkdtemp(join(tmpdir(), 'poquan-counters-'));
});

afterAll(async () => {
  await Promise.all(opened.map((store) => store.close().catch(() => undefined)));
  await redis?.stop();
  await rm(dir, { recursive: true, force: true });
});

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const stores: Array<[string, () => string]> = [
  ['memory', () => 'memory://'],
  ['sqlite', () => `sqlite://${join(dir, 'counters.sqlite')}`],
  ['redis', () => (redis as RedisServer).url],
];

for (const [kind, url] of stores) {
  describe.skipIf(kind === 'redis' && withoutRedis)(`incrementBy on the ${kind} store`, () => {
    async function open(): Promise<OpenedStore> {
      const store = await openStore(url(), `counters-${kind}`);
      opened.push(store);
      return store;
    }

    it('adds every concurrent increment exactly once and returns the running total', async () => {
      const atomic = await open();
      const totals = await Promise.all(
        Array.from({ length: 40 }, (_, i) => atomic.incrementBy('budget:test:sum', i + 1, 60_000)),
      );
      expect(Math.max(...totals)).toBe((40 * 41) / 2);
      expect(new Set(totals).size).toBe(40);
      expect(await atomic.incrementBy('budget:test:sum', 0, 60_000)).toBe(820);
    });

    it('starts a missing counter at 0 and keeps its first expiry however often it grows', async () => {
      const atomic = await open();
      expect(await atomic.incrementBy('budget:test:ttl', 0, 2000)).toBe(0);
      expect(await atomic.incrementBy('budget:test:ttl', 5, 2000)).toBe(5);
      await delay(1000);
      // Renewing the expiry here would keep the counter alive past its first two seconds.
      expect(await atomic.incrementBy('budget:test:ttl', 2, 2000)).toBe(7);
      await delay(1200);
      expect(await atomic.incrementBy('budget:test:ttl', 1, 2000)).toBe(1);
    });
  });
}

describe.skipIf(withoutRedis)('incrementBy on Redis shared by two instances', () => {
  it('counts into one total', async () => {
    const [a, b] = await Promise.all([
      openStore((redis as RedisServer).url, 'shared'),
      openStore((redis as RedisServer).url, 'shared'),
    ]);
    opened.push(a, b);
    await Promise.all(
      Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).incrementBy('budget:bot', 10, 60_000)),
    );
    expect(await a.incrementBy('budget:bot', 0, 60_000)).toBe(200);
  });
});
