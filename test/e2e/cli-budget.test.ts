import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type FakeLlm, startFakeLlm } from '../fakes/fake-llm.ts';
import { runPoquan } from '../servers/poquan-process.ts';

/**
 * The CLI is one user, `cli`, under the same budgets and rate limit as chat users: `poquan ask` refused by a
 * limit exits with code 3 and one line, `ask --json` carries the answer's cost, chat has `/usage`, and every
 * answer is recorded for `poquan feedback report`. Each run gets only the settings given, in a directory
 * without a `.env`.
 */

const knowledge = new URL('../fixtures/knowledge-mini', import.meta.url).pathname;
const question = 'Who founded High-Flyer?';
const prices = {
  LLM_PRICE_INPUT_PER_M: '2',
  LLM_PRICE_CACHED_INPUT_PER_M: '0.5',
  LLM_PRICE_OUTPUT_PER_M: '8',
};

let dir: string;
let llm: FakeLlm;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'poquan-cli-budget-'));
  llm = await startFakeLlm();
});
afterEach(async () => {
  await llm.close();
  await rm(dir, { recursive: true, force: true });
});

function poquan(args: string[], env: Record<string, string>, stdin = '') {
  const settings = {
    HOME: dir,
    NO_COLOR: '1',
    KNOWLEDGE_DIR: knowledge,
    STORE_URL: `sqlite://${join(dir, 'poquan.sqlite')}`,
    ...env,
  };
  return runPoquan(args, settings, dir, stdin);
}

const withModel = () => ({ LLM_BASE_URL: llm.url, LLM_API_KEY: 'sk-test', ANSWER_CACHE_TTL_HOURS: '0' });

describe('poquan ask under limits', { timeout: 90_000 }, () => {
  it('carries the cost in --json: the reported usage times the configured prices', async () => {
    const run = await poquan(['ask', '--json', question], {
      ...withModel(),
      ...prices,
      LLM_PRICE_CURRENCY: 'CNY',
    });
    expect(run.code).toBe(0);
    const { usage, cost } = JSON.parse(run.stdout);
    const hits = usage.promptCacheHitTokens ?? 0;
    const expected = ((usage.promptTokens - hits) * 2 + hits * 0.5 + usage.completionTokens * 8) / 1e6;
    expect(usage.completionTokens).toBeGreaterThan(0);
    expect(cost).toEqual({ amount: expect.closeTo(expected, 12), currency: 'CNY' });
  });

  it('costs 0 offline, and shows no cost when the price is unknown', async () => {
    const offline = JSON.parse((await poquan(['ask', '--json', question], {})).stdout);
    expect(offline.cost).toEqual({ amount: 0, currency: 'USD' });
    const unknown = JSON.parse(
      (await poquan(['ask', '--json', question], { ...withModel(), LLM_MODEL: 'a-newer-model' })).stdout,
    );
    expect(unknown.cost).toBeNull();
  });

  it('exits with code 3 and one line when the daily budget is used up, without calling the model', async () => {
    const env = { ...withModel(), BUDGET_USER_DAILY_TOKENS: '10' };
    expect((await poquan(['ask', question], env)).code).toBe(0);
    const refused = await poquan(['ask', '--json', question], env);
    expect(refused.code).toBe(3);
    expect(refused.stdout).toBe('');
    expect(refused.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(/^poquan: You have used up your token budget for today\. It resets at 00:00 UTC/),
    ]);
    expect(llm.requests).toHaveLength(1);
  });

  it('exits with code 3 and one line when the rate limit refuses', async () => {
    const env = { RATE_LIMIT_PER_MINUTE: '1' };
    expect((await poquan(['ask', question], env)).code).toBe(0);
    const refused = await poquan(['ask', question], env);
    expect(refused.code).toBe(3);
    expect(refused.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(/^poquan: You're asking faster than I can answer\. Please try again in \d+ s\.$/),
    ]);
  });
});

describe('the CLI as a user', { timeout: 90_000 }, () => {
  it('shows its answers and tokens with /usage in chat', async () => {
    const run = await poquan(
      ['chat'],
      { ...withModel(), BUDGET_USER_DAILY_TOKENS: '100000' },
      `${question}\n/usage\n`,
    );
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('Answers: 1');
    expect(run.stdout).toMatch(/Tokens: [1-9]\d*/);
    expect(run.stdout).toMatch(/Your budget left: \d+ of 100000 tokens/);
  });

  it('records its answers, with cost and user, for the feedback report', async () => {
    await poquan(['ask', question], { ...withModel(), ...prices });
    await poquan(['ask', question], { ...withModel(), ...prices });
    const report = JSON.parse((await poquan(['feedback', 'report', '--json'], {})).stdout);
    expect(report.answers).toBe(2);
    expect(report.spend).toMatchObject({
      answers: 2,
      unpriced: 0,
      cost: [{ amount: expect.any(Number), currency: 'USD' }],
      topUsers: [{ user: expect.stringMatching(/^[0-9a-f]{12}$/), answers: 2, tokens: report.spend.tokens }],
    });
    expect(report.spend.tokens).toBeGreaterThan(0);
  });
});
