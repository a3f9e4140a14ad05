import { ConfigError } from '../core/errors.ts';
import type { Store } from '../core/store.ts';
import type { WorkQueue, WorkQueueOptions } from '../core/work-queue.ts';
import { openMemoryStore } from './memory-store.ts';
import { openRedisStore } from './redis-store.ts';
import { openSqliteStore } from './sqlite-store.ts';

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
  return openMemoryStore(namespace);
}
