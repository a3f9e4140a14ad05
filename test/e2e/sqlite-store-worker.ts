/**
 * One of several processes hammering one SQLite store file, for test/e2e/sqlite-shared-file.test.ts. Run as
 * `node --import tsx sqlite-store-worker.ts <file> <keys> <window-attempts> <increments>`: it opens the store,
 * prints `ready`, waits for a line on stdin (so every worker starts at once), then claims every key, tries the
 * shared window, adds 1…increments to the shared counter, appends as many entries to a shared list, and prints what it got as one JSON line.
 */
import { createInterface } from 'node:readline';
import { openStore } from '../../src/store/open-store.ts';

const [file, keys, windowAttempts, increments] = process.argv.slice(2);
const store = await openStore(`sqlite://${file}`, 'shared-file-test');
process.stdout.write('ready\n');
const input = createInterface({ input: process.stdin });
await new Promise((resolve) => input.once('line', resolve));
input.close();

const claimed: number[] = [];
for (let key = 0; key < Number(keys); key++) {
  if (await store.claimOnce(`claim:${key}`, 60_000)) claimed.push(key);
}
let admitted = 0;
for (let attempt = 0; attempt < Number(windowAttempts); attempt++) {
  if ((await store.takeFromWindow('window', 25, 60_000, Date.now())).allowed) admitted += 1;
}
const totals: number[] = [];
for (let amount = 1; amount <= Number(increments); amount++) {
  totals.push(await store.incrementBy('counter', amount, 60_000));
}
for (let entry = 1; entry <= Number(increments); entry++) {
  await store.appendToList('list', `${process.pid}:${entry}`, 60_000);
}
await store.close();
process.stdout.write(`${JSON.stringify({ claimed, admitted, totals })}\n`);
