import { describe, expect } from 'vitest';
import type { Usage } from '../../src/core/answer-events.ts';
import type { FakeChat } from '../fakes/fake-telegram.ts';
import { it } from '../fixtures/it.ts';
import { startRedisServer, withoutRedis } from '../servers/redis-server.ts';
import {
  ada,
  type CapturedLogs,
  foundersQuestion,
  groundedAnswer,
  startDiscordHarness,
  startTelegramHarness,
} from './harness.ts';

/**
 * Operator controls for a paid key: daily token budgets per user and for the whole bot, checked before the model
 * is called and counted from the usage the model reports; the cost of every answer from configured prices; and
 * `/usage` and `/stats` showing the figures.
 */

// A user id as long as real Telegram ids: a two-digit id turns up inside a random salted hash now and then.
const bo = { id: 5_123_456_789, is_bot: false, first_name: 'Bo', language_code: 'en' };
const boChat: FakeChat = { id: bo.id, type: 'private', first_name: 'Bo' };
const userRefusal = /^You have used up your token budget for today\. It resets at 00:00 UTC/;
const botRefusal = /^This bot has used up its token budget for today\. .*reset at 00:00 UTC/;

/** The usage and cost on each `answered` log line, in order. */
function answeredLines(logs: CapturedLogs) {
  return logs
    .entries()
    .filter((entry) => entry.msg === 'answered')
    .map((entry) => entry as unknown as { usage: Usage; cost?: { amount: number; currency: string } });
}

const tokensOf = (usage: Usage) => usage.promptTokens + usage.completionTokens;

describe('token budgets', () => {
  it('refuses a user over their daily budget without calling the model, and still answers another user', async ({
    cleanups,
  }) => {
    const bot = await startTelegramHarness(cleanups, { BUDGET_USER_DAILY_TOKENS: '10' });
    expect(await bot.ask(foundersQuestion)).toEqual([expect.stringMatching(groundedAnswer)]);
    expect(bot.llm.requests).toHaveLength(1);

    expect(await bot.ask('Who runs the national AI fund?')).toEqual([expect.stringMatching(userRefusal)]);
    expect(await bot.ask('谁创立了幻方？')).toEqual([
      expect.stringMatching(/^你今天的令牌额度已用完，将在 00:00 UTC 重置/),
    ]);
    expect(bot.llm.requests).toHaveLength(1);

    expect(await bot.ask(foundersQuestion, boChat, bo)).toEqual([expect.stringMatching(groundedAnswer)]);
    expect(bot.llm.requests).toHaveLength(2);
  });

  it('stops everyone once the bot-wide budget is used up, admins too unless they are exempt', async ({
    cleanups,
  }) => {
    const bot = await startTelegramHarness(cleanups, {
      BUDGET_DAILY_TOKENS: '10',
      TELEGRAM_ADMIN_IDS: String(ada.id),
    });
    expect(await bot.ask(foundersQuestion, boChat, bo)).toEqual([expect.stringMatching(groundedAnswer)]);
    expect(await bot.ask(foundersQuestion, boChat, bo)).toEqual([expect.stringMatching(botRefusal)]);
    expect(await bot.ask(foundersQuestion)).toEqual([expect.stringMatching(botRefusal)]);
    expect(bot.llm.requests).toHaveLength(1);

    const exempt = await startTelegramHarness(cleanups, {
      BUDGET_DAILY_TOKENS: '10',
      BUDGET_USER_DAILY_TOKENS: '10',
      BUDGET_EXEMPT_ADMINS: 'true',
      TELEGRAM_ADMIN_IDS: String(ada.id),
    });
    expect(await exempt.ask(foundersQuestion)).toEqual([expect.stringMatching(groundedAnswer)]);
    expect(await exempt.ask(foundersQuestion)).toEqual([expect.stringMatching(groundedAnswer)]);
    expect(await exempt.ask(foundersQuestion, boChat, bo)).toEqual([expect.stringMatching(botRefusal)]);
    expect(exempt.llm.requests).toHaveLength(2);
  });

  it.skipIf(withoutRedis)(
    'holds across two instances sharing one Redis: the second instance refuses without calling its model',
    async ({ cleanups }) => {
      const redis = await startRedisServer();
      cleanups.push(() => redis.stop());
      const shared = { STORE_URL: redis.url, STORE_NAMESPACE: 'budget-test', BUDGET_USER_DAILY_TOKENS: '10' };
      const first = await startTelegramHarness(cleanups, shared);
      // The same bot on both: the second instance's updates continue the bot's update ids.
      const second = await startTelegramHarness(cleanups, shared, { telegram: { firstUpdateId: 1000 } });

      expect(await first.ask(foundersQuestion)).toEqual([expect.stringMatching(groundedAnswer)]);
      expect(await second.ask('Who runs the national AI fund?')).toEqual([
        expect.stringMatching(userRefusal),
      ]);
      expect(second.llm.requests).toHaveLength(0);
      expect(await second.ask(foundersQuestion, boChat, bo)).toEqual([expect.stringMatching(groundedAnswer)]);

      const [used] = answeredLines(first.logs);
      const usage = await second.poquan.budgets.read(`telegram:${ada.id}`);
      expect(usage).toMatchObject({ answers: 1, tokens: tokensOf(used?.usage as Usage), remaining: 0 });
    },
  );

  it('counts cache-hit prompt tokens only when BUDGET_COUNT_CACHED_TOKENS is full', async ({ cleanups }) => {
    const bot = await startTelegramHarness(cleanups, { BUDGET_COUNT_CACHED_TOKENS: 'none' });
    await bot.ask(foundersQuestion);
    await bot.ask(foundersQuestion);
    const [first, second] = answeredLines(bot.logs).map((line) => line.usage);
    const hits = second?.promptCacheHitTokens ?? 0;
    expect(hits).toBeGreaterThan(0);
    const counted = tokensOf(first as Usage) + tokensOf(second as Usage) - hits;
    expect((await bot.poquan.budgets.read(`telegram:${ada.id}`)).tokens).toBe(counted);
  });
});

describe('cost of an answer', () => {
  const prices = {
    LLM_PRICE_INPUT_PER_M: '2',
    LLM_PRICE_CACHED_INPUT_PER_M: '0.5',
    LLM_PRICE_OUTPUT_PER_M: '8',
    LLM_PRICE_CURRENCY: 'CNY',
  };
  const expectedCost = (usage: Usage) => {
    const hits = usage.promptCacheHitTokens ?? 0;
    return ((usage.promptTokens - hits) * 2 + hits * 0.5 + usage.completionTokens * 8) / 1_000_000;
  };

  it('is the usage the model reported times the configured prices, in the log, the metric and the record', async ({
    cleanups,
  }) => {
    const bot = await startTelegramHarness(cleanups, prices);
    await bot.ask(foundersQuestion);
    await bot.ask(foundersQuestion);
    const lines = answeredLines(bot.logs);
    expect(lines).toHaveLength(2);
    expect(lines[1]?.usage.promptCacheHitTokens).toBeGreaterThan(0);
    for (const line of lines) {
      expect(line.usage.completionTokens).toBeGreaterThan(0);
      expect(line.cost?.currency).toBe('CNY');
      expect(line.cost?.amount).toBeCloseTo(expectedCost(line.usage), 12);
    }
    const total = lines.reduce((sum, line) => sum + expectedCost(line.usage), 0);
    const metric = (await bot.poquan.metrics.llmCost.get()).values;
    expect(metric).toEqual([
      { value: expect.closeTo(total, 12), labels: { currency: 'CNY', model: 'deepseek-flash' } },
    ]);
    const today = new Date().toISOString().slice(0, 10);
    const records = await bot.poquan.feedback.listAnswers(today);
    expect(records.map((record) => record.cost?.amount).sort()).toEqual(
      lines.map((line) => line.cost?.amount).sort(),
    );
  });

  it('is not shown when the price is unknown, rather than shown as 0', async ({ cleanups }) => {
    const bot = await startTelegramHarness(cleanups, { LLM_MODEL: 'some-newer-model' });
    await bot.ask(foundersQuestion);
    expect(answeredLines(bot.logs)[0]?.cost).toBeUndefined();
    expect((await bot.poquan.metrics.llmCost.get()).values).toEqual([]);
  });
});

describe('/usage and /stats', () => {
  it("/usage shows the asker's answers, tokens and remaining budget on Telegram", async ({ cleanups }) => {
    const bot = await startTelegramHarness(cleanups, { BUDGET_USER_DAILY_TOKENS: '100000' });
    await bot.ask(foundersQuestion);
    const tokens = tokensOf(answeredLines(bot.logs)[0]?.usage as Usage);
    const [reply] = await bot.ask('/usage');
    expect(reply).toContain('Your usage today (resets at 00:00 UTC)');
    expect(reply).toContain('Answers: 1');
    expect(reply).toContain(`Tokens: ${tokens}`);
    expect(reply).toContain(`Your budget left: ${100_000 - tokens} of 100000 tokens`);
    expect((await bot.ask('/usage', boChat, bo))[0]).toContain('Answers: 0');
    expect(bot.llm.requests).toHaveLength(1);
  });

  it('/usage works on Discord too, and DEFAULT_LANGUAGE=zh words it in Chinese', async ({ cleanups }) => {
    const bot = await startDiscordHarness(cleanups, { DEFAULT_LANGUAGE: 'zh' });
    await bot.askSlash(foundersQuestion);
    const tokens = tokensOf(answeredLines(bot.logs)[0]?.usage as Usage);
    const [reply] = await bot.command('usage');
    expect(reply).toContain('你今天的用量');
    expect(reply).toContain('回答：1');
    expect(reply).toContain(`令牌：${tokens}`);
    expect(reply).toContain('个人额度：不限');
  });

  it('/stats shows today and the last 7 days with tokens, cache hits, cost and top users as hashes', async ({
    cleanups,
  }) => {
    const bot = await startTelegramHarness(cleanups, {
      TELEGRAM_ADMIN_IDS: String(ada.id),
      LLM_PRICE_INPUT_PER_M: '1',
      LLM_PRICE_OUTPUT_PER_M: '1',
      LLM_PRICE_CURRENCY: 'USD',
    });
    await bot.ask(foundersQuestion);
    await bot.ask(foundersQuestion, boChat, bo);
    await bot.ask(foundersQuestion, boChat, bo);
    const usages = answeredLines(bot.logs).map((line) => line.usage);
    const tokens = usages.reduce((sum, usage) => sum + tokensOf(usage), 0);
    const prompt = usages.reduce((sum, usage) => sum + usage.promptTokens, 0);
    const hits = usages.reduce((sum, usage) => sum + (usage.promptCacheHitTokens ?? 0), 0);
    const share = `${((hits / prompt) * 100).toFixed(1)}%`;
    const cost = (tokens / 1_000_000).toFixed(6);

    const [stats] = await bot.ask('/stats');
    expect(stats).toContain(
      `Today (UTC): answers 3 · tokens ${tokens} · cache hits ${share} · cost USD ${cost}`,
    );
    expect(stats).toContain(`Last 7 days: answers 3 · tokens ${tokens}`);
    const boTokens = tokensOf(usages[1] as Usage) + tokensOf(usages[2] as Usage);
    const adaTokens = tokensOf(usages[0] as Usage);
    expect(stats).toMatch(
      new RegExp(
        `Top users by tokens \\(7 days, salted hashes\\): [0-9a-f]{12} ${boTokens}, [0-9a-f]{12} ${adaTokens}`,
      ),
    );
    expect(stats).not.toContain(String(bo.id));
  });
});

describe('groups', () => {
  it('count each member of a group chat against their own budget', async ({ cleanups }) => {
    const group: FakeChat = { id: -1001, type: 'supergroup', title: 'AI watchers' };
    const bot = await startTelegramHarness(cleanups, { BUDGET_USER_DAILY_TOKENS: '10' });
    expect(await bot.ask(`/ask ${foundersQuestion}`, group, ada)).toEqual([
      expect.stringMatching(groundedAnswer),
    ]);
    expect(await bot.ask(`/ask ${foundersQuestion}`, group, bo)).toEqual([
      expect.stringMatching(groundedAnswer),
    ]);
    expect(await bot.ask(`/ask ${foundersQuestion}`, group, ada)).toEqual([
      expect.stringMatching(userRefusal),
    ]);
    expect(bot.llm.requests).toHaveLength(2);
  });
});
