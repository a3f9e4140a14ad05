import type { createClient } from '@redis/client';
import { withStore } from '../core/store.ts';
import type { Admission, QueuedItem, WorkQueue, WorkQueueOptions } from '../core/work-queue.ts';

/** The commands the queue sends (of the store's one client). */
type RedisClient = Pick<
  ReturnType<typeof createClient>,
  'eval' | 'xAutoClaim' | 'xReadGroup' | 'xGroupCreate'
>;

/** The consumer group every instance reads the stream in. */
const consumerGroup = 'poquan';

// KEYS: stream, item hash, group list. ARGV: id, group, payload, addedAt, retentionMs.
// The item hash remembers the stream entry, the attempts and, once finished, `done`; the group list holds the
// group's unfinished ids in the order they were added.
const addScript = `
if redis.call('HGET', KEYS[2], 'done') then return 'finished' end
if redis.call('EXISTS', KEYS[2]) == 1 then return 'pending' end
local entry = redis.call('XADD', KEYS[1], '*', 'id', ARGV[1], 'group', ARGV[2], 'payload', ARGV[3], 'at', ARGV[4])
redis.call('HSET', KEYS[2], 'entry', entry, 'attempts', 0)
redis.call('PEXPIRE', KEYS[2], ARGV[5])
redis.call('RPUSH', KEYS[3], ARGV[1])
redis.call('PEXPIRE', KEYS[3], ARGV[5])
return 'added'`;

// True when the consumer group's pending entries list gives the entry ARGV[2] to consumer ARGV[3].
const ownsEntry = `
local function owns(stream, group, entry, consumer)
  local pending = redis.call('XPENDING', stream, group, entry, entry, 1)
  return #pending == 1 and pending[1][2] == consumer
end`;

// KEYS: stream, item hash, group list. ARGV: consumer group, entry, consumer, id, item key prefix.
// -2: taken over by another consumer or finished; -1: an earlier item of the group is unfinished; else the
// attempt number. Ids at the head of the group list whose item is finished or gone are dropped on the way.
const beginScript = `${ownsEntry}
if redis.call('HGET', KEYS[2], 'done') or not owns(KEYS[1], ARGV[1], ARGV[2], ARGV[3]) then return -2 end
while true do
  local head = redis.call('LINDEX', KEYS[3], 0)
  if not head or head == ARGV[4] then break end
  local other = ARGV[5] .. head
  if redis.call('EXISTS', other) == 1 and not redis.call('HGET', other, 'done') then return -1 end
  redis.call('LPOP', KEYS[3])
end
redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[3], 0, ARGV[2], 'JUSTID')
return redis.call('HINCRBY', KEYS[2], 'attempts', 1)`;

// KEYS: stream. ARGV: consumer group, consumer, entries… Resets the idle time of the entries the consumer still
// owns (XCLAIM to itself) and returns the others; XCLAIM alone would steal an entry another consumer took over.
const renewScript = `${ownsEntry}
local lost = {}
for i = 3, #ARGV do
  if owns(KEYS[1], ARGV[1], ARGV[i], ARGV[2]) then
    redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, ARGV[i], 'JUSTID')
  else
    table.insert(lost, ARGV[i])
  end
end
return lost`;

// KEYS: stream. ARGV: consumer group, consumer, idle ms, entries… Marks the consumer's entries idle for a whole
// lease, so any consumer's next XAUTOCLAIM takes them.
const releaseScript = `${ownsEntry}
for i = 4, #ARGV do
  if owns(KEYS[1], ARGV[1], ARGV[i], ARGV[2]) then
    redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, ARGV[i], 'IDLE', ARGV[3], 'JUSTID')
  end
end
return 1`;

// KEYS: stream, item hash, group list. ARGV: consumer group, entry, id, retentionMs.
const finishScript = `
redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
redis.call('XDEL', KEYS[1], ARGV[2])
redis.call('HSET', KEYS[2], 'done', '1')
redis.call('PEXPIRE', KEYS[2], ARGV[4])
redis.call('LREM', KEYS[3], 1, ARGV[3])
return 1`;

/** How many XAUTOCLAIM pages one claim reads at most. */
const maxClaimPages = 10;

/** A stream entry as `@redis/client` returns it from XREADGROUP and XAUTOCLAIM. */
interface StreamEntry {
  id: string;
  message: Record<string, string>;
}

const isMissingGroup = (error: unknown) => String((error as Error).message).startsWith('NOGROUP');

/**
 * The work queue on Redis, the standard way: each item is an entry of a stream (`XADD`) read through one
 * consumer group (`XREADGROUP`), so the group's pending entries list records which instance holds it; the
 * holder renews it by resetting its idle time, any instance takes over entries idle past the lease
 * (`XAUTOCLAIM`), and the entry is acknowledged (`XACK`) and deleted once finished. A hash per item remembers
 * finished ids for the retention time, and a list per group keeps the group's order. The scripts that touch
 * several keys run atomically in Redis, so instances never both start an item.
 * @see https://redis.io/docs/latest/develop/data-types/streams/
 */
export function createRedisWorkQueue(
  client: RedisClient,
  prefix: string,
  options: WorkQueueOptions,
): WorkQueue {
  const { consumer, leaseMs, retentionMs } = options;
  const stream = `${prefix}:stream`;
  const itemPrefix = `${prefix}:item:`;
  const groupKey = (group: string) => `${prefix}:group:${group}`;
  const keysOf = (item: { id: string; group: string }) => [
    stream,
    `${itemPrefix}${item.id}`,
    groupKey(item.group),
  ];

  /** Creates the stream and the group reading it from the start (a Redis restarted empty loses both). */
  const createGroup = async () => {
    try {
      await client.xGroupCreate(stream, consumerGroup, '0', { MKSTREAM: true });
    } catch (error) {
      if (!String((error as Error).message).startsWith('BUSYGROUP')) throw error;
    }
  };
  const withGroup = async <T>(read: () => Promise<T>): Promise<T> => {
    try {
      return await read();
    } catch (error) {
      if (!isMissingGroup(error)) throw error;
      await createGroup();
      return read();
    }
  };
  const toItem = (entry: StreamEntry): QueuedItem => ({
    id: entry.message.id ?? '',
    group: entry.message.group ?? '',
    payload: entry.message.payload ?? '',
    addedAt: Number(entry.message.at),
    ref: entry.id,
  });

  return {
    add: (item) =>
      withStore('queue add', async () => {
        const result = await client.eval(addScript, {
          keys: keysOf(item),
          arguments: [item.id, item.group, item.payload, String(Date.now()), String(retentionMs)],
        });
        return String(result) as Admission;
      }),
    claim: (limit, withNew) =>
      withStore('queue claim', async () => {
        // XAUTOCLAIM looks at ten times COUNT entries per call; the cursor goes on past live owners' entries.
        const taken: QueuedItem[] = [];
        let cursor = '0-0';
        for (let page = 0; page < maxClaimPages && taken.length < limit; page++) {
          const start = cursor;
          const idle = await withGroup(() =>
            client.xAutoClaim(stream, consumerGroup, consumer, leaseMs, start, {
              COUNT: limit - taken.length,
            }),
          );
          taken.push(...(idle.messages.filter(Boolean) as unknown as StreamEntry[]).map(toItem));
          cursor = String(idle.nextId);
          if (cursor === '0-0') break;
        }
        if (!withNew || taken.length >= limit) return taken;
        const fresh = await withGroup(() =>
          client.xReadGroup(
            consumerGroup,
            consumer,
            { key: stream, id: '>' },
            { COUNT: limit - taken.length },
          ),
        );
        const streams = (fresh ?? []) as unknown as Array<{ messages: StreamEntry[] }>;
        return [...taken, ...streams.flatMap((read) => read.messages.map(toItem))];
      }),
    begin: (item) =>
      withStore('queue begin', async () => {
        const result = Number(
          await client.eval(beginScript, {
            keys: keysOf(item),
            arguments: [consumerGroup, item.ref, consumer, item.id, itemPrefix],
          }),
        );
        if (result === -2) return { start: false, reason: 'lost' };
        if (result === -1) return { start: false, reason: 'wait' };
        return { start: true, attempts: result };
      }),
    renew: (items) =>
      withStore('queue renew', async () => {
        if (items.length === 0) return [];
        const lost = await client.eval(renewScript, {
          keys: [stream],
          arguments: [consumerGroup, consumer, ...items.map((item) => item.ref)],
        });
        return (lost as string[]).map(String);
      }),
    release: (items) =>
      withStore('queue release', async () => {
        if (items.length === 0) return;
        await client.eval(releaseScript, {
          keys: [stream],
          arguments: [consumerGroup, consumer, String(leaseMs), ...items.map((item) => item.ref)],
        });
      }),
    finish: (item) =>
      withStore('queue finish', async () => {
        await client.eval(finishScript, {
          keys: keysOf(item),
          arguments: [consumerGroup, item.ref, item.id, String(retentionMs)],
        });
      }),
  };
}
