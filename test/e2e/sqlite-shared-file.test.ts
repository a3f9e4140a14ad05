import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/open-store.ts';

/**
 * The bot and `poquan chat` share one SQLite file, so claims, rate windows and counters must hold across
 * processes, not just within one. Real child processes hammer the same file at the same moment.
 */

const worker = new URL('./sqlite-store-worker.ts', import.meta.url).pathname;
const openWorker = new URL('./sqlite-open-worker.ts', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'poquan-shared-sqlite-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface WorkerResult {
  claimed: number[];
  admitted: number;
  totals: number[];
}

function startWorker(file: string, args: number[]) {
  const child: ChildProcess = spawn(
    process.execPath,
    ['--import', 'tsx', worker, file, ...args.map(String)],
    {
      env: { PATH: process.env.PATH ?? '' },
      stdio: ['pipe', 'pipe', 'pipe'],
    },
  );
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream })[Symbol.asyncIterator]();
  const nextLine = async () => {
    const { value, done } = await lines.next();
    if (done) throw new Error(`store worker ended early: ${stderr}`);
    return value as string;
  };
  return {
    ready: nextLine().then((line) => expect(line).toBe('ready')),
    go: () => child.stdin?.end('go\n'),
    result: async () => JSON.parse(await nextLine()) as WorkerResult,
    exited: new Promise<number | null>((resolve) => child.once('exit', resolve)),
  };
}

describe('two processes on one SQLite file', () => {
  it('claim each key exactly once, admit no more than the window limit, add up counters and keep every list entry', async () => {
    const file = join(dir, 'shared.sqlite');
    const keys = 200;
    const increments = 100;
    const workers = [startWorker(file, [keys, 100, increments]), startWorker(file, [keys, 100, increments])];
    await Promise.all(workers.map((w) => w.ready));
    for (const w of workers) w.go();
    const [a, b] = (await Promise.all(workers.map((w) => w.result()))) as [WorkerResult, WorkerResult];
    expect(await Promise.all(workers.map((w) => w.exited))).toEqual([0, 0]);

    // Every key claimed, none twice.
    expect([...a.claimed, ...b.claimed].sort((x, y) => x - y)).toEqual(
      Array.from({ length: keys }, (_, i) => i),
    );
    // The window's limit is 25 per minute, whoever asks.
    expect(a.admitted + b.admitted).toBe(25);
    // Each increment saw a total no other increment saw, and the last one is the exact sum.
    const sum = (increments * (increments + 1)) / 2;
    const totals = [...a.totals, ...b.totals];
    expect(new Set(totals).size).toBe(totals.length);
    expect(Math.max(...totals)).toBe(2 * sum);
    const store = await openStore(`sqlite://${file}`, 'shared-file-test');
    expect(await store.get('counter')).toBe(2 * sum);
    // Appends raced for the same list; none was lost.
    const list = await store.readList('list');
    expect(new Set(list).size).toBe(2 * increments);
    expect(list).toHaveLength(2 * increments);
    await store.close();
  }, 120_000);
});

describe('several processes creating one new SQLite file at the same instant', () => {
  it('all open it and use it, round after round (Discord shards starting together on a new store)', async () => {
    const processes = 4;
    const rounds = 25;
    const children = Array.from({ length: processes }, () => {
      const child = spawn(process.execPath, ['--import', 'tsx', openWorker, dir, String(rounds)], {
        env: { PATH: process.env.PATH ?? '' },
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
      });
      const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
      const nextLine = async () => {
        const { value, done } = await lines.next();
        if (done) throw new Error(`open worker ended early: ${stderr}`);
        return value as string;
      };
      return { child, nextLine, exited: new Promise((resolve) => child.once('exit', resolve)) };
    });
    const failures: string[] = [];
    for (let round = 0; round < rounds; round++) {
      // Every process is waiting at the line before any of them opens the file.
      expect(await Promise.all(children.map((c) => c.nextLine()))).toEqual(Array(processes).fill('ready'));
      for (const { child } of children) child.stdin.write('go\n');
      for (const line of await Promise.all(children.map((c) => c.nextLine()))) {
        const outcome = JSON.parse(line) as { round: number; error?: string };
        expect(outcome.round).toBe(round);
        if (outcome.error) failures.push(`round ${round}: ${outcome.error}`);
      }
    }
    expect(await Promise.all(children.map((c) => c.exited))).toEqual(Array(processes).fill(0));
    expect(failures).toEqual([]);
    // Every process counted itself in every file: none of them ended up without the shared table.
    for (let round = 0; round < rounds; round++) {
      const store = await openStore(`sqlite://${join(dir, `round-${round}.sqlite`)}`, 'new-file-test');
      expect(await store.get('opened')).toBe(processes);
      await store.close();
    }
  }, 180_000);
});
