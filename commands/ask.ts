import { z } from 'zod';
import { platformOfUserKey } from '../src/core/access.ts';
import type { BudgetScope } from '../src/core/budget.ts';
import type { ReplyLanguage } from '../src/core/question.ts';
import { defineCommand } from './command.ts';

/** The refusal for a used-up budget: whose budget it was, and when (UTC) it resets. */
export function describeBudgetRefusal(scope: BudgetScope, resetsAt: number, language: ReplyLanguage): string {
  const at = `${new Date(resetsAt).toISOString().slice(11, 16)} UTC`;
  if (scope === 'bot') {
    return language === 'zh'
      ? `本机器人今天的令牌额度已用完，所有人都要等到 ${at} 重置后才能继续提问。`
      : `This bot has used up its token budget for today. Questions are accepted again after the reset at ${at}.`;
  }
  return language === 'zh'
    ? `你今天的令牌额度已用完，将在 ${at} 重置。可用 /usage 查看用量。`
    : `You have used up your token budget for today. It resets at ${at}; see /usage for your figures.`;
}

/**
 * `/ask <question>`: the main job. The daily budgets and the per-user rate limit are checked here, before any
 * model call, so every platform (and the CLI) refuses alike.
 */
export const askCommand = defineCommand({
  name: 'ask',
  description: (topic) => ({
    en: `Ask a question about ${topic.en}; the answer cites its sources`,
    zh: `提问关于${topic.zh}的问题，回答附带出处`,
  }),
  args: z.object({
    question: z
      .string()
      .max(20_000)
      .meta({ descriptions: { en: 'Your question, in English or Chinese', zh: '你的问题（中文或英文）' } }),
    private: z
      .boolean()
      .optional()
      .meta({ descriptions: { en: 'Only you see the answer', zh: '仅自己可见' } }),
  }),
  async handler({ question }, { poquan, userKey, language }) {
    if (!question.trim()) {
      return {
        type: 'message',
        text:
          language === 'zh'
            ? '请在命令后写上问题，例如：`/ask DeepSeek的创始人是谁？`'
            : 'Please add a question after the command, for example: `/ask Who founded DeepSeek?`',
      };
    }
    const budget = await poquan.budgets.check(userKey).catch((error: unknown) => {
      poquan.logger.warn({ err: error }, 'budget counters unavailable; allowing the question');
      return { allowed: true } as const;
    });
    if (!budget.allowed) {
      poquan.metrics.budgetRefusals.inc({ scope: budget.scope, platform: platformOfUserKey(userKey) });
      poquan.logger.info({ userKey, budget: budget.scope }, 'question refused: daily token budget used up');
      return {
        type: 'message',
        refused: 'budget',
        text: describeBudgetRefusal(budget.scope, budget.resetsAt, language),
      };
    }
    const decision = await poquan.rateLimiter.take(userKey).catch((error: unknown) => {
      poquan.logger.warn({ err: error }, 'rate limiter unavailable; allowing the question');
      return { allowed: true } as const;
    });
    if (!decision.allowed) {
      poquan.metrics.rateLimited.inc({ platform: platformOfUserKey(userKey) });
      return {
        type: 'message',
        refused: 'rate_limit',
        text:
          language === 'zh'
            ? `提问太频繁了，请在 ${decision.retryAfterSeconds} 秒后再试。`
            : `You're asking faster than I can answer. Please try again in ${decision.retryAfterSeconds} s.`,
      };
    }
    return { type: 'answer', question };
  },
});
