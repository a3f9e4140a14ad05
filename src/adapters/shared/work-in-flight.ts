import { setMaxListeners } from 'node:events';
import { setTimeout as delay } from 'node:timers/promises';

/**
 * The work an adapter has in flight (updates, interactions, answers), so that stopping can wait for it. Work is
 * held from `track` until it settles. `signal` is aborted when a drain's grace period ends: answers listening to it
 * stop early and deliver what they have, with a sentence saying so.
 */
export interface WorkInFlight {
  /** Holds `work` until it settles and returns it unchanged. */
  track<T>(work: Promise<T>): Promise<T>;
  /** Aborted when `drain` cuts the remaining work short; pass it to every answer. */
  readonly signal: AbortSignal;
  /** How many pieces of work are running now. */
  readonly size: number;
  /**
   * Waits up to `graceMs` for all tracked work, including work that starts meanwhile (an error handler that
   * begins a tick after its update failed). If some still runs, aborts `signal` and waits up to `cutShortMs` for
   * it to end. True when everything ended within the grace period.
   */
  drain(graceMs: number, cutShortMs: number): Promise<boolean>;
}

export function createWorkInFlight(): WorkInFlight {
  const running = new Set<Promise<unknown>>();
  const cutShort = new AbortController();
  // Every answer in flight listens to the signal and stops listening when done: more than Node's default of ten
  // at once is load, not a leak.
  setMaxListeners(0, cutShort.signal);
  const settleAll = async () => {
    while (running.size > 0) {
      await Promise.allSettled([...running]);
      // Work started by a settling one (an error handler, a reply) registers on the next tick: wait for it too.
      await new Promise((resolve) => setImmediate(resolve));
    }
  };
  /** Resolves true if everything settles within `ms`; never leaves a timer behind. */
  const settlesWithin = async (ms: number) => {
    const timer = new AbortController();
    try {
      return await Promise.race([
        settleAll().then(() => true),
        delay(ms, false, { signal: timer.signal }).catch(() => false),
      ]);
    } finally {
      timer.abort();
    }
  };
  return {
    track(work) {
      running.add(work);
      const forget = () => running.delete(work);
      work.then(forget, forget);
      return work;
    },
    signal: cutShort.signal,
    get size() {
      return running.size;
    },
    async drain(graceMs, cutShortMs) {
      if (await settlesWithin(graceMs)) return true;
      cutShort.abort();
      await settlesWithin(cutShortMs);
      return false;
    },
  };
}
