import { z } from 'zod';
import { defineCommand } from './command.ts';

const utcTime = (ms: number) => `${new Date(ms).toISOString().slice(11, 16)} UTC`;

/**
 * `/usage` (everyone, every platform and the CLI): the asker's answers and tokens in the current budget day,
 * and what is left of their budget and the bot's — read from the same shared counters the budgets enforce.
 */
export const usageCommand = defineCommand({
  name: 'usage',
  description: {
    en: 'Your answers and tokens today, and what is left of your budget',
    zh: '你今天的回答数、令牌用量和剩余额度',
  },
  args: z.object({}),
  async handler(_args, { poquan, userKey, language }) {
    const usage = await poquan.budgets.read(userKey);
    const resets = utcTime(usage.resetsAt);
    const zh = language === 'zh';
    const lines = [
      zh ? `**你今天的用量**（${resets} 重置）` : `**Your usage today** (resets at ${resets})`,
      zh ? `回答：${usage.answers}` : `Answers: ${usage.answers}`,
      zh ? `令牌：${usage.tokens}` : `Tokens: ${usage.tokens}`,
      usage.remaining === undefined
        ? zh
          ? '个人额度：不限'
          : 'Your budget: no limit'
        : zh
          ? `个人额度剩余：${usage.remaining} / ${usage.limit}`
          : `Your budget left: ${usage.remaining} of ${usage.limit} tokens`,
    ];
    if (usage.botRemaining !== undefined) {
      lines.push(
        zh
          ? `机器人今日总额度剩余：${usage.botRemaining}`
          : `Left for everyone today: ${usage.botRemaining} tokens`,
      );
    }
    return { type: 'message', text: lines.join('\n') };
  },
});
