import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
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

// Proves `npm run bench -- --quick` still works end to end; timings vary by machine, so none is asserted.
describe('npm run bench -- --quick', () => {
  let out: string;
  let stdout: string;

  beforeAll(async () => {
    out = await mkdtemp(join(tmpdir(), 'poquan-bench-'));
    ({ stdout } = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', 'bench/run.ts', '--quick', '--out', out],
      { cwd: root, timeout: 90_000, maxBuffer: 16 * 1024 * 1024 },
    ));
  }, 100_000);

  afterAll(async () => {
    await rm(out, { recursive: true, force: true });
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

  it('writes one JSON file per section, latest.json and latest.md into --out', async () => {
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
      expect(section.command).toBe(`npm run bench -- --quick --out ${out}`);
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
    expect(text).toMatch(/p99 < 1 ms on the real file/);
    expect(text).toMatch(/< 30 ms added to first text/);
    expect(text).toMatch(/within one edit interval/);
    expect(text).toMatch(/no errors/);
  });
});
