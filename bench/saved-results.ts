/**
 * What `npm run bench -- --save` and `npm run soak -- --save` keep in the repository, and how they write it.
 * A run writes everything it measures into its output folder (`--out <dir>`, else a new temporary folder);
 * the repository keeps only `bench/results/latest.md` (the bench's tables, for BENCHMARKS.md) and
 * `bench/results/summary.json` (the headline numbers of the last saved bench and soak), each replaced whole
 * at the end of a complete run, never left half-written.
 */
import { mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Machine } from './machine.ts';
import type { Goal } from './report.ts';
import type { SoakCheck, SoakPlan } from './soak/plan.ts';

/** The folder `--save` writes to. */
export const savedResultsDir = fileURLToPath(new URL('./results', import.meta.url));

/** Where a run writes its full results: `out` when given, else a new folder under the system's temp folder. */
export async function outputFolder(out: string | undefined, name: string): Promise<string> {
  return out ?? (await mkdtemp(join(tmpdir(), `poquan-${name}-`)));
}

/**
 * Writes `text` to `path` through a temporary file beside it, renamed over `path` once complete: a reader (or
 * an interrupted run) sees the old file or the new one, never a part of either.
 */
export async function writeWhole(path: string, text: string): Promise<void> {
  const temporary = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  try {
    await writeFile(temporary, text);
    await rename(temporary, path);
  } finally {
    await rm(temporary, { force: true });
  }
}

/** A bench run as `bench/run.ts` writes it to `latest.json`. */
export interface BenchRun {
  command: string;
  machine: Machine;
  startedAt: string;
  durationMs: number;
  sections: Record<string, { title: string; durationMs: number; goals: Goal[] }>;
}

/** A finished soak, as `bench/soak/soak.ts` writes it to `soak.json`. */
export interface SoakRun {
  command: string;
  machine: Machine;
  startedAt: string;
  plan: SoakPlan;
  wallMs: number;
  checks: SoakCheck[];
  outcomes: Record<string, number>;
  injected: Record<string, number>;
}

/** The bench's headline: every section's goals with what was measured and whether it was met. */
export function benchSummary(run: BenchRun) {
  return {
    command: run.command,
    startedAt: run.startedAt,
    durationMs: Math.round(run.durationMs),
    machine: run.machine,
    sections: Object.fromEntries(
      Object.entries(run.sections).map(([name, section]) => [
        name,
        { title: section.title, durationMs: Math.round(section.durationMs), goals: section.goals },
      ]),
    ),
  };
}

/** The soak's headline: its verdict, every check, and what the users got and what was injected. */
export function soakSummary(run: SoakRun) {
  return {
    command: run.command,
    startedAt: run.startedAt,
    wallMs: Math.round(run.wallMs),
    machine: run.machine,
    plan: run.plan,
    passed: run.checks.every((check) => check.passed),
    checks: run.checks,
    outcomes: run.outcomes,
    injected: run.injected,
  };
}

/** Replaces the `part` of `summary.json` in `dir`, keeping the other run's part as it was. */
export async function saveSummaryPart(dir: string, part: 'bench' | 'soak', value: unknown): Promise<void> {
  const path = join(dir, 'summary.json');
  const current = await readFile(path, 'utf8').then(
    (text) => JSON.parse(text) as Record<string, unknown>,
    () => ({}),
  );
  await writeWhole(path, `${JSON.stringify({ ...current, [part]: value }, null, 2)}\n`);
}
