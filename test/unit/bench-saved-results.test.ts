import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeMachine } from '../../bench/machine.ts';
import {
  benchSummary,
  outputFolder,
  type SoakRun,
  savedResultsDir,
  saveSummaryPart,
  soakSummary,
  writeWhole,
} from '../../bench/saved-results.ts';
import { defaultPlan } from '../../bench/soak/plan.ts';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'poquan-saved-results-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('where a bench or soak run writes', () => {
  it('into --out when given, else into a new empty folder under the system temp folder', async () => {
    expect(await outputFolder('/some/where', 'bench')).toBe('/some/where');
    const first = await outputFolder(undefined, 'bench');
    const second = await outputFolder(undefined, 'bench');
    expect(first.startsWith(join(tmpdir(), 'poquan-bench-'))).toBe(true);
    expect(second).not.toBe(first);
    expect(await readdir(first)).toEqual([]);
    await Promise.all([first, second].map((folder) => rm(folder, { recursive: true })));
  });

  it('replaces a file whole and leaves no temporary file beside it', async () => {
    const path = join(dir, 'latest.md');
    await writeWhole(path, 'old\n');
    await writeWhole(path, 'new\n');
    expect(await readFile(path, 'utf8')).toBe('new\n');
    expect(await readdir(dir)).toEqual(['latest.md']);
  });

  it('keeps the old file when the new one cannot be put in its place', async () => {
    const folder = join(dir, 'blocked');
    await mkdir(join(folder, 'latest.md'), { recursive: true });
    await writeFile(join(folder, 'latest.md', 'keep'), 'kept');
    await expect(writeWhole(join(folder, 'latest.md'), 'half a run')).rejects.toMatchObject({
      code: 'EISDIR',
    });
    expect(await readdir(folder)).toEqual(['latest.md']);
    expect(await readFile(join(folder, 'latest.md', 'keep'), 'utf8')).toBe('kept');
  });
});

describe('bench/results/summary.json', () => {
  const machine = describeMachine();
  const goal = { goal: 'query p99 < 1 ms', measured: '0.8 ms', met: true };
  const bench = {
    command: 'npm run bench',
    machine,
    startedAt: '2026-12-01T00:00:00.000Z',
    durationMs: 1234.5,
    sections: {
      'retrieval-speed': {
        title: '3. Retrieval speed',
        durationMs: 99.6,
        goals: [goal],
        data: { runs: [1, 2] },
      },
    },
  };
  const soak: SoakRun = {
    command: 'npm run soak',
    machine,
    startedAt: '2026-12-01T00:00:00.000Z',
    plan: defaultPlan,
    wallMs: 43_786.2,
    checks: [
      { check: 'all 1000 questions asked', measured: '1000 asked', passed: true },
      { check: 'no log line at error level', measured: '2', passed: false },
    ],
    outcomes: { answer: 998 },
    injected: { 'model 500': 8 },
  };

  it('holds each section’s goals and timings, not its raw data', () => {
    expect(benchSummary(bench)).toEqual({
      command: 'npm run bench',
      startedAt: bench.startedAt,
      durationMs: 1235,
      machine,
      sections: { 'retrieval-speed': { title: '3. Retrieval speed', durationMs: 100, goals: [goal] } },
    });
  });

  it('gives the soak’s verdict from its checks', () => {
    expect(soakSummary(soak)).toMatchObject({ passed: false, wallMs: 43_786, checks: soak.checks });
    expect(soakSummary({ ...soak, checks: soak.checks.slice(0, 1) }).passed).toBe(true);
  });

  it('keeps the bench part when the soak saves its own, and the other way round', async () => {
    const folder = join(dir, 'summary');
    await mkdir(folder);
    await saveSummaryPart(folder, 'bench', benchSummary(bench));
    await saveSummaryPart(folder, 'soak', soakSummary(soak));
    await saveSummaryPart(folder, 'bench', benchSummary({ ...bench, command: 'npm run bench -- --save' }));
    const summary = JSON.parse(await readFile(join(folder, 'summary.json'), 'utf8'));
    expect(summary.bench.command).toBe('npm run bench -- --save');
    expect(summary.soak).toEqual(soakSummary(soak));
  });

  it('is the one compact JSON file the repository keeps beside latest.md', async () => {
    const text = await readFile(join(savedResultsDir, 'summary.json'), 'utf8');
    expect(text.length).toBeLessThan(10_000);
    const summary = JSON.parse(text);
    expect(Object.keys(summary).sort()).toEqual(['bench', 'soak']);
    for (const section of Object.values(summary.bench.sections) as { goals: object[] }[]) {
      for (const saved of section.goals)
        expect(saved).toMatchObject({ goal: expect.any(String), met: expect.any(Boolean) });
    }
    const ignored = (name: string) => {
      try {
        execFileSync('git', ['check-ignore', '-q', '--no-index', join(savedResultsDir, name)]);
        return true;
      } catch {
        return false;
      }
    };
    expect(['latest.md', 'summary.json'].map(ignored)).toEqual([false, false]);
    expect(['latest.json', 'soak.json', 'throughput.json', '.latest.md.42.tmp'].every(ignored)).toBe(true);
  });
});
