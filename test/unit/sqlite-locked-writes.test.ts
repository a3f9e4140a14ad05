import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'libsql';
import { afterAll, describe, expect } from 'vitest';
import { StoreError } from '../../src/core/errors.ts';
import type { QueuedItem, WorkQueue } from '../../src/core/work-queue.ts';
import { openStore } from '../../src/store/open-store.ts';
import type { OpenedStore } from '../../src/store/opened-store.ts';
import { it } from '../fixtures/it.ts';

/**
 * A write that gives up because another process held the SQLite file's write lock for longer than the busy
 * retry must leave its connection as it found it: nothing half-written, no transaction or unfinished statement
 * left behind, so the store's next write and read work as soon as the lock is gone. (The lock is held here by a
 * second real connection to the file; the store's connection is the one under test.)
 */

const dir = mkdtempSync(join(tmpdir(), 'poquan-sqlite-locked-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const namespace = 'poquan';
const queueOptions = { consumer: 'instance-a', leaseMs: 60_000, retentionMs: 60_000 };

/**
 * Another connection holding the file's write lock, with a row of its own written but not yet committed.
 * Releasing (once; again does nothing) commits that row, as another process would.
 */
function holdWriteLock(path: string) {
  const db = new Database(path);
  db.exec('BEGIN IMMEDIATE');
  db.exec(
    `INSERT INTO keyv (key, value) VALUES ('${namespace}:other-process', '{"value":"written meanwhile"}')`,
  );
  return async () => {
    if (!db.open) return;
    db.exec('COMMIT');
    db.close();
  };
}

/** Every row of the store file, read through a connection of its own, without the other process's row. */
function contents(path: string) {
  const db = new Database(path);
  try {
    const rows = (sql: string) => db.prepare(sql).raw().all() as unknown[][];
    const hasQueue =
      rows("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'work_queue'").length > 0;
    return {
      keyv: rows(
        `SELECT key, value, expires FROM keyv WHERE key != '${namespace}:other-process' ORDER BY key`,
      ),
      queue: hasQueue
        ? rows(
            'SELECT queue, id, grp, payload, owner, lease_until, attempts, done FROM work_queue ORDER BY seq',
          )
        : [],
    };
  } finally {
    db.close();
  }
}

/** An item added and claimed, and with `begun` started, by this store's consumer. */
async function claimedItem(queue: WorkQueue, begun: boolean): Promise<QueuedItem> {
  await queue.add({ id: 'update-1', group: 'chat-1', payload: '{"text":"hello"}' });
  const [item] = await queue.claim(10, true);
  if (!item) throw new Error('the item added was not claimed');
  if (begun) await queue.begin(item);
  return item;
}

interface LockedWrite {
  name: string;
  /** Brings the store to where the write applies, and returns the write. */
  prepare(store: OpenedStore): Promise<() => Promise<unknown>>;
}

const writes: LockedWrite[] = [
  { name: 'set', prepare: async (store) => () => store.set('answer', 'kept', 60_000) },
  {
    name: 'delete',
    prepare: async (store) => {
      await store.set('answer', 'kept', 0);
      return () => store.delete('answer');
    },
  },
  { name: 'claimOnce', prepare: async (store) => () => store.claimOnce('telegram:update:7', 60_000) },
  { name: 'ping', prepare: async (store) => () => store.ping() },
  { name: 'incrementBy', prepare: async (store) => () => store.incrementBy('tokens', 5, 60_000) },
  {
    name: 'takeFromWindow',
    prepare: async (store) => () => store.takeFromWindow('rate:user', 3, 60_000, Date.now()),
  },
  { name: 'appendToList', prepare: async (store) => () => store.appendToList('history', 'turn', 60_000) },
  { name: 'addToSet', prepare: async (store) => () => store.addToSet('members', 'a') },
  {
    name: 'removeFromSet',
    prepare: async (store) => {
      await store.addToSet('members', 'a');
      return () => store.removeFromSet('members', 'a');
    },
  },
  {
    name: 'queue add',
    prepare: async (store) => {
      const queue = store.openQueue('jobs', queueOptions);
      await queue.add({ id: 'update-0', group: 'chat-1', payload: '{}' });
      return () => queue.add({ id: 'update-1', group: 'chat-1', payload: '{}' });
    },
  },
  {
    name: 'queue claim',
    prepare: async (store) => {
      const queue = store.openQueue('jobs', queueOptions);
      await queue.add({ id: 'update-1', group: 'chat-1', payload: '{}' });
      await queue.add({ id: 'update-2', group: 'chat-2', payload: '{}' });
      return () => queue.claim(10, true);
    },
  },
  {
    name: 'queue begin',
    prepare: async (store) => {
      const queue = store.openQueue('jobs', queueOptions);
      const item = await claimedItem(queue, false);
      return () => queue.begin(item);
    },
  },
  {
    name: 'queue renew',
    prepare: async (store) => {
      const queue = store.openQueue('jobs', queueOptions);
      const item = await claimedItem(queue, true);
      return () => queue.renew([item]);
    },
  },
  {
    name: 'queue release',
    prepare: async (store) => {
      const queue = store.openQueue('jobs', queueOptions);
      const item = await claimedItem(queue, true);
      return () => queue.release([item]);
    },
  },
  {
    name: 'queue finish',
    prepare: async (store) => {
      const queue = store.openQueue('jobs', queueOptions);
      const item = await claimedItem(queue, true);
      return () => queue.finish(item);
    },
  },
];

describe.concurrent('a SQLite write that gave up while another process held the write lock', () => {
  it.for(writes)(
    '$name fails as a StoreError, writes nothing, and the store writes and reads again once the lock is gone',
    async ({ name, prepare }, { cleanups, expect }) => {
      const path = join(dir, `${name.replace(' ', '-')}.sqlite`);
      const store = await openStore(`sqlite://${path}`, namespace);
      cleanups.push(() => store.close());
      const write = await prepare(store);
      const before = contents(path);

      const release = holdWriteLock(path);
      cleanups.push(release);
      await expect(write()).rejects.toThrow(StoreError);
      await release();
      expect(contents(path)).toEqual(before);

      // The connection is usable: a read sees what the other process committed since, a transaction and a
      // single statement write, and then the write that gave up succeeds and changes the file.
      expect(await store.get('other-process')).toBe('written meanwhile');
      expect(await store.incrementBy('after', 1, 60_000)).toBe(1);
      await store.set('after-set', 'x', 60_000);
      expect(await store.getMany(['after', 'after-set'])).toEqual([1, 'x']);
      await write();
      const { keyv, queue } = contents(path);
      const afterKeys = [`${namespace}:after`, `${namespace}:after-set`];
      expect({ keyv: keyv.filter(([key]) => !afterKeys.includes(key as string)), queue }).not.toEqual(before);
    },
  );
});

describe('a SQLite transaction whose body threw after BEGIN', () => {
  it('writes nothing and leaves the connection usable', async ({ cleanups }) => {
    const path = join(dir, 'body-threw.sqlite');
    const store = await openStore(`sqlite://${path}`, namespace);
    cleanups.push(() => store.close());
    await store.appendToList('history', 'first', 60_000);
    // A value that is not Keyv's JSON: reading it inside the transaction throws after BEGIN IMMEDIATE.
    const other = new Database(path);
    other.exec(`UPDATE keyv SET value = 'not json' WHERE key = '${namespace}:history'`);
    other.close();
    const before = contents(path);

    await expect(store.appendToList('history', 'second', 60_000)).rejects.toThrow(StoreError);
    expect(contents(path)).toEqual(before);
    expect(await store.incrementBy('after', 1, 60_000)).toBe(1);
    await store.set('after-set', 'x', 60_000);
    expect(await store.get('after-set')).toBe('x');
  });
});
