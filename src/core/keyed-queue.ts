/**
 * Runs operations on the same key one after another in this process, and operations on different keys freely.
 * A failed operation does not stop the ones queued behind it; each caller gets its own operation's outcome.
 * Keys leave the map once their queue is empty, so it holds only keys with work pending.
 */
export function createKeyedQueue(): <T>(key: string, operation: () => Promise<T>) => Promise<T> {
  const tails = new Map<string, Promise<unknown>>();
  return <T>(key: string, operation: () => Promise<T>): Promise<T> => {
    const run = (tails.get(key) ?? Promise.resolve()).then(operation, operation);
    const settled = run.catch(() => undefined);
    tails.set(key, settled);
    void settled.then(() => {
      if (tails.get(key) === settled) tails.delete(key);
    });
    return run;
  };
}
