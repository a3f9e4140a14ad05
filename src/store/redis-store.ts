import KeyvRedis from '@keyv/redis';
import { createClient } from '@redis/client';
import Keyv from 'keyv';
import { withStore } from '../core/store.ts';
import { assertWholeAmount, keyvEntries } from './keyv-entries.ts';
import type { OpenedStore } from './opened-store.ts';
import { createRedisWorkQueue } from './redis-queue.ts';
import { StoreOpenError } from './store-open-error.ts';

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

// A Redis list: RPUSH never loses a concurrent append, and the expiry moves with the latest one.
const appendToListScript = `
redis.call('RPUSH', KEYS[1], ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1`;

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

/**
 * Opens a Redis store. A Redis that is down is not fatal: commands fail as `StoreError` while the client keeps
 * reconnecting, so answers degrade visibly and recover on their own. Credentials Redis refuses end the start
 * with a `StoreOpenError` naming STORE_URL. Keys live under `namespace::`.
 */
export async function openRedisStore(url: string, namespace: string): Promise<OpenedStore> {
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
    ...keyvEntries(kv),
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
    appendToList: (key, value, ttlMs) =>
      withStore('append', async () => {
        await client.eval(appendToListScript, { keys: [prefixed(key)], arguments: [value, String(ttlMs)] });
      }),
    readList: (key) => withStore('read list', () => client.lRange(prefixed(key), 0, -1)),
    addToSet: (key, member) =>
      withStore('set add', async () => {
        await client.sAdd(prefixed(key), member);
      }),
    removeFromSet: (key, member) =>
      withStore('set remove', async () => {
        await client.sRem(prefixed(key), member);
      }),
    membersOf: (key) => withStore('set read', () => client.sMembers(prefixed(key))),
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
