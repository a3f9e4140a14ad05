import { afterEach, describe, expect, it } from 'vitest';
import { budgetDayStart, budgetTokens, createBudgets } from '../../src/core/budget.ts';
import { loadConfig } from '../../src/core/config.ts';
import { openStore } from '../../src/store/open-store.ts';
import type { OpenedStore } from '../../src/store/opened-store.ts';

const opened: OpenedStore[] = [];
afterEach(async () => {
  for (const store of opened.splice(0)) await store.close();
});

const usage = { promptTokens: 300, completionTokens: 50, reasoningTokens: 20, promptCacheHitTokens: 200 };

async function budgetsOn(env: Record<string, string>, clock: { now: number }, admins: string[] = []) {
  const store = await openStore('memory://');
  opened.push(store);
  return createBudgets({
    atomic: store,
    settings: loadConfig(env).budget,
    isAdmin: (userKey) => admins.includes(userKey),
    now: () => clock.now,
  });
}

describe('budget day', () => {
  it('starts at BUDGET_RESET_UTC_HOUR, the same day or the day before', () => {
    const at = (iso: string) => Date.parse(iso);
    expect(budgetDayStart(at('2026-03-02T13:30:00Z'), 0)).toBe(at('2026-03-02T00:00:00Z'));
    expect(budgetDayStart(at('2026-03-02T13:30:00Z'), 6)).toBe(at('2026-03-02T06:00:00Z'));
    expect(budgetDayStart(at('2026-03-02T05:59:59Z'), 6)).toBe(at('2026-03-01T06:00:00Z'));
    expect(budgetDayStart(at('2026-03-01T02:00:00Z'), 23)).toBe(at('2026-02-28T23:00:00Z'));
  });

  it('counts prompt and completion tokens (reasoning is inside completion), cache hits as configured', () => {
    expect(budgetTokens(usage, 'full')).toBe(350);
    expect(budgetTokens(usage, 'none')).toBe(150);
    expect(budgetTokens(undefined, 'full')).toBe(0);
  });
});

describe('budgets', () => {
  it("refuses a user once their day's tokens reach the budget, until the day turns", async () => {
    const clock = { now: Date.parse('2026-03-02T10:00:00Z') };
    const budgets = await budgetsOn({ BUDGET_USER_DAILY_TOKENS: '700', BUDGET_RESET_UTC_HOUR: '6' }, clock);
    await budgets.record('telegram:1', usage);
    expect(await budgets.check('telegram:1')).toEqual({ allowed: true });
    await budgets.record('telegram:1', usage);
    expect(await budgets.check('telegram:1')).toEqual({
      allowed: false,
      scope: 'user',
      resetsAt: Date.parse('2026-03-03T06:00:00Z'),
    });
    expect(await budgets.check('discord:1')).toEqual({ allowed: true });
    expect(await budgets.read('telegram:1')).toMatchObject({ answers: 2, tokens: 700, remaining: 0 });

    clock.now = Date.parse('2026-03-03T06:00:00Z');
    expect(await budgets.check('telegram:1')).toEqual({ allowed: true });
    expect(await budgets.read('telegram:1')).toMatchObject({ answers: 0, tokens: 0, remaining: 700 });
  });

  it('refuses everyone once the bot-wide total reaches its budget; exempt admins only when so configured', async () => {
    const clock = { now: Date.parse('2026-03-02T10:00:00Z') };
    const strict = await budgetsOn({ BUDGET_DAILY_TOKENS: '350' }, clock, ['telegram:9']);
    await strict.record('telegram:1', usage);
    expect(await strict.check('discord:2')).toMatchObject({ allowed: false, scope: 'bot' });
    expect(await strict.check('telegram:9')).toMatchObject({ allowed: false, scope: 'bot' });

    const lenient = await budgetsOn({ BUDGET_DAILY_TOKENS: '350', BUDGET_EXEMPT_ADMINS: 'true' }, clock, [
      'telegram:9',
    ]);
    await lenient.record('telegram:1', usage);
    expect(await lenient.check('telegram:9')).toEqual({ allowed: true });
    expect(await lenient.read('telegram:9')).toMatchObject({ remaining: undefined, botRemaining: undefined });
  });

  it("counts a turn's answer once however often it is answered again, and the tokens of every answer", async () => {
    const clock = { now: Date.parse('2026-03-02T10:00:00Z') };
    const budgets = await budgetsOn({ BUDGET_USER_DAILY_TOKENS: '10000' }, clock);
    await budgets.record('telegram:1', usage, 'telegram:7:100');
    // The same update answered again after a restart: the model was called again, the question was not.
    await budgets.record('telegram:1', usage, 'telegram:7:100');
    await budgets.record('telegram:1', usage, 'telegram:7:101');
    expect(await budgets.read('telegram:1')).toMatchObject({ answers: 2, tokens: 1050 });
  });

  it('counts answers without model usage (offline, cached) as answers costing no tokens', async () => {
    const clock = { now: Date.parse('2026-03-02T10:00:00Z') };
    const budgets = await budgetsOn({ BUDGET_USER_DAILY_TOKENS: '1' }, clock);
    await budgets.record('cli', undefined);
    await budgets.record('cli', undefined);
    expect(await budgets.read('cli')).toMatchObject({ answers: 2, tokens: 0, remaining: 1 });
    expect(await budgets.check('cli')).toEqual({ allowed: true });
  });
});
