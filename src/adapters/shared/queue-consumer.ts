import type { Logger } from '../../core/logger.ts';
import type { QueuedItem, WorkQueue } from '../../core/work-queue.ts';

/** What a consumer needs: the queue, how to handle an item, and its cadence. */
export interface QueueConsumerOptions {
  queue: WorkQueue;
  /** The queue's lease: held items are renewed three times per lease. */
  leaseMs: number;
  /**
   * Handles one item; `attempts` counts this start (1 the first time). The item is finished once the returned
   * promise settles, whether it resolves or rejects (a rejection is logged), so it is never handled again.
   */
  handle(item: QueuedItem, attempts: number): Promise<void>;
  log: Logger;
  /** How many items this consumer holds at most (started or waiting for their group). */
  maxHeld?: number;
}

/** A running consumer. */
export interface QueueConsumer {
  /** Looks for work now, e.g. right after this process added an item. */
  wake(): void;
  /** Stops starting items and gives back those not started; items in progress carry on (see `drained`). */
  stop(): Promise<void>;
  /** Resolves once every item started has been handled and finished in the queue. */
  drained(): Promise<void>;
}

/** How soon a consumer looks again while one of its items waits for an earlier item of its group. */
const waitPollMs = 250;
/** How often an idle consumer looks for items others added or left behind; at most a third of the lease. */
const idlePollMs = 1000;

/**
 * Consumes a `WorkQueue`: claims items (new ones, and those whose owner's lease ran out), starts each when it is
 * first in its group — so one chat's items run one after another, in order, across every consumer — hands it
 * to `handle`, and finishes it afterwards. Held items are renewed every third of the lease, so a live consumer
 * keeps them and a dead one's are taken over. A store that fails is logged once per outage and retried.
 */
export function startQueueConsumer(options: QueueConsumerOptions): QueueConsumer {
  const { queue, log, leaseMs } = options;
  const maxHeld = options.maxHeld ?? 100;
  const held = new Map<string, QueuedItem>();
  const started = new Set<string>();
  const busyGroups = new Set<string>();
  const inProgress = new Set<Promise<void>>();
  let stopped = false;
  let ticking: Promise<void> | undefined;
  let again = false;
  /** The next look also takes new items: after a wake, and once a lease in case an instance died adding one. */
  let withNew = true;
  let newReadAt = 0;
  let failing = false;
  let timer: NodeJS.Timeout | undefined;

  const schedule = (ms: number) => {
    clearTimeout(timer);
    if (!stopped) timer = setTimeout(() => void tick(), ms).unref();
  };

  const run = (item: QueuedItem, attempts: number) => {
    started.add(item.ref);
    busyGroups.add(item.group);
    const work = options
      .handle(item, attempts)
      .catch((error: unknown) => {
        log.error({ err: error, itemId: item.id }, 'handling a queued item failed');
      })
      .then(() => queue.finish(item))
      .catch((error: unknown) => {
        // Unfinished, it is handled again once the lease runs out: a possible duplicate beats a lost answer.
        log.warn({ err: error, itemId: item.id }, 'could not mark a queued item finished');
      })
      .finally(() => {
        held.delete(item.ref);
        started.delete(item.ref);
        busyGroups.delete(item.group);
        inProgress.delete(work);
        if (!stopped) schedule(0);
      });
    inProgress.add(work);
  };

  function tick(): Promise<void> {
    if (stopped) return Promise.resolve();
    if (ticking) {
      again = true;
      return ticking;
    }
    ticking = look().finally(() => {
      ticking = undefined;
    });
    return ticking;
  }

  async function look(): Promise<void> {
    let waiting = false;
    try {
      if (Date.now() - newReadAt >= leaseMs) withNew = true;
      if (held.size < maxHeld) {
        const readsNew = withNew;
        withNew = false;
        if (readsNew) newReadAt = Date.now();
        const limit = maxHeld - held.size;
        const claimed = await queue.claim(limit, readsNew);
        for (const item of claimed) if (!held.has(item.ref)) held.set(item.ref, item);
        // A full claim may have left new items behind: the next look, once there is room, reads on.
        if (readsNew && claimed.length >= limit) withNew = true;
      }
      const blocked = new Set(busyGroups);
      const candidates = [...held.values()]
        .filter((item) => !started.has(item.ref))
        .sort((a, b) => a.addedAt - b.addedAt);
      for (const item of candidates) {
        if (stopped) break;
        if (blocked.has(item.group)) continue;
        const begun = await queue.begin(item);
        if (begun.start) run(item, begun.attempts);
        else if (begun.reason === 'lost') held.delete(item.ref);
        else waiting = true;
        blocked.add(item.group);
      }
      if (failing) log.info('work queue available again');
      failing = false;
    } catch (error) {
      if (!failing) log.warn({ err: error }, 'work queue unavailable; retrying');
      failing = true;
      withNew = true;
    }
    if (again) {
      again = false;
      schedule(0);
    } else schedule(waiting ? waitPollMs : Math.min(idlePollMs, leaseMs / 3));
  }

  const renewer = setInterval(() => {
    if (held.size === 0) return;
    queue.renew([...held.values()]).then(
      (lost) => {
        for (const ref of lost) {
          if (started.has(ref))
            log.warn({ itemId: held.get(ref)?.id }, 'lease on a queued item lost while handling it');
          else held.delete(ref);
        }
      },
      (error: unknown) => log.warn({ err: error }, 'could not renew the lease on queued items'),
    );
  }, leaseMs / 3);
  renewer.unref();

  schedule(0);
  return {
    wake() {
      withNew = true;
      schedule(0);
    },
    async stop() {
      stopped = true;
      clearTimeout(timer);
      // A look under way may still start an item; only what it leaves unstarted is given back.
      await ticking;
      const unstarted = [...held.values()].filter((item) => !started.has(item.ref));
      for (const item of unstarted) held.delete(item.ref);
      await queue.release(unstarted).catch((error: unknown) => {
        log.warn(
          { err: error },
          'could not give back queued items; others take them when the lease runs out',
        );
      });
    },
    async drained() {
      while (inProgress.size > 0) await Promise.allSettled([...inProgress]);
      clearInterval(renewer);
    },
  };
}
