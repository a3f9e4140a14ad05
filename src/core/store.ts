import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import KeyvRedis from '@keyv/redis';
import KeyvSqlite from '@keyv/sqlite';
import { createClient } from '@redis/client';
import Keyv from 'keyv';
import { ConfigError, StoreError } from './errors.ts';

/** The key-value store every piece of state goes through (memory, answer cache, message mappings). */
export type Store = Keyv;

/** The outcome of taking one unit from a sliding window. */
export type WindowDecision = { allowed: true } | { allowed: false; retryAfterMs: number };

/**
 * Operations that must be atomic across every instance sharing the store: claiming an update id so a
 * redelivery is answered once, and counting a user's questions so two instances count them once.
 */
export interface AtomicStore {
  /** True for the first caller to claim `key` within `ttlMs`, false for every later one. */
  claimOnce(key: string, ttlMs: number): Promise<boolean>;
  /** Records one event in a sliding window unless `limit` events already happened in the last `windowMs`. */
  takeFromWindow(key: string, limit: number, windowMs: number, now: number): Promise<WindowDecision>;
  /**
   * Atomically adds `amount` to an integer counter, created at 0 with expiry `ttlMs` when missing; later
   * increments do not extend the expiry. Returns the new total (`amount` 0 reads it).
   */
  incrementBy(key: string, amount: number, ttlMs: number): Promise<number>;
}

/** An open store: the key-value view, the atomic operations, a health check and a way to close it. */
export interface OpenedStore {
  kind: 'memory' | 'sqlite' | 'redis';
  kv: Store;
  atomic: AtomicStore;
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

/**
 * Atomic operations for a store only this process writes (memory, SQLite): a per-key promise chain
 * serializes read-modify-write, which is all the atomicity one process needs.
 */
function createLocalAtomicStore(kv: Keyv): AtomicStore {
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
        withStore('counter', async () => {
          // The expiry travels with the value, so a later increment can re-store it without extending it.
          const now = Date.now();
          const counter = await kv.get<{ total: number; expiresAt: number }>(key);
          const live = counter && counter.expiresAt > now ? counter : { total: 0, expiresAt: now + ttlMs };
          const next = { total: live.total + amount, expiresAt: live.expiresAt };
          await kv.set(key, next, next.expiresAt - now);
          return next.total;
        }),
      ),
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

// INCRBY, and an expiry only on a counter that has none yet (PEXPIRE NX needs Redis 7; this works on 6 too).
const incrementByScript = `
local total = redis.call('INCRBY', KEYS[1], ARGV[1])
if redis.call('PTTL', KEYS[1]) == -1 then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return total`;

/**
 * How long a SQLite call waits for a lock held by another process (a CLI run, a backup) before failing. This
 * process is the file's only regular writer, so a legitimate lock lasts milliseconds; one held longer means the
 * answer goes on without memory rather than waiting — an answer touches the store several times.
 */
const sqliteBusyTimeoutMs = 1000;

/** How long start-up waits for Redis before going on degraded (the client keeps reconnecting). */
const initialConnectWaitMs = 2500;

async function openRedisStore(url: string, namespace: string): Promise<OpenedStore> {
  const client = createClient({
    url,
    // Fail fast while disconnected instead of queueing: answers go on without memory, and come back with it.
    disableOfflineQueue: true,
    socket: { connectTimeout: 2000, reconnectStrategy: (attempt) => Math.min(100 * 2 ** attempt, 2000) },
  });
  client.on('error', () => {
    // Connection errors surface as failed commands (StoreError); the client keeps reconnecting.
  });
  // A Redis that is down at start-up is not fatal: the client keeps reconnecting and answers degrade meanwhile.
  let waited: NodeJS.Timeout | undefined;
  await Promise.race([
    client.connect().catch(() => undefined),
    new Promise((resolve) => {
      waited = setTimeout(resolve, initialConnectWaitMs);
    }),
  ]);
  clearTimeout(waited);
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
        withStore('counter', async () =>
          Number(
            await client.eval(incrementByScript, {
              keys: [prefixed(key)],
              arguments: [String(Math.trunc(amount)), String(Math.max(1, Math.ceil(ttlMs)))],
            }),
          ),
        ),
    },
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
 * Opens the store named by `STORE_URL`: `sqlite://path` (the embedded default; the directory is created),
 * `memory://` (tests, throwaway runs) or `redis://…` (state shared by several instances). Keys live under
 * `namespace`, so several bots can share one Redis. Failures throw `StoreError`, so callers can degrade
 * visibly instead of silently losing state.
 */
export async function openStore(url: string, namespace = 'poquan'): Promise<OpenedStore> {
  if (url.startsWith('redis://') || url.startsWith('rediss://')) return openRedisStore(url, namespace);
  let kv: Keyv;
  let kind: OpenedStore['kind'];
  if (url.startsWith('memory://')) {
    kv = new Keyv({ namespace, throwOnErrors: true });
    kind = 'memory';
  } else if (url.startsWith('sqlite://')) {
    const path = url.slice('sqlite://'.length);
    if (!path)
      throw new ConfigError('STORE_URL: sqlite:// needs a file path, e.g. sqlite://data/poquan.sqlite');
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    kv = new Keyv({
      store: new KeyvSqlite({ uri: url, busyTimeout: sqliteBusyTimeoutMs }),
      namespace,
      throwOnErrors: true,
    });
    kind = 'sqlite';
  } else {
    throw new ConfigError('STORE_URL: must start with sqlite://, memory:// or redis://');
  }
  kv.on('error', () => {});
  return {
    kind,
    kv,
    atomic: createLocalAtomicStore(kv),
    ping: () => withStore('ping', async () => void (await kv.get('__ping__'))),
    close: () => kv.disconnect(),
  };
}
