/**
 * Start-up of the bot process: from launching `node <checkout>/bin/poquan.js start` (what `npm start` runs) to
 * its "Poquan started" line, and the process's peak memory by then, for one or more checkouts side by side.
 *
 *   node --import tsx bench/start-to-ready.ts [--runs 10] <checkout> [<checkout> …]
 *
 * Each start gets a Telegram token against the repository's fake Bot API on 127.0.0.1 (the Telegram adapter
 * then checks the token, registers its commands and starts polling before the line), `STORE_URL=memory://`
 * and the checkout's own knowledge. The checkouts take turns, so a machine that slows down mid-run slows
 * each of them alike. Peak memory is the kernel's VmHWM of the process at the line (Linux). Prints the
 * median, min and max of each; no files are written.
 */
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { startFakeTelegram } from '../test/fakes/fake-telegram.ts';
import { summarize } from './stats.ts';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { runs: { type: 'string', default: '10' } },
});
const runs = Number(values.runs);
const checkouts = (positionals.length ? positionals : ['.']).map((dir) => resolve(dir));

async function peakRssMb(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/^VmHWM:\s+(\d+) kB/m.exec(status)?.[1]) / 1024;
}

/** One start: milliseconds to the "Poquan started" line and peak RSS (MB) then; the process is killed after. */
async function startOnce(checkout: string, telegram: { url: string; token: string }) {
  const started = performance.now();
  const child = spawn(process.execPath, [join(checkout, 'bin/poquan.js'), 'start'], {
    cwd: checkout,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '/tmp',
      TELEGRAM_BOT_TOKEN: telegram.token,
      TELEGRAM_API_ROOT: telegram.url,
      STORE_URL: 'memory://',
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const exited = new Promise((done) => child.once('exit', done));
  try {
    let stderr = '';
    await new Promise<void>((ready, fail) => {
      child.stderr.on('data', (chunk: Buffer) => {
        stderr += chunk.toString('utf8');
        if (stderr.includes('Poquan started')) ready();
      });
      child.once('exit', (code) =>
        fail(new Error(`${checkout}: exited ${code} before starting:\n${stderr}`)),
      );
    });
    return { ms: performance.now() - started, rssMb: await peakRssMb(child.pid as number) };
  } finally {
    child.kill('SIGKILL');
    await exited;
  }
}

const telegram = await startFakeTelegram();
const samples = new Map(checkouts.map((dir) => [dir, { ms: [] as number[], rssMb: [] as number[] }]));
try {
  for (let run = 0; run <= runs; run++) {
    for (const checkout of checkouts) {
      const sample = await startOnce(checkout, telegram);
      if (run === 0) continue; // warm-up: the file cache, not start-up, decides the first start
      samples.get(checkout)?.ms.push(sample.ms);
      samples.get(checkout)?.rssMb.push(sample.rssMb);
    }
  }
} finally {
  await telegram.close();
}

const format = (values: number[], digits: number) => {
  const { p50, min, max } = summarize(values);
  return `${p50.toFixed(digits)} (${min.toFixed(digits)}–${max.toFixed(digits)})`;
};
console.log(`start → "Poquan started", ${runs} runs each after one warm-up; median (min–max)`);
for (const [checkout, { ms, rssMb }] of samples) {
  console.log(`${checkout}\n  wall ms ${format(ms, 0)}   peak RSS MB ${format(rssMb, 1)}`);
}
