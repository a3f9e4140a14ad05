import { z } from 'zod';
import { catalogFor } from '#core/catalog/catalog.js';
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
  async handler(_args, { services, userKey, language }) {
    const usage = await services.budgets.read(userKey);
    const lines = catalogFor(language).commands.usage({ ...usage, resetsAt: utcTime(usage.resetsAt) });
    return { type: 'message', text: lines.join('\n') };
  },
});
