import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/open-store.ts';
import { expectedSeedReport, expectedSeedSpend, seedFeedback } from '../fixtures/feedback-seed.ts';
import { cleanCwd } from '../servers/poquan-env.ts';
import { runPoquan } from '../servers/poquan-process.ts';

/** Runs the real CLI with only the given settings (no .env, no key from the machine). */
function poquan(args: string[], env: Record<string, string> = {}) {
  return runPoquan(args, { NO_COLOR: '1', ...env }, cleanCwd());
}

let dir: string;
let storeEnv: Record<string, string>;
const range = ['--from', '2026-03-01', '--to', '2026-03-02'];

// The CLI is another process, so the seed goes into a SQLite file it can open (memory:// would be empty there).
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'poquan-feedback-'));
  storeEnv = { STORE_URL: `sqlite://${join(dir, 'poquan.sqlite')}` };
  const store = await openStore(storeEnv.STORE_URL as string);
  await seedFeedback(store);
  await store.close();
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('poquan feedback report', () => {
  it('prints the seeded numbers as JSON', async () => {
    const run = await poquan(['feedback', 'report', ...range, '--json'], storeEnv);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual({ ...expectedSeedReport, spend: expectedSeedSpend });
  });

  it('exports the same numbers as CSV', async () => {
    const run = await poquan(['feedback', 'report', ...range, '--csv'], storeEnv);
    expect(run.code).toBe(0);
    const lines = run.stdout.trimEnd().split('\r\n');
    expect(lines.slice(0, 9)).toEqual([
      'section,item,count',
      'summary,from,2026-03-01',
      'summary,to,2026-03-02',
      'summary,answers,6',
      'summary,not_covered,2',
      'summary,votes,5',
      'summary,up,2',
      'summary,down,3',
      'summary,up_ratio,0.4000',
    ]);
    expect(lines).toContain('top_question,who founded deepseek,3');
    expect(lines).toContain('knowledge_gap,what is the weather in paris,2');
    expect(lines).toContain('downvoted_passage,p2,2');
  });

  it('prints a readable report by default', async () => {
    const run = await poquan(['feedback', 'report', ...range], storeEnv);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('votes 5 · 👍 2 · 👎 3 · 👍 share 40.0%');
    expect(run.stdout).toContain('Most asked questions');
  });

  it('refuses a bad date or two output formats with one line and exit code 2', async () => {
    const badDate = await poquan(['feedback', 'report', '--from', '03/01/2026'], storeEnv);
    expect(badDate.code).toBe(2);
    expect(badDate.stderr.trim()).toBe(
      'poquan: --from must be a date as YYYY-MM-DD, e.g. 2026-03-01 (got "03/01/2026").',
    );
    const both = await poquan(['feedback', 'report', '--json', '--csv'], storeEnv);
    expect(both.code).toBe(2);
    expect(both.stderr).toContain('Choose one of --json and --csv.');
  });
});

describe('provenance in poquan ask --json', () => {
  it('carries the answer id and the knowledge version the answer used', async () => {
    const run = await poquan(['ask', '--json', 'Who founded DeepSeek?'], { STORE_URL: 'memory://' });
    expect(run.code).toBe(0);
    const result = JSON.parse(run.stdout);
    expect(result.answerId).toMatch(/^[A-Za-z0-9_-]{16}$/);
    expect(result.knowledgeVersion).toMatch(/^[0-9a-f]{8,}$/);
    expect(result.latencyMs).toEqual(expect.any(Number));
  });
});
