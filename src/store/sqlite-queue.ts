import type Database from 'libsql';
import { withStore } from '../core/store.ts';
import type { QueuedItem, WorkQueue, WorkQueueOptions } from '../core/work-queue.ts';
import { inWriteTransaction, whenUnlocked, whenWritable } from './sqlite-locking.ts';

/**
 * One row per item of every queue in the file. `seq` is the order items were added in; `owner` and
 * `lease_until` (ms since the epoch) say who holds an item until when; a finished item keeps its row, without
 * its payload, until `expires`, so a redelivery is recognised.
 */
const createTable = `CREATE TABLE IF NOT EXISTS work_queue (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  queue TEXT NOT NULL,
  id TEXT NOT NULL,
  grp TEXT NOT NULL,
  payload TEXT NOT NULL,
  added_at INTEGER NOT NULL,
  owner TEXT,
  lease_until INTEGER NOT NULL DEFAULT 0,
  attempts INTEGER NOT NULL DEFAULT 0,
  done INTEGER NOT NULL DEFAULT 0,
  expires INTEGER NOT NULL,
  UNIQUE (queue, id)
)`;
const createIndex = 'CREATE INDEX IF NOT EXISTS work_queue_open ON work_queue (queue, done, grp, seq)';

/** Finished rows past their retention are deleted at most this often. */
const sweepIntervalMs = 60_000;

type ItemRow = [seq: number, id: string, grp: string, payload: string, addedAt: number];

/**
 * The work queue on the SQLite file, with the semantics of the Redis stream: each statement that decides
 * ownership runs inside `BEGIN IMMEDIATE`, so the processes sharing the file never both take one item.
 */
export function createSqliteWorkQueue(
  db: Database.Database,
  name: string,
  options: WorkQueueOptions,
  now: () => number = Date.now,
): WorkQueue {
  const { consumer, leaseMs, retentionMs } = options;
  let prepared: ReturnType<typeof prepare> | undefined;
  let sweptAt = 0;

  function prepare() {
    inWriteTransaction(db, () => {
      db.exec(createTable);
      db.exec(createIndex);
    });
    return {
      insert: db.prepare(
        'INSERT INTO work_queue (queue, id, grp, payload, added_at, expires) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (queue, id) DO NOTHING',
      ),
      state: db.prepare('SELECT done FROM work_queue WHERE queue = ? AND id = ?').raw(),
      claimable: db
        .prepare(
          'SELECT seq, id, grp, payload, added_at FROM work_queue WHERE queue = ? AND done = 0 AND (owner IS NULL AND ? OR owner IS NOT NULL AND lease_until <= ?) ORDER BY seq LIMIT ?',
        )
        .raw(),
      take: db.prepare('UPDATE work_queue SET owner = ?, lease_until = ? WHERE seq = ?'),
      owned: db.prepare('SELECT grp FROM work_queue WHERE seq = ? AND done = 0 AND owner = ?').raw(),
      earlier: db
        .prepare('SELECT 1 FROM work_queue WHERE queue = ? AND done = 0 AND grp = ? AND seq < ? LIMIT 1')
        .raw(),
      start: db
        .prepare(
          'UPDATE work_queue SET lease_until = ?, attempts = attempts + 1 WHERE seq = ? RETURNING attempts',
        )
        .raw(),
      renew: db.prepare('UPDATE work_queue SET lease_until = ? WHERE seq = ? AND done = 0 AND owner = ?'),
      release: db.prepare('UPDATE work_queue SET lease_until = 0 WHERE seq = ? AND done = 0 AND owner = ?'),
      finish: db.prepare(
        "UPDATE work_queue SET done = 1, owner = NULL, payload = '', expires = ? WHERE seq = ?",
      ),
      sweep: db.prepare('DELETE FROM work_queue WHERE queue = ? AND expires <= ?'),
    };
  }

  /** The statements, creating the table on first use (retried later if the file is locked or read-only). */
  const statements = async () => {
    prepared ??= await whenUnlocked(prepare);
    return prepared;
  };

  return {
    add: ({ id, group, payload }) =>
      withStore('queue add', async () => {
        const { insert, state } = await statements();
        const at = now();
        const inserted = await whenWritable(
          db,
          () => insert.run([name, id, group, payload, at, at + retentionMs]).changes,
        );
        if (inserted === 1) return 'added';
        const [done] = ((await whenUnlocked(() => state.get([name, id]))) as [number] | undefined) ?? [0];
        return done ? 'finished' : 'pending';
      }),
    claim: (limit, withNew) =>
      withStore('queue claim', async () => {
        const { claimable, take, sweep } = await statements();
        const at = now();
        if (at - sweptAt > sweepIntervalMs) {
          sweptAt = at;
          await whenWritable(db, () => sweep.run([name, at]));
        }
        // Most polls find nothing: only a poll that finds work takes the write lock.
        if ((await whenUnlocked(() => claimable.all([name, withNew ? 1 : 0, at, limit]))).length === 0)
          return [];
        const rows = await whenWritable(db, () => {
          const found = claimable.all([name, withNew ? 1 : 0, at, limit]) as ItemRow[];
          for (const [seq] of found) take.run([consumer, at + leaseMs, seq]);
          return found;
        });
        return rows.map(([seq, id, group, payload, addedAt]) => ({
          id,
          group,
          payload,
          addedAt,
          ref: String(seq),
        }));
      }),
    begin: (item) =>
      withStore('queue begin', async () => {
        const { owned, earlier, start } = await statements();
        const seq = Number(item.ref);
        return whenWritable(db, () => {
          const row = owned.get([seq, consumer]) as [string] | undefined;
          if (!row) return { start: false, reason: 'lost' } as const;
          if (earlier.get([name, row[0], seq])) return { start: false, reason: 'wait' } as const;
          const [attempts] = start.get([now() + leaseMs, seq]) as [number];
          return { start: true, attempts } as const;
        });
      }),
    renew: (items: QueuedItem[]) =>
      withStore('queue renew', async () => {
        const { renew } = await statements();
        const until = now() + leaseMs;
        return whenWritable(db, () =>
          items.filter((item) => renew.run([until, Number(item.ref), consumer]).changes === 0),
        ).then((lost) => lost.map((item) => item.ref));
      }),
    release: (items) =>
      withStore('queue release', async () => {
        const { release } = await statements();
        await whenWritable(db, () => {
          for (const item of items) release.run([Number(item.ref), consumer]);
        });
      }),
    finish: (item) =>
      withStore('queue finish', async () => {
        const { finish } = await statements();
        await whenWritable(db, () => finish.run([now() + retentionMs, Number(item.ref)]));
      }),
  };
}
