/**
 * One of several processes opening the same new SQLite store file at the same instant, for
 * test/e2e/sqlite-shared-file.test.ts. Run as `node --import tsx sqlite-open-worker.ts <dir> <rounds>`: for each
 * round it prints `ready`, waits for a line on stdin (so every worker opens at once), opens
 * `<dir>/round-<n>.sqlite` (a file nobody has created yet), counts itself in it, and prints what happened as
 * one JSON line: `{ "round": n }`, or with `"error"` the message opening or counting failed with.
 */

import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { openStore } from '../../src/store/open-store.ts';

const [dir, rounds] = process.argv.slice(2) as [string, string];
const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]();
for (let round = 0; round < Number(rounds); round++) {
  process.stdout.write('ready\n');
  await lines.next();
  let error: string | undefined;
  try {
    const store = await openStore(`sqlite://${join(dir, `round-${round}.sqlite`)}`, 'new-file-test');
    try {
      await store.incrementBy('opened', 1, 60_000);
    } finally {
      await store.close();
    }
  } catch (failure) {
    error = (failure as Error).message;
  }
  process.stdout.write(`${JSON.stringify({ round, ...(error === undefined ? {} : { error }) })}\n`);
}
process.stdin.destroy();
