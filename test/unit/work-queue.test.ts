import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect } from 'vitest';
import type { QueuedItem, WorkQueue } from '../../src/core/work-queue.ts';
import { openStore } from '../../src/store/open-store.ts';
import type { OpenedStore } from '../../src/store/opened-store.ts';
import type { Cleanups } from '../e2e/harness.ts';
import { it } from '../fixtures/it.ts';
import { startRedisServer, withoutRedis } from '../servers/redis-server.ts';

/**
 * The work queue behind Telegram webhooks, as each store implements it: every item is held by one consumer at a
 * time, taken over once its holder's lease runs out, begun in order within its group, and remembered once
 * finished. Two consumers are two stores opened on the same file or Redis, as two processes open them.
 */

/** Long enough that a busy machine never lets a lease run out between two steps that expect it held. */
const leaseMs = 3000;
const retentionMs = 60_000;

/** Opens the store at `url` once per consumer and the queue `updates` in each. */
async function consumers(cleanups: Cleanups, url: string, names: string[]): Promise<WorkQueue[]> {
  const queues: WorkQueue[] = [];
  for (const name of names) {
    const store: OpenedStore = await openStore(url, 'queue-test');
    cleanups.push(() => store.close());
    queues.push(store.openQueue('updates', { consumer: name, leaseMs, retentionMs }));
  }
  return queues;
}

const item = (id: number, group = 'chat-1') => ({ id: String(id), group, payload: `{"update_id":${id}}` });
const ids = (items: QueuedItem[]) => items.map((queued) => queued.id);
const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** What `queue` claims once there is something (a lease ran out); fails after a few leases. */
async function claimOnceFree(queue: WorkQueue): Promise<QueuedItem[]> {
  for (let tries = 0; tries < 100; tries++) {
    const taken = await queue.claim(10, true);
    if (taken.length > 0) return taken;
    await delay(leaseMs / 10);
  }
  throw new Error('nothing to claim after ten leases');
}

const backends: Array<{
  name: string;
  shared: boolean;
  skip: boolean;
  url: (cleanups: Cleanups) => Promise<string>;
}> = [
  { name: 'memory', shared: false, skip: false, url: async () => 'memory://' },
  {
    name: 'SQLite',
    shared: true,
    skip: false,
    url: async (cleanups) => {
      const dir = mkdtempSync(join(tmpdir(), 'poquan-queue-'));
      cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
      return `sqlite://${join(dir, 'queue.sqlite')}`;
    },
  },
  {
    name: 'Redis',
    shared: true,
    skip: withoutRedis,
    url: async (cleanups) => {
      const redis = await startRedisServer();
      cleanups.push(() => redis.stop());
      return redis.url;
    },
  },
];

for (const backend of backends) {
  describe.skipIf(backend.skip)(`the ${backend.name} work queue`, () => {
    const open = async (cleanups: Cleanups, names: string[]) =>
      consumers(cleanups, await backend.url(cleanups), names);

    it('stores an item once, and recognises it until and after it is finished', async ({ cleanups }) => {
      const [queue] = (await open(cleanups, ['a'])) as [WorkQueue];
      expect(await queue.add(item(1))).toBe('added');
      expect(await queue.add(item(1))).toBe('pending');
      const [claimed] = await queue.claim(10, true);
      expect(claimed).toMatchObject({ id: '1', group: 'chat-1', payload: '{"update_id":1}' });
      expect(await queue.begin(claimed as QueuedItem)).toEqual({ start: true, attempts: 1 });
      await queue.finish(claimed as QueuedItem);
      expect(await queue.add(item(1))).toBe('finished');
      expect(await queue.claim(10, true)).toEqual([]);
    });

    it('hands out items nobody claimed yet only to a claim that asks for new ones', async ({ cleanups }) => {
      const [queue] = (await open(cleanups, ['a'])) as [WorkQueue];
      await queue.add(item(1));
      expect(await queue.claim(10, false)).toEqual([]);
      expect(ids(await queue.claim(10, true))).toEqual(['1']);
    });

    it("begins a group's items in the order they were added, other groups alongside", async ({
      cleanups,
    }) => {
      const [queue] = (await open(cleanups, ['a'])) as [WorkQueue];
      for (const queued of [item(1), item(2), item(3, 'chat-2')]) await queue.add(queued);
      const [first, second, other] = (await queue.claim(10, true)) as [QueuedItem, QueuedItem, QueuedItem];
      expect(ids([first, second, other])).toEqual(['1', '2', '3']);
      expect(await queue.begin(second)).toEqual({ start: false, reason: 'wait' });
      expect(await queue.begin(first)).toEqual({ start: true, attempts: 1 });
      expect(await queue.begin(other)).toEqual({ start: true, attempts: 1 });
      expect(await queue.begin(second)).toEqual({ start: false, reason: 'wait' });
      await queue.finish(first);
      expect(await queue.begin(second)).toEqual({ start: true, attempts: 1 });
    });

    it.skipIf(!backend.shared)(
      'gives an item to one consumer, and to another once the holder stops renewing it',
      async ({ cleanups }) => {
        const [a, b] = (await open(cleanups, ['a', 'b'])) as [WorkQueue, WorkQueue];
        await a.add(item(1));
        const [held] = (await a.claim(10, true)) as [QueuedItem];
        expect(await a.begin(held)).toEqual({ start: true, attempts: 1 });
        expect(await b.claim(10, true)).toEqual([]);
        // Renewed after most of a lease, the item stays `a`'s past the end of its first lease.
        await delay(leaseMs * 0.6);
        expect(await a.renew([held])).toEqual([]);
        await delay(leaseMs * 0.6);
        expect(await b.claim(10, true)).toEqual([]);
        // `a` stops renewing (it was killed): `b` takes the item over and starts it as a second attempt.
        const taken = await claimOnceFree(b);
        expect(ids(taken)).toEqual(['1']);
        expect(await b.begin(taken[0] as QueuedItem)).toEqual({ start: true, attempts: 2 });
        expect(await a.begin(held)).toEqual({ start: false, reason: 'lost' });
        expect(await a.renew([held])).toEqual([held.ref]);
        expect(await a.add(item(1))).toBe('pending');
        await b.finish(taken[0] as QueuedItem);
        expect(await a.add(item(1))).toBe('finished');
      },
    );

    it.skipIf(!backend.shared)(
      "keeps a group's order across consumers: the later item waits for the earlier one's holder",
      async ({ cleanups }) => {
        const [a, b] = (await open(cleanups, ['a', 'b'])) as [WorkQueue, WorkQueue];
        await a.add(item(1));
        await b.add(item(2));
        const [first] = (await a.claim(1, true)) as [QueuedItem];
        const [second] = (await b.claim(10, true)) as [QueuedItem];
        expect([first.id, second.id]).toEqual(['1', '2']);
        expect(await b.begin(second)).toEqual({ start: false, reason: 'wait' });
        expect(await a.begin(first)).toEqual({ start: true, attempts: 1 });
        expect(await b.begin(second)).toEqual({ start: false, reason: 'wait' });
        await a.finish(first);
        expect(await b.begin(second)).toEqual({ start: true, attempts: 1 });
      },
    );

    it.skipIf(!backend.shared)(
      'lets another consumer take at once what a stopping one gives back',
      async ({ cleanups }) => {
        const [a, b] = (await open(cleanups, ['a', 'b'])) as [WorkQueue, WorkQueue];
        await a.add(item(1));
        await a.add(item(2, 'chat-2'));
        const held = await a.claim(10, true);
        expect(await b.claim(10, true)).toEqual([]);
        await a.release(held);
        expect(ids(await b.claim(10, true))).toEqual(['1', '2']);
      },
    );
  });
}
