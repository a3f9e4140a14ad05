import KeyvRedis from '@keyv/redis';
import { createClient } from '@redis/client';
import Keyv from 'keyv';
import { createMemoryWorkQueue } from '../store/memory-queue.ts';
import { createRedisWorkQueue } from '../store/redis-queue.ts';
import { ConfigError, StoreError } from './errors.ts';
import { openSqliteStore, StoreOpenError } from './sqlite-store.ts';
import type { WorkQueue, WorkQueueOptions } from './work-queue.ts';

/** The key-value store every piece of state goes through (memory, answer cache, message mappings). */
export type Store = Keyv;

/** The outcome of taking one unit from a sliding window. */
export type WindowDecision = { allowed: true } | { allowed: false; retryAfterMs: number };

/**
 * Operations that must be atomic across every process sharing the store (several instances on one Redis, or
 * the bot and `poquan chat` on one SQLite file): claiming an update id so a redelivery is answered once,
 * counting a user's questions so two processes count them once, adding to shared counters, and keeping sets
 * that several writers add to and remove from at once (work in flight that a restarted process must find).
 */
export interface AtomicStore {
  /** True for the first caller to claim `key` within `ttlMs`, false for every later one. */
  claimOnce(key: string, ttlMs: number): Promise<boolean>;
  /** Records one event in a sliding window unless `limit` events already happened in the last `windowMs`. */
  takeFromWindow(key: string, limit: number, windowMs: number, now: number): Promise<WindowDecision>;
  /**
   * Adds the whole number `amount` to the counter at `key` and returns the new total. A missing (or expired)
   * counter starts at 0 and expires `ttlMs` after that first increment; later increments keep that expiry.
   */
  incrementBy(key: string, amount: number, ttlMs: number): Promise<number>;
  /** Adds `member` to the set at `key`; a set never expires, its members are removed one by one. */
  addToSet(key: string, member: string): Promise<void>;
  /** Removes `member` from the set at `key` (nothing happens if it is not there). */
  removeFromSet(key: string, member: string): Promise<void>;
  /** The members of the set at `key`, in no particular order; empty if there is no such set. */
  membersOf(key: string): Promise<string[]>;
}

/** An open store: the key-value view, the atomic operations, a health check and a way to close it. */
export interface OpenedStore {
  kind: 'memory' | 'sqlite' | 'redis';
  kv: Store;
  atomic: AtomicStore;
  /**
   * The durable work queue `name` in this store (a Redis stream, a SQLite table; in memory for `memory://`),
   * shared by every process that opens the same name.
   */
  openQueue(name: string, options: WorkQueueOptions): WorkQueue;
  /** Resolves when the backend answers; readiness probes call it. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** Runs a store operation, turning whatever the backend throws into a `StoreError`. */
export async function withStore<T>(what: string, operation: () => Promise<T>): Promise<T> {
  try {
    return await operation();
  } catch (error) {
    throw new StoreError(`store ${what} failed: ${(error as Error).message}`, { cause: error });
  }
}

/** Counters count whole units (tokens, questions); Redis's INCRBY accepts nothing else. */
export function assertWholeAmount(amount: number): void {
  if (!Number.isSafeInteger(amount)) throw new RangeError(`incrementBy needs a whole number, got ${amount}`);
}

/**
 * Atomic operations for the in-memory store, which only this process can see: a per-key promise chain
 * serializes read-modify-write, which is all the atomicity one process needs.
 */
function createMemoryAtomicStore(kv: Keyv): AtomicStore {
  const chains = new Map<string, Promise<unknown>>();
  const serialized = <T>(key: string, operation: () => Promise<T>): Promise<T> => {
    const run = (chains.get(key) ?? Promise.resolve()).then(operation, operation);
    const settled = run.catch(() => undefined);
    chains.set(key, settled);
    void settled.then(() => {
      if (chains.get(key) === settled) chains.delete(key);
    });
    return run;
  };
  return {
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
  };
}

// Sliding-window log in a sorted set, evaluated atomically inside Redis.
const takeFromWindowScript = `
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1] - ARGV[2])
local count = redis.call('ZCARD', KEYS[1])
if count >= tonumber(ARGV[3]) then
  local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  return tonumber(oldest[2]) + tonumber(ARGV[2]) - tonumber(ARGV[1])
end
redis.call('ZADD', KEYS[1], ARGV[1], ARGV[1] .. '-' .. ARGV[4])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return -1`;

// Creates the counter with its expiry only if it is missing, then adds: INCRBY keeps the key's expiry.
const incrementByScript = `
redis.call('SET', KEYS[1], '0', 'PX', ARGV[2], 'NX')
return redis.call('INCRBY', KEYS[1], ARGV[1])`;

/** How long start-up waits for Redis before going on degraded (the client keeps reconnecting). */
const initialConnectWaitMs = 2500;

/**
 * Redis's answers to credentials that will never work: a wrong password (`WRONGPASS`), none where one is required
 * (`NOAUTH`), or one where none is configured. Unlike a Redis that is down, retrying cannot fix these.
 */
const authRefusal = /^(WRONGPASS|NOAUTH)\b|^ERR AUTH .*without any password configured/;

/**
 * One line naming STORE_URL for credentials Redis refused, with where Redis is but never the password (the URL
 * is reduced to host and port; Redis's own message holds no secret).
 */
function describeAuthRefusal(url: string, error: Error): StoreOpenError {
  const { hostname, port } = new URL(url);
  const where = `Redis at ${hostname}:${port || 6379}`;
  const [code] = error.message.split(' ', 1);
  const problem =
    code === 'NOAUTH'
      ? `${where} requires a password and STORE_URL gives none (NOAUTH): add it as redis://:PASSWORD@host:port`
      : code === 'WRONGPASS'
        ? `${where} refused the password in STORE_URL (WRONGPASS): put the right one in redis://:PASSWORD@host:port (redis://USER:PASSWORD@… for an ACL user)`
        : `${where} has no password configured but STORE_URL gives one (ERR AUTH): remove it from STORE_URL (or set requirepass on the server)`;
  return new StoreOpenError(
    `STORE_URL: ${problem}, or set STORE_FALLBACK=memory to start without persistent memory.`,
    { cause: error },
  );
}

async function openRedisStore(url: string, namespace: string): Promise<OpenedStore> {
  const client = createClient({
    url,
    // Fail fast while disconnected instead of queueing: answers go on without memory, and come back with it.
    disableOfflineQueue: true,
    socket: { connectTimeout: 2000, reconnectStrategy: (attempt) => Math.min(100 * 2 ** attempt, 2000) },
  });
  let refused: Error | undefined;
  let onRefused: () => void = () => {};
  client.on('error', (error: Error) => {
    // Connection errors surface as failed commands (StoreError); the client keeps reconnecting. Refused
    // credentials end the start instead: the client would otherwise retry them for ever, "offline".
    if (!refused && authRefusal.test(error.message)) {
      refused = error;
      onRefused();
    }
  });
  // A Redis that is down at start-up is not fatal: the client keeps reconnecting and answers degrade meanwhile.
  let waited: NodeJS.Timeout | undefined;
  await Promise.race([
    client.connect().catch(() => undefined),
    new Promise<void>((resolve) => {
      waited = setTimeout(resolve, initialConnectWaitMs);
      onRefused = resolve;
    }),
  ]);
  clearTimeout(waited);
  // Without a password the connection succeeds and the first command is refused: ask one now.
  if (client.isReady) {
    await client.ping().catch((error: Error) => {
      if (authRefusal.test(error.message)) refused ??= error;
    });
  }
  if (refused) {
    client.destroy();
    throw describeAuthRefusal(url, refused);
  }
  const adapter = new KeyvRedis(client as never, {
    namespace,
    throwOnConnectError: false,
    throwOnErrors: true,
  });
  const kv = new Keyv({ store: adapter, namespace, useKeyPrefix: false, throwOnErrors: true });
  kv.on('error', () => {});
  const prefixed = (key: string) => `${namespace}::${key}`;
  let sequence = 0;
  return {
    kind: 'redis',
    kv,
    atomic: {
      claimOnce: (key, ttlMs) =>
        withStore('claim', async () => {
          return (
            (await client.set(prefixed(key), '1', {
              condition: 'NX',
              expiration: { type: 'PX', value: ttlMs },
            })) === 'OK'
          );
        }),
      takeFromWindow: (key, limit, windowMs, now) =>
        withStore('rate window', async () => {
          const retryAfterMs = Number(
            await client.eval(takeFromWindowScript, {
              keys: [prefixed(key)],
              arguments: [String(now), String(windowMs), String(limit), `${process.pid}-${sequence++}`],
            }),
          );
          return retryAfterMs < 0 ? { allowed: true } : { allowed: false, retryAfterMs };
        }),
      incrementBy: (key, amount, ttlMs) =>
        withStore('increment', async () => {
          assertWholeAmount(amount);
          return Number(
            await client.eval(incrementByScript, {
              keys: [prefixed(key)],
              arguments: [String(amount), String(ttlMs)],
            }),
          );
        }),
      addToSet: (key, member) =>
        withStore('set add', async () => {
          await client.sAdd(prefixed(key), member);
        }),
      removeFromSet: (key, member) =>
        withStore('set remove', async () => {
          await client.sRem(prefixed(key), member);
        }),
      membersOf: (key) => withStore('set read', () => client.sMembers(prefixed(key))),
    },
    openQueue: (name, options) => createRedisWorkQueue(client, prefixed(`queue:${name}`), options),
    ping: () =>
      withStore('ping', async () => {
        await client.ping();
      }),
    close: async () => {
      // A client still reconnecting to a Redis that is down must be destroyed, or it keeps the process alive.
      if (client.isReady) await client.close().catch(() => client.destroy());
      else client.destroy();
    },
  };
}

/**
 * Opens the store named by `STORE_URL`: `sqlite://path` (the embedded default; the directory is created; one
 * file can be shared by the processes of one machine), `memory://` (tests, throwaway runs) or `redis://…`
 * (state shared by several instances). Keys live under `namespace`, so several bots can share one Redis.
 * Operations fail with `StoreError`, so callers can degrade visibly instead of silently losing state; a SQLite
 * file that cannot be used at all fails here, with a `StoreOpenError` naming `STORE_URL`.
 */
export async function openStore(url: string, namespace = 'poquan'): Promise<OpenedStore> {
  if (url.startsWith('redis://') || url.startsWith('rediss://')) return openRedisStore(url, namespace);
  if (url.startsWith('sqlite://')) {
    const path = url.slice('sqlite://'.length);
    if (!path)
      throw new ConfigError('STORE_URL: sqlite:// needs a file path, e.g. sqlite://data/poquan.sqlite');
    return openSqliteStore(path, namespace);
  }
  if (!url.startsWith('memory://')) {
    throw new ConfigError('STORE_URL: must start with sqlite://, memory:// or redis://');
  }
  const kv = new Keyv({ namespace, throwOnErrors: true });
  kv.on('error', () => {});
  return {
    kind: 'memory',
    kv,
    atomic: createMemoryAtomicStore(kv),
    openQueue: (_name, options) => createMemoryWorkQueue(options),
    ping: async () => {},
    close: () => kv.disconnect(),
  };
}
