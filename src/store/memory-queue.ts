import type { QueuedItem, WorkQueue, WorkQueueOptions } from '../core/work-queue.ts';

interface Held extends QueuedItem {
  owner?: string;
  leaseUntil: number;
  attempts: number;
}

/**
 * The work queue of the in-memory store: one process sees it, so it keeps items across nothing but gives the
 * webhook the same code path (order per group, one owner, redeliveries recognised) as the shared stores.
 */
export function createMemoryWorkQueue(options: WorkQueueOptions, now: () => number = Date.now): WorkQueue {
  const items: Held[] = [];
  const finished = new Map<string, number>();
  let sequence = 0;
  const find = (ref: string) => items.find((item) => item.ref === ref);
  // Every item is kept for the same time, so the oldest finished ones come first.
  const forgetExpired = () => {
    for (const [id, until] of finished) {
      if (until > now()) return;
      finished.delete(id);
    }
  };
  return {
    async add({ id, group, payload }) {
      forgetExpired();
      if (finished.has(id)) return 'finished';
      if (items.some((item) => item.id === id)) return 'pending';
      items.push({ id, group, payload, addedAt: now(), ref: String(++sequence), leaseUntil: 0, attempts: 0 });
      return 'added';
    },
    async claim(limit, withNew) {
      const claimable = items
        .filter((item) => (item.owner ? item.leaseUntil <= now() : withNew))
        .slice(0, limit);
      for (const item of claimable) {
        item.owner = options.consumer;
        item.leaseUntil = now() + options.leaseMs;
      }
      return claimable.map(({ id, group, payload, addedAt, ref }) => ({ id, group, payload, addedAt, ref }));
    },
    async begin(claimed) {
      const item = find(claimed.ref);
      if (!item || item.owner !== options.consumer) return { start: false, reason: 'lost' };
      if (items.find((other) => other.group === item.group) !== item) return { start: false, reason: 'wait' };
      item.leaseUntil = now() + options.leaseMs;
      item.attempts += 1;
      return { start: true, attempts: item.attempts };
    },
    async renew(held) {
      const lost: string[] = [];
      for (const claimed of held) {
        const item = find(claimed.ref);
        if (item?.owner === options.consumer) item.leaseUntil = now() + options.leaseMs;
        else lost.push(claimed.ref);
      }
      return lost;
    },
    async release(held) {
      for (const claimed of held) {
        const item = find(claimed.ref);
        if (item?.owner === options.consumer) item.leaseUntil = 0;
      }
    },
    async finish(claimed) {
      const index = items.findIndex((item) => item.ref === claimed.ref);
      if (index >= 0) items.splice(index, 1);
      finished.set(claimed.id, now() + options.retentionMs);
    },
  };
}
