import type Database from 'libsql';

/**
 * How long a SQLite call keeps retrying while another process on the same file (the bot and `poquan chat`,
 * say) holds the write lock. Every transaction here is one short read-modify-write, so a lock is held for
 * about a millisecond; one held for a whole second means something else is wrong, and the answer goes on
 * without memory rather than waiting longer (an answer touches the store several times).
 */
const busyTimeoutMs = 1000;

const isBusy = (error: unknown) => String((error as { code?: unknown }).code).startsWith('SQLITE_BUSY');

/**
 * Runs a synchronous SQLite call, retrying it after a short random pause while the file is locked. SQLite's
 * own busy timeout is not used: it blocks the event loop, and in this build it sleeps a whole second between
 * tries, so a process writing steadily starved the other one. Pauses of a few milliseconds, awaited, let this
 * process go on answering meanwhile and catch the lock soon after it is released.
 *
 * For reads (the file is in write-ahead-log mode, so a writer never locks readers out) and `exec` calls only:
 * writes go through `whenWritable`.
 */
export async function whenUnlocked<T>(operation: () => T, timeoutMs = busyTimeoutMs): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (let attempt = 1; ; attempt++) {
    try {
      return operation();
    } catch (error) {
      if (!isBusy(error) || Date.now() >= deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 1 + Math.random() * Math.min(attempt, 10)));
    }
  }
}

/**
 * Runs a write, single statements too: `BEGIN IMMEDIATE` takes the file's write lock first (retried as in
 * `whenUnlocked`), and `operation`'s prepared statements run under it, where no other process can make them
 * fail with SQLITE_BUSY. A prepared statement that does fail so is left unfinished by libsql, which cannot reset
 * it from JavaScript: until that statement next succeeds, every COMMIT on the connection fails with 'SQL
 * statements in progress'. `exec` always finishes its statement, so a write that gives up has written nothing
 * and leaves the connection as it was.
 */
export function whenWritable<T>(db: Database.Database, operation: () => T): Promise<T> {
  return whenUnlocked(() => inWriteTransaction(db, operation));
}

/**
 * Runs `operation` inside `BEGIN IMMEDIATE`: the write lock is taken first, so no other process interleaves;
 * if `operation` throws, what it wrote is rolled back.
 */
export function inWriteTransaction<T>(db: Database.Database, operation: () => T): T {
  db.exec('BEGIN IMMEDIATE');
  try {
    const result = operation();
    db.exec('COMMIT');
    return result;
  } catch (error) {
    if (db.inTransaction) db.exec('ROLLBACK');
    throw error;
  }
}
