/**
 * `npm run bench`: measures retrieval quality, token cost, retrieval speed, bot overhead and throughput
 * against loopback fakes, prints every table with the machine it ran on, and writes the results as JSON.
 *
 *   npm run bench                     full run (under 10 minutes), results in a new temporary folder
 *   npm run bench -- --quick          small run (under a minute)
 *   npm run bench -- --only retrieval-speed,throughput --out /tmp/bench
 *   npm run bench -- --save           full run, then also bench/results/latest.md and summary.json
 *
 * (`npm run bench` is `node --import tsx bench/run.ts`.)
 *
 * Each section runs in a fresh process (bench/section-process.ts) and writes `<out>/<section>.json`; the run
 * also writes `<out>/latest.json` (all sections) and `<out>/latest.md` (the tables as Markdown, for
 * BENCHMARKS.md). Only `--save` writes into the repository, and only once every section of a full run has
 * succeeded (bench/saved-results.ts).
 */
import { type ChildProcess, fork } from 'node:child_process';
import { once } from 'node:events';
import { mkdir } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { describeMachine, machineTable } from './machine.ts';
import {
  goalsTable,
  renderMarkdown,
  renderText,
  type Section,
  type SectionResult,
  type Table,
} from './report.ts';
import {
  type BenchRun,
  benchSummary,
  outputFolder,
  savedResultsDir,
  saveSummaryPart,
  writeWhole,
} from './saved-results.ts';
import type { SectionMessage } from './section-process.ts';
import { sections } from './sections.ts';

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    out: { type: 'string' },
    only: { type: 'string' },
    save: { type: 'boolean', default: false },
  },
});
const quick = values.quick ?? false;
const save = values.save ?? false;
if (save && (quick || values.only)) {
  console.error('--save keeps only a full run of every section: drop --quick and --only');
  process.exit(2);
}
const only = values.only?.split(',').map((name) => name.trim());
const unknown = only?.filter((name) => !sections.some((section) => section.name === name)) ?? [];
if (unknown.length > 0) {
  console.error(
    `Unknown section(s): ${unknown.join(', ')}. Sections: ${sections.map((s) => s.name).join(', ')}`,
  );
  process.exit(2);
}
const selected = sections.filter((section) => !only || only.includes(section.name));
const command = ['npm run bench', ...(process.argv.length > 2 ? ['--', ...process.argv.slice(2)] : [])].join(
  ' ',
);

/** The section process running now: an interrupted run stops it rather than leave it measuring alone. */
let running: ChildProcess | undefined;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    running?.kill('SIGKILL');
    process.exit(signal === 'SIGINT' ? 130 : 143);
  });
}

/** Runs `section` in a child process and resolves with its result; rejects when it fails or dies. */
async function runIsolated(section: Section): Promise<SectionResult> {
  const child = fork(
    fileURLToPath(new URL('./section-process.ts', import.meta.url)),
    [section.name, ...(quick ? ['--quick'] : [])],
    {
      cwd: fileURLToPath(new URL('..', import.meta.url)),
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    },
  );
  running = child;
  let message: SectionMessage | undefined;
  child.on('message', (received: SectionMessage) => {
    message = received;
  });
  const [code] = await once(child, 'exit');
  if (message?.ok) return message.result;
  throw new Error(message?.error ?? `section process exited with code ${code} and no result`);
}

async function writeJson(path: string, value: unknown): Promise<void> {
  await writeWhole(path, `${JSON.stringify(value, null, 2)}\n`);
}

const machine = describeMachine();
const startedAt = new Date().toISOString();
const runStarted = performance.now();
const outDir = await outputFolder(values.out, 'bench');
await mkdir(outDir, { recursive: true });
console.log(`${command}  (${quick ? 'quick' : 'full'} run, started ${startedAt})\n`);
console.log(renderText(machineTable(machine)));

const results: Record<
  string,
  SectionResult & { title: string; durationMs: number; loadAverageAfter: number }
> = {};
const failures: string[] = [];
const markdown: string[] = [renderMarkdown(machineTable(machine))];
for (const section of selected) {
  const started = performance.now();
  console.log(`\n## ${section.title}\n`);
  let result: SectionResult;
  try {
    result = await runIsolated(section);
  } catch (error) {
    failures.push(section.name);
    console.error(`Section ${section.name} failed: ${(error as Error).message}`);
    continue;
  }
  const durationMs = performance.now() - started;
  const tables: Table[] = [...result.tables];
  if (result.goals.length > 0) tables.push(goalsTable(`Goals: ${section.title}`, result.goals));
  for (const table of tables) console.log(`${renderText(table)}\n`);
  // The load while the section ran: 1-minute average when it ended (this run's own processes included).
  const loadAverageAfter = loadavg()[0] ?? 0;
  console.log(
    `(${section.name}: ${(durationMs / 1000).toFixed(1)} s, load average ${loadAverageAfter.toFixed(2)})`,
  );
  markdown.push(`### ${section.title}`, ...tables.map(renderMarkdown));
  results[section.name] = { title: section.title, durationMs, loadAverageAfter, ...result };
  await writeJson(join(outDir, `${section.name}.json`), {
    section: section.name,
    title: section.title,
    command,
    quick,
    machine,
    startedAt,
    durationMs,
    loadAverageAfter,
    ...result,
  });
}

const durationMs = performance.now() - runStarted;
const run: BenchRun & { quick: boolean; failed: string[] } = {
  command,
  quick,
  machine,
  startedAt,
  durationMs,
  failed: failures,
  sections: results,
};
const latestMarkdown = `Produced by \`${command}\` on ${startedAt} in ${(durationMs / 1000).toFixed(0)} s.\n\n${markdown.join('\n\n')}\n`;
await writeJson(join(outDir, 'latest.json'), run);
await writeWhole(join(outDir, 'latest.md'), latestMarkdown);
console.log(`\nTotal ${(durationMs / 1000).toFixed(1)} s. Results in ${outDir}`);
if (failures.length > 0) {
  console.error(`Failed sections: ${failures.join(', ')}${save ? '; nothing saved to bench/results' : ''}`);
  process.exitCode = 1;
} else if (save) {
  await writeWhole(join(savedResultsDir, 'latest.md'), latestMarkdown);
  await saveSummaryPart(savedResultsDir, 'bench', benchSummary(run));
  console.log('Saved bench/results/latest.md and the bench part of bench/results/summary.json.');
}
