import { execFile } from 'node:child_process';
import { readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { poquanEnv } from '../servers/poquan-env.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
const savedResults = join(root, 'bench/results');
const sections = [
  'retrieval-quality',
  'token-cost',
  'retrieval-speed',
  'bot-overhead',
  'throughput',
  'context-strategy',
];

interface TableJson {
  title: string;
  columns: string[];
  rows: string[][];
}

/** Every file in bench/results with its size and modification time: what a run must leave as it was. */
async function savedResultsState(): Promise<string[]> {
  const names = (await readdir(savedResults)).sort();
  return Promise.all(
    names.map(async (name) => {
      const { size, mtimeMs } = await stat(join(savedResults, name));
      return `${name} ${size} ${mtimeMs}`;
    }),
  );
}

function bench(args: string[]) {
  return promisify(execFile)(process.execPath, ['--import', 'tsx', 'bench/run.ts', ...args], {
    cwd: root,
    env: poquanEnv(),
    timeout: 300_000,
    maxBuffer: 16 * 1024 * 1024,
  });
}

// Proves `npm run bench -- --quick` still works end to end; timings vary by machine, so none is asserted.
describe('npm run bench -- --quick', () => {
  let out: string;
  let stdout: string;
  let savedBefore: string[];

  beforeAll(async () => {
    savedBefore = await savedResultsState();
    ({ stdout } = await bench(['--quick']));
    out = /Results in (.+)$/m.exec(stdout)?.[1] ?? '';
  }, 310_000);

  afterAll(async () => {
    if (out?.startsWith(tmpdir())) await rm(out, { recursive: true, force: true });
  });

  it('writes into a new temporary folder and leaves bench/results as it was', async () => {
    expect(out.startsWith(join(tmpdir(), 'poquan-bench-'))).toBe(true);
    expect(await savedResultsState()).toEqual(savedBefore);
  });

  it('refuses --save for anything but a full run, before measuring', async () => {
    for (const args of [
      ['--quick', '--save'],
      ['--only', 'token-cost', '--save'],
    ]) {
      const failure = await bench(args).catch((error: { code: number; stderr: string }) => error);
      expect(failure).toMatchObject({
        code: 2,
        stderr: expect.stringMatching(/^--save keeps only a full run/),
      });
    }
    expect(await savedResultsState()).toEqual(savedBefore);
  });

  it('prints the machine and every section', () => {
    expect(stdout).toMatch(/cores\s+\d+/);
    expect(stdout).toMatch(/Node\s+v\d+/);
    for (const title of [
      '1. Retrieval quality',
      '2. Token cost',
      '3. Retrieval speed',
      '4. Bot overhead',
      '5. Throughput',
      '6. Context strategy',
    ]) {
      expect(stdout).toContain(`## ${title}`);
    }
  });

  it('writes one JSON file per section, latest.json and latest.md', async () => {
    expect((await readdir(out)).sort()).toEqual(
      [...sections.map((name) => `${name}.json`), 'latest.json', 'latest.md'].sort(),
    );
  });

  it('gives every section tables with rows as wide as their columns, and goals with verdicts', async () => {
    const latest = JSON.parse(await readFile(join(out, 'latest.json'), 'utf8'));
    expect(latest.quick).toBe(true);
    expect(latest.failed).toEqual([]);
    expect(latest.machine.cores).toBeGreaterThan(0);
    expect(Object.keys(latest.sections).sort()).toEqual([...sections].sort());
    for (const name of sections) {
      const section = JSON.parse(await readFile(join(out, `${name}.json`), 'utf8'));
      expect(section.section).toBe(name);
      expect(section.command).toBe('npm run bench -- --quick');
      expect(section.tables.length).toBeGreaterThan(0);
      for (const table of section.tables as TableJson[]) {
        expect(table.rows.length, table.title).toBeGreaterThan(0);
        for (const row of table.rows) expect(row).toHaveLength(table.columns.length);
      }
      for (const goal of section.goals) expect(typeof goal.met).toBe('boolean');
    }
  });

  it('measures every goal the issue sets', async () => {
    const latest = JSON.parse(await readFile(join(out, 'latest.json'), 'utf8'));
    const goals = Object.values(latest.sections).flatMap(
      (section) => (section as { goals: { goal: string }[] }).goals,
    );
    const text = goals.map((goal) => goal.goal).join('\n');
    expect(text).toMatch(/p99 ≤ 1 ms on the real file/);
    expect(text).toMatch(/< 30 ms added to first text/);
    expect(text).toMatch(/within one edit interval/);
    expect(text).toMatch(/no errors/);
  });
});

describe('npm run soak', () => {
  it('refuses --save for anything but the full default run, before starting', async () => {
    const before = await savedResultsState();
    const failure = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', 'bench/soak/soak.ts', '--chats', '20', '--save'],
      { cwd: root, env: poquanEnv(), timeout: 60_000 },
    ).catch((error: { code: number; stderr: string }) => error);
    expect(failure).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/^--save keeps only the full default run/),
    });
    expect(await savedResultsState()).toEqual(before);
  });
});
