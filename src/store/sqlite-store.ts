import { EventEmitter } from 'node:events';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Keyv, { type KeyvStoreAdapter } from 'keyv';
import Database from 'libsql';
import { type Store, withStore } from '../core/store.ts';
import { assertWholeAmount, keyvEntries } from './keyv-entries.ts';
import type { OpenedStore } from './opened-store.ts';
import { inWriteTransaction, whenUnlocked, whenWritable } from './sqlite-locking.ts';
import { createSqliteWorkQueue } from './sqlite-queue.ts';
import { StoreOpenError } from './store-open-error.ts';

/** Opening waits longer: a start-up that fails because another process was busy for a moment is worse. */
const openBusyTimeoutMs = 5000;

/** How often expired rows are deleted; reads never return them in between. */
const sweepIntervalMs = 10 * 60_000;

/**
 * One row per key, in the table `@keyv/sqlite` used, so a file written by earlier versions keeps its memory:
 * `value` is Keyv's serialised `{ value, expires }`, and `expires` (ms since the epoch, NULL = never) repeats
 * the expiry so SQL can skip and sweep expired rows and decide claims and counters without parsing JSON.
 */
const createTable =
  'CREATE TABLE IF NOT EXISTS keyv (key VARCHAR(255) PRIMARY KEY, value TEXT, expires INTEGER)';

/** Reads a key unless it has expired (parameters: key, now). */
const selectLive = 'SELECT value, expires FROM keyv WHERE key = ? AND (expires IS NULL OR expires > ?)';

/** Writes a key, replacing any earlier value and expiry (parameters: key, value, expires). */
const upsert =
  'INSERT INTO keyv (key, value, expires) VALUES (?, ?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value, expires = excluded.expires';

type Row = [value: string, expires: number | null];

/** A Keyv value as Keyv itself serialises it (`@keyv/serialize` writes plain JSON for numbers and arrays). */
const serialize = (value: unknown, expires: number | null) =>
  JSON.stringify(expires === null ? { value } : { value, expires });

function describeOpenFailure(path: string, error: unknown): StoreOpenError {
  return new StoreOpenError(
    `STORE_URL: ${path} is not a usable SQLite store (${(error as Error).message}). Move the file away or ` +
      'restore a backup (Poquan then starts a new one), use STORE_URL=memory://, or set STORE_FALLBACK=memory ' +
      'to start without persistent memory.',
    { cause: error },
  );
}

/**
 * Opens the file, switches it to write-ahead logging (readers never wait for a writer) and makes sure the
 * table exists, adding the `expires` column to a file written by `@keyv/sqlite`. A read-only file in the
 * current format still opens — reads work, writes fail as `StoreError`s and `ping` reports it — but one that
 * is not a database, or cannot be opened or set up at all, throws `StoreOpenError`.
 */
async function openDatabase(path: string): Promise<Database.Database> {
  try {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    // Each attempt on a new connection: a statement that failed with SQLITE_BUSY is left unfinished by libsql
    // and keeps its read transaction open, so the same connection's `BEGIN IMMEDIATE` then fails with
    // SQLITE_BUSY_SNAPSHOT however long it retries. That happened when several processes created one new file.
    return await whenUnlocked(() => {
      const db = new Database(path);
      try {
        setUp(db);
        return db;
      } catch (error) {
        db.close();
        throw error;
      }
    }, openBusyTimeoutMs);
  } catch (error) {
    throw describeOpenFailure(path, error);
  }
}

/** Every step of opening; each is safe to run again on a file another process is setting up at once. */
function setUp(db: Database.Database): void {
  const columns = () =>
    (db.prepare("SELECT name FROM pragma_table_info('keyv')").raw().all() as [string][]).map(
      ([name]) => name,
    );
  // The first statement reads the header: a file of random bytes fails here with SQLITE_NOTADB.
  db.prepare('PRAGMA schema_version').raw().get();
  // With write-ahead logging, NORMAL syncs at checkpoints instead of at every commit: a killed process
  // loses nothing (only a power cut can lose the last commits), and the write lock is held for microseconds
  // instead of a disk flush, so the processes sharing the file rarely wait for each other.
  db.exec('PRAGMA synchronous=NORMAL');
  if (columns().includes('expires')) return;
  db.exec('PRAGMA journal_mode=WAL');
  inWriteTransaction(db, () => {
    // Checked again under the write lock: another process may have set the file up meanwhile.
    const now = columns();
    if (now.length === 0) db.exec(createTable);
    else if (!now.includes('expires')) {
      db.exec('ALTER TABLE keyv ADD COLUMN expires INTEGER');
      db.exec(
        "UPDATE keyv SET expires = json_extract(value, '$.expires') WHERE json_valid(value) AND json_type(value, '$.expires') = 'integer'",
      );
    }
  });
}

/**
 * A Keyv storage adapter on a libsql connection. Calls are synchronous underneath, so each one is atomic
 * within this process; across processes SQLite's locking makes each statement atomic.
 */
class SqliteKeyvAdapter extends EventEmitter implements KeyvStoreAdapter {
  readonly opts = { dialect: 'sqlite' };
  namespace?: string | undefined;
  private readonly statements;

  constructor(private readonly db: Database.Database) {
    super();
    this.statements = {
      get: db.prepare(selectLive).raw(),
      getMany: db
        .prepare(
          'SELECT key, value FROM keyv WHERE key IN (SELECT value FROM json_each(?)) AND (expires IS NULL OR expires > ?)',
        )
        .raw(),
      set: db.prepare(upsert),
      delete: db.prepare('DELETE FROM keyv WHERE key = ?'),
      deleteMany: db.prepare('DELETE FROM keyv WHERE key IN (SELECT value FROM json_each(?))'),
      clear: db.prepare('DELETE FROM keyv WHERE substr(key, 1, length(?)) = ?'),
    };
  }

  async get<Value>(key: string): Promise<Value | undefined> {
    const row = (await whenUnlocked(() => this.statements.get.get([key, Date.now()]))) as Row | undefined;
    return row?.[0] as Value | undefined;
  }

  async getMany<Value>(keys: string[]): Promise<Array<Value | undefined>> {
    const rows = (await whenUnlocked(() =>
      this.statements.getMany.all([JSON.stringify(keys), Date.now()]),
    )) as [string, string][];
    const found = new Map(rows);
    return keys.map((key) => found.get(key) as Value | undefined);
  }

  async has(key: string): Promise<boolean> {
    return (await this.get(key)) !== undefined;
  }

  async set(key: string, value: string, ttl?: number): Promise<boolean> {
    const expires = typeof ttl === 'number' && ttl > 0 ? Date.now() + ttl : null;
    await whenWritable(this.db, () => this.statements.set.run([key, value, expires]));
    return true;
  }

  async delete(key: string): Promise<boolean> {
    return (await whenWritable(this.db, () => this.statements.delete.run([key]))).changes > 0;
  }

  async deleteMany(keys: string[]): Promise<boolean> {
    return (
      (await whenWritable(this.db, () => this.statements.deleteMany.run([JSON.stringify(keys)]))).changes > 0
    );
  }

  async clear(): Promise<void> {
    const prefix = this.namespace ? `${this.namespace}:` : '';
    await whenWritable(this.db, () => this.statements.clear.run([prefix, prefix]));
  }
}

/**
 * Claims, rate windows, counters, lists and sets as SQL on the shared file, so they hold across every process
 * that opens it: a claim is one conditional upsert; a window, a counter, an append and a set change are a
 * read-modify-write inside `BEGIN IMMEDIATE`. Keys carry Keyv's `namespace:` prefix and values Keyv's format, so `kv.get` reads them.
 */
function createSqliteAtomicStore(
  db: Database.Database,
  namespace: string,
): Omit<Store, 'get' | 'getMany' | 'set' | 'delete'> {
  const prefixed = (key: string) => `${namespace}:${key}`;
  const claim = db.prepare(
    'INSERT INTO keyv (key, value, expires) VALUES (?, ?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value, expires = excluded.expires WHERE keyv.expires IS NOT NULL AND keyv.expires <= ?',
  );
  const read = db.prepare(selectLive).raw();
  const write = db.prepare(upsert);
  const readLive = (key: string): { value: unknown; expires: number | null } | undefined => {
    const row = read.get([key, Date.now()]) as Row | undefined;
    if (!row) return undefined;
    return { value: (JSON.parse(row[0]) as { value?: unknown }).value, expires: row[1] };
  };
  const readSet = (key: string): string[] => {
    const stored = readLive(key)?.value;
    return Array.isArray(stored) ? (stored as string[]) : [];
  };
  const changeSet = (what: string, key: string, change: (members: string[]) => string[]) =>
    withStore(what, async () => {
      await whenWritable(db, () => {
        const members = readSet(prefixed(key));
        const changed = change(members);
        if (changed !== members) write.run([prefixed(key), serialize(changed, null), null]);
      });
    });
  return {
    claimOnce: (key, ttlMs) =>
      withStore('claim', async () => {
        const now = Date.now();
        const expires = now + ttlMs;
        return (
          (await whenWritable(db, () => claim.run([prefixed(key), serialize(1, expires), expires, now])))
            .changes === 1
        );
      }),
    takeFromWindow: (key, limit, windowMs, now) =>
      withStore('rate window', () =>
        whenWritable(db, () => {
          const stored = readLive(prefixed(key))?.value;
          const recent = (Array.isArray(stored) ? (stored as number[]) : []).filter(
            (at) => at > now - windowMs,
          );
          if (recent.length >= limit) {
            return { allowed: false, retryAfterMs: (recent[0] as number) + windowMs - now } as const;
          }
          recent.push(now);
          const expires = Date.now() + windowMs;
          write.run([prefixed(key), serialize(recent, expires), expires]);
          return { allowed: true } as const;
        }),
      ),
    incrementBy: (key, amount, ttlMs) =>
      withStore('increment', async () => {
        assertWholeAmount(amount);
        return whenWritable(db, () => {
          const current = readLive(prefixed(key));
          const total = (typeof current?.value === 'number' ? current.value : 0) + amount;
          const expires = current ? current.expires : Date.now() + ttlMs;
          write.run([prefixed(key), serialize(total, expires), expires]);
          return total;
        });
      }),
    appendToList: (key, value, ttlMs) =>
      withStore('append', () =>
        whenWritable(db, () => {
          const stored = readLive(prefixed(key))?.value;
          const list = Array.isArray(stored) ? [...(stored as string[]), value] : [value];
          const expires = Date.now() + ttlMs;
          write.run([prefixed(key), serialize(list, expires), expires]);
        }),
      ),
    readList: (key) =>
      withStore('read list', async () => {
        const stored = (await whenUnlocked(() => readLive(prefixed(key))))?.value;
        return Array.isArray(stored) ? (stored as string[]) : [];
      }),
    addToSet: (key, member) =>
      changeSet('set add', key, (members) => (members.includes(member) ? members : [...members, member])),
    removeFromSet: (key, member) =>
      changeSet('set remove', key, (members) =>
        members.includes(member) ? members.filter((m) => m !== member) : members,
      ),
    membersOf: (key) => withStore('set read', () => whenUnlocked(() => readSet(prefixed(key)))),
  };
}

/**
 * Opens `path` as the store: the key-value view through Keyv, atomic operations in SQL, and a `ping` that
 * proves the file is writable (a read-only file reads fine but cannot keep memory). Expired rows are swept
 * every few minutes. Throws `StoreOpenError` when the file cannot be used at all.
 */
export async function openSqliteStore(path: string, namespace: string): Promise<OpenedStore> {
  const db = await openDatabase(path);
  const kv = new Keyv({ store: new SqliteKeyvAdapter(db), namespace, throwOnErrors: true });
  kv.on('error', () => {});
  const pingKey = `${namespace}:__ping__`;
  const ping = db.prepare(upsert);
  // Run with `exec`, not a prepared statement: a prepared one that fails (SQLITE_BUSY while other processes
  // write) is left unfinished by libsql, its read transaction open, and every later `BEGIN IMMEDIATE` on this
  // connection then fails with SQLITE_BUSY_SNAPSHOT. `exec` finishes its statement whatever happens.
  const sweepExpired = () => {
    try {
      db.exec(`DELETE FROM keyv WHERE expires IS NOT NULL AND expires <= ${Date.now()}`);
    } catch {
      // A read-only or busy file is reported by ping; the next sweep tries again.
    }
  };
  sweepExpired();
  const sweeper = setInterval(sweepExpired, sweepIntervalMs);
  sweeper.unref();
  return {
    kind: 'sqlite',
    ...keyvEntries(kv),
    ...createSqliteAtomicStore(db, namespace),
    openQueue: (name, options) => createSqliteWorkQueue(db, `${namespace}:${name}`, options),
    ping: () =>
      withStore('ping', async () => {
        const expires = Date.now() + 60_000;
        await whenWritable(db, () => ping.run([pingKey, serialize(expires, expires), expires]));
      }),
    close: async () => {
      clearInterval(sweeper);
      if (db.open) db.close();
    },
  };
}
