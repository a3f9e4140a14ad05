import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import KeyvSqlite from '@keyv/sqlite';
import Keyv from 'keyv';
import { ConfigError, StoreError } from './errors.ts';

/** The key-value store every piece of state goes through (memory, answer cache, rate limits). */
export type Store = Keyv;

/**
 * Opens the store named by `STORE_URL`: `sqlite://path` (the embedded default; the directory is created)
 * or `memory://` (tests, throwaway runs). Store failures throw, so callers can degrade visibly instead of
 * silently losing state.
 */
export function openStore(url: string): Store {
  if (url.startsWith('memory://')) return new Keyv({ namespace: 'poquan', throwOnErrors: true });
  if (url.startsWith('sqlite://')) {
    const path = url.slice('sqlite://'.length);
    if (!path)
      throw new ConfigError('STORE_URL: sqlite:// needs a file path, e.g. sqlite://data/poquan.sqlite');
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    const store = new Keyv({
      store: new KeyvSqlite({ uri: url, busyTimeout: 5000 }),
      namespace: 'poquan',
      throwOnErrors: true,
    });
    store.on('error', () => {});
    return store;
  }
  throw new ConfigError('STORE_URL: only sqlite:// and memory:// are supported in this version');
}

/** Runs a store operation, turning whatever the backend throws into a `StoreError`. */
export async function withStore<T>(what: string, operation: () => Promise<T>): Promise<T> {
  try {
    return await operation();
  } catch (error) {
    throw new StoreError(`store ${what} failed: ${(error as Error).message}`, { cause: error });
  }
}
