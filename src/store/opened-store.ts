import type { Store } from '../core/store.ts';
import type { WorkQueue, WorkQueueOptions } from '../core/work-queue.ts';

/** An open store: the `Store` port, which backend it is, a health check and a way to close it. */
export interface OpenedStore extends Store {
  kind: 'memory' | 'sqlite' | 'redis';
  /**
   * The durable work queue `name` in this store (a Redis stream, a SQLite table; in memory for `memory://`),
   * shared by every process that opens the same name.
   */
  openQueue(name: string, options: WorkQueueOptions): WorkQueue;
  /** Resolves when the backend answers; readiness probes call it. */
  ping(): Promise<void>;
  close(): Promise<void>;
}
