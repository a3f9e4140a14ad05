import { ConfigError } from '../core/errors.ts';
import { openMemoryStore } from './memory-store.ts';
import type { OpenedStore } from './opened-store.ts';
import { openRedisStore } from './redis-store.ts';
import { openSqliteStore } from './sqlite-store.ts';

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
