/**
 * `npm run bench`: measures retrieval quality, token cost, retrieval speed, bot overhead and throughput
 * against loopback fakes, prints every table with the machine it ran on, and writes the results as JSON.
 *
 *   npm run bench                     full run (under 10 minutes), results in bench/results/
 *   npm run bench -- --quick          small run (under a minute), results in bench/results/quick/
 *   npm run bench -- --only retrieval-speed,throughput --out /tmp/bench
 *
 * (`npm run bench` is `node --import tsx bench/run.ts`.)
 *
 * Each section runs in a fresh process (bench/section-process.ts) and writes `<out>/<section>.json`; the run
 * also writes `<out>/latest.json` (all sections) and `<out>/latest.md` (the tables as Markdown, for
 * BENCHMARKS.md).
 */
import { fork } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, rename, writeFile } from 'node:fs/promises';
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
import type { SectionMessage } from './section-process.ts';
import { sections } from './sections.ts';

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    out: { type: 'string' },
    only: { type: 'string' },
  },
});
const quick = values.quick ?? false;
const defaultOut = fileURLToPath(new URL(quick ? './results/quick' : './results', import.meta.url));
const outDir = values.out ?? defaultOut;
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
  let message: SectionMessage | undefined;
  child.on('message', (received: SectionMessage) => {
    message = received;
  });
  const [code] = await once(child, 'exit');
  if (message?.ok) return message.result;
  throw new Error(message?.error ?? `section process exited with code ${code} and no result`);
}

/** Writes through a temporary file, so a reader never sees half a result file. */
async function writeJson(path: string, value: unknown): Promise<void> {
  const temporary = path.replace(/\.json$/, '.tmp.json');
  await writeFile(temporary, `${JSON.stringify(value, null, 2)}\n`);
  await rename(temporary, path);
}

const machine = describeMachine();
const startedAt = new Date().toISOString();
const runStarted = performance.now();
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
await writeJson(join(outDir, 'latest.json'), {
  command,
  quick,
  machine,
  startedAt,
  durationMs,
  failed: failures,
  sections: results,
});
await writeFile(
  join(outDir, 'latest.md'),
  `Produced by \`${command}\` on ${startedAt} in ${(durationMs / 1000).toFixed(0)} s.\n\n${markdown.join('\n\n')}\n`,
);
console.log(`\nTotal ${(durationMs / 1000).toFixed(1)} s. Results in ${outDir}`);
if (failures.length > 0) {
  console.error(`Failed sections: ${failures.join(', ')}`);
  process.exitCode = 1;
}
